"""Entry point of rule group: group t maps, FDR and activated/deactivated masks of one model."""

from vlmbrain.encoding.group import group_model
from vlmbrain.fmri.bold import brain_models_of
from vlmbrain.io import setup_logging

setup_logging(snakemake.log[0])
group_model(
    list(snakemake.input.encoding),
    snakemake.output[0],
    q=snakemake.params.q,
    atom_maps=snakemake.params.atom_maps,
    bm_axis=brain_models_of(snakemake.input.geometry, snakemake.params.mask),
)
