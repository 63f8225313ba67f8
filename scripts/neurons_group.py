"""Entry point of rule neurons_group."""

from vlmbrain.io import setup_logging
from vlmbrain.neurons.jobs import group_job

setup_logging(snakemake.log[0])
group_job(
    snakemake.wildcards.model,
    list(snakemake.input.subjects),
    list(snakemake.input.parcels),
    snakemake.params.manifest,
    snakemake.params.regressors,
    snakemake.params.parcellation,
    snakemake.input.networks,
    snakemake.output.parcels,
    snakemake.output.ans,
    snakemake.output.summary,
    q=snakemake.params.fdr_q,
)
