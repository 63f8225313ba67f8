"""AR(1)-prewhitened GLM of grayordinate series on atoms (METHOD 5), batched GEMMs.

Statistically the same as nilearn's ``run_glm(Y, X, noise_model='ar1', bins=bins)``:
OLS residuals give one Yule-Walker AR(1) coefficient per grayordinate, truncated to a
grid of ``1 / bins``; design and data are whitened with it (``x_t - rho x_{t-1}``, first
row kept) and refit by OLS. Instead of one model per AR bin over gathered columns, every
quantity is computed for all grayordinates of a chunk with three GEMMs against the design
(``X'Y``, ``X'Yw`` and ``X_lag'Yw``): the whitened design of bin ``rho`` is
``X - rho X_lag``, so ``Xw'Yw = X'Yw - rho X_lag'Yw``; only K x K solves remain per bin.
"""

from __future__ import annotations

import numpy as np
from tqdm.auto import tqdm


def add_intercept(atoms):
    """The GLM design ``[D, 1]`` (T x (K+1))."""
    atoms = np.asarray(atoms)
    return np.hstack([atoms, np.ones((atoms.shape[0], 1), atoms.dtype)])


def ar1_coefficients(residuals):
    """Yule-Walker AR(1) coefficient of each column (nilearn's ``_yule_walker`` order 1).

    Parameters
    ----------
    residuals : ndarray (T, V)

    Returns
    -------
    ndarray (V,) float64
    """
    n = residuals.shape[0]
    r0 = np.einsum("tv,tv->v", residuals, residuals, dtype=np.float64) / n
    r1 = np.einsum("tv,tv->v", residuals[1:], residuals[:-1], dtype=np.float64) / (n - 1)
    return np.divide(r1, r0, out=np.zeros_like(r1), where=r0 > 0)


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
        Grayordinates per chunk (memory: about 3 x T x chunk_size x itemsize).
    dtype : numpy dtype
        Precision of the GEMMs (float32 default; float64 for reference checks).
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
    G_inv = np.linalg.pinv(X.T @ X)
    Xd = X.astype(dtype)
    XX = np.hstack([X, _lagged(X)]).astype(dtype).T.copy()  # 2P x T
    A, L = X.T @ X, X.T @ _lagged(X)
    LL = _lagged(X).T @ _lagged(X)
    n_vox = Y.shape[1]
    beta = np.empty((p, n_vox), dtype)
    tval = np.empty((p, n_vox), dtype)
    rho_all = np.empty(n_vox)
    cache = {}
    starts = range(0, n_vox, chunk_size)
    for start in tqdm(starts, desc="AR(1) GLM", disable=not progress, mininterval=5):
        sl = slice(start, min(start + chunk_size, n_vox))
        Yc = np.asarray(Y[:, sl], dtype)
        # pass 1: OLS residuals -> binned AR(1) coefficient per grayordinate
        B0 = (G_inv @ (Xd.T @ Yc).astype(np.float64)).astype(dtype)
        resid = Yc - Xd @ B0
        rho = bin_ar1(ar1_coefficients(resid), bins)
        del resid, B0
        # pass 2: whiten the data with each grayordinate's own rho, then one GEMM
        Yw = Yc.copy()
        Yw[1:] -= rho.astype(dtype)[None, :] * Yc[:-1]
        del Yc
        C = (XX @ Yw).astype(np.float64)  # 2P x Vc: X'Yw and X_lag'Yw
        ss = np.einsum("tv,tv->v", Yw, Yw, dtype=np.float64)
        del Yw
        Cw = C[:p] - rho[None, :] * C[p:]
        b = np.empty_like(Cw)
        var = np.empty_like(Cw)
        for value in np.unique(rho):
            idx = np.flatnonzero(rho == value)
            if value not in cache:
                # (X - r Xl)'(X - r Xl) = A - r (L + L') + r^2 LL
                Gw = A - value * (L + L.T) + value**2 * LL
                cache[value] = np.linalg.pinv(Gw)
            Gw_inv = cache[value]
            b[:, idx] = Gw_inv @ Cw[:, idx]
            var[:, idx] = np.diag(Gw_inv)[:, None]
        rss = np.maximum(ss - np.einsum("pv,pv->v", b, Cw), 0.0)
        sigma2 = rss / dof
        beta[:, sl] = b
        with np.errstate(divide="ignore", invalid="ignore"):
            tval[:, sl] = np.where(sigma2 > 0, b / np.sqrt(var * sigma2), 0.0)
        rho_all[sl] = rho
    return {"beta": beta, "t": tval, "rho": rho_all, "dof": dof}
