"""Rule attribution_tables: calls ``vlmbrain.attribution.jobs.attribution_tables`` with the rule's files and params."""

from vlmbrain.attribution.jobs import attribution_tables
from vlmbrain.io import setup_logging

snakemake = globals()["snakemake"]
setup_logging(snakemake.log[0])
attribution_tables(
    **dict(snakemake.input.items()),
    **dict(snakemake.output.items()),
    **dict(snakemake.params.items()),
)
