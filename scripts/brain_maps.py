"""Rule brain_maps: representative atoms and the redundancy map of one model."""

from pathlib import Path

from vlmbrain.findings.pipeline import make_model_brain_maps
from vlmbrain.io import setup_logging

setup_logging(snakemake.log[0])
make_model_brain_maps(
    snakemake.wildcards.model,
    Path(snakemake.input.group).parent,
    snakemake.input.overlap,
    snakemake.input.dlabel,
    snakemake.output.atoms,
    snakemake.output.redundancy,
)
