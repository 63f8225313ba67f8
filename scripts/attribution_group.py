"""Rule attribution_group: calls ``vlmbrain.attribution.jobs.attribution_group`` with the rule's files and params."""

from vlmbrain.attribution.jobs import attribution_group
from vlmbrain.io import setup_logging

snakemake = globals()["snakemake"]
setup_logging(snakemake.log[0])
attribution_group(
    **dict(snakemake.input.items()),
    **dict(snakemake.output.items()),
    **dict(snakemake.params.items()),
    model=snakemake.wildcards.model,
)
