"""Rule networks: calls ``vlmbrain.networks.jobs.networks`` with the rule's files and params."""

from vlmbrain.networks.jobs import networks
from vlmbrain.io import setup_logging

snakemake = globals()["snakemake"]
setup_logging(snakemake.log[0])
networks(
    **dict(snakemake.input.items()),
    **dict(snakemake.output.items()),
    **dict(snakemake.params.items()),
)
