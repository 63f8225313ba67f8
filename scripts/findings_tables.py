"""Rule findings_tables: prediction, redundancy, polarity (+ trend) and architecture."""

from pathlib import Path

from vlmbrain.findings.pipeline import make_tables
from vlmbrain.io import read_tsv, setup_logging
from vlmbrain.report.provenance import write_findings_page

setup_logging(snakemake.log[0])
out = snakemake.output
make_tables(
    dict(zip(snakemake.params.models, snakemake.input.activations)),
    Path(snakemake.input.group[0]).parent,
    Path(snakemake.input.atoms[0]).parent,
    snakemake.input.networks,
    snakemake.input.overlap,
    {k: out[k] for k in ("prediction", "redundancy", "polarity", "polarity_trend", "architecture")},
    neuron_summary=snakemake.input.get("neurons"),
)
write_findings_page(
    out.page, {k: read_tsv(out[k]) for k in ("prediction", "polarity_trend", "architecture")}
)
