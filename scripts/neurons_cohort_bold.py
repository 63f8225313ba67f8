"""Entry point of rule neurons_cohort_bold."""

from vlmbrain.io import setup_logging
from vlmbrain.neurons.jobs import cohort_bold_job

setup_logging(snakemake.log[0])
cohort_bold_job(
    snakemake.params.bold,
    list(snakemake.input.tables),
    tr=snakemake.params.tr,
    drop_rest=snakemake.params.drop_rest,
    out_npy=snakemake.output[0],
    mask=snakemake.params.mask,
)
