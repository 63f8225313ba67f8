"""Entry point of rule depth."""

from vlmbrain.findings.depth import depth
from vlmbrain.io import setup_logging

setup_logging(snakemake.log[0])
depth(
    list(snakemake.input.encoding),
    snakemake.input.networks,
    snakemake.input.dlabel,
    snakemake.output.dlabel,
    snakemake.output.figure,
    snakemake.output.table,
    model=snakemake.wildcards.model,
    q=snakemake.params.q,
    n_flips=snakemake.params.n_flips,
    seed=snakemake.params.seed,
)
