"""The statistics module: AR(1) GLM paths, one-sample tests, sign flips, FDR and the cut."""

import numpy as np
import pytest
from scipy import stats

from vlmbrain.stats import (
    OneSampleT,
    add_intercept,
    ar1_glm,
    enrichment_p,
    fdr_bh,
    fdr_mask,
    moderate,
    one_sample_t,
    sign_flip_test,
    sign_patterns,
    significant,
)
from vlmbrain.stats.inference import hypergeom_tail, trigamma_inverse, variance_prior


def ar1_noise(rng, T, n, rho):
    e = rng.standard_normal((T, n))
    for t in range(1, T):
        e[t] += rho * e[t - 1]
    return e


def test_pairwise_glm_is_the_full_glm_on_each_single_regressor_design():
    rng = np.random.default_rng(0)
    X = ar1_noise(rng, 200, 4, 0.5) + 1.0
    Y = ar1_noise(rng, 200, 3, 0.4) + 0.4 * X[:, :3] - 2.0
    pair = ar1_glm(Y, X, bins=100, pairwise=True)
    assert pair["t"].shape == (4, 3) and pair["dof"] == 198
    for i in range(4):
        for j in range(3):
            full = ar1_glm(Y[:, [j]], add_intercept(X[:, [i]]), bins=100, dtype=np.float64)
            assert pair["t"][i, j] == pytest.approx(full["t"][0, 0], rel=1e-8)
            assert pair["r"][i, j] == pytest.approx(stats.pearsonr(X[:, i], Y[:, j])[0], abs=1e-12)


def test_one_sample_t_equals_scipy_and_is_nan_without_variance():
    rng = np.random.default_rng(1)
    z = rng.standard_normal((7, 6, 5)) + 0.4
    z[:, 0, 0] = 2.5  # no variance across subjects: undefined, never 0
    mean, t, p = one_sample_t(z)
    ref = stats.ttest_1samp(z, 0.0, axis=0)
    ok = np.ones(t.shape, bool)
    ok[0, 0] = False
    np.testing.assert_allclose(mean, z.mean(0))
    np.testing.assert_allclose(t[ok], ref.statistic[ok], rtol=1e-10)
    np.testing.assert_allclose(p[ok], ref.pvalue[ok], rtol=1e-8)
    assert np.isnan(t[0, 0]) and np.isnan(p[0, 0])
    with pytest.raises(ValueError, match="at least 2 subjects"):
        OneSampleT().add(z[0]).result()


def test_one_sample_t_tests_each_element_on_the_subjects_with_data():
    rng = np.random.default_rng(4)
    z = rng.standard_normal((6, 4, 9)) + 0.3
    z[0, :, 2] = np.nan  # subject 0 has no data at grayordinate 2
    z[1:5, :, 5] = np.nan  # only 2 subjects left at grayordinate 5
    z[1:, :, 7] = np.nan  # one subject: untestable
    acc = OneSampleT()
    for values in z:
        acc.add(values)
    mean, t, p = acc.result()
    assert acc.n == 6
    assert acc.count[0].tolist() == [6, 6, 5, 6, 6, 2, 6, 1, 6]
    with np.errstate(divide="ignore", invalid="ignore"):  # scipy on the 1-subject column
        ref = stats.ttest_1samp(z, 0.0, axis=0, nan_policy="omit")
    ok = acc.count >= 2
    np.testing.assert_allclose(t[ok], np.asarray(ref.statistic)[ok], rtol=1e-10)
    np.testing.assert_allclose(p[ok], np.asarray(ref.pvalue)[ok], rtol=1e-8)
    np.testing.assert_allclose(mean, np.nanmean(z, 0))
    assert np.isnan(t[:, 7]).all() and np.isnan(p[:, 7]).all()  # never 0 or 1
    with pytest.raises(ValueError, match="infinite"):
        OneSampleT().add(np.array([np.inf, 0.0]))


def test_significance_cut_and_fdr_ignore_nan():
    q = np.array([0.01, 0.05, 0.050001, np.nan])
    assert significant(q, 0.05).tolist() == [True, True, False, False]
    p = np.array([0.001, 0.02, np.nan, 0.5])
    qv, sig = fdr_mask(p, 0.05, axis=None)
    np.testing.assert_allclose(qv[[0, 1, 3]], stats.false_discovery_control(p[[0, 1, 3]]))
    assert np.isnan(qv[2]) and not sig[2]
    np.testing.assert_allclose(fdr_bh(p[[0, 1, 3]]), qv[[0, 1, 3]])


def test_sign_patterns_enumerate_all_flips_for_few_subjects():
    s = sign_patterns(4, n_flips=1000)
    assert s.shape == (16, 4) and (s[0] == 1).all()
    assert len({tuple(row) for row in s}) == 16
    r = sign_patterns(12, n_flips=500, seed=3)
    assert r.shape == (500, 12) and (r[0] == 1).all()
    np.testing.assert_array_equal(r, sign_patterns(12, n_flips=500, seed=3))


@pytest.mark.parametrize("pooled,moderated", [(True, False), (False, False), (True, True)])
def test_sign_flip_p_is_uniform_on_pure_noise(pooled, moderated):
    rng = np.random.default_rng(2)
    # heavy-tailed values symmetric about zero (the null the test assumes), scales varying
    values = rng.standard_normal((10, 4000)) * rng.exponential(1.0, (10, 4000))
    _, p = sign_flip_test(values, n_flips=1024, seed=0, pooled=pooled, moderated=moderated)
    assert np.isfinite(p).all()
    if pooled:
        assert stats.kstest(p, "uniform").pvalue > 0.01
    else:  # discrete: P(p <= k / 1024) <= k / 1024
        for level in (0.01, 0.05, 0.2):
            assert (p <= level).mean() <= level + 3 * np.sqrt(level / 4000)


def test_sign_flip_finds_shifted_columns_and_controls_fdr_with_six_subjects():
    rng = np.random.default_rng(3)
    values = rng.standard_normal((6, 5000)) * 0.01
    values[:, :500] += 0.02  # 10% of the columns have a positive mean
    t, p = sign_flip_test(values, seed=0)
    _, sig = fdr_mask(p, 0.05, axis=None)
    assert sig[:500].mean() > 0.3
    assert sig[500:].sum() <= 0.05 * max(sig.sum(), 1) + 5
    values[:, 600:700] -= 0.05  # negative columns are not evidence for "greater"
    _, p = sign_flip_test(values, seed=0)
    assert (p[600:700] > 0.5).all()


def test_variance_prior_recovers_a_scaled_inverse_chi_square():
    from scipy.special import polygamma

    assert trigamma_inverse(polygamma(1, 3.5)) == pytest.approx(3.5, rel=1e-8)
    rng = np.random.default_rng(9)
    sigma2 = 2.0 * 8.0 / rng.chisquare(8.0, 200_000)  # prior: s0^2 = 2, d0 = 8
    s2 = sigma2 * rng.chisquare(5, sigma2.size) / 5  # sample variances, 5 df
    s0_sq, d0 = variance_prior(s2, 5)
    assert s0_sq == pytest.approx(2.0, rel=0.02) and d0 == pytest.approx(8.0, rel=0.05)
    s0_sq, d0 = variance_prior(3.0 * rng.chisquare(5, 50_000) / 5, 5)  # one true variance
    assert s0_sq == pytest.approx(3.0, rel=0.02) and d0 > 100  # (inf when sampling alone)
    with pytest.raises(ValueError, match="at least 3"):
        variance_prior([1.0, np.nan, 0.0], 5)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_moderated_sign_flip_is_calibrated_and_finds_more_with_six_subjects(seed):
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal((6, 20_000)) * np.exp(0.3 * rng.standard_normal(20_000))
    _, p = sign_flip_test(noise, moderated=True, seed=seed)
    assert stats.kstest(p, "uniform").pvalue > 0.001
    for level in (0.001, 0.01, 0.05):
        assert (p <= level).mean() <= level * 1.3 + 3 * np.sqrt(level / 20_000)
    values = noise.copy()
    values[:, :1000] += 1.5  # 5% of the columns shifted by 1.5 noise s.d.
    found = {}
    for moderated in (False, True):
        _, p = sign_flip_test(values, moderated=moderated, seed=seed)
        _, sig = fdr_mask(p, 0.05, axis=None)
        found[moderated] = sig[:1000].mean()
        assert sig[1000:].sum() <= 0.05 * max(sig.sum(), 1) * 1.3 + 5  # FDR kept
    assert found[True] > 0.3 and found[True] > 5 * found[False]


@pytest.mark.parametrize("seed", [0, 1])
def test_moderated_one_sample_t_is_calibrated_per_row_and_finds_more_with_five_subjects(seed):
    rng = np.random.default_rng(seed)
    # limma's model: true variances scaled inverse chi-square (s0^2 = 1, d0 = 10), 5 subjects
    sigma = np.sqrt(10.0 / rng.chisquare(10.0, 20_000))
    noise = rng.standard_normal((5, 20_000)) * sigma
    stack = np.stack([noise, 10.0 * noise], axis=1)  # rows (atoms) on different scales
    _, t, p = one_sample_t_moderated(stack)
    np.testing.assert_allclose(t[1], t[0], rtol=1e-8)  # one prior per row: scale-free
    assert stats.kstest(p[0], "uniform").pvalue > 0.01
    for level in (0.001, 0.01, 0.05):
        assert (p[0] <= level).mean() <= level * 1.2 + 3 * np.sqrt(level / 20_000)
    values = noise.copy()
    values[:, :1000] += 1.5 * sigma[:1000]  # 5% of the columns shifted by 1.5 s.d.
    found = {}
    for moderated in (False, True):
        acc = OneSampleT()
        for v in values:
            acc.add(v)
        _, _, p = acc.result(moderated=moderated)
        _, sig = fdr_mask(p, 0.05, axis=None)
        found[moderated] = sig[:1000].mean()
        assert sig[1000:].sum() <= 0.05 * max(sig.sum(), 1) * 1.3 + 5  # FDR kept
    assert found[True] > 0.2 and found[False] < 0.02  # the ordinary t (4 dof) finds ~none


def one_sample_t_moderated(values):
    acc = OneSampleT()
    for v in values:
        acc.add(v)
    return acc.result(moderated=True)


def test_moderated_one_sample_t_keeps_the_nan_conventions_and_small_rows():
    rng = np.random.default_rng(5)
    values = rng.standard_normal((6, 300)) + 0.2
    values[0, 0] = np.nan  # one subject without data: 5 values, its own dof
    values[:, 1] = 0.0  # no variance: untested
    _, t, p = one_sample_t_moderated(values)
    assert np.isnan(t[1]) and np.isnan(p[1]) and np.isfinite(t[[0, *range(2, 300)]]).all()
    var, df = moderate(np.array([[1.0, 2.0]]), 5)  # too few to fit a prior: unchanged
    np.testing.assert_array_equal(var, [[1.0, 2.0]])
    np.testing.assert_array_equal(df, [[5.0, 5.0]])


def test_sign_flip_leaves_out_missing_subjects_and_flags_undefined_columns():
    rng = np.random.default_rng(4)
    values = rng.standard_normal((6, 50)) + 1.0
    values[0, 0] = np.nan  # one subject without data there: 5 values remain
    values[:, 1] = 0.0  # no variance: undefined
    values[1:, 2] = np.nan  # a single subject: undefined
    t, p = sign_flip_test(values)
    assert t[0] == pytest.approx(stats.ttest_1samp(values[1:, 0], 0.0).statistic)
    assert np.isnan(t[1]) and np.isnan(p[1]) and np.isnan(t[2]) and np.isnan(p[2])
    assert np.isfinite(p[3:]).all()


def test_enrichment_p_is_the_hypergeometric_tail():
    p = enrichment_p(np.array([5, 0]), 100, 20, np.array([10, 0]))
    assert p[0] == pytest.approx(stats.hypergeom.sf(4, 100, 20, 10))
    assert p[1] == 1.0


@pytest.mark.parametrize("largest", [60, 100_000])
def test_hypergeom_tail_equals_scipy_over_the_support_and_beyond(largest):
    rng = np.random.default_rng(largest)
    M = rng.integers(1, largest, 2000)
    n = (rng.random(2000) * (M + 1)).astype(int)
    N = (rng.random(2000) * (M + 1)).astype(int)
    lo, hi = np.maximum(0, N - (M - n)), np.minimum(n, N)
    x = lo + (rng.random(2000) * (hi - lo + 3)).astype(int) - 1  # one either side too
    ours = hypergeom_tail(x, M, n, N)
    ref = stats.hypergeom.sf(x - 1, M, n, N)
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours, ref, rtol=1e-9, atol=1e-290)
    assert np.all(ours[x <= lo] == 1.0) and np.all(ours[x > hi] == 0.0)
    with pytest.raises(ValueError, match="successes <= population"):
        hypergeom_tail(1, 10, 11, 5)


def test_sign_flip_in_pattern_chunks_equals_one_pass():
    rng = np.random.default_rng(6)
    values = rng.standard_normal((5, 3, 400)) + 0.3
    whole = sign_flip_test(values, seed=0)
    chunked = sign_flip_test(values, seed=0, max_cells=3 * 400 * 4)  # 4 patterns at a time
    np.testing.assert_array_equal(whole[1], chunked[1])
    np.testing.assert_array_equal(whole[0], chunked[0])


def test_max_statistic_over_layers_is_calibrated_on_noise():
    rng = np.random.default_rng(7)
    values = rng.standard_normal((8, 4, 3000))
    t, p = sign_flip_test(values, seed=0)
    t_each = np.stack([sign_flip_test(values[:, k], seed=0)[0] for k in range(4)])
    np.testing.assert_allclose(t, t_each.max(0))
    assert stats.kstest(p, "uniform").pvalue > 0.01
    assert (p <= 0.05).mean() <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / 3000)
