"""Rule neurons_catalogue: calls ``vlmbrain.neurons.jobs.neurons_catalogue`` with the rule's files and params."""

from vlmbrain.neurons.jobs import neurons_catalogue
from vlmbrain.io import setup_logging

snakemake = globals()["snakemake"]
setup_logging(snakemake.log[0])
neurons_catalogue(
    **dict(snakemake.input.items()),
    **dict(snakemake.output.items()),
    **dict(snakemake.params.items()),
)
