"""Rule provenance: calls ``vlmbrain.findings.jobs.provenance`` with the rule's files and params."""

from vlmbrain.findings.jobs import provenance
from vlmbrain.io import setup_logging

snakemake = globals()["snakemake"]
setup_logging(snakemake.log[0])
provenance(
    **dict(snakemake.input.items()),
    **dict(snakemake.output.items()),
    **dict(snakemake.params.items()),
)
