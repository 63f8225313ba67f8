"""Rule activations: calls ``vlmbrain.models.jobs.activations`` with the rule's files and params."""

from vlmbrain.models.jobs import activations
from vlmbrain.io import setup_logging

snakemake = globals()["snakemake"]
setup_logging(snakemake.log[0])
activations(
    model=snakemake.wildcards.model,
    **dict(snakemake.input.items()),
    **dict(snakemake.output.items()),
    **dict(snakemake.params.items()),
    threads=snakemake.threads,
)
