"""Rule recovery: calls ``vlmbrain.findings.jobs.recovery`` with the rule's files and params."""

from vlmbrain.findings.jobs import recovery
from vlmbrain.io import setup_logging

snakemake = globals()["snakemake"]
setup_logging(snakemake.log[0])
recovery(
    **dict(snakemake.input.items()),
    **dict(snakemake.output.items()),
    **dict(snakemake.params.items()),
)
