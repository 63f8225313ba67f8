"""Rule neurons_cohort_bold: calls ``vlmbrain.neurons.jobs.neurons_cohort_bold`` with the rule's files and params."""

from vlmbrain.neurons.jobs import neurons_cohort_bold
from vlmbrain.io import setup_logging

snakemake = globals()["snakemake"]
setup_logging(snakemake.log[0])
neurons_cohort_bold(
    **dict(snakemake.input.items()),
    **dict(snakemake.output.items()),
    **dict(snakemake.params.items()),
    mem_mb=snakemake.resources.mem_mb,
)
