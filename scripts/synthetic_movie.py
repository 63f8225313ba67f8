"""Entry point of rule synthetic_movie."""

from vlmbrain.io import setup_logging
from vlmbrain.stimuli.movie import write_movie

log = setup_logging(snakemake.log[0])
movie = write_movie(
    snakemake.params.simulation,
    tr=snakemake.params.tr,
    video_template=snakemake.params.video,
    captions_template=snakemake.params.captions,
    segments_path=snakemake.output.segments,
)
for run, plan in movie.items():
    log.info("%s: %d TRs, %d captions", run, plan["n_trs"], len(plan["captions"]))
