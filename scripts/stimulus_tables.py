"""Entry point of rule stimulus_tables."""

from vlmbrain.io import setup_logging
from vlmbrain.stimuli.table import write_stimulus_tables

log = setup_logging(snakemake.log[0])
write_stimulus_tables(
    runs=snakemake.params.runs,
    tr=snakemake.params.tr,
    frames=snakemake.input.frames,
    frames_are_folders=snakemake.params.frames_dir,
    captions=snakemake.input.captions,
    segments=snakemake.input.segments,
    outputs=snakemake.output.tables,
    log=log,
)
