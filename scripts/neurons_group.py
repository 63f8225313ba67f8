"""Rule neurons_group: calls ``vlmbrain.neurons.jobs.neurons_group`` with the rule's files and params."""

from vlmbrain.neurons.jobs import neurons_group
from vlmbrain.io import setup_logging

snakemake = globals()["snakemake"]
setup_logging(snakemake.log[0])
neurons_group(
    model=snakemake.wildcards.model,
    **dict(snakemake.input.items()),
    **dict(snakemake.output.items()),
    **dict(snakemake.params.items()),
)
