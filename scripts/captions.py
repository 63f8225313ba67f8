"""Rule captions: calls ``vlmbrain.stimuli.jobs.captions`` with the rule's files and params."""

from vlmbrain.stimuli.jobs import captions
from vlmbrain.io import setup_logging

snakemake = globals()["snakemake"]
setup_logging(snakemake.log[0])
captions(
    **dict(snakemake.input.items()),
    **dict(snakemake.output.items()),
    **dict(snakemake.params.items()),
    threads=snakemake.threads,
)
