"""Entry point of rule attribution_subject."""

from vlmbrain.attribution.jobs import attribution_subject
from vlmbrain.io import setup_logging

setup_logging(snakemake.log[0])
attribution_subject(
    list(snakemake.input.bold),
    list(snakemake.input.tables),
    snakemake.input.features,
    snakemake.output[0],
    model=snakemake.wildcards.model,
    tr=snakemake.params.tr,
    drop_rest=snakemake.params.drop_rest,
    mask=snakemake.params.mask,
    against=dict(snakemake.params.against),
    alphas=list(snakemake.params.alphas),
    n_ratios=snakemake.params.n_ratios,
    log10_span=snakemake.params.log10_span,
    chunk_size=snakemake.params.chunk_size,
    backend=snakemake.params.backend,
    device=snakemake.params.device,
    threads=snakemake.threads,
)
