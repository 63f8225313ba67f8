"""The rule-level functions chained on tiny files: ground truth -> simulated CIFTI BOLD ->
atoms -> encoding -> noise ceiling -> group maps (real 91,282 space)."""

import numpy as np
import pandas as pd
import pytest

from vlmbrain.encoding import jobs as encoding_jobs
from vlmbrain.encoding.group import group_model
from vlmbrain.encoding.noise import read_noise_ceiling
from vlmbrain.fmri.cifti import write_dtseries
from vlmbrain.fmri.cifti import read_dscalar, read_dtseries, template_brain_models
from vlmbrain.io import read_tsv, save_npy, write_json, write_tsv
from vlmbrain.simulation import jobs as simulation_jobs
from vlmbrain.simulation.truth import plant, write_ground_truth

RUNS = ["run1", "run2", "run3"]
N_T = 40


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("sim")
    tables = []
    for run in RUNS:
        cond = np.array(["rest"] * 4 + ["movie"] * 32 + ["rest"] * 4)
        val = np.zeros(N_T, bool)
        val[28:36] = True
        table = pd.DataFrame({
            "run": run, "tr": np.arange(N_T), "onset": np.arange(N_T, dtype=float),
            "condition": cond, "clip": np.where(cond == "movie", "c1", ""), "validation": val,
            "frame_source": "x.mp4", "frame_time": np.arange(N_T) + 0.5,
            "caption": np.where(cond == "movie", "a cat", ""),
        })
        path = root / "stimuli" / f"{run}.tsv"
        write_tsv(path, table)
        tables.append(str(path))
    rng = np.random.default_rng(0)
    act = root / "activations" / "toy"
    rest = np.tile(np.r_[np.ones(4), np.zeros(32), np.ones(4)].astype(bool), 3)
    for layer in range(2):
        X = rng.standard_normal((3 * N_T, 24)).astype(np.float32)
        X[rest] = 0
        for r in (1, 2):  # the validation clip repeats: same ANs in every run
            X[r * N_T + 28 : r * N_T + 36] = X[28:36]
        save_npy(act / "image" / f"layer-{layer:02d}.npy", X)
    manifest = {"streams": {"image": {"n_layers": 2, "n_heads": 2, "head_dim": 12}}, "n_trs": 3 * N_T}
    write_json(act / "manifest.json", manifest)
    return root, tables, act, manifest


def test_chain_writes_contract_outputs(workspace):
    root, tables, act, manifest = workspace
    n_vox = len(template_brain_models())
    masks = np.zeros((2, n_vox), bool)
    masks[0, :5000] = True
    masks[1, 50000:55000] = True
    couplings = [{"model": "toy", "stream": "image", "layer": 1, "network": "vision", "sign": 1,
                  "strength": 2.0}]
    table, arrays = plant(couplings, {"toy": manifest}, ["vision", "language"], masks, n_ans=6)
    write_ground_truth(root / "gt.tsv", root / "gt.npz", table, arrays)
    gt = read_tsv(root / "gt.tsv")
    assert gt.loc[0, "n_grayordinates"] == round(0.35 * 5000)
    assert len(str(gt.loc[0, "ans"]).split(",")) == 6
    sim = dict(models=["toy"], activations=[str(act)], seed=0, sigma=1.0, ar1=0.4, drift=0.5,
               subject_variability=0.3, tr=1.0, hrf="spm")
    subjects = ["s1", "s2", "s3"]
    bold = {s: [str(root / "bold" / f"sub-{s}" / f"{r}.dtseries.nii") for r in RUNS] for s in subjects}
    for i, s in enumerate(subjects):
        simulation_jobs.simulate_bold(tsv=root / "gt.tsv", npz=root / "gt.npz", tables=tables,
                                      bold=bold[s], subject_index=i, **sim)
    data, bm, tr = read_dtseries(bold["s1"][0])
    assert data.shape == (N_T, n_vox) and tr == 1.0
    # same config, same data
    simulation_jobs.simulate_bold(tsv=root / "gt.tsv", npz=root / "gt.npz", tables=tables,
                                  bold=[str(root / f"again_{r}.dtseries.nii") for r in RUNS],
                                  subject_index=0, **sim)
    np.testing.assert_array_equal(read_dtseries(root / "again_run1.dtseries.nii")[0], data)

    encoding_jobs.atoms(model="toy", activations=act, tables=tables,
                        regressors=root / "regressors" / "toy", atoms=root / "atoms" / "toy",
                        tr=1.0, hrf="spm", drop_rest=True, n_atoms=4, alpha=0.5, max_iter=3,
                        batch_size=256, seed=0)
    with np.load(root / "atoms" / "toy" / "image" / "layer-01.npz") as z:
        assert z["atoms"].shape == (96, 4) and z["codes"].shape == (4, 24)
    assert np.load(root / "regressors" / "toy" / "image" / "layer-00.npy").shape == (96, 24)
    assert len(read_tsv(root / "atoms" / "toy" / "summary.tsv")) == 2
    assert len(read_tsv(root / "regressors" / "toy" / "timing.tsv")) == 96

    dirs = []
    for s in subjects:
        out = root / "encoding" / f"sub-{s}" / "toy"
        encoding_jobs.encoding(bold=bold[s], tables=tables, atoms=root / "atoms" / "toy",
                               encoding=out, tr=1.0, chunk_size=40000, ar_bins=100,
                               ridge_alphas=[1.0, 100.0])
        dirs.append(out)
    with np.load(dirs[0] / "image" / "layer-01.npz") as z:
        # what the group and depth rules read: betas in half precision, no subject t
        assert z["beta"].shape == (4, n_vox) and z["beta"].dtype == np.float16
        assert "t" not in z
        assert z["r"].shape == (n_vox,) and z["alpha"].shape == (n_vox,)
        r = z["r"]
    planted = arrays["masks"][0]
    assert r[planted].mean() > r[~planted].mean() + 0.1

    encoding_jobs.noise_ceiling(bold=bold["s1"], tables=tables, ceiling=root / "nc.npz", tr=1.0)
    nc = read_noise_ceiling(root / "nc.npz", n_vox)
    assert nc["ceiling"][planted].mean() > nc["ceiling"][~planted].mean()
    assert (nc["n_repeats"], nc["n_trs"], nc["note"]) == (3, 8, "")

    group_model(dirs, root / "group" / "toy", q=0.05)
    with np.load(root / "group" / "toy" / "image" / "layer-01.npz") as z:
        assert z["activated"].shape == (4, n_vox) and z["activated"].dtype == bool
        assert (z["n_subjects"] == 3).all() and z["mean_r"].shape == (n_vox,)
    maps, names, _ = read_dscalar(root / "group" / "toy" / "maps" / "image_summary.dscalar.nii")
    assert maps.shape == (6, n_vox) and names[0] == "layer-00 activating atoms"


def test_bad_activations_are_refused_before_work(workspace, tmp_path):
    root, tables, act, manifest = workspace
    with pytest.raises(FileNotFoundError, match="manifest.json"):
        encoding_jobs.atoms(model="toy", activations=tmp_path, tables=tables,
                            regressors=tmp_path / "r", atoms=tmp_path / "a", tr=1.0, n_atoms=2,
                            max_iter=1, batch_size=8)
    assert not (tmp_path / "a").exists()


def _repeat_tables(root, validation):
    """Stimulus tables of 3 runs of 60 TRs: rest, a clip, and (``validation``) the last
    30 TRs marked as the clip repeated in every run."""
    paths = []
    for run in RUNS:
        cond = np.array(["rest"] * 5 + ["movie"] * 55)
        val = np.zeros(60, bool)
        val[30:] = validation
        table = pd.DataFrame({
            "run": run, "tr": np.arange(60), "onset": np.arange(60, dtype=float),
            "condition": cond, "clip": np.where(cond == "movie", "c", ""), "validation": val,
            "frame_source": "x.mp4", "frame_time": np.arange(60) + 0.5, "caption": "",
        })
        paths.append(str(root / f"{run}.tsv"))
        write_tsv(paths[-1], table)
    return paths


def test_noise_ceiling_job_recovers_planted_reliability_and_says_why_not(tmp_path, caplog):
    """A clip repeated in three runs with reliability 0.5 in 5,000 grayordinates (shared
    signal + independent noise of equal variance): the job's ceiling is sqrt(0.5) there
    and near 0 elsewhere; without a repeated clip it is NaN with the reason."""
    n_vox = len(template_brain_models())
    rng = np.random.default_rng(3)
    planted = np.zeros(n_vox, bool)
    planted[10000:15000] = True
    signal = rng.standard_normal((30, planted.sum())).astype(np.float32)
    bold = []
    for run in RUNS:
        data = rng.standard_normal((60, n_vox)).astype(np.float32)
        data[30:, planted] = np.sqrt(0.5) * signal + np.sqrt(0.5) * data[30:, planted]
        bold.append(str(tmp_path / f"{run}.dtseries.nii"))
        write_dtseries(bold[-1], data, 1.0)
    tables = _repeat_tables(tmp_path / "with", True)
    encoding_jobs.noise_ceiling(bold=bold, tables=tables, ceiling=tmp_path / "nc.npz", tr=1.0)
    nc = read_noise_ceiling(tmp_path / "nc.npz", n_vox)
    assert (nc["n_repeats"], nc["n_trs"], nc["note"]) == (3, 30, "")
    assert abs(nc["reliability"][planted].mean() - 0.5) < 0.05
    assert abs(np.median(nc["ceiling"][planted]) - np.sqrt(0.5)) < 0.05
    assert abs(nc["reliability"][~planted].mean()) < 0.01

    caplog.set_level("WARNING", logger="vlmbrain")
    tables = _repeat_tables(tmp_path / "without", False)
    encoding_jobs.noise_ceiling(bold=bold, tables=tables, ceiling=tmp_path / "none.npz", tr=1.0)
    none = read_noise_ceiling(tmp_path / "none.npz", n_vox)
    assert np.isnan(none["ceiling"]).all() and none["n_repeats"] == 0
    assert none["note"].startswith("no repeated clip")
    assert "noise ceiling is NaN: no repeated clip" in caplog.text
