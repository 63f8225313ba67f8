"""Entry point of rule neurons_grayordinates."""

from vlmbrain.io import setup_logging
from vlmbrain.neurons.jobs import grayordinate_job

setup_logging(snakemake.log[0])
grayordinate_job(
    snakemake.wildcards.model,
    snakemake.input.cohort,
    snakemake.params.manifest,
    snakemake.params.regressors,
    snakemake.input.networks,
    snakemake.output.counts,
    snakemake.output.ans,
    snakemake.output.summary,
    snakemake.output.layers,
    q=snakemake.params.fdr_q,
    n_shifts=snakemake.params.n_shifts,
    chunk_size=snakemake.params.chunk_size,
    seed=snakemake.params.seed,
    enrichment_q=snakemake.params.enrichment_q,
)
