"""Rule attribution_subject: calls ``vlmbrain.attribution.jobs.attribution_subject`` with the rule's files and params."""

from vlmbrain.attribution.jobs import attribution_subject
from vlmbrain.io import setup_logging

snakemake = globals()["snakemake"]
setup_logging(snakemake.log[0])
attribution_subject(
    **dict(snakemake.input.items()),
    **dict(snakemake.output.items()),
    **dict(snakemake.params.items()),
    mem_mb=snakemake.resources.mem_mb,
    model=snakemake.wildcards.model,
    threads=snakemake.threads,
)
