"""Rule findings_tables: calls ``vlmbrain.findings.jobs.findings_tables`` with the rule's files and params."""

from vlmbrain.findings.jobs import findings_tables
from vlmbrain.io import setup_logging

snakemake = globals()["snakemake"]
setup_logging(snakemake.log[0])
findings_tables(
    **dict(snakemake.input.items()),
    **dict(snakemake.output.items()),
    **dict(snakemake.params.items()),
)
