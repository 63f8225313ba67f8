"""Group inference: one-sample tests across subjects, BH-FDR and the significance cut.

One convention everywhere: a statistic that is undefined (no variance across subjects,
fewer than two subjects with data) is NaN, never 0; NaN p-values are not tests (they stay
NaN through :func:`fdr_bh` and do not count in its family); a test is significant when its
q-value is at or below the level (:func:`significant`), NaN never is.
"""

from __future__ import annotations

import numpy as np


def fdr_bh(p, axis=-1):
    """Benjamini-Hochberg adjusted p-values (q-values) along one axis.

    Parameters
    ----------
    p : array_like
        p-values in [0, 1]; NaN entries (untestable) are ignored and stay NaN.
    axis : int or None
        Axis over which the family of tests runs (None: the whole array).

    Returns
    -------
    q : ndarray of float64, same shape as ``p``
        ``scipy.stats.false_discovery_control(p, method='bh')`` along ``axis``.
    """
    from scipy.stats import false_discovery_control  # here: scipy.stats takes a second to import

    p = np.asarray(p, dtype=np.float64)
    if axis is None:
        return fdr_bh(p.ravel(), axis=0).reshape(p.shape)
    if p.size == 0:
        return p.copy()
    nan = np.isnan(p)
    if not nan.any():
        return false_discovery_control(p, axis=axis, method="bh")
    # NaNs do not count as tests: move them to the end with p = 1 so they do not
    # change the others' ranks, then correct with the family size reduced.
    p = np.moveaxis(p, axis, -1)
    nan = np.moveaxis(nan, axis, -1)
    q = np.full(p.shape, np.nan)
    flat_p = p.reshape(-1, p.shape[-1])
    flat_nan = nan.reshape(-1, p.shape[-1])
    flat_q = q.reshape(-1, p.shape[-1])
    for i in range(flat_p.shape[0]):
        ok = ~flat_nan[i]
        if ok.any():
            flat_q[i, ok] = false_discovery_control(flat_p[i, ok], method="bh")
    return np.moveaxis(flat_q.reshape(p.shape), -1, axis)


def significant(q, level=0.05):
    """The significance cut used everywhere: ``q <= level`` (NaN is never significant)."""
    q = np.asarray(q, dtype=np.float64)
    return np.nan_to_num(q, nan=np.inf) <= level


def fdr_mask(p, level=0.05, axis=-1):
    """BH-FDR q-values along ``axis`` and the significant mask: ``(q, q <= level)``."""
    q = fdr_bh(p, axis=axis)
    return q, significant(q, level)


class OneSampleT:
    """Streaming one-sample t-test over subjects (H0: mean 0), memory of one map.

    ``add(values)`` once per subject, then ``result()``; equals
    ``scipy.stats.ttest_1samp(values, 0, axis=0, nan_policy="omit")`` where the values
    vary. NaN marks a subject without data at an element (a grayordinate excluded for that
    subject): each element is tested on the subjects that have data there, with its own
    degrees of freedom; ``count`` holds how many.

    Attributes
    ----------
    n : int
        Arrays added (subjects).
    count : ndarray of int
        Per element, the subjects with data (non-NaN values).

    Examples
    --------
    >>> acc = OneSampleT()
    >>> for beta in per_subject_betas:  # doctest: +SKIP
    ...     acc.add(beta)
    >>> mean, t, p = acc.result()  # doctest: +SKIP
    """

    def __init__(self):
        self.n = 0
        self.count = None
        self._mean = None
        self._m2 = None

    def add(self, values):
        """Add one subject's array (any shape, the same for every subject; NaN: no data).

        Raises
        ------
        ValueError
            When the shape differs from the first subject's, or a value is infinite (a
            statistic is NaN where undefined, never infinite: an infinite value is a bug
            upstream, not missing data).
        """
        values = np.asarray(values, np.float64)
        if self._mean is None:
            self._mean = np.zeros_like(values)
            self._m2 = np.zeros_like(values)
            self.count = np.zeros(values.shape, np.int64)
        elif values.shape != self._mean.shape:
            raise ValueError(
                f"subject array of shape {values.shape} differs from the first, {self._mean.shape}"
            )
        if np.isinf(values).any():
            raise ValueError(
                f"subject {self.n + 1}: {int(np.isinf(values).sum())} infinite values; a "
                "per-subject statistic must be finite, or NaN where the subject has no data"
            )
        self.n += 1
        ok = ~np.isnan(values)
        self.count += ok
        # Welford, element by element on the subjects with data
        delta = np.where(ok, values - self._mean, 0.0)
        self._mean += np.divide(delta, self.count, out=np.zeros_like(delta), where=ok)
        self._m2 += np.where(ok, delta * (values - self._mean), 0.0)
        return self

    def result(self, moderated=False):
        """Return ``(mean, t, p)``: two-sided p, ``count - 1`` dof per element.

        ``mean`` is NaN where no subject has data; ``t`` and ``p`` are NaN where fewer
        than two subjects have data or their values do not vary.

        Parameters
        ----------
        moderated : bool
            The moderated t (Smyth 2004, limma's ``eBayes``): each element's variance
            across subjects is shrunk towards a prior fitted to the variances of all
            elements along the last axis (one prior per row: per atom of a map stack,
            say; :func:`moderate`), and ``p`` has the prior's degrees of freedom added.
            With few subjects the ordinary t is large wherever a variance is small by
            chance; with many the two agree.
        """
        from scipy import special  # here: scipy takes a second to import, in every job

        if self.n < 2:
            raise ValueError(f"a one-sample t-test needs at least 2 subjects, got {self.n}")
        n = self.count
        with np.errstate(divide="ignore", invalid="ignore"):
            var = np.where(n >= 2, self._m2 / np.maximum(n - 1, 1), np.nan)
            df = np.maximum(n - 1, 1).astype(np.float64)
            used = var
            if moderated:
                used, df = moderate(var, df)
            t = np.where((n >= 2) & (var > 0), self._mean / np.sqrt(used / n), np.nan)
            p = 2.0 * special.stdtr(df, -np.abs(t))  # scipy.stats.t.sf(|t|, df)
        return np.where(n > 0, self._mean, np.nan), t, np.where(np.isnan(t), np.nan, p)


def one_sample_t(values):
    """One-sample t across the first axis: ``(mean, t, p)`` (see :class:`OneSampleT`)."""
    acc = OneSampleT()
    for v in np.asarray(values):
        acc.add(v)
    return acc.result()


def sign_patterns(n, n_flips=10000, seed=0):
    """Sign-flip patterns (n_patterns x n), the identity first.

    All ``2**n`` patterns when that is at most ``n_flips``, else the identity and
    ``n_flips - 1`` random ones (seeded).
    """
    if n < 1:
        raise ValueError("sign flips need at least one subject")
    if 2**n <= n_flips:
        codes = np.arange(2**n)[:, None] >> np.arange(n)[None, :] & 1
        return 1.0 - 2.0 * codes  # code 0 is the identity
    rng = np.random.default_rng(seed)
    random = rng.choice([-1.0, 1.0], size=(n_flips - 1, n))
    return np.vstack([np.ones((1, n)), random])


def trigamma_inverse(x):
    """The ``y`` with ``polygamma(1, y) == x`` (Newton's method, as in Smyth 2004)."""
    from scipy.special import polygamma

    x = np.asarray(x, np.float64)
    y = 0.5 + 1.0 / x
    for _ in range(50):
        tri = polygamma(1, y)
        step = tri * (1.0 - tri / x) / polygamma(2, y)
        y = y + step
        if np.all(-step / y < 1e-8):
            break
    return y


def variance_prior(var, df):
    """Prior of many sample variances: a scaled inverse chi-square fitted by moments.

    Smyth's (2004) empirical Bayes estimate (limma's ``fitFDist``): the log sample
    variances of targets that each have ``df`` degrees of freedom are matched to those of
    ``s0^2 * chi2(d0) / d0`` mixed with ``chi2(df) / df``.

    Parameters
    ----------
    var : array_like
        Sample variances of the targets (NaN and non-positive entries are ignored).
    df : array_like
        Their degrees of freedom (scalar or one per target, >= 1).

    Returns
    -------
    s0_sq : float
        Prior variance.
    d0 : float
        Prior degrees of freedom (``inf`` when the variances spread no more than sampling
        alone makes them: then every target shares ``s0_sq``).
    """
    from scipy.special import digamma, polygamma

    var = np.asarray(var, np.float64)
    df = np.broadcast_to(np.asarray(df, np.float64), var.shape)
    ok = np.isfinite(var) & (var > 0) & (df >= 1)
    if ok.sum() < 3:
        raise ValueError(f"a variance prior needs at least 3 positive variances, got {int(ok.sum())}")
    var, df = var[ok], df[ok]
    # the degrees of freedom take a few values (subjects with data - 1): the special
    # functions once per value (6 s of a 41 s group job when evaluated per target)
    half, index = np.unique(df / 2, return_inverse=True)
    z = np.log(var)
    e = z - (digamma(half) - np.log(half))[index]
    e_mean = e.mean()
    excess = np.mean((e - e_mean) ** 2) * e.size / (e.size - 1) - np.mean(polygamma(1, half)[index])
    if excess <= 0:
        return float(np.exp(e_mean)), np.inf
    d0 = 2.0 * float(trigamma_inverse(excess))
    return float(np.exp(e_mean + digamma(d0 / 2) - np.log(d0 / 2))), d0


def shrink_variance(var, df, prior):
    """Posterior variances ``(d0 s0^2 + df var) / (d0 + df)`` under ``prior = (s0^2, d0)``."""
    s0_sq, d0 = prior
    if np.isinf(d0):
        return np.full_like(np.asarray(var, np.float64), s0_sq)
    return (d0 * s0_sq + df * np.maximum(var, 0.0)) / (d0 + df)


def moderate(var, df):
    """Moderated variances and degrees of freedom, one prior per row (last axis).

    Parameters
    ----------
    var : ndarray (..., V)
        Sample variances (NaN where undefined).
    df : ndarray (..., V)
        Their degrees of freedom.

    Returns
    -------
    var_post, df_post : ndarray (..., V)
        :func:`shrink_variance` of each row under :func:`variance_prior` of that row, and
        ``df + d0``. A row with fewer than 3 positive variances keeps its own (no prior).
    """
    var = np.asarray(var, np.float64)
    df = np.broadcast_to(np.asarray(df, np.float64), var.shape)
    flat_v, flat_d = var.reshape(-1, var.shape[-1]), df.reshape(-1, var.shape[-1])
    post_v, post_d = flat_v.copy(), flat_d.copy()
    for i, (v, d) in enumerate(zip(flat_v, flat_d, strict=True)):
        if (np.isfinite(v) & (v > 0)).sum() < 3:
            continue
        prior = variance_prior(v, d)
        post_v[i] = shrink_variance(v, d, prior)
        post_d[i] = d + prior[1]
    return post_v.reshape(var.shape), post_d.reshape(var.shape)


def sign_flip_test(values, n_flips=10000, seed=0, pooled=True, moderated=False,
                   max_null=2_000_000, max_cells=2_000_000):
    """One-sided sign-flip permutation test of ``mean > 0`` per column, on the t statistic.

    Valid for values that sit near zero and are skewed (held-out R^2 gains, say): it
    assumes only that under H0 each subject's value is symmetric about 0 given its
    magnitude; values that are biased below 0 under H0 (adding a useless feature space
    costs held-out R^2) make it conservative.

    Parameters
    ----------
    values : ndarray (n_subjects, V) or (n_subjects, L, V)
        One value per subject and target; NaN marks a subject without data there (its
        value is left out of that column). With three axes the statistic of a target is
        the largest t over the L candidates (layers, say) and each sign pattern flips a
        subject's values in all of them: the test of the best candidate that accounts
        for its selection (max-statistic).
    n_flips : int
        Sign patterns: all ``2**n`` when that is at most ``n_flips``, else random.
    seed : int
        Seed of the random patterns and of the null's subsample.
    pooled : bool
        True (default): compare each column's t with a null pooled over all columns
        (as fine-grained as ``V x patterns``; needed with few subjects, where one
        column's ``2**n`` patterns cannot reach FDR thresholds). The pooled null flips
        each column's values *centred on their mean* (ter Braak's residual flips, as in
        Winkler et al. 2014), so columns with a real effect do not inflate it. False: each
        column's own flips of its values, ``p >= 1 / n_patterns``.
    moderated : bool
        Test the moderated t instead of the ordinary one: each column's variance is shrunk
        towards a prior fitted to all columns' variances (:func:`variance_prior`, Smyth
        2004), the same prior for the observed and every flipped statistic. With few
        subjects an ordinary t is large wherever the sample variance happens to be small,
        which fills the null's tails; the moderated t borrows the many columns' variances.
    max_null : int
        Pooled null at most about this size (a seeded subsample of it beyond).
    max_cells : int
        Flipped statistics computed at once (patterns x L x V), which bounds memory: the
        statistic of a chunk takes about 8 float64 temporaries of this size (2e6 cells:
        about 130 MB; 2e7 held 1.1 GB at the peak of a 12-layer depth test over 91,282
        grayordinates and was no faster). The p-values do not depend on it.

    Returns
    -------
    t : ndarray (V,)
        One-sample t (the largest over L); NaN where fewer than 2 subjects have data or
        the values do not vary.
    p : ndarray (V,)
        One-sided p-value of ``t``; NaN where ``t`` is.
    """
    X = np.asarray(values, np.float64)
    if X.ndim == 2:
        X = X[:, None, :]
    if X.ndim != 3:
        raise ValueError(f"values must be n_subjects x V or n_subjects x L x V, got shape {X.shape}")
    ok = np.isfinite(X)
    n = ok.sum(0)  # L x V
    X0 = np.where(ok, X, 0.0)
    sums, sumsq = X0.sum(0), (X0 * X0).sum(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        centre = np.where(n > 0, sums / n, 0.0)
    signs = sign_patterns(X.shape[0], n_flips, seed)
    prior = None
    if moderated:
        with np.errstate(divide="ignore", invalid="ignore"):
            var_obs = (sumsq - n * centre * centre) / (n - 1)
        prior = variance_prior(np.where(n >= 2, var_obs, np.nan), np.maximum(n - 1, 1))

    def t_of(sums, sumsq):  # (..., L, V) -> largest t over L, (..., V)
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = sums / n
            var = (sumsq - n * mean * mean) / (n - 1)
            shrunk = var if prior is None else shrink_variance(var, n - 1, prior)
            t = mean / np.sqrt(np.maximum(shrunk, 0.0) / n)
        t = np.where((n >= 2) & (var > 1e-12 * sumsq / np.maximum(n, 1)), t, np.nan)
        return np.fmax.reduce(t, axis=-2)

    t_obs = t_of(sums, sumsq)
    valid = np.isfinite(t_obs)
    p = np.full(t_obs.shape, np.nan)
    # pooled: flips of the centred values (the null of every column, effect or not)
    # (scaled by sqrt(n / (n - 1)) so that a centred column's sum of squares is, under H0,
    # that of its raw values: flips of the centred values then vary as much as the mean
    # does, which a statistic with a fixed variance, the moderated t, relies on)
    with np.errstate(divide="ignore", invalid="ignore"):
        inflate = np.where(n >= 2, np.sqrt(n / np.maximum(n - 1, 1)), 1.0)
    Z = np.where(ok, (X0 - centre) * inflate, 0.0) if pooled else X0
    Z_sumsq = (Z * Z).sum(0)
    n_null = (signs.shape[0] - 1) * int(valid.sum())
    keep = min(1.0, max_null / max(n_null, 1))
    rng = np.random.default_rng(seed)
    count = np.zeros(t_obs.shape)
    null = []
    step = max(1, int(max_cells) // max(1, X.shape[1] * X.shape[2]))
    for start in range(0, signs.shape[0], step):
        flipped = t_of(np.tensordot(signs[start : start + step], Z, axes=(1, 0)), Z_sumsq)
        if not pooled:
            count += (np.nan_to_num(flipped, nan=-np.inf) >= t_obs[None, :]).sum(0)
            continue
        block = flipped[(1 if start == 0 else 0):, valid].ravel()  # the identity is not null
        block = block[np.isfinite(block)]
        if keep < 1.0:
            block = block[rng.random(block.size) < keep]
        null.append(block)
    if not pooled:
        p[valid] = count[valid] / signs.shape[0]
        return t_obs, p
    null = np.sort(np.concatenate(null)) if null else np.empty(0)
    exceed = null.size - np.searchsorted(null, t_obs[valid], side="left")
    p[valid] = (1.0 + exceed) / (1.0 + null.size)
    return t_obs, p


def _log_binom(a, b):
    """``log C(a, b)`` for integer arrays with ``0 <= b <= a`` (through ``betaln``)."""
    from scipy.special import betaln

    return -np.log1p(a) - betaln(a - b + 1.0, b + 1.0)


def hypergeom_tail(x, population, successes, draws, rtol=1e-17):
    """``P(X >= x)`` for X hypergeometric (arrays broadcast), exactly as
    ``scipy.stats.hypergeom.sf(x - 1, population, successes, draws)``.

    scipy evaluates each element through Boost at about 0.3 ms whatever its size: 1.8 s per
    layer of 768 ANs x 4 networks x 2 signs, the larger part of a per-grayordinate
    neurons job. Here the starting probability comes from ``betaln`` and the tail is summed
    with the pmf's ratio recurrence for all elements at once, away from the mean (upward
    above it; below it, one minus the lower tail), until the terms fall below ``rtol`` of
    the sum: it agrees with scipy to a relative 1e-9 (``tests/test_stats.py``).

    Parameters
    ----------
    x, population, successes, draws : array_like of int
        Overlap, population size, successes in the population (``0 <= successes <=
        population``) and draws (``0 <= draws <= population``).
    rtol : float
        Relative size of the last term summed.

    Returns
    -------
    ndarray of float64
    """
    arrays = np.broadcast_arrays(*(np.asarray(v, np.int64) for v in
                                   (x, population, successes, draws)))
    shape = arrays[0].shape
    x, M, n, N = (a.astype(np.float64).ravel() for a in arrays)
    if np.any((n < 0) | (n > M) | (N < 0) | (N > M)):
        raise ValueError("hypergeom_tail needs 0 <= successes <= population and "
                         "0 <= draws <= population")
    lo, hi = np.maximum(0.0, N - (M - n)), np.minimum(n, N)
    out = np.where(x <= lo, 1.0, 0.0)
    inside = (x > lo) & (x <= hi)
    up = inside & (x > N * n / np.maximum(M, 1.0))  # sum P(X >= x) upward
    down = inside & ~up  # 1 - P(X <= x - 1), summed downward
    for idx, step in ((np.flatnonzero(up), 1.0), (np.flatnonzero(down), -1.0)):
        if idx.size == 0:
            continue
        k = x[idx] if step > 0 else x[idx] - 1.0
        Mi, ni, Ni = M[idx], n[idx], N[idx]
        start = np.exp(_log_binom(ni, k) + _log_binom(Mi - ni, Ni - k) - _log_binom(Mi, Ni))
        total, term = np.ones(idx.size), np.ones(idx.size)
        live = np.arange(idx.size)
        end = hi[idx] if step > 0 else lo[idx]
        while live.size:
            kk = k[live]
            a, b, c = Mi[live], ni[live], Ni[live]
            if step > 0:  # pmf(k + 1) / pmf(k)
                ratio = (b - kk) * (c - kk) / ((kk + 1.0) * (a - b - c + kk + 1.0))
            else:  # pmf(k - 1) / pmf(k)
                ratio = kk * (a - b - c + kk) / ((b - kk + 1.0) * (c - kk + 1.0))
            more = (kk != end[live]) & (ratio > 0)
            term[live] = np.where(more, term[live] * ratio, 0.0)
            total[live] += term[live]
            k[live] = kk + step
            live = live[more & (term[live] > rtol * total[live])]
        tail = start * total
        out[idx] = np.clip(tail if step > 0 else 1.0 - tail, 0.0, 1.0)
    return out.reshape(shape)


def enrichment_p(overlap, population, size_network, size_map):
    """One-sided hypergeometric enrichment p of a map in a network (arrays broadcast).

    ``P(X >= overlap)`` for X hypergeometric with ``population`` items, ``size_network``
    successes and ``size_map`` draws (:func:`hypergeom_tail`, scipy's
    ``hypergeom.sf(overlap - 1, ...)``); 1 for empty maps.
    """
    p = hypergeom_tail(overlap, population, size_network, size_map)
    return np.where(np.asarray(size_map) > 0, p, 1.0)


def bh_threshold(candidates, n_tests, q=0.05):
    """Benjamini-Hochberg p threshold from the p-values that are <= q.

    Every BH discovery has p <= q, so the sorted candidates are the smallest p-values of
    the whole family and their ranks are their global ranks: the threshold needs only them
    and the family size, which lets a chunked computation keep a small subset.

    Parameters
    ----------
    candidates : array
        All p-values of the family that are <= q (any order).
    n_tests : int
        Size of the family.
    q : float

    Returns
    -------
    float
        Reject ``p <= threshold`` (-1.0 when nothing is rejected).
    """
    c = np.sort(np.asarray(candidates, dtype=np.float64).ravel())
    if c.size == 0:
        return -1.0
    ok = np.flatnonzero(c <= q * np.arange(1, c.size + 1) / n_tests)
    return float(c[ok[-1]]) if ok.size else -1.0
