"""Entry point of rule attribution_figure."""

from vlmbrain.attribution.jobs import attribution_figure_job
from vlmbrain.io import setup_logging

setup_logging(snakemake.log[0])
attribution_figure_job(snakemake.input.table, snakemake.output.figure, model=snakemake.wildcards.model)
