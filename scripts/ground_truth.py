"""Rule ground_truth: calls ``vlmbrain.simulation.jobs.ground_truth`` with the rule's files and params."""

from vlmbrain.simulation.jobs import ground_truth
from vlmbrain.io import setup_logging

snakemake = globals()["snakemake"]
setup_logging(snakemake.log[0])
ground_truth(
    **dict(snakemake.input.items()),
    **dict(snakemake.output.items()),
    **dict(snakemake.params.items()),
)
