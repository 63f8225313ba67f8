"""Rule network_overlap: every atom map against every network, all layers."""

from pathlib import Path

from vlmbrain.findings.pipeline import make_network_overlap
from vlmbrain.io import setup_logging

setup_logging(snakemake.log[0])
make_network_overlap(
    dict(zip(snakemake.params.models, snakemake.input.activations)),
    Path(snakemake.input.group[0]).parent,
    snakemake.input.networks,
    snakemake.output.table,
    q=snakemake.params.q,
)
