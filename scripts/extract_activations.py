"""Entry point of the ``activations`` rule: one model's ANs for every TR of every run."""

from vlmbrain.io import setup_logging
from vlmbrain.models.extract import run_extraction

snakemake = globals()["snakemake"]
setup_logging(snakemake.log[0])
run_extraction(
    snakemake.wildcards.model,
    snakemake.params.model,
    snakemake.params.an,
    snakemake.params.extraction,
    list(snakemake.input.tables),
    snakemake.output[0],
    threads=snakemake.threads,
)
