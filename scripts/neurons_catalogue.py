"""Entry point of rule neurons_catalogue."""

from vlmbrain.io import setup_logging
from vlmbrain.neurons.catalogue import catalogue_job

setup_logging(snakemake.log[0])
catalogue_job(
    snakemake.params.models,
    list(snakemake.input.ans),
    list(snakemake.input.summaries),
    snakemake.input.networks,
    snakemake.params.atoms_dirs,
    snakemake.output.catalogue,
    snakemake.output.summary,
    snakemake.output.figure,
    snakemake.output.html,
    grayordinate_ans=list(snakemake.input.grayordinate_ans),
    grayordinate_summaries=list(snakemake.input.grayordinate_summaries),
    ground_truth=snakemake.input.ground_truth[0] if snakemake.input.ground_truth else None,
    out_enrichment=snakemake.output.enrichment[0] if snakemake.output.enrichment else None,
)
