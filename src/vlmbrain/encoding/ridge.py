"""Leave-one-run-out ridge prediction of grayordinates from atoms.

Same estimator as himalaya's ``RidgeCV(alphas, cv=inner, fit_intercept=False)``: per
outer fold (one held-out run) the alpha of each grayordinate is chosen by inner
cross-validation over the training runs (mean squared error averaged over inner splits,
ties to the larger alpha), the model is refit on all training runs and scored on the
held-out run by Pearson r. Everything is done from per-run sufficient statistics
(``X_r'X_r``, ``X_r'Y_r``, ``Y_r'Y_r`` diagonals): one GEMM over all time points, then
only K x K x V work, so that all grayordinates are solved at once.

The GEMMs and the K x K x V work run on the array backend passed as ``backend``
(:mod:`vlmbrain.stats.backend`: numpy, or torch on a device); the K x K eigendecompositions
are numpy float64 on the host in both cases.
"""

from __future__ import annotations

import numpy as np
from tqdm.auto import tqdm

from vlmbrain.stimuli.table import run_slices
from vlmbrain.stats.backend import NumpyBackend
from vlmbrain.stats.missing import fill_missing


class _Blocks:
    """Sufficient statistics of contiguous row blocks for ridge algebra.

    ``G``, ``sx`` and ``n`` are numpy (small); ``C``, ``yy`` and ``sy`` (per target)
    arrays of the backend ``be``.
    """

    def __init__(self, X, Y, slices, dtype, be):
        self.be = be
        self.G = []
        self.C = []
        self.yy = []
        self.sx = []
        self.sy = []
        self.n = []
        for sl in slices:
            Xb = np.asarray(X[sl], np.float64)
            Yb = be.asarray(Y[sl], dtype)
            self.G.append(Xb.T @ Xb)
            self.C.append(be.astype(be.asarray(Xb.astype(dtype), dtype).T @ Yb, np.float64))
            self.yy.append(be.coldot(Yb, Yb, dtype=np.float64))
            self.sx.append(Xb.sum(0))
            self.sy.append(be.sum(Yb, 0, dtype=np.float64))
            self.n.append(Xb.shape[0])

    def total(self, idx):
        return sum(self.G[i] for i in idx), sum(self.C[i] for i in idx)


def _eig(G, dtype):
    evals, Q = np.linalg.eigh(G)
    return np.maximum(evals, 0.0), Q


def select_alphas(blocks, train, alphas, inner, dtype=np.float32):
    """Per-column alpha index by inner CV on the training blocks (himalaya's rule).

    Scores are himalaya's ``l2_neg_loss`` (minus the mean squared error on the
    validation block), averaged over inner splits, plus ``1e-10 log(alpha)`` so that
    ties go to the larger alpha. Work is done in the eigenbasis of the fit Gram
    matrix: ``W_a = Q diag(1 / (l + a)) Q'C``.
    """
    be = blocks.be
    scores = np.zeros((len(alphas), blocks.C[0].shape[1]))
    for val in inner:
        fit = [b for b in train if b not in val]
        G, C = blocks.total(fit)
        Gv, Cv = blocks.total(val)
        yy = sum(blocks.yy[i] for i in val)
        n = sum(blocks.n[i] for i in val)
        evals, Q = _eig(G, dtype)
        Qd = be.asarray(Q.astype(dtype), dtype)
        Ct = Qd.T @ be.astype(C, dtype)
        Cvt = Qd.T @ be.astype(Cv, dtype)
        M = be.asarray((Q.T @ Gv @ Q).astype(dtype), dtype)
        for j, a in enumerate(alphas):
            Wt = Ct * be.asarray((1.0 / (evals + a)).astype(dtype)[:, None], dtype)
            cross = be.coldot(Wt, Cvt, dtype=np.float64)
            quad = be.coldot(Wt, M @ Wt, dtype=np.float64)
            scores[j] -= be.to_numpy((yy - 2.0 * cross + quad) / n)
    scores = scores / len(inner) + (np.log(alphas) * 1e-10)[:, None]
    return np.argmax(scores, axis=0)


def _pearson(blocks, i, W):
    """Pearson r between X_i W and Y_i per column, from the block's statistics (NaN where
    the prediction or the data is constant on the block: r is undefined there)."""
    be = blocks.be
    n = blocks.n[i]
    sxy = be.to_numpy(be.coldot(W, blocks.C[i]))
    spp = be.to_numpy(be.coldot(W, be.asarray(blocks.G[i], np.float64) @ W))
    sp = be.to_numpy(be.asarray(blocks.sx[i], np.float64) @ W)
    sy = be.to_numpy(blocks.sy[i])
    cov = sxy - sp * sy / n
    vp = spp - sp**2 / n
    vy = be.to_numpy(blocks.yy[i]) - sy**2 / n
    with np.errstate(divide="ignore", invalid="ignore"):
        r = cov / np.sqrt(vp * vy)
    return np.where((vp > 1e-12) & (vy > 1e-12), r, np.nan)


def ridge_loro(X, Y, runs, alphas, chunk_size=20000, dtype=np.float32, progress=False,
               backend=None):
    """Leave-one-run-out ridge prediction with per-grayordinate alpha.

    Parameters
    ----------
    X : ndarray (T, K)
        Regressors (atoms), rows of each run contiguous.
    Y : ndarray (T, V)
        Grayordinate series (z-scored per run); a column holding NaN is a grayordinate
        without data (:mod:`vlmbrain.stats.missing`): its ``r`` and ``alpha`` are NaN.
    runs : array (T,)
        Run label per row. With only two runs the inner CV uses 5 contiguous folds of
        the training run.
    alphas : sequence of float
    chunk_size : int
    dtype : numpy dtype of the X'Y GEMM.
    progress : bool
        Show a tqdm bar over chunks.
    backend : NumpyBackend or TorchBackend, optional
        Where the GEMMs and the per-target algebra run
        (:func:`vlmbrain.stats.backend.get_backend`; default numpy).

    Returns
    -------
    dict
        ``r`` (V,): held-out Pearson r averaged over the folds (NaN where a fold's r is
        undefined); ``r_folds`` (n_runs, V); ``alpha`` (V,): geometric mean over folds
        of the selected alphas; ``alpha_folds`` (n_runs, V).
    """
    be = NumpyBackend() if backend is None else backend
    X = np.asarray(X)
    slices = run_slices(runs)
    n_runs = len(slices)
    if n_runs < 2:
        raise ValueError("leave-one-run-out prediction needs at least two runs")
    if n_runs == 2:
        # split each run in 5 contiguous folds for the inner CV
        fine = []
        for sl in slices:
            edges = np.linspace(sl.start, sl.stop, 6).astype(int)
            fine.extend(slice(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:], strict=True))
        block_of_run = [list(range(5 * i, 5 * i + 5)) for i in range(2)]
        slices = fine
    else:
        block_of_run = [[i] for i in range(n_runs)]
    alphas = np.asarray(alphas, np.float64)
    n_vox = Y.shape[1]
    r_folds = np.empty((n_runs, n_vox), np.float32)
    a_folds = np.empty((n_runs, n_vox), np.float32)
    starts = range(0, n_vox, chunk_size)
    for start in tqdm(starts, desc="ridge LORO", disable=not progress, mininterval=5):
        sl = slice(start, min(start + chunk_size, n_vox))
        Yc, missing = fill_missing(Y[:, sl])
        blocks = _Blocks(X, Yc, slices, dtype, be)
        for k in range(n_runs):
            test = block_of_run[k]
            train = [b for j in range(n_runs) if j != k for b in block_of_run[j]]
            inner = [block_of_run[j] for j in range(n_runs) if j != k]
            if len(inner) < 2:
                inner = [[b] for b in train]
            best = select_alphas(blocks, train, alphas, inner, dtype)
            G, C = blocks.total(train)
            evals, Q = _eig(G, dtype)
            Qd = be.asarray(Q, np.float64)
            W = Qd @ ((Qd.T @ C) / be.asarray(evals[:, None] + alphas[best][None, :], np.float64))
            if len(test) == 1:
                r_folds[k, sl] = _pearson(blocks, test[0], W)
            else:
                merged = _Blocks.__new__(_Blocks)
                merged.be = be
                for name in ("G", "C", "yy", "sx", "sy", "n"):
                    setattr(merged, name, [sum(getattr(blocks, name)[i] for i in test)])
                r_folds[k, sl] = _pearson(merged, 0, W)
            a_folds[k, sl] = alphas[best]
        r_folds[:, sl][:, missing] = np.nan
        a_folds[:, sl][:, missing] = np.nan
    return {
        "r": r_folds.mean(0),
        "r_folds": r_folds,
        "alpha": np.exp(np.log(a_folds).mean(0)).astype(np.float32),
        "alpha_folds": a_folds,
    }
