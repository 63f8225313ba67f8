"""The neurons rules run end to end through Snakemake on a tiny workspace of real files."""

import pytest

from neurons_workspace import PLANTED, make_workspace, run_workflow
from vlmbrain.io import read_tsv


@pytest.mark.slow
def test_neurons_rules_run_and_keep_memory_small(tmp_path):
    root = make_workspace(tmp_path / "ws", n_subjects=2, n_runs=2, movie_trs=40)
    done = run_workflow(root)
    assert done.returncode == 0, done.stderr[-3000:]
    res = root / "results"
    cat = read_tsv(res / "tables" / "neurons.tsv")
    assert len(cat) == 2 * 8 and {"best_network", "best_sign", "atoms"} <= set(cat.columns)
    planted = cat[(cat["layer"] == 1) & cat["column"].isin(PLANTED)]
    assert planted["grayordinate_networks"].str.contains(r"\+vision").all()
    enrich = read_tsv(res / "neurons" / "planted_enrichment.tsv")
    assert enrich.loc[0, "hit_planted_grayordinate"] == 1.0
    assert enrich.loc[0, "hit_unplanted_layers_grayordinate"] == 0.0
    assert (res / "neurons" / "catalogue.html").exists()
    assert (res / "figures" / "neurons_catalogue.png").exists()
    # the job's benchmark file: far below one N x V x S float32 array (here 8 x 91282 x 2)
    bench = read_tsv(res / "benchmarks" / "neurons" / "grayordinates_clip.tsv")
    assert bench["max_rss"].iloc[-1] < 1500
