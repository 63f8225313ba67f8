"""Rule network_overlap: calls ``vlmbrain.findings.jobs.network_overlap`` with the rule's files and params."""

from vlmbrain.findings.jobs import network_overlap
from vlmbrain.io import setup_logging

snakemake = globals()["snakemake"]
setup_logging(snakemake.log[0])
network_overlap(
    **dict(snakemake.input.items()),
    **dict(snakemake.output.items()),
    **dict(snakemake.params.items()),
)
