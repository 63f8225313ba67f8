"""Rule encoding: calls ``vlmbrain.encoding.jobs.encoding`` with the rule's files and params."""

from vlmbrain.encoding.jobs import encoding
from vlmbrain.io import setup_logging

snakemake = globals()["snakemake"]
setup_logging(snakemake.log[0])
encoding(
    **dict(snakemake.input.items()),
    **dict(snakemake.output.items()),
    **dict(snakemake.params.items()),
    mem_mb=snakemake.resources.mem_mb,
    threads=snakemake.threads,
)
