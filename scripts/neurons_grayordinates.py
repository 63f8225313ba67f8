"""Rule neurons_grayordinates: calls ``vlmbrain.neurons.jobs.neurons_grayordinates`` with the rule's files and params."""

from vlmbrain.neurons.jobs import neurons_grayordinates
from vlmbrain.io import setup_logging

snakemake = globals()["snakemake"]
setup_logging(snakemake.log[0])
neurons_grayordinates(
    model=snakemake.wildcards.model,
    **dict(snakemake.input.items()),
    **dict(snakemake.output.items()),
    **dict(snakemake.params.items()),
    mem_mb=snakemake.resources.mem_mb,
    threads=snakemake.threads,
)
