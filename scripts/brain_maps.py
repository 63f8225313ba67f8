"""Rule brain_maps: calls ``vlmbrain.findings.jobs.brain_maps`` with the rule's files and params."""

from vlmbrain.findings.jobs import brain_maps
from vlmbrain.io import setup_logging

snakemake = globals()["snakemake"]
setup_logging(snakemake.log[0])
brain_maps(
    model=snakemake.wildcards.model,
    **dict(snakemake.input.items()),
    **dict(snakemake.output.items()),
    **dict(snakemake.params.items()),
)
