"""Rule findings_figures: calls ``vlmbrain.findings.jobs.findings_figures`` with the rule's files and params."""

from vlmbrain.findings.jobs import findings_figures
from vlmbrain.io import setup_logging

snakemake = globals()["snakemake"]
setup_logging(snakemake.log[0])
findings_figures(
    **dict(snakemake.input.items()),
    **{f"{key}_figure": path for key, path in snakemake.output.items()},
    **dict(snakemake.params.items()),
)
