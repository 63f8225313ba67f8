"""Memory guard: the encoding, attribution and per-neuron jobs estimate
their memory need from input sizes (headers only) before loading, and stop early, with the
estimate and the rule's ``mem_mb``, when it exceeds it.

The estimates are checked against what the jobs really allocate (tracemalloc's peak of a
run on NIfTI data of 2 subjects x 3 runs on 12,000 voxels): never below it, and not more
than a few times above it.
"""

import json
import tracemalloc

import nibabel as nib
import numpy as np
import pandas as pd
import pytest

from vlmbrain import memory
from vlmbrain.attribution import jobs as attribution_jobs
from vlmbrain.encoding import jobs as encoding_jobs
from vlmbrain.fmri.bold import mask_brain_models
from vlmbrain.io import save_npy, save_npz, write_tsv
from vlmbrain.neurons import jobs as neurons_jobs
from vlmbrain.stimuli.table import build_stimulus_table

RUNS = ["A", "B", "C"]
N_T, K, N_ANS, P = 50, 4, 128, 360  # TRs per run, atoms, ANs per layer, parcels
SHAPE = (20, 20, 30)  # mask grid: 12,000 voxels


def _table(run):
    seg = pd.DataFrame({"run": [run, run], "clip": ["c", "val"], "start": [2, 36],
                        "end": [35, 47], "validation": [False, True]})
    cap = pd.DataFrame({"onset": [0.0], "duration": [float(N_T)], "text": ["hello"]})
    return build_stimulus_table(run, N_T, 1.0, seg, cap, video="v.mp4")


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    """NIfTI BOLD of 2 subjects x 3 runs, stimulus tables, atoms, regressors, features,
    an activations manifest and a cohort BOLD."""
    root = tmp_path_factory.mktemp("memory")
    rng = np.random.default_rng(0)
    nib.save(nib.Nifti1Image(np.ones(SHAPE, np.uint8), np.eye(4)), root / "mask.nii.gz")
    bm = mask_brain_models(root / "mask.nii.gz")
    V = len(bm)
    tables = []
    for run in RUNS:
        write_tsv(root / f"{run}.tsv", _table(run))
        tables.append(str(root / f"{run}.tsv"))
    bold = []
    for s in range(2):
        for run in RUNS:
            img = nib.Nifti1Image(rng.standard_normal((*SHAPE, N_T)).astype(np.float32), np.eye(4))
            img.header.set_zooms((2.0, 2.0, 2.0, 1.0))
            nib.save(img, root / f"sub-{s}_{run}.nii")
            bold.append(str(root / f"sub-{s}_{run}.nii"))
    T = int(_table("A")["condition"].eq("movie").sum()) * len(RUNS)
    for layer in range(2):
        save_npz(root / "atoms" / "image" / f"layer-{layer:02d}.npz",
                 atoms=rng.standard_normal((T, K)).astype(np.float32), codes=np.eye(K))
        save_npy(root / "regressors" / "image" / f"layer-{layer:02d}.npy",
                 rng.standard_normal((T, N_ANS)).astype(np.float32))
    (root / "activations").mkdir()
    (root / "activations" / "manifest.json").write_text(json.dumps(
        {"streams": {"image": {"n_layers": 2, "n_heads": 4, "head_dim": N_ANS // 4}}}))
    save_npz(root / "features.npz", **{
        "m.image.layer-00": rng.standard_normal((T, 6)).astype(np.float32),
        "m.image.layer-01": rng.standard_normal((T, 6)).astype(np.float32),
        "reference.text": rng.standard_normal((T, 8)).astype(np.float32),
    })
    save_npz(root / "parcel_bold.npz", series=rng.standard_normal((T, P)).astype(np.float32),
             names=np.array([f"p{i}" for i in range(P)]))
    save_npy(root / "cohort_bold.npy", rng.standard_normal((T, V)).astype(np.float32))
    masks = np.zeros((2, V), bool)
    masks[0, : V // 2] = masks[1, V // 2 :] = True
    save_npz(root / "networks.npz", names=np.array(["a", "b"]), masks=masks)
    return {"root": root, "bold": bold, "tables": tables, "mask": str(root / "mask.nii.gz"),
            "V": V, "T": T}


def _jobs(ws, out):
    """``{rule: (job function, kwargs)}`` of every guarded job on the workspace."""
    root, one = ws["root"], ws["bold"][:3]
    common = dict(tables=ws["tables"], tr=1.0, drop_rest=True, mask=[ws["mask"]])
    return {
        "encoding": (encoding_jobs.encoding, dict(
            bold=one, atoms=root / "atoms", encoding=out / "encoding", chunk_size=5000,
            ridge_alphas=[1.0, 10.0, 100.0], **common)),
        "noise_ceiling": (encoding_jobs.noise_ceiling, dict(
            bold=one, ceiling=out / "ceiling.npz", **common)),
        "attribution_subject": (attribution_jobs.attribution_subject, dict(
            bold=one, features=root / "features.npz", partition=out / "partition.npz",
            model="m", against={"image": ["text"]}, alphas=[1.0, 100.0], n_ratios=3,
            log10_span=1.0, chunk_size=5000, **common)),
        "neurons_cohort_bold": (neurons_jobs.neurons_cohort_bold, dict(
            bold=ws["bold"], cohort=out / "cohort.npy", n_subjects=2, **common)),
        "neurons_subject": (neurons_jobs.neurons_subject, dict(
            parcel_bold=root / "parcel_bold.npz", activations=root / "activations",
            regressors=root / "regressors", stats=out / "stats.npz")),
        "neurons_grayordinates": (neurons_jobs.neurons_grayordinates, dict(
            model="m", cohort=root / "cohort_bold.npy", activations=root / "activations",
            regressors=root / "regressors", networks=root / "networks.npz",
            counts=out / "counts.npz", ans=out / "ans.tsv", summary=out / "summary.tsv",
            layers=out / "layers.tsv", n_shifts=5, chunk_size=4000)),
    }


GUARDED = ["encoding", "noise_ceiling", "attribution_subject", "neurons_cohort_bold",
           "neurons_subject", "neurons_grayordinates"]


def test_shapes_come_from_the_headers(tmp_path):
    a, b = np.zeros((7, 3), np.float32), np.zeros((2, 5, 4), np.int16)
    np.save(tmp_path / "a.npy", a)
    np.savez_compressed(tmp_path / "z.npz", a=a, b=b)
    assert memory.npy_shape(tmp_path / "a.npy") == (7, 3)
    assert memory.npz_shapes(tmp_path / "z.npz") == {"a": (7, 3), "b": (2, 5, 4)}


@pytest.mark.parametrize("rule", GUARDED)
def test_a_job_that_needs_more_than_its_mem_mb_stops_before_loading(ws, tmp_path, monkeypatch,
                                                                     rule):
    """With a mem_mb below the estimate, the job stops with the estimate and the mem_mb,
    before any BOLD or array is loaded, and writes nothing."""
    from vlmbrain.fmri import bold

    def refuse(*args, **kwargs):
        raise AssertionError("data loaded before the memory check")

    monkeypatch.setattr(bold, "read_bold", refuse)
    monkeypatch.setattr(np, "load", refuse)
    out = tmp_path / "out"
    job, kwargs = _jobs(ws, out)[rule]
    with pytest.raises(memory.MemoryNeedError) as err:
        job(**kwargs, mem_mb=100)
    message = str(err.value)
    assert message.startswith(f"{rule}: needs about ")
    assert "MB, more than its mem_mb of 100 MB (estimated from the input sizes before " in message
    assert f"--set-resources {rule}:mem_mb=" in message
    assert not out.exists()


@pytest.mark.parametrize("rule", GUARDED)
def test_the_estimate_covers_what_the_job_allocates(ws, tmp_path, rule, caplog):
    """Run the job (mem_mb large enough) under tracemalloc: its estimate, less the
    baseline, is at least the peak of what it allocated, and at most 4 times it. The job
    runs once untraced first: the modules it imports on its first call belong to the
    baseline, and without it the result depended on which tests ran before."""
    job, kwargs = _jobs(ws, tmp_path / "warm")[rule]
    job(**kwargs, mem_mb=100000)
    caplog.clear()  # the warm-up's own estimate, logged where an earlier test set INFO
    job, kwargs = _jobs(ws, tmp_path / "out")[rule]
    with caplog.at_level("INFO", logger="vlmbrain"):
        tracemalloc.start()
        try:
            job(**kwargs, mem_mb=100000)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    logged = [r.getMessage() for r in caplog.records if "estimated memory need" in r.getMessage()]
    assert len(logged) == 1, logged
    estimate = float(logged[0].split("need ")[1].split(" MB")[0]) - memory.BASELINE_MB
    peak_mb = peak / memory.MB
    assert estimate >= peak_mb, f"{rule}: estimate {estimate:.1f} MB < peak {peak_mb:.1f} MB"
    assert estimate <= 4 * peak_mb + 5, f"{rule}: estimate {estimate:.1f} MB >> peak {peak_mb:.1f} MB"


def test_the_workflow_passes_each_rules_mem_mb():
    """Every guarded rule's script passes resources.mem_mb to its job function."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    for rule in GUARDED + ["neurons_parcel_bold"]:
        text = (root / "scripts" / f"{rule}.py").read_text()
        assert "mem_mb=snakemake.resources.mem_mb" in text, rule
