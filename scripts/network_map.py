"""Rule network_map: calls ``vlmbrain.findings.jobs.network_map`` with the rule's files and params."""

from vlmbrain.findings.jobs import network_map
from vlmbrain.io import setup_logging

snakemake = globals()["snakemake"]
setup_logging(snakemake.log[0])
network_map(
    **dict(snakemake.input.items()),
    **dict(snakemake.output.items()),
    **dict(snakemake.params.items()),
)
