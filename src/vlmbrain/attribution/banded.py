"""Leave-one-run-out banded ridge regression and variance partitioning.

Same estimator as himalaya's ``BandedRidgeCV(solver="random_search",
solver_params=dict(n_iter=np.exp(deltas), alphas=alphas), cv=inner, fit_intercept=False)``
(himalaya 0.4.11, also named ``GroupRidgeCV``), fitted on the training runs of each outer
fold and scored by ``himalaya.scoring.r2_score`` on the held-out run. The rules that are
reproduced:

* a candidate ``deltas[c]`` (log kernel weights, one per band) scales band ``i`` by
  ``exp(deltas[c, i] / 2)``, i.e. multiplies its Gram block by ``gamma_i = exp(delta_i)``
  (himalaya receives ``gamma = exp(deltas)`` as the explicit ``n_iter`` array and uses it
  as given: no normalisation, no Dirichlet sampling);
* for every candidate, the inner CV score of each alpha is ``l2_neg_loss`` (minus the
  mean squared error on the validation run) averaged over the inner leave-one-run-out
  splits, plus ``1e-10 log(alpha)`` (ties go to the larger alpha); the alpha is chosen
  per target (``local_alpha=True``, ``conservative=False``);
* candidates are visited in order and a later one replaces the current best only if its
  score exceeds it by more than the machine epsilon of the working dtype (ties go to the
  earlier candidate);
* the model is refit on all training runs with the chosen ``(gamma, alpha)`` and predicts
  the held-out run; the chosen hyperparameters are reported as himalaya's
  ``deltas_ = log(gamma / alpha)``.

Everything is done from per-run sufficient statistics (``X_r'X_r`` of the concatenated
bands, ``X_r'Y_r``, ``sum Y_r^2`` and ``sum Y_r``): one GEMM over all time points, then
per candidate an eigendecomposition of the scaled fit Gram ``S G S`` (P x P, shared by
all alphas) and P x P x V work per (split, candidate, alpha). The SSE of weights ``w`` on
a block is ``y'y - 2 w'X'y + w'X'X w``. The inner splits ``(k, v)`` and ``(v, k)`` fit on
the same runs and share their eigenbasis; in it the penalties differ only by a diagonal,
so a split's cross term for all alphas is one product and its quadratic term one GEMM and
one column-wise dot per alpha. A stream and its joint model read one chunk's statistics.

Cost in flops (P features in all bands, V targets, T rows, R runs, K candidates, A
alphas): ``R (R - 1) K (3 + 2 A) P^2 V`` for the inner CV (one rotation per pair of runs
and candidate, one per split, one P x P GEMM per alpha), ``6 R P^2 V`` for the refits and
``2 T P V`` for the statistics; with R = 3, K = 5, A = 6, P = 64, T = 405, V = 91,282
that is 1.7e11 + 6.7e9 + 4.7e9 flops.

The per-target algebra runs on the array backend passed as ``backend``
(:mod:`vlmbrain.stats.backend`: numpy, or torch on a device); the P x P Gram matrices and
their eigendecompositions are numpy float64 on the host in both cases.
"""

from __future__ import annotations

import contextlib
import itertools

import numpy as np
from tqdm.auto import tqdm

from vlmbrain.stats.backend import NumpyBackend
from vlmbrain.stats.missing import fill_missing
from vlmbrain.stimuli.table import run_slices

__all__ = [
    "banded_ridge_loro",
    "default_deltas",
    "reference_r2",
    "variance_partition",
]


# ----------------------------------------------------------------------------- inputs


def default_deltas(n_spaces, n_ratios=5, log10_span=2.0):
    """Small deterministic grid of log kernel weights for ``n_spaces`` bands.

    The weight ratio of band 0 (the stream) to each other band takes ``n_ratios`` values
    ``10**k``, ``k`` evenly spaced in ``[-log10_span, log10_span]`` (default
    ``{-2, -1, 0, 1, 2}``); the full product grid over the other bands is used and each
    candidate is normalised so that its weights ``gamma = exp(delta)`` sum to 1 (the
    simplex on which himalaya draws its random candidates). One band gives ``[[0.]]``,
    i.e. plain ridge.

    Cost: ``n_ratios ** (n_spaces - 1)`` candidates (5 for two bands, 25 for three), each
    tried with every alpha, so the inner CV costs ``candidates x alphas`` ridge scorings.

    Returns
    -------
    ndarray, shape (n_candidates, n_spaces)
        ``deltas``; pass ``np.exp(deltas)`` to himalaya as ``solver_params["n_iter"]``.
    """
    if int(n_spaces) != n_spaces or n_spaces < 1:
        raise ValueError(f"n_spaces must be a positive integer, got {n_spaces!r}")
    if n_spaces == 1:
        return np.zeros((1, 1))
    if n_ratios < 1:
        raise ValueError(f"n_ratios must be >= 1, got {n_ratios!r}")
    ks = np.linspace(-log10_span, log10_span, n_ratios) * np.log(10.0) if n_ratios > 1 else [0.0]
    rows = [[0.0, *(-np.asarray(r))] for r in itertools.product(ks, repeat=n_spaces - 1)]
    logg = np.asarray(rows, np.float64)
    top = logg.max(1, keepdims=True)
    return logg - (top + np.log(np.exp(logg - top).sum(1, keepdims=True)))


def _check_inputs(spaces, Y, runs, deltas, alphas):
    if isinstance(spaces, np.ndarray) and spaces.ndim == 2:
        spaces = [spaces]
    spaces = [np.asarray(x) for x in spaces]
    if not spaces:
        raise ValueError("spaces must hold at least one (T, P_i) feature array, got none")
    Y = np.asarray(Y) if not hasattr(Y, "shape") else Y
    if Y.ndim != 2:
        raise ValueError(f"Y must be 2-D (T, V), got shape {Y.shape}")
    T = Y.shape[0]
    for i, x in enumerate(spaces):
        if x.ndim != 2 or x.shape[0] != T:
            raise ValueError(f"spaces[{i}] must be 2-D with T={T} rows like Y, got shape {x.shape}")
    runs = np.asarray(runs)
    if runs.shape != (T,):
        raise ValueError(f"runs must have one label per row of Y, shape ({T},), got {runs.shape}")
    slices = run_slices(runs)
    if len(slices) < 3:
        raise ValueError(
            "leave-one-run-out banded ridge needs at least 3 runs (an outer held-out run and "
            f"an inner leave-one-run-out CV over >= 2 training runs), got {len(slices)}"
        )
    deltas = np.asarray(deltas, np.float64)
    if deltas.ndim != 2 or deltas.shape[1] != len(spaces) or deltas.shape[0] < 1:
        raise ValueError(
            f"deltas must have shape (n_candidates, n_spaces={len(spaces)}), got {deltas.shape}"
        )
    if not np.all(np.isfinite(deltas)):
        raise ValueError("deltas must be finite log kernel weights")
    alphas = np.atleast_1d(np.asarray(alphas, np.float64))
    if alphas.ndim != 1 or alphas.size == 0 or np.any(alphas <= 0):
        raise ValueError(f"alphas must be a non-empty 1-D array of positive values, got {alphas}")
    return spaces, Y, slices, deltas, alphas


# ----------------------------------------------------------------------------- solver


class _Stats:
    """Per-run sufficient statistics of one chunk of targets: ``G`` (R, P, P) float64,
    and per run ``C`` (P, V), ``yy`` and ``sy`` (V) on the backend, ``n`` (R) rows."""

    def __init__(self, G, C, yy, sy, n):
        self.G, self.C, self.yy, self.sy, self.n = G, C, yy, sy, n

    @classmethod
    def of(cls, X, Yc, slices, be, dtype):
        """The statistics of features ``X`` (T, P) and targets ``Yc`` (T, V)."""
        G = np.stack([X[sl].T @ X[sl] for sl in slices])
        Xd = be.asarray(X, dtype)
        Yd = be.asarray(Yc, dtype)
        C, yy, sy = [], [], []
        for sl in slices:
            Yr = Yd[sl]
            C.append(Xd[sl].T @ Yr)  # working dtype
            yy.append(be.astype((Yr * Yr).sum(0), np.float64))
            sy.append(be.astype(Yr.sum(0), np.float64))
        return cls(G, C, yy, sy, np.array([sl.stop - sl.start for sl in slices]))

    def leading(self, p):
        """The statistics of the first ``p`` features alone (views, no recomputation)."""
        return _Stats(self.G[:, :p, :p], [c[:p] for c in self.C], self.yy, self.sy, self.n)

    def gram(self, idx):
        return sum(self.G[i] for i in idx)

    def xy(self, idx):
        return sum(self.C[i] for i in idx)


_THREADPOOLS = []


def _blas_limit(n):
    """Context limiting the BLAS threads to ``n`` (no-op for None)."""
    if n is None:
        return contextlib.nullcontext()
    if not _THREADPOOLS:
        from threadpoolctl import ThreadpoolController

        _THREADPOOLS.append(ThreadpoolController())
    return _THREADPOOLS[0].limit(limits=int(n), user_api="blas")


def _eigh(A):
    """``np.linalg.eigh`` on one BLAS thread: multithreaded LAPACK on a P x P matrix is
    ~100x slower than single-threaded when the cores are busy."""
    with _blas_limit(1):
        return np.linalg.eigh(A)


def _rotation(G, scale):
    """Eigenbasis of ``S G S``: evals (clipped at 0) and ``R = Q' S``."""
    evals, Q = _eigh(scale[:, None] * G * scale[None, :])
    return np.maximum(evals, 0.0), Q.T * scale[None, :]


def _sse(be, dtype, R, evals, C_fit, C_val, G_val, yy_val, alpha):
    """SSE on a block of the ridge fit on (G_fit, C_fit), for per-target ``alpha``."""
    Rd = be.asarray(R, dtype)
    Ct = Rd @ C_fit
    Cvt = Rd @ C_val
    M = be.asarray(R @ G_val @ R.T, dtype)
    Wt = Ct / (be.asarray(evals, dtype)[:, None] + alpha)
    return yy_val - be.astype((Wt * (2.0 * Cvt - M @ Wt)).sum(0), np.float64)


def _inner_scores(st, scales, alphas, be, dtype):
    """Inner leave-one-run-out scores of every outer fold: (R, candidates, alphas, V).

    Outer fold ``k`` and inner validation run ``v`` fit on the runs other than both, so
    the folds ``(k, v)`` and ``(v, k)`` share the fit: its eigenbasis and rotated
    cross-products are computed once per pair of runs and scored on each of the two
    validation runs. In the eigenbasis the weights of penalty ``alpha`` are
    ``w = D c`` with ``D = diag(1 / (evals + alpha))``, so the validation run's
    ``2 w'X'y - w'X'X w`` is ``d'(c * 2 c_val) - c'(D M D) c``: one product for all the
    penalties, then one P x P GEMM and one column-wise dot per penalty.
    """
    n_runs = len(st.n)
    n_vox = st.yy[0].shape[0]
    scores = np.zeros((n_runs, len(scales), len(alphas), n_vox))
    yy = [be.to_numpy(y) for y in st.yy]  # on the host once, not per candidate
    for a_run, b_run in itertools.combinations(range(n_runs), 2):
        fit = [j for j in range(n_runs) if j not in (a_run, b_run)]
        G_fit, C_fit = st.gram(fit), st.xy(fit)
        for c, scale in enumerate(scales):
            evals, R = _rotation(G_fit, scale)
            Rd = be.asarray(R, dtype)
            Ct = Rd @ C_fit
            D = 1.0 / (evals[None, :] + alphas[:, None])  # (A, P) float64
            Dd = be.asarray(D, dtype)
            for k, v in ((a_run, b_run), (b_run, a_run)):  # (outer fold, validation run)
                M = R @ st.G[v] @ R.T
                fit_term = be.to_numpy(be.astype(Dd @ (Ct * (2.0 * (Rd @ st.C[v]))), np.float64))
                for a in range(len(alphas)):
                    MD = be.asarray(D[a][:, None] * M * D[a][None, :], dtype)
                    quad = be.to_numpy(be.astype(be.coldot(Ct, MD @ Ct), np.float64))
                    scores[k, c, a] -= (yy[v] - (fit_term[a] - quad)) / st.n[v]
    return scores


def _solve_chunk(st, scales, alphas, be, dtype, tie_eps):
    """Outer folds on one chunk: held-out R2, chosen candidate and alpha per fold."""
    n_runs = len(st.n)
    n_vox = st.yy[0].shape[0]
    n_cand = len(scales)
    r2 = np.empty((n_runs, n_vox), np.float64)
    cand_sel = np.empty((n_runs, n_vox), np.int64)
    alpha_sel = np.empty((n_runs, n_vox), np.float64)
    slope = (np.log(alphas) * 1e-10)[:, None]
    inner = _inner_scores(st, scales, alphas, be, dtype)
    for k in range(n_runs):
        train = [j for j in range(n_runs) if j != k]
        scores = inner[k] / len(train) + slope[None]
        best_a = scores.argmax(1)  # (n_cand, V)
        best_s = np.take_along_axis(scores, best_a[:, None, :], 1)[:, 0]
        current = np.full(n_vox, -np.inf)
        chosen = np.zeros(n_vox, np.int64)
        for c in range(n_cand):
            better = best_s[c] > current + tie_eps
            current[better] = best_s[c, better]
            chosen[better] = c
        a_idx = np.take_along_axis(best_a, chosen[None], 0)[0]
        cand_sel[k] = chosen
        alpha_sel[k] = alphas[a_idx]
        # refit on all training runs, SSE on the held-out run
        G_tr, C_tr = st.gram(train), st.xy(train)
        sse = np.empty(n_vox)
        for c in np.unique(chosen):
            idx = np.flatnonzero(chosen == c)
            evals, R = _rotation(G_tr, scales[c])
            ii = be.index(idx)
            alpha = be.asarray(alpha_sel[k, idx], dtype)[None, :]
            sse[idx] = be.to_numpy(
                _sse(be, dtype, R, evals, C_tr[:, ii], st.C[k][:, ii], st.G[k], st.yy[k][ii], alpha)
            )
        yy, sy = be.to_numpy(st.yy[k]), be.to_numpy(st.sy[k])
        sst = yy - sy**2 / st.n[k]
        flat = sst <= 1e-10 * np.maximum(yy, np.finfo(np.float64).tiny)
        with np.errstate(divide="ignore", invalid="ignore"):
            r2[k] = np.where(flat, np.nan, 1.0 - sse / np.where(flat, 1.0, sst))  # undefined
    return r2, cand_sel, alpha_sel


def banded_ridge_loro(
    spaces,
    Y,
    runs,
    deltas,
    alphas,
    chunk_size=20000,
    dtype=np.float32,
    progress=False,
    backend=None,
    blas_threads=None,
):
    """Leave-one-run-out banded ridge: held-out R2 per target.

    Parameters
    ----------
    spaces : list of ndarray (T, P_i)
        Feature spaces (bands), z-scored per run; one 2-D array means a single band.
    Y : ndarray (T, V)
        Targets (z-scored per run), rows of each run contiguous.
    runs : array (T,)
        Run label of each row; at least 3 runs.
    deltas : array (n_candidates, n_spaces)
        Candidate log kernel weights: band ``i`` is scaled by ``exp(deltas[c, i] / 2)``
        (himalaya's ``n_iter=np.exp(deltas)``). See :func:`default_deltas`.
    alphas : sequence of float
        Ridge penalties tried with every candidate.
    chunk_size : int
        Targets solved at once (memory ~ ``((runs + 4) * P + runs * candidates * alphas)
        * chunk_size`` values).
    dtype : numpy dtype
        Working dtype of the per-target algebra (Gram matrices and eigendecompositions
        are float64; scores are accumulated in float64).
    progress : bool
        Progress bar over chunks.
    backend : NumpyBackend or TorchBackend, optional
        Where the per-target algebra runs (:func:`vlmbrain.stats.backend.get_backend`;
        default numpy).
    blas_threads : int or None
        Limit the BLAS threads during the call (None: leave them). On cores shared with
        other jobs, 1 was ~9x faster than OpenBLAS's 2 threads here.

    Returns
    -------
    dict
        ``r2`` (V,): held-out R2 averaged over the outer folds (NaN for a target without
        data, a column of ``Y`` holding NaN, or constant on a held-out run); ``r2_folds`` (R, V);
        ``candidate_folds`` (R, V) int: chosen row of ``deltas``; ``alpha_folds`` (R, V);
        ``deltas_folds`` (R, n_spaces, V): himalaya's ``deltas_ = log(gamma / alpha)``.
    """
    spaces, Y, slices, deltas, alphas = _check_inputs(spaces, Y, runs, deltas, alphas)
    return _loro_fits(spaces, Y, slices, [(len(spaces), deltas)], alphas, chunk_size=chunk_size,
                      dtype=dtype, progress=progress, backend=backend,
                      blas_threads=blas_threads)[0]


def _loro_fits(spaces, Y, slices, fits, alphas, *, chunk_size=20000, dtype=np.float32,
               progress=False, backend=None, blas_threads=None):
    """:func:`banded_ridge_loro` of several models on one pass over the targets.

    ``fits`` lists ``(m, deltas)``: a model of the first ``m`` bands of ``spaces`` with
    its candidates. The statistics of each chunk are computed once, for all bands, and
    every model reads those of its bands from them. Inputs are checked by the caller
    (:func:`_check_inputs`).
    """
    if int(chunk_size) < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    be = NumpyBackend() if backend is None else backend
    X = np.concatenate([np.asarray(x, np.float64) for x in spaces], 1)
    sizes = [x.shape[1] for x in spaces]
    tie_eps = float(np.finfo(np.dtype(dtype)).eps)
    n_runs, n_vox = len(slices), Y.shape[1]
    models = []
    for m, deltas in fits:
        models.append({
            "p": sum(sizes[:m]),
            "deltas": deltas,
            "scales": [np.repeat(np.exp(d / 2.0), sizes[:m]) for d in deltas],
            "r2": np.empty((n_runs, n_vox), np.float32),
            "cand": np.empty((n_runs, n_vox), np.int16 if len(deltas) < 2**15 else np.int64),
            "alpha": np.empty((n_runs, n_vox), np.float32),
        })
    starts = range(0, n_vox, int(chunk_size))
    with _blas_limit(blas_threads):
        for start in tqdm(starts, desc="banded ridge LORO", disable=not progress, mininterval=5):
            sl = slice(start, min(start + int(chunk_size), n_vox))
            Yc, missing = fill_missing(np.asarray(Y[:, sl]))
            st = _Stats.of(X, Yc, slices, be, dtype)
            for fit in models:
                r2, cand, alpha = fit["r2"], fit["cand"], fit["alpha"]
                r2[:, sl], cand[:, sl], alpha[:, sl] = _solve_chunk(
                    st.leading(fit["p"]), fit["scales"], alphas, be, dtype, tie_eps)
                r2[:, sl][:, missing] = np.nan
                alpha[:, sl][:, missing] = np.nan
    out = []
    for fit in models:
        cand, alpha = fit["cand"], fit["alpha"]
        log_deltas = (fit["deltas"][cand.astype(np.int64)].transpose(0, 2, 1)
                      - np.log(alpha)[:, None, :])
        out.append({
            "r2": fit["r2"].mean(0),
            "r2_folds": fit["r2"],
            "candidate_folds": cand,
            "alpha_folds": alpha,
            "deltas_folds": log_deltas.astype(np.float32),
        })
    return out


# ----------------------------------------------------------------------------- partition


def _as_list(references):
    if isinstance(references, np.ndarray) and references.ndim == 2:
        return [references]
    return list(references)


def reference_r2(references, Y, runs, alphas, deltas=None, **kwargs):
    """Held-out R2 of the reference model alone (compute once per subject).

    Banded ridge over the references when there are several (``deltas`` defaulting to
    :func:`default_deltas`), plain ridge when there is one.

    Returns
    -------
    dict
        As :func:`banded_ridge_loro`.
    """
    refs = _as_list(references)
    if deltas is None:
        deltas = default_deltas(len(refs))
    return banded_ridge_loro(refs, Y, runs, deltas, alphas, **kwargs)


def variance_partition(
    stream,
    references,
    Y,
    runs,
    alphas,
    deltas=None,
    r2_reference=None,
    reference_deltas=None,
    **kwargs,
):
    """Unique and shared held-out R2 of a stream band and reference band(s).

    Fits (a) the joint banded model ``[stream, *references]``, (b) the references alone
    (skipped when ``r2_reference`` is given: it is the same for every layer of a
    subject, see :func:`reference_r2`), (c) the stream alone (plain ridge).

    Parameters
    ----------
    stream : ndarray (T, P_s)
    references : ndarray (T, P_r) or list of them
    Y, runs, alphas :
        As :func:`banded_ridge_loro`.
    deltas : array (n_candidates, 1 + n_references) or None
        Candidates of the joint model; default ``default_deltas(1 + n_references)``.
    r2_reference : array (V,) or None
        Precomputed ``reference_r2(...)["r2"]``.
    reference_deltas : array or None
        Candidates of the reference model when it is computed here.
    **kwargs
        ``chunk_size``, ``dtype``, ``progress``, ``backend``, ``blas_threads``.

    Returns
    -------
    dict of ndarray (V,)
        ``r2_joint``, ``r2_reference``, ``r2_stream``, ``unique`` (stream's unique part,
        ``r2_joint - r2_reference``), ``unique_reference`` (``r2_joint - r2_stream``),
        ``shared`` (``r2_stream + r2_reference - r2_joint``).
    """
    refs = _as_list(references)
    if deltas is None:
        deltas = default_deltas(1 + len(refs))
    spaces, Y, slices, deltas, alphas = _check_inputs([stream, *refs], Y, runs, deltas, alphas)
    n_vox = Y.shape[1]
    # the joint model and the stream alone (plain ridge) on one pass over the targets
    joint, alone = _loro_fits(spaces, Y, slices, [(len(spaces), deltas), (1, np.zeros((1, 1)))],
                              alphas, **kwargs)
    if r2_reference is None:
        r2_ref = reference_r2(refs, Y, runs, alphas, reference_deltas, **kwargs)["r2"]
    else:
        r2_ref = np.asarray(r2_reference, np.float32)
        if r2_ref.shape != (n_vox,):
            raise ValueError(
                f"r2_reference must have shape ({n_vox},) like Y's columns, got {r2_ref.shape}"
            )
    r2_stream = alone["r2"]
    r2_joint = joint["r2"]
    return {
        "r2_joint": r2_joint,
        "r2_reference": r2_ref,
        "r2_stream": r2_stream,
        "unique": r2_joint - r2_ref,
        "unique_reference": r2_joint - r2_stream,
        "shared": r2_stream + r2_ref - r2_joint,
    }
