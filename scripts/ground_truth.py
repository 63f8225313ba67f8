"""Entry point of rule ground_truth: draw the planted ANs and grayordinates."""

from vlmbrain.models.files import load_activations
from vlmbrain.io import setup_logging
from vlmbrain.networks.templates import load_networks
from vlmbrain.simulation.truth import plant, write_ground_truth

log = setup_logging(snakemake.log[0])
names, masks = load_networks(snakemake.input.networks)
manifests = {m: load_activations(d) for m, d in snakemake.params.activations.items()}
table, arrays = plant(
    snakemake.params.couplings,
    manifests,
    names,
    masks,
    fraction=snakemake.params.fraction,
    n_ans=snakemake.params.n_ans,
    seed=snakemake.params.seed,
)
write_ground_truth(snakemake.output.tsv, snakemake.output.npz, table, arrays)
log.info("planted %d couplings", len(table))
