"""Per-neuron statistics: batched correlation, AR(1) t, circular-shift null, group, FDR."""

import numpy as np
import pytest
from scipy import stats

from vlmbrain.neurons.cohort import GrayordinateEncoder, cohort_mean
from vlmbrain.neurons.null import circular_null_pvalues, circular_null_z, empirical_pvalues
from vlmbrain.stats import ar1_glm, bh_threshold, fdr_bh, fisher_z, pearson


def an_target_stats(X, Y, ar_bins=100):
    fit = ar1_glm(Y, X, bins=ar_bins, pairwise=True)
    return fit["r"], fit["t"]


def ar1_noise(rng, T, n, rho):
    """AR(1) series, T x n."""
    e = rng.standard_normal((T, n))
    for t in range(1, T):
        e[t] += rho * e[t - 1]
    return e


@pytest.fixture(scope="module")
def pairs():
    rng = np.random.default_rng(0)
    X = ar1_noise(rng, 240, 5, 0.5) + 2.0
    Y = ar1_noise(rng, 240, 4, 0.3) + 0.3 * X[:, :4] - 1.0
    return X, Y


def test_batched_correlation_equals_scipy_pearsonr(pairs):
    X, Y = pairs
    r, _ = an_target_stats(X, Y)
    for i, j in [(0, 0), (1, 3), (4, 2), (3, 3)]:
        assert r[i, j] == pytest.approx(stats.pearsonr(X[:, i], Y[:, j])[0], abs=1e-12)
    assert np.allclose(pearson(X, Y), r)
    assert np.allclose(fisher_z(r), np.arctanh(r))


def test_ar1_t_equals_nilearn_run_glm(pairs):
    from nilearn.glm.first_level import run_glm

    X, Y = pairs
    _, t = an_target_stats(X, Y, ar_bins=100)
    for i, j in [(0, 0), (2, 1), (4, 3)]:
        design = np.column_stack([X[:, i], np.ones(len(X))])
        _, results = run_glm(Y[:, [j]], design, noise_model="ar1", bins=100)
        assert t[i, j] == pytest.approx(next(iter(results.values())).t(0)[0], rel=1e-8)


def test_constant_or_missing_series_give_nan_not_zero():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((50, 3))
    X[:, 1] = 4.0
    Y = rng.standard_normal((50, 3))
    Y[:, 2] = np.nan  # a target without data
    r, t = an_target_stats(X, Y)
    undefined = np.zeros((3, 3), bool)
    undefined[1], undefined[:, 2] = True, True
    assert np.isnan(r[undefined]).all() and np.isnan(t[undefined]).all()
    assert np.isfinite(r[~undefined]).all() and np.isfinite(t[~undefined]).all()
    assert np.isnan(pearson(X, Y)[undefined]).all()
    full = an_target_stats(X[:, [0, 2]], Y[:, :2])
    np.testing.assert_allclose(r[[0, 2]][:, :2], full[0])  # the others are unaffected


def test_circular_null_moments_are_those_of_all_shifts():
    rng = np.random.default_rng(2)
    X, Y = ar1_noise(rng, 101, 4, 0.7), ar1_noise(rng, 101, 3, 0.7)
    r, z = circular_null_z(X, Y, dtype=np.float64)
    Xu = (X - X.mean(0)) / np.linalg.norm(X - X.mean(0), axis=0)
    Yu = (Y - Y.mean(0)) / np.linalg.norm(Y - Y.mean(0), axis=0)
    shifted = np.stack([np.roll(Xu, k, axis=0).T @ Yu for k in range(1, 101)])
    assert np.allclose(z, (r - shifted.mean(0)) / shifted.std(0))


def test_circular_null_gives_uniform_p_on_autocorrelated_noise():
    rng = np.random.default_rng(3)
    X, Y = ar1_noise(rng, 300, 400, 0.7), ar1_noise(rng, 300, 400, 0.7)
    _, p = circular_null_pvalues(X, Y)
    assert stats.kstest(np.diag(p), "uniform").pvalue > 0.01  # independent pairs
    # the same noise with the iid Pearson p is far from uniform: the check can fail
    naive = stats.pearsonr(X, Y, axis=0).pvalue
    assert stats.kstest(naive, "uniform").pvalue < 1e-6


def test_analytic_null_agrees_with_random_shifts():
    rng = np.random.default_rng(4)
    X, Y = ar1_noise(rng, 200, 20, 0.6), ar1_noise(rng, 200, 20, 0.6)
    _, p_an = circular_null_pvalues(X, Y)
    _, p_emp = empirical_pvalues(X, Y, n_shifts=150, seed=0)
    assert np.corrcoef(p_an.ravel(), p_emp.ravel())[0, 1] > 0.97
    assert np.abs(p_an - p_emp).mean() < 0.05


def test_bh_threshold_from_candidates_equals_scipy():
    rng = np.random.default_rng(6)
    p = np.concatenate([rng.uniform(size=5000), rng.uniform(0, 1e-3, size=300)])
    thr = bh_threshold(p[p <= 0.05], p.size, 0.05)
    assert np.array_equal(p <= thr, fdr_bh(p, axis=None) <= 0.05)
    assert bh_threshold(np.array([]), 10, 0.05) == -1.0


def test_grayordinate_encoder_matches_brute_force_and_finds_planted():
    rng = np.random.default_rng(7)
    T, N, V = 160, 12, 3000
    X = ar1_noise(rng, T, N, 0.5)
    Y = ar1_noise(rng, T, V, 0.4)
    Y[:, :400] += 0.6 * X[:, [2]]  # AN 2 drives grayordinates 0..399 positively
    Y[:, 400:600] -= 0.6 * X[:, [5]]  # AN 5 drives 400..599 negatively
    masks = np.zeros((2, V), bool)
    masks[0, :500] = True
    masks[1, 500:1000] = True
    res = GrayordinateEncoder(Y, masks, q=0.05, chunk_size=700, n_shifts=50).encode(X)
    r, p = circular_null_pvalues(X, Y)
    sig = fdr_bh(p, axis=None) <= 0.05
    assert np.array_equal(res["an_total"][:, 0], (sig & (r > 0)).sum(1))
    assert np.array_equal(res["an_total"][:, 1], (sig & (r < 0)).sum(1))
    assert np.array_equal(res["bn_counts"][1], (sig & (r < 0)).sum(0))
    assert np.array_equal(res["an_counts"][:, 1, 1], (sig & (r < 0))[:, masks[1]].sum(1))
    assert res["an_counts"][2, 0, 0] >= 380 and res["an_counts"][5, 1, 1] >= 90
    assert res["an_counts"][5, 0, 1] >= 90
    assert res["calibration"] < 0.1


def test_cohort_mean_streams_and_checks_shapes():
    arrays = [np.full((3, 4), float(i)) for i in range(4)]
    assert np.allclose(cohort_mean(iter(arrays)), 1.5)
    with pytest.raises(ValueError, match="subject 2"):
        cohort_mean(iter([np.zeros((3, 4)), np.zeros((3, 5))]))


def test_cohort_mean_averages_the_subjects_with_data():
    a, b, c = np.ones((3, 4)), np.full((3, 4), 3.0), np.full((3, 4), 5.0)
    b[:, 1] = np.nan  # subject b has no data at grayordinate 1
    a[:, 2] = b[:, 2] = c[:, 2] = np.nan  # nobody has data at 2
    mean = cohort_mean(iter([a, b, c]))
    assert np.allclose(mean[:, [0, 3]], 3.0) and np.allclose(mean[:, 1], 3.0)  # (1 + 5) / 2
    assert np.isnan(mean[:, 2]).all()


def test_grayordinate_encoder_leaves_out_grayordinates_without_data():
    rng = np.random.default_rng(8)
    T, N, V = 120, 6, 900
    X = ar1_noise(rng, T, N, 0.5)
    Y = ar1_noise(rng, T, V, 0.4)
    Y[:, :200] += 0.6 * X[:, [1]]
    masks = np.zeros((2, V), bool)
    masks[0, :300], masks[1, 300:600] = True, True
    missing = np.zeros(V, bool)
    missing[[5, 250, 700]] = True
    Y[:, missing] = np.nan
    res = GrayordinateEncoder(Y, masks, q=0.05, chunk_size=256, n_shifts=20).encode(X)
    ref = GrayordinateEncoder(Y[:, ~missing], masks[:, ~missing], q=0.05, chunk_size=256,
                              n_shifts=20).encode(X)
    assert res["n_tests"] == N * (V - 3)
    assert (res["bn_counts"][:, missing] == 0).all()
    np.testing.assert_array_equal(res["bn_counts"][:, ~missing], ref["bn_counts"])
    np.testing.assert_array_equal(res["an_counts"], ref["an_counts"])
    np.testing.assert_array_equal(res["an_enriched"], ref["an_enriched"])
    assert np.isfinite(res["calibration"])


def test_enrichment_ratio_of_empty_hit_rates_is_undefined():
    from vlmbrain.neurons.catalogue import _ratio

    assert _ratio(0.5, 0.25) == 2.0
    assert _ratio(0.5, 0.0) == np.inf
    assert np.isnan(_ratio(0.0, 0.0))


def test_cohort_mean_leaves_its_inputs_alone_and_equals_nanmean():
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal((20, 30)).astype(np.float32) for _ in range(5)]
    arrays[1][:, :4] = arrays[3][:, 2:6] = np.nan
    copies = [a.copy() for a in arrays]
    mean = cohort_mean(iter(arrays))
    assert mean.dtype == np.float32
    np.testing.assert_allclose(mean, np.nanmean(np.stack(copies).astype(np.float64), axis=0), rtol=1e-6, atol=1e-7)
    for a, b in zip(arrays, copies, strict=True):
        np.testing.assert_array_equal(a, b)
