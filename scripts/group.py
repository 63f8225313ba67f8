"""Rule group: calls ``vlmbrain.encoding.jobs.group`` with the rule's files and params."""

from vlmbrain.encoding.jobs import group
from vlmbrain.io import setup_logging

snakemake = globals()["snakemake"]
setup_logging(snakemake.log[0])
group(
    **dict(snakemake.input.items()),
    **dict(snakemake.output.items()),
    **dict(snakemake.params.items()),
)
