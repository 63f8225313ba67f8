"""Rule noise_ceiling: calls ``vlmbrain.encoding.jobs.noise_ceiling`` with the rule's files and params."""

from vlmbrain.encoding.jobs import noise_ceiling
from vlmbrain.io import setup_logging

snakemake = globals()["snakemake"]
setup_logging(snakemake.log[0])
noise_ceiling(
    **dict(snakemake.input.items()),
    **dict(snakemake.output.items()),
    **dict(snakemake.params.items()),
    mem_mb=snakemake.resources.mem_mb,
)
