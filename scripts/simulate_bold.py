"""Entry point of rule simulate_bold: one subject's simulated CIFTI runs."""

from vlmbrain.io import setup_logging
from vlmbrain.simulation.bold import simulate_subject

setup_logging(snakemake.log[0])
simulate_subject(
    snakemake.params.subject_index,
    list(snakemake.output),
    list(snakemake.input.tables),
    snakemake.input.tsv,
    snakemake.input.npz,
    snakemake.params.activations,
    snakemake.params.simulation,
    tr=snakemake.params.tr,
    hrf=snakemake.params.hrf,
)
