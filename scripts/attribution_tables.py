"""Entry point of rule attribution_tables."""

from vlmbrain.attribution.jobs import attribution_tables
from vlmbrain.io import setup_logging

setup_logging(snakemake.log[0])
attribution_tables(
    list(snakemake.input.cells),
    snakemake.output.table,
    snakemake.output.architecture,
    q=snakemake.params.q,
)
