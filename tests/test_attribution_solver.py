"""Banded ridge solver of the variance partition (vlmbrain.attribution.banded)."""

import numpy as np
import pytest

from vlmbrain.attribution.banded import (
    banded_ridge_loro,
    default_deltas,
    reference_r2,
    variance_partition,
)
from vlmbrain.encoding.ridge import ridge_loro
from vlmbrain.stats.backend import get_backend

ALPHAS = np.array([0.1, 1.0, 10.0, 100.0, 1000.0])


def _data(seed=0, n=60, V=50, n_runs=3):
    rng = np.random.default_rng(seed)
    runs = np.repeat(list("abcd"[:n_runs]), n)
    A = rng.standard_normal((n_runs * n, 5))
    B = rng.standard_normal((n_runs * n, 7))
    Y = (
        A @ rng.standard_normal((5, V)) * rng.uniform(0, 0.5, V)
        + B @ rng.standard_normal((7, V)) * rng.uniform(0, 0.5, V)
        + rng.standard_normal((n_runs * n, V))
    )
    return A, B, Y, runs


def _inner_cv(runs_train):
    return [
        (np.flatnonzero(runs_train != r), np.flatnonzero(runs_train == r))
        for r in np.unique(runs_train)
    ]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("n_spaces", "n_runs"), [(2, 3), (3, 3), (2, 4)])
def test_banded_matches_himalaya_banded_ridge_cv(dtype, n_spaces, n_runs):
    """Also with 4 runs (HCP's), where each inner fit spans 2 runs and the inner splits
    (k, v) and (v, k) share it."""
    from himalaya.ridge import BandedRidgeCV
    from himalaya.scoring import r2_score

    A, B, Y, runs = _data(n_runs=n_runs)
    if n_spaces == 2:
        spaces = [A, B]
        deltas = np.log([[0.5, 0.5], [0.9, 0.1], [0.1, 0.9], [1.0, 3.0], [0.01, 0.99]])
    else:
        spaces = [A, B[:, :3], B[:, 3:]]
        deltas = default_deltas(3, n_ratios=3)
    ours = banded_ridge_loro(spaces, Y, runs, deltas, ALPHAS, chunk_size=64, dtype=dtype)
    X = np.hstack(spaces)
    groups = np.concatenate([np.full(x.shape[1], i) for i, x in enumerate(spaces)])
    r2 = []
    for k, run in enumerate(np.unique(runs)):
        tr, te = runs != run, runs == run
        model = BandedRidgeCV(
            groups=groups,
            solver="random_search",
            solver_params=dict(n_iter=np.exp(deltas), alphas=ALPHAS, progress_bar=False),
            cv=_inner_cv(runs[tr]),
            fit_intercept=False,
        ).fit(X[tr], Y[tr])
        r2.append(np.asarray(r2_score(Y[te], np.asarray(model.predict(X[te])))))
        np.testing.assert_allclose(ours["deltas_folds"][k], np.asarray(model.deltas_), atol=1e-5)
    np.testing.assert_allclose(ours["r2_folds"], np.array(r2), atol=1e-4)
    np.testing.assert_allclose(ours["r2"], np.mean(r2, 0), atol=1e-4)
    # the test is not trivial: several candidates and alphas are chosen
    assert len(np.unique(ours["candidate_folds"])) >= 3
    assert len(np.unique(ours["alpha_folds"])) >= 3


def test_single_band_matches_himalaya_ridge_cv_and_ridge_loro():
    from himalaya.ridge import RidgeCV
    from himalaya.scoring import r2_score

    A, B, Y, runs = _data(seed=1)
    X = np.hstack([A, B])
    ours = banded_ridge_loro(X, Y, runs, [[0.0]], ALPHAS, dtype=np.float64)
    loro = ridge_loro(X, Y, runs, ALPHAS, dtype=np.float64)
    np.testing.assert_array_equal(ours["alpha_folds"], loro["alpha_folds"])
    for k, run in enumerate(["a", "b", "c"]):
        tr, te = runs != run, runs == run
        model = RidgeCV(alphas=ALPHAS, cv=_inner_cv(runs[tr]), fit_intercept=False)
        model.fit(X[tr], Y[tr])
        r2 = np.asarray(r2_score(Y[te], np.asarray(model.predict(X[te]))))
        np.testing.assert_allclose(ours["r2_folds"][k], r2, atol=1e-4)
        best = np.asarray(model.best_alphas_)
        np.testing.assert_allclose(ours["alpha_folds"][k], best, rtol=1e-6)


def test_chunking_gives_the_same_result():
    A, B, Y, runs = _data(seed=2)
    deltas = default_deltas(2)
    one = banded_ridge_loro([A, B], Y, runs, deltas, ALPHAS, chunk_size=1000)
    many = banded_ridge_loro([A, B], Y, runs, deltas, ALPHAS, chunk_size=7)
    for key in one:
        np.testing.assert_allclose(many[key], one[key], rtol=1e-6, atol=1e-6, err_msg=key)


def test_default_deltas_grid():
    d = default_deltas(2)
    assert d.shape == (5, 2)
    np.testing.assert_allclose(np.exp(d).sum(1), 1.0)
    np.testing.assert_allclose(np.sort(d[:, 0] - d[:, 1]), np.arange(-2, 3) * np.log(10))
    assert default_deltas(3).shape == (25, 3)
    np.testing.assert_array_equal(default_deltas(1), [[0.0]])


def _correlated_spaces(rng, T, p=6):
    A = rng.standard_normal((T, p))
    B = 0.75 * A @ np.linalg.qr(rng.standard_normal((p, p)))[0] + 0.66 * rng.standard_normal((T, p))
    return A, B


def _zscore_per_run(x, runs):
    out = np.empty_like(x)
    for r in np.unique(runs):
        m = runs == r
        out[m] = (x[m] - x[m].mean(0)) / x[m].std(0)
    return out


def test_toy_attribution_unique_parts():
    rng = np.random.default_rng(5)
    n, V = 100, 80
    runs = np.repeat([1, 2, 3], n)
    A, B = _correlated_spaces(rng, 3 * n)
    corr = np.corrcoef(A[:, 0], B @ np.linalg.lstsq(B, A[:, 0], rcond=None)[0])[0, 1]
    assert 0.5 < corr < 0.8
    Y = rng.standard_normal((3 * n, V))
    Y[:, :20] += A @ rng.standard_normal((6, 20)) * 0.5  # A only
    Y[:, 20:40] += A @ rng.standard_normal((6, 20)) * 0.4 + B @ rng.standard_normal((6, 20)) * 0.4
    A, B, Y = (_zscore_per_run(x, runs) for x in (A, B, Y))
    alphas = np.logspace(-1, 4, 6)
    ref = reference_r2(B, Y, runs, alphas)
    out = variance_partition(A, B, Y, runs, alphas, r2_reference=ref["r2"])
    again = variance_partition(A, [B], Y, runs, alphas)
    for key in out:
        np.testing.assert_allclose(again[key], out[key], atol=1e-6, err_msg=key)
    a_only, both, noise = slice(0, 20), slice(20, 40), slice(40, None)
    assert out["unique"][a_only].mean() > 0.05 and (out["unique"][a_only] > 0).mean() > 0.9
    assert abs(out["unique_reference"][a_only]).mean() < 0.02
    assert out["shared"][a_only].mean() > 0.05
    assert out["unique"][both].mean() > 0.02 and out["unique_reference"][both].mean() > 0.02
    assert abs(out["unique"][noise]).mean() < 0.02
    assert abs(out["unique_reference"][noise]).mean() < 0.02
    shared = out["r2_stream"] + out["r2_reference"] - out["r2_joint"]
    np.testing.assert_allclose(out["shared"], shared, atol=1e-6)


def test_variance_partition_with_two_references_composes_the_fits():
    A, B, Y, runs = _data(seed=4, V=20)
    refs = [B[:, :3], B[:, 3:]]
    out = variance_partition(A, refs, Y, runs, ALPHAS, deltas=default_deltas(3, n_ratios=3))
    joint = banded_ridge_loro([A, *refs], Y, runs, default_deltas(3, n_ratios=3), ALPHAS)["r2"]
    ref = banded_ridge_loro(refs, Y, runs, default_deltas(2), ALPHAS)["r2"]
    stream = ridge_loro(A, Y, runs, ALPHAS)  # same alphas as the single-band fit
    np.testing.assert_allclose(out["r2_joint"], joint, atol=1e-6)
    np.testing.assert_allclose(out["r2_reference"], ref, atol=1e-6)
    np.testing.assert_allclose(out["unique"], joint - ref, atol=1e-6)
    single = banded_ridge_loro(A, Y, runs, [[0.0]], ALPHAS)
    np.testing.assert_array_equal(single["alpha_folds"], stream["alpha_folds"])
    np.testing.assert_allclose(out["r2_stream"], single["r2"], atol=1e-6)
    np.testing.assert_allclose(out["unique_reference"], joint - single["r2"], atol=1e-6)


def test_errors_say_what_was_passed():
    A, B, Y, runs = _data(V=4)
    with pytest.raises(ValueError, match="at least 3 runs.*got 2"):
        banded_ridge_loro([A[:120], B[:120]], Y[:120], runs[:120], default_deltas(2), ALPHAS)
    with pytest.raises(ValueError, match=r"n_spaces=2.*\(5, 3\)"):
        banded_ridge_loro([A, B], Y, runs, default_deltas(3)[:5], ALPHAS)
    with pytest.raises(ValueError, match="spaces\\[1\\].*T=180"):
        banded_ridge_loro([A, B[:10]], Y, runs, default_deltas(2), ALPHAS)
    with pytest.raises(ValueError, match="positive"):
        banded_ridge_loro([A, B], Y, runs, default_deltas(2), [0.0, 1.0])


def test_torch_backend_matches_numpy():
    pytest.importorskip("torch")
    A, B, Y, runs = _data(seed=3)
    deltas = default_deltas(2)
    ref = banded_ridge_loro([A, B], Y, runs, deltas, ALPHAS, dtype=np.float64)
    out = banded_ridge_loro(
        [A, B], Y, runs, deltas, ALPHAS, dtype=np.float64, backend=get_backend("torch", "cpu")
    )
    for key in ref:
        np.testing.assert_allclose(out[key], ref[key], rtol=1e-6, atol=1e-6, err_msg=key)
