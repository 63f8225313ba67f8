"""Entry point of rule atoms: regressors and sparse dictionary atoms of one model."""

from vlmbrain.encoding.atoms import build_atoms
from vlmbrain.io import setup_logging

setup_logging(snakemake.log[0])
build_atoms(
    snakemake.wildcards.model,
    snakemake.input.activations,
    list(snakemake.input.tables),
    snakemake.output.regressors,
    snakemake.output.atoms,
    tr=snakemake.params.tr,
    temporal=snakemake.params.temporal,
    sdl=snakemake.params.sdl,
)
