"""Temporal model: AN series -> HRF-convolved, z-scored regressors.

Each step is a stateless scikit-learn transformer that knows the run of every row, so
that nothing (z-scoring statistics, HRF tails) crosses a run boundary:

``MovieStandardizer`` (z-score over movie TRs, rest set to 0) -> ``HRFConvolver`` ->
``RowSelector`` (drop rest) -> ``RunStandardizer`` (z-score per run).
:func:`regressor_pipeline` chains them on the row labels of
:func:`vlmbrain.stimuli.table.timing`.
"""

from __future__ import annotations

import numpy as np
from nilearn.glm.first_level import hemodynamic_models
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.pipeline import Pipeline

from vlmbrain.stimuli.table import kept_rows, run_slices


def hrf_kernel(hrf="spm", tr=1.0, time_length=32.0):
    """The canonical HRF sampled at the TR (nilearn's ``spm_hrf`` or ``glover_hrf``).

    Returns
    -------
    ndarray, shape (n,)
        Kernel starting at lag 0, summing to 1.
    """
    makers = {"spm": hemodynamic_models.spm_hrf, "glover": hemodynamic_models.glover_hrf}
    if hrf not in makers:
        raise ValueError(f"temporal.hrf must be one of {sorted(makers)}, got {hrf!r}")
    return np.asarray(makers[hrf](float(tr), oversampling=1, time_length=time_length), float)


def _zscore_rows(x, rows):
    """z-score the columns of ``x`` using the statistics of ``rows`` (constant columns -> 0)."""
    ref = x[rows]
    mean = ref.mean(0, dtype=np.float64)
    std = ref.std(0, dtype=np.float64)
    scale = np.divide(1.0, std, out=np.zeros_like(std), where=std > 1e-12)
    return ((x - mean) * scale).astype(x.dtype, copy=False)


def _check_rows(X, labels, name):
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"expected a 2-D (T x N) array, got shape {X.shape}")
    if len(labels) != X.shape[0]:
        raise ValueError(f"{name} has {len(labels)} rows but the data has {X.shape[0]}")
    return X


class _Stateless(TransformerMixin, BaseEstimator):
    """A transformer with nothing to learn (``fit`` is a no-op, no fitting required)."""

    def fit(self, X, y=None):
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        return tags


class MovieStandardizer(_Stateless):
    """Per run, z-score each column over the movie rows and set the rest rows to 0.

    Parameters
    ----------
    runs : array of shape (T,)
        Run label of each row (rows of a run contiguous).
    movie : array of bool, shape (T,)
        True on movie TRs, False on rest.
    """

    def __init__(self, runs, movie):
        self.runs = runs
        self.movie = movie

    def transform(self, X):
        X = _check_rows(X, self.runs, "runs")
        movie = np.asarray(self.movie, bool)
        out = np.zeros(X.shape, np.float32)
        for sl in run_slices(self.runs):
            keep = movie[sl]
            if keep.sum() > 1:
                block = np.asarray(X[sl], np.float32)
                out[sl] = np.where(keep[:, None], _zscore_rows(block, keep), 0.0)
        return out


class HRFConvolver(_Stateless):
    """Convolve every column with the canonical HRF, within runs only (causal, truncated).

    Parameters
    ----------
    runs : array of shape (T,)
        Run label of each row.
    hrf : {'spm', 'glover'}
    tr : float
        Seconds per row.
    """

    def __init__(self, runs, hrf="spm", tr=1.0):
        self.runs = runs
        self.hrf = hrf
        self.tr = tr

    def transform(self, X):
        X = _check_rows(X, self.runs, "runs")
        kernel = hrf_kernel(self.hrf, self.tr).astype(np.float32)
        out = np.empty(X.shape, np.float32)
        for sl in run_slices(self.runs):
            block = np.asarray(X[sl], np.float32)
            n = block.shape[0]
            acc = np.zeros_like(block)
            for lag, weight in enumerate(kernel[:n]):  # causal, truncated: exact zeros before onset
                acc[lag:] += weight * block[: n - lag]
            out[sl] = acc
        return out


class RowSelector(_Stateless):
    """Keep the rows where ``keep`` is True (e.g. drop rest TRs)."""

    def __init__(self, keep):
        self.keep = keep

    def transform(self, X):
        X = _check_rows(X, self.keep, "keep")
        return X[np.asarray(self.keep, bool)]


class RunStandardizer(_Stateless):
    """z-score each column within each run (constant columns become 0)."""

    def __init__(self, runs):
        self.runs = runs

    def transform(self, X):
        X = _check_rows(X, self.runs, "runs")
        out = np.empty(X.shape, np.float32)
        for sl in run_slices(self.runs):
            block = np.asarray(X[sl], np.float32)
            out[sl] = _zscore_rows(block, np.ones(block.shape[0], bool))
        return out


def regressor_pipeline(rows, hrf="spm", tr=1.0, drop_rest=True):
    """The temporal model as a scikit-learn ``Pipeline``.

    Parameters
    ----------
    rows : DataFrame
        Output of :func:`timing` (one row per TR of all runs).
    hrf : {'spm', 'glover'}
    tr : float
    drop_rest : bool

    Returns
    -------
    Pipeline
        ``transform(X)`` maps T_all x N AN series to T_kept x N float32 regressors.
    """
    runs = rows["run"].to_numpy()
    movie = rows["movie"].to_numpy()
    keep = kept_rows(rows, drop_rest)
    return Pipeline(
        [
            ("movie_zscore", MovieStandardizer(runs, movie)),
            ("hrf", HRFConvolver(runs, hrf, tr)),
            ("select", RowSelector(keep)),
            ("run_zscore", RunStandardizer(runs[keep])),
        ]
    )


def convolved_series(X, rows, hrf="spm", tr=1.0):
    """HRF-convolved AN series over all TRs (rest included), as BOLD would carry them."""
    runs = rows["run"].to_numpy()
    return Pipeline(
        [
            ("movie_zscore", MovieStandardizer(runs, rows["movie"].to_numpy())),
            ("hrf", HRFConvolver(runs, hrf, tr)),
        ]
    ).transform(X)
