"""Entry point of rule attribution_features."""

from vlmbrain.attribution.jobs import attribution_features
from vlmbrain.io import setup_logging

setup_logging(snakemake.log[0])
attribution_features(
    list(snakemake.input.regressors),
    list(snakemake.params.models),
    snakemake.output.features,
    snakemake.output.table,
    n_components=snakemake.params.n_components,
    reference_per_layer=snakemake.params.reference_per_layer,
    reference_components_=snakemake.params.reference_components,
    references=dict(snakemake.params.references),
)
