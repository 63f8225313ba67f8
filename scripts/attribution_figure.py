"""Rule attribution_figure: calls ``vlmbrain.attribution.jobs.attribution_figure`` with the rule's files and params."""

from vlmbrain.attribution.jobs import attribution_figure
from vlmbrain.io import setup_logging

snakemake = globals()["snakemake"]
setup_logging(snakemake.log[0])
attribution_figure(
    **dict(snakemake.input.items()),
    **dict(snakemake.output.items()),
    **dict(snakemake.params.items()),
    model=snakemake.wildcards.model,
)
