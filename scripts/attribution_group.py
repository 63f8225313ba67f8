"""Entry point of rule attribution_group."""

from vlmbrain.attribution.jobs import attribution_group
from vlmbrain.io import setup_logging

setup_logging(snakemake.log[0])
attribution_group(
    list(snakemake.input.subjects),
    snakemake.input.networks,
    snakemake.input.geometry,
    snakemake.output.maps,
    snakemake.output.cells,
    snakemake.output.dscalar,
    model=snakemake.wildcards.model,
    against=dict(snakemake.params.against),
    mask=snakemake.params.mask,
    q=snakemake.params.q,
    n_flips=snakemake.params.n_flips,
    seed=snakemake.params.seed,
)
