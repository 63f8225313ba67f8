"""Multiple-comparison correction shared by the group maps and the network statistics."""

from __future__ import annotations

import numpy as np
from scipy import stats


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
    p = np.asarray(p, dtype=np.float64)
    if axis is None:
        return fdr_bh(p.ravel(), axis=0).reshape(p.shape)
    if p.size == 0:
        return p.copy()
    nan = np.isnan(p)
    if not nan.any():
        return stats.false_discovery_control(p, axis=axis, method="bh")
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
            flat_q[i, ok] = stats.false_discovery_control(flat_p[i, ok], method="bh")
    return np.moveaxis(flat_q.reshape(p.shape), -1, axis)
