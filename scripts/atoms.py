"""Rule atoms: calls ``vlmbrain.encoding.jobs.atoms`` with the rule's files and params."""

from vlmbrain.encoding.jobs import atoms
from vlmbrain.io import setup_logging

snakemake = globals()["snakemake"]
setup_logging(snakemake.log[0])
atoms(
    model=snakemake.wildcards.model,
    **dict(snakemake.input.items()),
    **dict(snakemake.output.items()),
    **dict(snakemake.params.items()),
)
