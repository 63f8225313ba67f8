"""Entry point of rule networks."""

from vlmbrain.io import setup_logging
from vlmbrain.networks.templates import write_networks

log = setup_logging(snakemake.log[0])
names, masks = write_networks(
    snakemake.output.npz,
    snakemake.output.dlabel,
    template=snakemake.params.template,
    mapping=snakemake.params.mapping,
)
for name, mask in zip(names, masks):
    log.info("network %s: %d grayordinates", name, mask.sum())
