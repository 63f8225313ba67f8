"""Group statistics (METHOD 5): one-sample t-test of subject betas, BH-FDR, masks."""

from __future__ import annotations

import numpy as np
from scipy import stats

from vlmbrain.encoding.stats import fdr_bh


class OneSampleT:
    """Streaming one-sample t-test over subjects (memory of one map, not of all subjects).

    ``add(beta)`` once per subject, then ``result()``; equals
    ``scipy.stats.ttest_1samp(betas, 0, axis=0)``.
    """

    def __init__(self):
        self.n = 0
        self._mean = None
        self._m2 = None

    def add(self, beta):
        beta = np.asarray(beta, np.float64)
        if self._mean is None:
            self._mean = np.zeros_like(beta)
            self._m2 = np.zeros_like(beta)
        elif beta.shape != self._mean.shape:
            raise ValueError(f"subject map of shape {beta.shape} differs from {self._mean.shape}")
        self.n += 1
        delta = beta - self._mean
        self._mean += delta / self.n
        self._m2 += delta * (beta - self._mean)  # Welford
        return self

    def result(self):
        """Return ``(t, p)`` (two-sided), NaN where the betas have no variance."""
        if self.n < 2:
            raise ValueError(f"a group t-test needs at least 2 subjects, got {self.n}")
        sd = np.sqrt(self._m2 / (self.n - 1))
        with np.errstate(divide="ignore", invalid="ignore"):
            t = self._mean / (sd / np.sqrt(self.n))
        t = np.where(sd > 0, t, np.nan)
        p = 2.0 * stats.t.sf(np.abs(t), self.n - 1)
        return t, p


def group_maps(betas, q=0.05):
    """Group t, q and activated/deactivated masks of one layer.

    Parameters
    ----------
    betas : iterable of ndarray (K, V)
        One beta map set per subject.
    q : float
        BH-FDR level over grayordinates, per atom.

    Returns
    -------
    dict
        ``t`` and ``q`` (K x V float32), ``activated`` and ``deactivated`` (K x V bool),
        ``n_subjects``.
    """
    acc = OneSampleT()
    for beta in betas:
        acc.add(beta)
    t, p = acc.result()
    qv = fdr_bh(p, axis=-1)
    sig = np.nan_to_num(qv, nan=1.0) < q
    return {
        "t": t.astype(np.float32),
        "q": qv.astype(np.float32),
        "activated": sig & (t > 0),
        "deactivated": sig & (t < 0),
        "n_subjects": np.int64(acc.n),
    }
