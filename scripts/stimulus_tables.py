"""Rule stimulus_tables: calls ``vlmbrain.stimuli.jobs.stimulus_tables`` with the rule's files and params."""

from vlmbrain.stimuli.jobs import stimulus_tables
from vlmbrain.io import setup_logging

snakemake = globals()["snakemake"]
setup_logging(snakemake.log[0])
stimulus_tables(
    **dict(snakemake.input.items()),
    **dict(snakemake.output.items()),
    **dict(snakemake.params.items()),
)
