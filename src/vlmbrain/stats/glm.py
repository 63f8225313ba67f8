"""AR(1)-prewhitened GLM (docs/method.md), one entry point: :func:`ar1_glm` ``(Y, X, bins)``.

Statistically the same as nilearn's ``run_glm(Y, X, noise_model='ar1', bins=bins)``:
OLS residuals give one Yule-Walker AR(1) coefficient per target, truncated to a grid of
``1 / bins``; design and data are whitened with it (``x_t - rho x_{t-1}``, first row kept)
and refit by OLS, and t = beta / sqrt(sigma^2 diag((Xw'Xw)^-1)).

Every quantity both fits need is a function of lag-0 and lag-1 cross-products, so nothing
is whitened explicitly: one GEMM of the stacked design ``[X, X_lag, X_lead]'`` with the
data and two column-wise reductions (``sum y_t^2``, ``sum y_t y_{t-1}``) give the OLS
residual autocovariances (:func:`yule_walker_ar1`) and the whitened cross-products
(:func:`whiten_cross`), so only P x P solves remain per AR bin. The pairwise case
(``pairwise=True``: every column of ``X`` alone, with an intercept, against every column
of ``Y``, as the per-neuron encoders need) uses the same two helpers with the 2 x 2 design
solved in closed form on N x V arrays: two GEMMs, no loop over pairs.

The GEMMs and the reductions over time run on the array backend passed as ``backend``
(:mod:`vlmbrain.stats.backend`: numpy, or torch on a device); the per-target algebra on
their P x V results is done in numpy float64 on the host in both cases.
"""

from __future__ import annotations

import numpy as np
from tqdm.auto import tqdm

from vlmbrain.stats.missing import fill_missing


def add_intercept(atoms):
    """The GLM design ``[D, 1]`` (T x (K+1))."""
    atoms = np.asarray(atoms)
    return np.hstack([atoms, np.ones((atoms.shape[0], 1), atoms.dtype)])


def bin_ar1(rho, bins=100):
    """Truncate AR(1) coefficients to multiples of ``1 / bins`` (as nilearn does)."""
    return np.trunc(np.asarray(rho, np.float64) * bins) / bins


def yule_walker_ar1(e0, e1, n, bins=100):
    """Binned Yule-Walker AR(1) coefficient from OLS residual sums (nilearn's estimate).

    Parameters
    ----------
    e0, e1 : ndarray
        ``sum_t e_t^2`` and ``sum_{t>=1} e_t e_{t-1}`` of the OLS residuals.
    n : int
        Number of time points.
    bins : int
        Grid of the coefficient (``encoding.ar_bins``).

    Returns
    -------
    ndarray
        ``(e1 / (n-1)) / (e0 / n)``, 0 where the residuals vanish, clipped to [-1, 1] and
        truncated to multiples of ``1 / bins``.
    """
    r0, r1 = e0 / n, e1 / (n - 1)
    rho = np.divide(r1, r0, out=np.zeros(np.broadcast(r0, r1).shape), where=r0 > 0)
    return bin_ar1(np.clip(rho, -1.0, 1.0), bins)


def whiten_cross(s, s_cross, last, rho):
    """Cross-product of two AR(1)-whitened series from their raw lag-0 and lag-1 sums.

    With ``a*_0 = a_0`` and ``a*_t = a_t - rho a_{t-1}`` (nilearn's ``ARModel.whiten``),
    ``sum_t a*_t b*_t = s - rho s_cross + rho^2 (s - a_{T-1} b_{T-1})``.

    Parameters
    ----------
    s : ndarray
        ``sum_t a_t b_t``.
    s_cross : ndarray
        ``sum_{t>=1} (a_t b_{t-1} + a_{t-1} b_t)``.
    last : ndarray
        ``a_{T-1} b_{T-1}``.
    rho : ndarray
        AR(1) coefficient, broadcast against the sums.
    """
    return s - rho * s_cross + rho**2 * (s - last)


def _lagged(X):
    lag = np.zeros_like(X)
    lag[1:] = X[:-1]
    return lag


def ar1_glm(Y, X, bins=100, *, pairwise=False, chunk_size=20000, dtype=None, progress=False,
            backend=None):
    """Fit ``Y = X B + e`` with AR(1) noise for every column of ``Y``.

    Parameters
    ----------
    Y : ndarray (T, V)
        Target series (grayordinates or parcels); a column holding NaN is a target
        without data (:mod:`vlmbrain.stats.missing`) and gets NaN statistics.
    X : ndarray (T, P)
        The design. With ``pairwise=False`` the full design (include the intercept, e.g.
        :func:`add_intercept`). With ``pairwise=True`` P separate regressors: each target
        is fitted on each column alone with an intercept, ``[x_p, 1]``.
    bins : int
        AR(1) grid (``encoding.ar_bins``).
    pairwise : bool
        Fit every (regressor, target) pair separately (fast path, two GEMMs in all).
    chunk_size : int
        Targets per chunk (extra memory about T x chunk_size x itemsize); full design only.
    dtype : numpy dtype, optional
        Precision of the GEMMs and reductions over time (default: float32 for the full
        design, float64 pairwise).
    progress : bool
        Show a tqdm bar over chunks.
    backend : NumpyBackend or TorchBackend, optional
        Where the GEMMs and reductions over time run
        (:func:`vlmbrain.stats.backend.get_backend`; default numpy).

    Returns
    -------
    dict
        Full design: ``beta`` and ``t`` (P x V, ``dtype``), ``rho`` (V, binned AR(1)
        coefficient), ``dof``; NaN for targets without data, and ``t`` NaN where the
        residuals vanish (a constant target). Pairwise: ``t`` (P x V, t of the slope),
        ``r`` (P x V Pearson correlation), ``dof`` (T - 2); both NaN where either series
        is constant or has no data (undefined, never 0).
    """
    # imported here, not with the module: vlmbrain.stats is also read by the report rules,
    # whose environment has no torch (tests/test_envs.py follows module-level imports)
    from vlmbrain.stats.backend import NumpyBackend

    be = NumpyBackend() if backend is None else backend
    if pairwise:
        return _ar1_pairwise(X, Y, bins, dtype or np.float64, be)
    dtype = dtype or np.float32
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
    stacked = be.asarray(np.hstack([X, lag, lead]).T.astype(dtype).copy(), dtype)  # 3P x T
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
        Yc, missing = fill_missing(np.asarray(Y[:, sl], dtype))
        Yd = be.asarray(Yc, dtype)
        M = be.to_numpy(stacked @ Yd).astype(np.float64)
        C0, CL, CF = M[:p], M[p : 2 * p], M[2 * p :]
        yy = be.to_numpy(be.coldot(Yd, Yd)).astype(np.float64)
        ylag = be.to_numpy(be.coldot(Yd[1:], Yd[:-1])).astype(np.float64)
        ylast = Yc[-1].astype(np.float64)
        # OLS residual autocovariances -> Yule-Walker AR(1), binned
        B0 = G_inv @ C0
        e0 = yy - np.einsum("pv,pv->v", B0, C0)
        e1 = ylag - np.einsum("pv,pv->v", B0, CL + CF) + np.einsum("pv,pv->v", B0, A1 @ B0)
        rho = yule_walker_ar1(e0, e1, n, bins)
        # whitened normal equations and residual sum of squares
        Cw = whiten_cross(C0, CL + CF, np.outer(X[-1], ylast), rho)
        ss = whiten_cross(yy, 2 * ylag, ylast**2, rho)
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
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(sigma2 > 0, b / np.sqrt(var * sigma2), np.nan)  # undefined, not 0
        b[:, missing] = np.nan
        t[:, missing] = np.nan
        beta[:, sl] = b
        tval[:, sl] = t
        rho_all[sl] = np.where(missing, np.nan, rho)
    return {"beta": beta, "t": tval, "rho": rho_all, "dof": dof}


def _ar1_pairwise(X, Y, bins, dtype, be):
    """Slope t and Pearson r of every column of ``X`` against every column of ``Y``.

    The design of pair (p, v) is ``[x_p, 1]``; with both series centred, the OLS slope is
    ``s_xy / s_xx`` and the intercept vanishes, and the whitened 2 x 2 normal equations
    are solved in closed form on P x V arrays.
    """
    X, x_missing = fill_missing(center(X, dtype))
    Y, y_missing = fill_missing(center(Y, dtype))
    T = X.shape[0]
    if Y.shape[0] != T:
        raise ValueError(f"X has {T} time points but Y has {Y.shape[0]}")
    if T < 4:
        raise ValueError(f"need at least 4 time points, got {T}")
    # column-wise sums of products without a T x N temporary (float64 here)
    sxx = np.einsum("tn,tn->n", X, X)[:, None]
    syy = np.einsum("tn,tn->n", Y, Y)[None, :]
    lxx = np.einsum("tn,tn->n", X[1:], X[:-1])[:, None]
    lyy = np.einsum("tn,tn->n", Y[1:], Y[:-1])[None, :]
    x0, xl = X[0][:, None], X[-1][:, None]
    y0, yl = Y[0][None, :], Y[-1][None, :]
    Xd, Yd = be.asarray(X, dtype), be.asarray(Y, dtype)
    s0 = be.to_numpy(Xd.T @ Yd)
    # sum_t (x_t y_{t-1} + x_{t-1} y_t) from one GEMM on lag-summed series.
    lagged = be.to_numpy((Xd[1:] + Xd[:-1]).T @ (Yd[1:] + Yd[:-1]))
    bc = lagged - (s0 - x0 * y0) - (s0 - xl * yl)
    safe_sxx = np.where(sxx > 0, sxx, 1.0)
    r = s0 / np.sqrt(safe_sxx * np.where(syy > 0, syy, 1.0))
    undefined = np.broadcast_to(
        (sxx == 0) | (syy == 0) | x_missing[:, None] | y_missing[None, :], r.shape
    )
    r[undefined] = np.nan
    # OLS residuals e = y - b x and their Yule-Walker AR(1) coefficient.
    b = s0 / safe_sxx
    rho = yule_walker_ar1(syy - b * s0, lyy - b * bc + b * b * lxx, T, bins)
    # Whitened design [x*, c*] (first row kept): its Gram matrix and cross-products.
    xx = whiten_cross(sxx, 2 * lxx, xl * xl, rho)
    yy = whiten_cross(syy, 2 * lyy, yl * yl, rho)
    xy = whiten_cross(s0, bc, xl * yl, rho)
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
    t[undefined | ~np.isfinite(t)] = np.nan  # a constant series or a perfect fit: no t
    return {"t": t, "r": r, "dof": T - 2}


def center(a, dtype=np.float64):
    """Return ``a`` (T x n) with each column's mean removed, as ``dtype`` (a new array)."""
    # one new array, centred in place: a second one (a - mean) took up to 5x as long alone
    # (most of it the kernel's first touch of its pages), 4% of the pairwise GLM in all
    out = np.array(a, dtype=dtype)
    out -= out.mean(axis=0, keepdims=True)
    return out


def pearson(X, Y, dtype=np.float64):
    """Pearson r between every column of ``X`` (T x N) and of ``Y`` (T x P) -> N x P.

    r is undefined, so NaN, where either column is constant (or holds NaN).
    """
    X, Y = center(X, dtype), center(Y, dtype)
    nx = np.sqrt(np.einsum("tn,tn->n", X, X))
    ny = np.sqrt(np.einsum("tn,tn->n", Y, Y))
    with np.errstate(divide="ignore", invalid="ignore"):
        r = (X.T @ Y) / np.outer(nx, ny)
    r[(nx == 0)[:, None] | (ny == 0)[None, :]] = np.nan
    return r


def fisher_z(r):
    """Fisher z-transform ``arctanh(r)``, with r clipped away from +-1."""
    r = np.asarray(r)
    lim = 1.0 - 1e-7
    return np.arctanh(np.clip(r, -lim, lim))
