"""Sparse dictionary learning of a layer's AN regressors into temporal atoms."""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.decomposition import MiniBatchDictionaryLearning
from sklearn.exceptions import ConvergenceWarning


class AtomLearner(BaseEstimator):
    """Online dictionary learning (Mairal et al. 2010) of temporal atoms.

    X (T x N) ~ D (T x K) A (K x N), minimising ||X - DA||^2 / 2 + alpha ||A||_1 with
    ||d_k|| <= 1. Each AN series is one sample of scikit-learn's
    ``MiniBatchDictionaryLearning``, so its components are the temporal atoms.

    Parameters
    ----------
    n_atoms : int
    alpha : float
        Sparsity penalty (codes and learning).
    max_iter : int
        Passes over the ANs.
    batch_size : int
    seed : int

    Attributes
    ----------
    atoms_ : ndarray (T, K) float32, unit-norm columns, each oriented so its codes sum >= 0
    codes_ : ndarray (K, N) float32
    zero_fraction_ : float, fraction of zero codes
    r2_ : float, reconstruction R^2 of X
    """

    def __init__(self, n_atoms=64, alpha=1.0, max_iter=10, batch_size=256, seed=0):
        self.n_atoms = n_atoms
        self.alpha = alpha
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.seed = seed

    def fit(self, X, y=None):
        X = np.asarray(X, np.float32)
        if X.ndim != 2 or not np.isfinite(X).all():
            raise ValueError(f"SDL needs a finite 2-D (T x N) array, got shape {X.shape}")
        # float64: coordinate descent converges quickly there (float32 stalls near tol).
        samples = np.ascontiguousarray(X.T, dtype=np.float64)
        dl = MiniBatchDictionaryLearning(
            n_components=self.n_atoms,
            alpha=self.alpha,
            max_iter=self.max_iter,
            batch_size=min(self.batch_size, samples.shape[0]),
            fit_algorithm="cd",
            transform_algorithm="lasso_cd",
            transform_alpha=self.alpha,
            transform_max_iter=1000,
            random_state=self.seed,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            codes = dl.fit(samples).transform(samples).T.astype(np.float32)  # K x N
        atoms = dl.components_.T.astype(np.float32)  # T x K
        norms = np.linalg.norm(atoms, axis=0)
        ok = norms > 1e-12
        atoms[:, ok] /= norms[ok]
        codes[ok] *= norms[ok, None]
        sign = np.where(codes.sum(1) < 0, -1.0, 1.0).astype(np.float32)
        self.atoms_ = atoms * sign
        self.codes_ = codes * sign[:, None]
        resid = X - self.atoms_ @ self.codes_
        total = ((X - X.mean(0)) ** 2).sum(dtype=np.float64)
        self.r2_ = float(1.0 - (resid**2).sum(dtype=np.float64) / total) if total > 0 else 0.0
        self.zero_fraction_ = float(np.mean(self.codes_ == 0))
        return self


MIN_TRS_PER_ATOM = 25


def atoms_per_tr_warning(n_trs, n_atoms):
    """A warning when there are too few modelled TRs per atom, else ``None``.

    HRF-convolved series of T TRs have far fewer than T independent samples, so K atoms
    of any layer span most of them once T/K is small: every layer then appears to drive
    every network, and the GLM on the atoms is ill-conditioned. HCP 7T has about
    3,600 / 64 = 56 TRs per atom.

    Parameters
    ----------
    n_trs : int
        Modelled TRs (rest dropped).
    n_atoms : int
        ``sdl.n_atoms``.

    Returns
    -------
    str or None
    """
    ratio = n_trs / n_atoms
    if ratio >= MIN_TRS_PER_ATOM:
        return None
    return (
        f"sdl.n_atoms = {n_atoms} for {n_trs} modelled TRs ({ratio:.1f} TRs per atom): the "
        "atoms of any layer then span most HRF-smooth signals, so every layer seems to drive "
        "every network. Keep at least "
        f"{MIN_TRS_PER_ATOM} TRs per atom (sdl.n_atoms <= {max(1, n_trs // MIN_TRS_PER_ATOM)}); "
        "HCP 7T has about 3,600 / 64 = 56."
    )


def learn_atoms(X, n_atoms=64, alpha=1.0, max_iter=10, batch_size=256, seed=0):
    """Fit :class:`AtomLearner` and return its results as a dict of arrays.

    Returns
    -------
    dict
        ``atoms`` (T x K), ``codes`` (K x N), ``zero_fraction``, ``r2`` (the npz layout of
        ``results/atoms/{model}/{stream}/layer-{LL}.npz``).
    """
    est = AtomLearner(n_atoms, alpha, max_iter, batch_size, seed).fit(X)
    return {
        "atoms": est.atoms_,
        "codes": est.codes_,
        "zero_fraction": np.float32(est.zero_fraction_),
        "r2": np.float32(est.r2_),
    }
