"""Rule network_map: the network template on the inflated surfaces."""

from vlmbrain.findings.pipeline import make_network_map
from vlmbrain.io import setup_logging

setup_logging(snakemake.log[0])
make_network_map(snakemake.input.npz, snakemake.input.dlabel, snakemake.output.figure)
