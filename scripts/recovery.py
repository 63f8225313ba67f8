"""Rule recovery: planted against found couplings (simulation only)."""

from vlmbrain.findings import line_figures
from vlmbrain.findings.pipeline import make_recovery
from vlmbrain.io import read_tsv, setup_logging
from vlmbrain.report.provenance import write_recovery_page

setup_logging(snakemake.log[0])
make_recovery(
    dict(zip(snakemake.params.models, snakemake.input.activations)),
    snakemake.input.networks,
    snakemake.input.overlap,
    snakemake.input.ground_truth,
    snakemake.output.table,
)
recovery = read_tsv(snakemake.output.table)
write_recovery_page(snakemake.output.page, recovery)
line_figures.save_figure(line_figures.recovery_figure(recovery), snakemake.output.figure)
