"""Circular-shift null of the correlation between AN series and BOLD series.

Shifting one series circularly in time keeps the autocorrelation of both, so the spread
of the correlations over all shifts is the null that autocorrelated series need. Its mean
and variance over *all* T - 1 non-zero shifts are exact and cheap for every pair at once:
by Parseval, ``sum_k r_k**2 = sum_f |X_f|**2 |Y_f|**2 / T`` is one GEMM of periodograms.
p-values then come from a normal tail with those moments, which is what makes them small
enough for FDR over millions of pairs (an empirical p from ``n`` shifts cannot go below
``1 / (n + 1)``). :func:`empirical_pvalues` draws random shifts instead; it is the reference
the analytic null is checked against (tests, and a calibration sample in every job).
"""

from __future__ import annotations

import numpy as np
import scipy.fft
from scipy.special import ndtr

from vlmbrain.stats.glm import center

__all__ = [
    "unit_columns",
    "circular_null_z",
    "null_z_from_spectra",
    "circular_null_pvalues",
    "empirical_pvalues",
]


def unit_columns(a, dtype=np.float32):
    """Centre the columns of ``a`` (T x n) and scale them to unit norm (zero stays zero)."""
    a = center(a, dtype)  # a new array, scaled in place below
    norm = np.sqrt((a * a).sum(axis=0, keepdims=True))
    norm[norm == 0] = 1.0
    a /= norm
    return a


def _periodogram(a):
    """|rfft|^2 of the columns of ``a`` (F x n, F = T // 2 + 1)."""
    spec = scipy.fft.rfft(a, axis=0)  # keeps float32 (numpy's FFT would work in float64)
    return (spec.real**2 + spec.imag**2).astype(a.dtype)


def _weighted_periodogram(a, T):
    """|rfft|^2 of the columns, weighted so that a sum over rfft bins is a full-spectrum sum."""
    power = _periodogram(a)
    weights = np.full(power.shape[0], 2.0, dtype=a.dtype)
    weights[0] = 1.0
    if T % 2 == 0:
        weights[-1] = 1.0
    return power * weights[:, None]


def circular_null_z(X, Y, dtype=np.float32, X_unit=None, X_power=None):
    """Correlations and their standardised values under the circular-shift null.

    Parameters
    ----------
    X : array, T x N
        AN series.
    Y : array, T x P
        Target series.
    dtype : numpy dtype
        Precision of the GEMMs.
    X_unit, X_power : arrays, optional
        ``unit_columns(X)`` and its weighted periodogram, when already computed (chunked
        callers pass them to avoid recomputing).

    Returns
    -------
    r : ndarray, N x P
        Pearson correlations.
    z : ndarray, N x P
        ``(r - m) / s`` with m, s the mean and standard deviation of the correlation over
        all T - 1 non-zero circular shifts of the pair.
    """
    T = np.shape(Y)[0]
    if T < 3:
        raise ValueError(f"need at least 3 time points, got {T}")
    Xu = unit_columns(X, dtype) if X_unit is None else X_unit
    Px = _weighted_periodogram(Xu, T) if X_power is None else X_power
    Yu = unit_columns(Y, dtype)
    return null_z_from_spectra(Xu, Px, Yu, _periodogram(Yu))


def null_z_from_spectra(Xu, Px, Yu, Py):
    """:func:`circular_null_z` from prepared parts.

    Parameters
    ----------
    Xu, Yu : arrays, T x N and T x P
        Centred unit columns (:func:`unit_columns`).
    Px : array, F x N
        Weighted periodogram of ``Xu`` (interior rfft bins counted twice).
    Py : array, F x P
        Periodogram of ``Yu``.
    """
    T = Xu.shape[0]
    r = Xu.T @ Yu
    total = (Px.T @ Py) / T  # sum of r_k^2 over all T shifts (Parseval)
    mean = -r / (T - 1)  # the shifts' r_k sum to zero (centred series)
    var = (total - r * r) / (T - 1) - mean * mean
    z = (r - mean) / np.sqrt(np.maximum(var, np.finfo(r.dtype).tiny))
    return r, z


def circular_null_pvalues(X, Y, dtype=np.float32):
    """Two-sided circular-shift null p-values of every pair (see :func:`circular_null_z`).

    Returns
    -------
    r, p : ndarrays, N x P
    """
    r, z = circular_null_z(X, Y, dtype=dtype)
    return r, 2.0 * ndtr(-np.abs(z.astype(np.float64)))


def empirical_pvalues(X, Y, n_shifts, seed=0, min_shift=1):
    """Two-sided p-values from ``n_shifts`` random circular shifts of the AN series.

    Parameters
    ----------
    X, Y : arrays, T x N and T x P
    n_shifts : int
        Number of shifts, drawn without replacement from ``min_shift .. T - min_shift``.
    seed : int
    min_shift : int

    Returns
    -------
    r : ndarray, N x P
    p : ndarray, N x P
        ``(1 + #{|r_k - m| >= |r - m|}) / (n_shifts + 1)``, m the mean of the shifts' r.
    """
    Xu, Yu = unit_columns(X, np.float64), unit_columns(Y, np.float64)
    T = Xu.shape[0]
    choices = np.arange(min_shift, T - min_shift + 1)
    if n_shifts > len(choices):
        raise ValueError(f"{n_shifts} shifts requested but only {len(choices)} are possible")
    shifts = np.random.default_rng(seed).choice(choices, size=n_shifts, replace=False)
    r = Xu.T @ Yu
    null = np.stack([np.roll(Xu, k, axis=0).T @ Yu for k in shifts])
    m = null.mean(axis=0)
    exceed = (np.abs(null - m) >= np.abs(r - m)[None]).sum(axis=0)
    return r, (1.0 + exceed) / (n_shifts + 1.0)
