"""Rule simulate_bold: calls ``vlmbrain.simulation.jobs.simulate_bold`` with the rule's files and params."""

from vlmbrain.simulation.jobs import simulate_bold
from vlmbrain.io import setup_logging

snakemake = globals()["snakemake"]
setup_logging(snakemake.log[0])
simulate_bold(
    **dict(snakemake.input.items()),
    **dict(snakemake.output.items()),
    **dict(snakemake.params.items()),
)
