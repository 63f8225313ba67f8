"""Temporal model, SDL, AR(1) GLM (vs nilearn), ridge (vs himalaya), group statistics."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from vlmbrain.encoding.group import group_maps
from vlmbrain.stats import OneSampleT, add_intercept, ar1_glm
from vlmbrain.encoding.noise import noise_ceiling
from vlmbrain.encoding.ridge import ridge_loro
from vlmbrain.encoding.sdl import atoms_per_tr_warning, learn_atoms
from vlmbrain.encoding.temporal import HRFConvolver, hrf_kernel, regressor_pipeline
from vlmbrain.stimuli.table import run_slices
from vlmbrain.fmri.bold import zscore


def _rows(n_runs=3, n_t=60, rest=(0, 5)):
    frames = []
    for r in range(n_runs):
        movie = np.ones(n_t, bool)
        movie[: rest[1]] = False
        movie[-rest[1]:] = False
        frames.append(pd.DataFrame({"run": f"run{r + 1}", "tr": np.arange(n_t), "movie": movie,
                                    "validation": False}))
    return pd.concat(frames, ignore_index=True)


def test_impulse_gives_hrf_shape_and_nothing_leaks_across_runs():
    rows = _rows(n_runs=2, n_t=60, rest=(0, 0))
    X = np.zeros((120, 3), np.float32)
    X[50, 0] = 1.0  # late in run 1: its HRF tail would cross into run 2
    from vlmbrain.encoding.temporal import HRFConvolver
    out = HRFConvolver(rows["run"].to_numpy(), "spm", 1.0).transform(X)
    kernel = hrf_kernel("spm", 1.0)
    np.testing.assert_allclose(out[50:60, 0], kernel[:10], atol=1e-6)
    assert np.all(out[60:, 0] == 0)
    assert np.all(out[:50, 0] == 0)
    assert np.argmax(kernel) in (4, 5, 6)  # peak at ~5 s
    # glover differs from spm
    assert not np.allclose(hrf_kernel("glover"), kernel)


def test_regressor_pipeline_zscores_drops_rest_and_rejects_split_runs():
    rows = _rows()
    rng = np.random.default_rng(0)
    X = rng.standard_normal((len(rows), 4)).astype(np.float32) * 3 + 7
    X[~rows["movie"].to_numpy()] = 0
    R = regressor_pipeline(rows, "spm", 1.0, drop_rest=True).transform(X)
    assert R.shape == (rows["movie"].sum(), 4) and R.dtype == np.float32
    for sl in run_slices(rows.loc[rows["movie"], "run"].to_numpy()):
        np.testing.assert_allclose(R[sl].mean(0), 0, atol=1e-5)
        np.testing.assert_allclose(R[sl].std(0), 1, atol=1e-4)
    with pytest.raises(ValueError, match="contiguous"):
        run_slices(np.array(["a", "b", "a"]))


def test_sdl_is_seeded_oriented_and_reports_quality():
    rng = np.random.default_rng(1)
    latent = rng.standard_normal((120, 5))
    X = (latent @ rng.standard_normal((5, 80)) + 0.3 * rng.standard_normal((120, 80))).astype(np.float32)
    a = learn_atoms(X, n_atoms=8, alpha=0.5, max_iter=5, seed=3)
    b = learn_atoms(X, n_atoms=8, alpha=0.5, max_iter=5, seed=3)
    c = learn_atoms(X, n_atoms=8, alpha=0.5, max_iter=5, seed=4)
    np.testing.assert_array_equal(a["atoms"], b["atoms"])
    np.testing.assert_array_equal(a["codes"], b["codes"])
    assert not np.array_equal(a["atoms"], c["atoms"])
    assert a["atoms"].shape == (120, 8) and a["codes"].shape == (8, 80)
    assert np.all(a["codes"].sum(1) >= 0)
    norms = np.linalg.norm(a["atoms"], axis=0)
    np.testing.assert_allclose(norms[norms > 0], 1, atol=1e-5)
    assert 0 < a["zero_fraction"] < 1 and 0.5 < a["r2"] <= 1


def _scene_series(rng, T, n):
    """HRF-convolved series of n features held constant over 3-9 s scenes (a movie)."""
    cuts = np.cumsum(rng.integers(3, 10, T))
    scene = np.searchsorted(cuts[cuts < T], np.arange(T), side="right")
    X = HRFConvolver(np.zeros(T, int)).transform(rng.standard_normal((scene.max() + 1, n))[scene])
    return zscore(X)


def test_too_many_atoms_for_the_trs_span_unrelated_signals_and_warn():
    rng = np.random.default_rng(0)
    T = 405
    layer = _scene_series(rng, T, 40) @ rng.standard_normal((40, 300))
    other = _scene_series(rng, T, 20)  # an unrelated stimulus feature, same statistics

    def r2(K):
        U = np.linalg.svd(layer - layer.mean(0), full_matrices=False)[0][:, :K]
        return float(np.mean(np.sum((U.T @ other) ** 2, 0) / np.sum(other**2, 0)))

    assert r2(64) > 0.5 > 3 * r2(8)  # 64 atoms of 405 TRs explain unrelated signals
    assert atoms_per_tr_warning(405, 64) and "sdl.n_atoms <= 16" in atoms_per_tr_warning(405, 64)
    assert atoms_per_tr_warning(405, 8) is None and atoms_per_tr_warning(3600, 64) is None


def _ar_data(T=240, K=6, V=600, seed=0):
    rng = np.random.default_rng(seed)
    D = rng.standard_normal((T, K))
    e = np.zeros((T, V))
    w = rng.standard_normal((T, V))
    ar = rng.uniform(0, 0.6, V)
    for t in range(T):
        e[t] = w[t] + (ar * e[t - 1] if t else 0)
    Y = D @ rng.standard_normal((K, V)) * 0.3 + e
    return D, Y


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_ar1_glm_matches_nilearn_run_glm(dtype):
    from nilearn.glm.contrasts import compute_contrast
    from nilearn.glm.first_level import run_glm

    D, Y = _ar_data()
    X = add_intercept(D)
    labels, results = run_glm(Y, X, noise_model="ar1", bins=100)
    ours = ar1_glm(Y.astype(dtype), X, bins=100, chunk_size=250, dtype=dtype)
    for k in range(D.shape[1]):
        con = np.eye(X.shape[1])[k]
        t_ref = compute_contrast(labels, results, con, stat_type="t").stat()
        np.testing.assert_allclose(ours["t"][k], t_ref, atol=1e-3)
    np.testing.assert_array_equal(ours["rho"], labels.astype(float))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_ridge_loro_matches_himalaya(dtype):
    from himalaya.ridge import RidgeCV
    from sklearn.model_selection import PredefinedSplit

    rng = np.random.default_rng(2)
    T, K, V = 3 * 80, 10, 300
    X = rng.standard_normal((T, K))
    Y = X @ rng.standard_normal((K, V)) * rng.uniform(0, 0.4, V) + rng.standard_normal((T, V))
    runs = np.repeat(["a", "b", "c"], 80)
    alphas = [0.1, 1.0, 10.0, 100.0, 1000.0]
    ours = ridge_loro(X, Y, runs, alphas, chunk_size=128, dtype=dtype)
    for k, run in enumerate(["a", "b", "c"]):
        tr, te = runs != run, runs == run
        inner = PredefinedSplit(np.unique(runs[tr], return_inverse=True)[1])
        model = RidgeCV(alphas=np.array(alphas), cv=inner, fit_intercept=False).fit(X[tr], Y[tr])
        pred = np.asarray(model.predict(X[te]))
        r = [stats.pearsonr(pred[:, v], Y[te, v])[0] for v in range(V)]
        np.testing.assert_allclose(ours["r_folds"][k], r, atol=1e-4)
        np.testing.assert_allclose(ours["alpha_folds"][k], np.asarray(model.best_alphas_), rtol=1e-5)
    assert ours["r"].shape == (V,) and ours["alpha"].shape == (V,)


def test_group_t_matches_scipy_and_fdr_masks():
    rng = np.random.default_rng(3)
    betas = rng.standard_normal((6, 2, 500))
    betas[:, 0, :50] += 3.0
    betas[:, 1, 100:140] -= 3.0
    acc = OneSampleT()
    for b in betas:
        acc.add(b)
    _, t, p = acc.result()
    ref = stats.ttest_1samp(betas, 0, axis=0)
    np.testing.assert_allclose(t, ref.statistic, rtol=1e-10)
    np.testing.assert_allclose(p, ref.pvalue, rtol=1e-8)
    res = group_maps(list(betas), q=0.05, moderated=False)
    assert res["activated"][0, :50].mean() > 0.8 and res["activated"][0, 50:].mean() < 0.02
    assert res["deactivated"][1, 100:140].mean() > 0.8 and res["activated"][1].sum() <= 2
    np.testing.assert_allclose(res["q"], stats.false_discovery_control(p, axis=1), rtol=1e-5)
    mod = group_maps(list(betas), q=0.05)  # the default: moderated, finds at least as much
    assert mod["activated"][0, :50].sum() >= res["activated"][0, :50].sum()
    assert mod["activated"][0, 50:].mean() < 0.02 and mod["activated"][1].sum() <= 2


def test_noise_ceiling_is_higher_where_repeats_agree():
    rng = np.random.default_rng(4)
    runs = np.repeat(["a", "b", "c"], 50)
    val = np.tile(np.r_[np.zeros(30, bool), np.ones(20, bool)], 3)
    signal = rng.standard_normal(20)
    Y = rng.standard_normal((150, 2))
    Y[val, 0] += np.tile(signal, 3) * 3
    nc = noise_ceiling(Y, runs, val)
    assert nc["ceiling"][0] > 0.8 and nc["ceiling"][1] < nc["ceiling"][0]
    assert (nc["n_repeats"], nc["n_trs"], nc["note"]) == (3, 20, "")


def test_noise_ceiling_recovers_a_planted_reliability():
    """Repeats = shared signal + independent noise: the split-half correlation is
    rho = s^2 / (s^2 + n^2) and a perfect model reaches r = sqrt(rho)."""
    rng = np.random.default_rng(7)
    n_runs, clip, other, per_level = 4, 200, 30, 50
    rhos = np.array([0.0, 0.1, 0.3, 0.6, 0.9])
    rho = np.repeat(rhos, per_level)
    runs = np.repeat([f"run{i}" for i in range(n_runs)], other + clip)
    val = np.tile(np.r_[np.zeros(other, bool), np.ones(clip, bool)], n_runs)
    signal = rng.standard_normal((clip, rho.size))
    Y = rng.standard_normal((runs.size, rho.size)) * 5  # the rest of each run: anything
    for i in range(n_runs):
        rows = np.flatnonzero(val & (runs == f"run{i}"))
        noise = rng.standard_normal((clip, rho.size))
        Y[rows] = np.sqrt(rho) * signal + np.sqrt(1 - rho) * noise
    nc = noise_ceiling(Y, runs, val)
    assert (nc["n_repeats"], nc["n_trs"]) == (n_runs, clip)
    for level in rhos:
        sel = rho == level
        assert abs(np.mean(nc["reliability"][sel]) - level) < 0.05, level
        if level > 0:
            assert abs(np.median(nc["ceiling"][sel]) - np.sqrt(level)) < 0.05, level
    # a ceiling is a correlation's bound: in [0, 1]
    assert nc["ceiling"].min() >= 0 and nc["ceiling"].max() <= 1


@pytest.mark.parametrize(
    "val_runs, n_val, reason",
    [
        ((), 0, "no repeated clip: no TR is marked validation"),
        (("b",), 10, "the validation clip is in one run only (b)"),
        (("a", "b", "c"), 2, "the validation clip has 2 modelled TR(s) in some run"),
    ],
)
def test_noise_ceiling_nan_with_reason(val_runs, n_val, reason):
    runs = np.repeat(["a", "b", "c"], 40)
    val = np.isin(runs, val_runs) & (np.tile(np.arange(40), 3) >= 40 - n_val)
    Y = np.random.default_rng(0).standard_normal((120, 5))
    nc = noise_ceiling(Y, runs, val)
    assert np.isnan(nc["ceiling"]).all() and np.isnan(nc["reliability"]).all()
    assert nc["n_repeats"] == 0 and nc["note"].startswith(reason)