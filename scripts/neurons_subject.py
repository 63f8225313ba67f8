"""Entry point of rule neurons_subject."""

from vlmbrain.io import setup_logging
from vlmbrain.neurons.jobs import subject_job

setup_logging(snakemake.log[0])
subject_job(
    snakemake.input.parcels,
    snakemake.params.manifest,
    snakemake.params.regressors,
    snakemake.output[0],
    ar_bins=snakemake.params.ar_bins,
)
