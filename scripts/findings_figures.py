"""Rule findings_figures: one figure per finding across layers, streams and models."""

from vlmbrain.findings.pipeline import make_figures
from vlmbrain.io import setup_logging

setup_logging(snakemake.log[0])
make_figures(
    dict(zip(snakemake.params.models, snakemake.input.activations)),
    {k: snakemake.input[k] for k in snakemake.params.tables},
    {k: snakemake.output[k] for k in snakemake.params.figures},
)
