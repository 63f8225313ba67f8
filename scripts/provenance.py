"""Rule provenance: models and weights, data source and the configuration for the report."""

from vlmbrain.io import setup_logging
from vlmbrain.report.provenance import write_provenance

setup_logging(snakemake.log[0])
write_provenance(
    snakemake.output.page,
    dict(zip(snakemake.params.models, snakemake.input.activations)),
    snakemake.params.config,
    snakemake.params.subjects,
    snakemake.params.runs,
    ground_truth_tsv=snakemake.input.get("ground_truth"),
)
