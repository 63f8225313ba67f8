"""Entry point of rule ground_truth: draw the planted ANs and grayordinates."""

from vlmbrain.io import setup_logging
from vlmbrain.models.files import load_activations, load_layer
from vlmbrain.networks.templates import load_networks
from vlmbrain.simulation.truth import check_couplings, coupling_likeness, plant, write_ground_truth
from vlmbrain.stimuli.table import read_stimulus_tables

log = setup_logging(snakemake.log[0])
names, masks = load_networks(snakemake.input.networks)
folders = snakemake.params.activations
manifests = {m: load_activations(d) for m, d in folders.items()}
couplings = snakemake.params.couplings
check_couplings(couplings, manifests, names)
movie = read_stimulus_tables(snakemake.input.tables)["condition"].to_numpy() == "movie"
likeness = coupling_likeness(
    couplings, manifests, lambda m, s, layer: load_layer(folders[m], s, layer), movie
)
table, arrays = plant(
    couplings,
    manifests,
    names,
    masks,
    fraction=snakemake.params.fraction,
    n_ans=snakemake.params.n_ans,
    seed=snakemake.params.seed,
    likeness=likeness,
)
write_ground_truth(snakemake.output.tsv, snakemake.output.npz, table, arrays)
log.info("planted %d couplings", len(table))
