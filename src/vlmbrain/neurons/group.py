"""Group level: one-sample t across subjects of per-pair Fisher z, streamed, with BH-FDR."""

from __future__ import annotations

import numpy as np
from scipy import stats

from vlmbrain.encoding.stats import fdr_bh

__all__ = ["OneSampleT", "bh_threshold", "significant_mask"]


class OneSampleT:
    """Streamed one-sample t-test (H0: mean 0) of arrays added one subject at a time.

    Only running sums are held (two arrays of the pairs' shape), never the subjects stacked.

    Examples
    --------
    >>> acc = OneSampleT()
    >>> for z in per_subject_z:  # doctest: +SKIP
    ...     acc.add(z)
    >>> mean, t, p = acc.result()  # doctest: +SKIP
    """

    def __init__(self):
        self.n = 0
        self._sum = None
        self._sumsq = None

    def add(self, values):
        """Add one subject's array."""
        values = np.asarray(values, dtype=np.float64)
        if self._sum is None:
            self._sum = np.zeros_like(values)
            self._sumsq = np.zeros_like(values)
        elif values.shape != self._sum.shape:
            raise ValueError(f"shape {values.shape} differs from the first {self._sum.shape}")
        self._sum += values
        self._sumsq += values * values
        self.n += 1
        return self

    def result(self):
        """Return ``mean, t, p`` (two-sided, n - 1 dof; t = 0 and p = 1 where variance is 0)."""
        if self.n < 2:
            raise ValueError(f"a one-sample t needs at least 2 subjects, got {self.n}")
        n = self.n
        mean = self._sum / n
        var = np.maximum(self._sumsq - n * mean * mean, 0.0) / (n - 1)
        se = np.sqrt(var / n)
        with np.errstate(invalid="ignore", divide="ignore"):
            t = np.where(se > 0, mean / se, 0.0)
        p = 2.0 * stats.t.sf(np.abs(t), df=n - 1)
        return mean, t, p


def significant_mask(p, q=0.05):
    """BH-FDR over all entries of ``p``: ``(qvalues, qvalues <= q)``."""
    qv = fdr_bh(p, axis=None)
    return qv, qv <= q


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
