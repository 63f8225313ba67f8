"""Rule synthetic_movie: calls ``vlmbrain.stimuli.jobs.synthetic_movie`` with the rule's files and params."""

from vlmbrain.stimuli.jobs import synthetic_movie
from vlmbrain.io import setup_logging

snakemake = globals()["snakemake"]
setup_logging(snakemake.log[0])
synthetic_movie(
    **dict(snakemake.input.items()),
    **dict(snakemake.output.items()),
    **dict(snakemake.params.items()),
)
