"""``python -m bench --fast`` finishes and writes its table as JSON and CSV (no timing asserted)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT

LINES = {
    "glm_vs_ols", "glm_vs_nilearn", "glm_peak_memory", "glm_torch_vs_numpy", "ridge_vs_himalaya", "attribution_vs_himalaya",
    "hrf_vs_nilearn", "sdl_per_layer", "extraction_clip_frames", "extraction_clip_captions",
    "extraction_meter_frame+caption", "extraction_vit_frames", "extraction_roberta_captions",
    "neurons_parcel_vs_gemm", "neurons_grayordinate_vs_gemm", "dag_hcp7t", "noop_rerun", "end_to_end",
    "floor_extraction", "floor_encoding", "floor_attribution", "floor_neurons", "floor_rest", "floor_total",
}


def test_bench_fast_writes_its_table(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-m", "bench", "--fast", "--out", str(tmp_path)],
                         cwd=ROOT, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    table = json.loads((tmp_path / "bench.json").read_text())
    assert table["mode"] == "fast"
    assert {"device", "cpu_count", "versions"} <= set(table["machine"])
    rows = {r["line"]: r for r in table["rows"]}
    assert set(rows) == LINES
    # without a finished run the two lines that read one are skipped, with the reason
    assert rows["noop_rerun"]["note"].startswith("skipped") and rows["end_to_end"]["note"].startswith("skipped")
    measured = [r for r in rows.values() if r["reference"]]
    assert all(r["ours_s"] > 0 and r["reference_s"] > 0 and r["ratio"] > 0 for r in measured)
    assert rows["dag_hcp7t"]["ours_s"] > 0 and rows["dag_hcp7t"]["met"] is not None
    with (tmp_path / "bench.csv").open() as f:
        assert [r["line"] for r in csv.DictReader(f)] == [r["line"] for r in table["rows"]]


@pytest.mark.slow
def test_end_to_end_judges_peak_memory_from_the_recorded_inputs(tiny_run):
    """The workflow profile records each job's inputs (Snakemake's extended benchmark
    format); the end-to-end line reads their largest array from the run's files and judges
    every rule's peak memory against it."""
    from bench.workflow.end_to_end import array_mb, read_benchmarks, rows
    from vlmbrain.fmri.cifti import N_GRAYORDINATES

    bench = tiny_run / "results" / "benchmarks"
    jobs = read_benchmarks(bench, tiny_run)
    encoding = jobs[jobs["rule"] == "encoding"]
    # a subject's largest input is one BOLD run, N_GRAYORDINATES float32 per TR
    run = next((tiny_run / "results" / "simulation").rglob("*.dtseries.nii"))
    assert array_mb(run) > N_GRAYORDINATES * 4 / 2**20
    assert (encoding["largest_input_mb"] >= array_mb(run)).all()
    by_line = {r.line: r for r in rows(False, benchmarks=bench, cores=2, run_dir=tiny_run)}
    assert by_line["rule:encoding"].met is not None and "largest input array" in by_line["rule:encoding"].note
    assert all(r.met is None for r in rows(False, benchmarks=bench, cores=2)[1:])  # no run_dir


def test_a_subjects_runs_count_together_and_removed_inputs_by_their_recorded_size(tmp_path):
    """A job of one subject holds its runs concatenated; other jobs read images one at a
    time; a ``temp()`` input already removed counts with the size Snakemake recorded."""
    import numpy as np

    from bench.workflow.end_to_end import array_mb, held_input_mb
    from vlmbrain.fmri.cifti import template_brain_models, write_dtseries

    bm = template_brain_models()
    for name, n_trs in (("run1", 4), ("run2", 6)):
        write_dtseries(tmp_path / f"{name}.dtseries.nii", np.zeros((n_trs, len(bm)), np.float32), 1.0)
    one, two = (array_mb(tmp_path / f"{n}.dtseries.nii") for n in ("run1", "run2"))
    inputs = {"run1.dtseries.nii": 0.1, "run2.dtseries.nii": 0.1, "table.tsv": 0.0}
    assert held_input_mb(inputs, tmp_path, per_subject=True) == pytest.approx(one + two)
    assert held_input_mb(inputs, tmp_path, per_subject=False) == pytest.approx(two)
    assert held_input_mb({**inputs, "gone.npy": 50.0}, tmp_path) == 50.0


def test_cohort_cost_counts_a_job_by_its_wall_time_when_sampling_missed_its_cpu(tmp_path):
    """Snakemake samples CPU while a job runs: a short job's record misses most of it."""
    from bench.workflow.cohort_cost import KERNELS, per_job

    header = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"
    for subject, (wall, cpu) in {"sim01": (40.0, 14.0), "sim02": (40.0, 50.0)}.items():
        folder = tmp_path / "encoding" / f"sub-{subject}"
        folder.mkdir(parents=True)
        (folder / "clip.tsv").write_text(header + f"{wall}\t0:00:40\t400\t0\t0\t0\t0\t0\t50\t{cpu}\n")
    base, low, high, _ = per_job(tmp_path)["encoding", "clip"]
    assert base == pytest.approx(45.0)  # median of max(14, 40) and max(50, 40)
    small, large, _ = KERNELS["encoding"]
    assert low == pytest.approx(45.0 * large / small) and high >= low
