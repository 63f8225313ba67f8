"""Batched AN x target statistics: Pearson r (Fisher z) and an AR(1)-prewhitened GLM t.

Every (AN, target) pair gets the simple GLM ``y = b x + c + e`` with AR(1) noise, fitted the
way nilearn's ``run_glm(noise_model="ar1")`` does it (OLS, Yule-Walker AR(1) coefficient of
the residuals truncated to ``bins`` levels, prewhitening, OLS again) but for all N x P pairs
at once: every sum that the two fits need is a lag-0 or lag-1 cross-product, so the whole
computation is two GEMMs (``X.T @ Y`` and one on lag-summed series) plus elementwise work on
N x P arrays. No loop over ANs or targets.
"""

from __future__ import annotations

import numpy as np

__all__ = ["center", "fisher_z", "pearson", "ar1_glm_t", "an_target_stats"]


def center(a, dtype=np.float64):
    """Return ``a`` (T x n) with each column's mean removed, as ``dtype``."""
    a = np.asarray(a, dtype=dtype)
    return a - a.mean(axis=0, keepdims=True)


def fisher_z(r):
    """Fisher z-transform ``arctanh(r)``, with r clipped away from +-1."""
    r = np.asarray(r)
    lim = 1.0 - 1e-7
    return np.arctanh(np.clip(r, -lim, lim))


def pearson(X, Y, dtype=np.float64):
    """Pearson r between every column of ``X`` (T x N) and of ``Y`` (T x P) -> N x P.

    Constant columns give r = 0.
    """
    X, Y = center(X, dtype), center(Y, dtype)
    nx = np.sqrt((X * X).sum(0))
    ny = np.sqrt((Y * Y).sum(0))
    nx[nx == 0] = np.inf
    ny[ny == 0] = np.inf
    return (X.T @ Y) / np.outer(nx, ny)


def an_target_stats(X, Y, ar_bins=100, dtype=np.float64):
    """Pearson r and AR(1) GLM t of every AN against every target.

    Parameters
    ----------
    X : array, T x N
        AN regressors (HRF-convolved series).
    Y : array, T x P
        Target series (parcel BOLD).
    ar_bins : int
        The AR(1) coefficient is truncated to multiples of ``1 / ar_bins`` (nilearn's
        ``bins``), as in the voxel-wise GLM.
    dtype : numpy dtype
        Precision of the computation.

    Returns
    -------
    r : ndarray, N x P
        Pearson correlation.
    t : ndarray, N x P
        t of the AN's slope in the AR(1)-prewhitened GLM ``[x, 1]`` (T - 2 dof).
    """
    X, Y = center(X, dtype), center(Y, dtype)
    T = X.shape[0]
    if Y.shape[0] != T:
        raise ValueError(f"X has {T} time points but Y has {Y.shape[0]}")
    if T < 4:
        raise ValueError(f"need at least 4 time points, got {T}")
    sxx = (X * X).sum(0)[:, None]
    syy = (Y * Y).sum(0)[None, :]
    lxx = (X[1:] * X[:-1]).sum(0)[:, None]
    lyy = (Y[1:] * Y[:-1]).sum(0)[None, :]
    x0, xl = X[0][:, None], X[-1][:, None]
    y0, yl = Y[0][None, :], Y[-1][None, :]
    s0 = X.T @ Y
    # sum_t (x_t y_{t-1} + x_{t-1} y_t) from one GEMM on lag-summed series.
    d = s0 - xl * yl  # sum over t = 0 .. T-2
    a = s0 - x0 * y0  # sum over t = 1 .. T-1
    bc = (X[1:] + X[:-1]).T @ (Y[1:] + Y[:-1]) - a - d
    safe_sxx = np.where(sxx > 0, sxx, 1.0)
    r = s0 / np.sqrt(safe_sxx * np.where(syy > 0, syy, 1.0))
    r[np.broadcast_to((sxx == 0) | (syy == 0), r.shape)] = 0.0
    # OLS residuals e = y - b x and their Yule-Walker AR(1) coefficient (nilearn's form).
    b = s0 / safe_sxx
    ess = syy - b * s0
    lag = lyy - b * bc + b * b * lxx
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = (lag / (T - 1)) / (ess / T)
    rho = np.nan_to_num(rho, nan=0.0, posinf=0.0, neginf=0.0)
    rho = np.trunc(np.clip(rho, -1.0, 1.0) * ar_bins) / ar_bins
    # Prewhitened design [x*, c*] (first row kept, as nilearn's ARModel.whiten).
    rho2 = rho * rho
    xx = sxx - 2 * rho * lxx + rho2 * (sxx - xl * xl)
    yy = syy - 2 * rho * lyy + rho2 * (syy - yl * yl)
    xy = s0 - rho * bc + rho2 * d
    om = 1.0 - rho
    xc = x0 + om * (rho * xl - x0)
    yc = y0 + om * (rho * yl - y0)
    cc = 1.0 + (T - 1) * om * om
    det = xx * cc - xc * xc
    with np.errstate(invalid="ignore", divide="ignore"):
        bx = (cc * xy - xc * yc) / det
        bcst = (xx * yc - xc * xy) / det
        rss = np.maximum(yy - bx * xy - bcst * yc, 0.0)
        t = bx / np.sqrt(rss / (T - 2) * cc / det)
    t = np.nan_to_num(t, nan=0.0, posinf=0.0, neginf=0.0)
    return r, t


def ar1_glm_t(X, Y, ar_bins=100, dtype=np.float64):
    """AR(1) GLM t of every AN (columns of ``X``) against every target (``Y``) -> N x P."""
    return an_target_stats(X, Y, ar_bins=ar_bins, dtype=dtype)[1]
