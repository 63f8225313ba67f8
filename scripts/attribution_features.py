"""Rule attribution_features: calls ``vlmbrain.attribution.jobs.attribution_features`` with the rule's files and params."""

from vlmbrain.attribution.jobs import attribution_features
from vlmbrain.io import setup_logging

snakemake = globals()["snakemake"]
setup_logging(snakemake.log[0])
attribution_features(
    **dict(snakemake.input.items()),
    **dict(snakemake.output.items()),
    **dict(snakemake.params.items()),
)
