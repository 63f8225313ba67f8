"""Rule depth: calls ``vlmbrain.findings.jobs.depth`` with the rule's files and params."""

from vlmbrain.findings.jobs import depth
from vlmbrain.io import setup_logging

snakemake = globals()["snakemake"]
setup_logging(snakemake.log[0])
depth(
    **dict(snakemake.input.items()),
    **dict(snakemake.output.items()),
    **dict(snakemake.params.items()),
    model=snakemake.wildcards.model,
)
