"""Rule neurons_subject: calls ``vlmbrain.neurons.jobs.neurons_subject`` with the rule's files and params."""

from vlmbrain.neurons.jobs import neurons_subject
from vlmbrain.io import setup_logging

snakemake = globals()["snakemake"]
setup_logging(snakemake.log[0])
neurons_subject(
    **dict(snakemake.input.items()),
    **dict(snakemake.output.items()),
    **dict(snakemake.params.items()),
    mem_mb=snakemake.resources.mem_mb,
    threads=snakemake.threads,
)
