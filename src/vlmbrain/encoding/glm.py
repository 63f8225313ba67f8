"""AR(1)-prewhitened GLM of grayordinate series on atoms (METHOD 5), one pass of GEMMs.

Statistically the same as nilearn's ``run_glm(Y, X, noise_model='ar1', bins=bins)``:
OLS residuals give one Yule-Walker AR(1) coefficient per grayordinate, truncated to a
grid of ``1 / bins``; design and data are whitened with it (``x_t - rho x_{t-1}``, first
row kept) and refit by OLS, and t = beta / sqrt(sigma^2 diag((Xw'Xw)^-1)).

Instead of residuals and one model per AR bin over gathered columns, everything is
derived from one GEMM of the stacked design ``[X, X_lag, X_lead]'`` with the data and
two column-wise reductions (``sum y_t^2``, ``sum y_t y_{t-1}``): the OLS residual
autocovariances, the whitened normal equations ``Xw'Yw = X'Y - rho (X_lag'Y + X_lead'Y)
+ rho^2 (X'Y - x_{T-1} y_{T-1})`` and the whitened residual sum of squares are exact
functions of these (float64 algebra on P x V arrays), so only P x P solves remain per
AR bin.
"""

from __future__ import annotations

import numpy as np
from tqdm.auto import tqdm


def add_intercept(atoms):
    """The GLM design ``[D, 1]`` (T x (K+1))."""
    atoms = np.asarray(atoms)
    return np.hstack([atoms, np.ones((atoms.shape[0], 1), atoms.dtype)])


def bin_ar1(rho, bins=100):
    """Truncate AR(1) coefficients to multiples of ``1 / bins`` (as nilearn does)."""
    return np.trunc(np.asarray(rho, np.float64) * bins) / bins


def _lagged(X):
    lag = np.zeros_like(X)
    lag[1:] = X[:-1]
    return lag


def ar1_glm(Y, X, bins=100, chunk_size=20000, dtype=np.float32, progress=False):
    """Fit Y = X B + e with AR(1) noise, all columns of Y at once in chunks.

    Parameters
    ----------
    Y : ndarray (T, V)
        Grayordinate series.
    X : ndarray (T, P)
        Full design (include the intercept, e.g. :func:`add_intercept`).
    bins : int
        AR(1) grid (``encoding.ar_bins``).
    chunk_size : int
        Grayordinates per chunk (extra memory about T x chunk_size x itemsize).
    dtype : numpy dtype
        Precision of the GEMM and reductions over time (float32 default; float64 for
        reference checks).
    progress : bool
        Show a tqdm bar over chunks.

    Returns
    -------
    dict
        ``beta`` and ``t`` (P x V, ``dtype``), ``rho`` (V, binned AR(1) coefficient),
        ``dof`` (int).
    """
    Y = np.asarray(Y)
    X = np.asarray(X, np.float64)
    n, p = X.shape
    if Y.ndim != 2 or Y.shape[0] != n:
        raise ValueError(f"Y must be T x V with T = {n} rows like the design, got {Y.shape}")
    if n <= p + 1:
        raise ValueError(f"{n} time points are too few for a GLM with {p} regressors")
    dof = n - p
    lag = _lagged(X)  # x_{t-1}
    lead = np.zeros_like(X)
    lead[:-1] = X[1:]  # x_{t+1}
    stacked = np.hstack([X, lag, lead]).T.astype(dtype).copy()  # 3P x T
    G = X.T @ X
    G_inv = np.linalg.pinv(G)
    A1 = X.T @ lag  # sum_t x_t x_{t-1}'
    GL = G - np.outer(X[-1], X[-1])  # sum_{t>=1} x_{t-1} x_{t-1}'
    n_vox = Y.shape[1]
    beta = np.empty((p, n_vox), dtype)
    tval = np.empty((p, n_vox), dtype)
    rho_all = np.empty(n_vox)
    cache = {}
    starts = range(0, n_vox, chunk_size)
    for start in tqdm(starts, desc="AR(1) GLM", disable=not progress, mininterval=5):
        sl = slice(start, min(start + chunk_size, n_vox))
        Yc = np.asarray(Y[:, sl], dtype)
        M = (stacked @ Yc).astype(np.float64)
        C0, CL, CF = M[:p], M[p : 2 * p], M[2 * p :]
        yy = np.einsum("tv,tv->v", Yc, Yc).astype(np.float64)
        ylag = np.einsum("tv,tv->v", Yc[1:], Yc[:-1]).astype(np.float64)
        ylast = Yc[-1].astype(np.float64)
        # OLS residual autocovariances -> Yule-Walker AR(1), binned
        B0 = G_inv @ C0
        e0 = yy - np.einsum("pv,pv->v", B0, C0)
        e1 = ylag - np.einsum("pv,pv->v", B0, CL + CF) + np.einsum("pv,pv->v", B0, A1 @ B0)
        r0, r1 = e0 / n, e1 / (n - 1)
        rho = bin_ar1(np.divide(r1, r0, out=np.zeros_like(r1), where=r0 > 0), bins)
        # whitened normal equations and residual sum of squares
        Cw = C0 - rho * (CL + CF) + rho**2 * (C0 - np.outer(X[-1], ylast))
        ss = yy - 2 * rho * ylag + rho**2 * (yy - ylast**2)
        b = np.empty_like(Cw)
        var = np.empty_like(Cw)
        for value in np.unique(rho):
            idx = np.flatnonzero(rho == value)
            if value not in cache:
                cache[value] = np.linalg.pinv(G - value * (A1 + A1.T) + value**2 * GL)
            Gw_inv = cache[value]
            b[:, idx] = Gw_inv @ Cw[:, idx]
            var[:, idx] = np.diag(Gw_inv)[:, None]
        sigma2 = np.maximum(ss - np.einsum("pv,pv->v", b, Cw), 0.0) / dof
        beta[:, sl] = b
        with np.errstate(divide="ignore", invalid="ignore"):
            tval[:, sl] = np.where(sigma2 > 0, b / np.sqrt(var * sigma2), 0.0)
        rho_all[sl] = rho
    return {"beta": beta, "t": tval, "rho": rho_all, "dof": dof}
