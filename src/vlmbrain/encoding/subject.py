"""Encoding of one layer: AR(1) GLM betas and t, leave-one-run-out ridge prediction."""

from __future__ import annotations

import numpy as np

from vlmbrain.encoding.ridge import ridge_loro
from vlmbrain.stats import add_intercept, ar1_glm


def encode_layer(Y, atoms, runs, chunk_size=20000, ar_bins=100,
                 ridge_alphas=(0.1, 1.0, 10.0, 100.0, 1000.0, 10000.0), backend=None):
    """AR(1) GLM and leave-one-run-out ridge of one layer's atoms.

    Parameters
    ----------
    Y : ndarray (T, V) float32
    atoms : ndarray (T, K)
    runs : array (T,)
    chunk_size, ar_bins, ridge_alphas
        ``encoding.*``: grayordinates per batch, AR(1) bins, ridge penalties searched.
    backend : NumpyBackend or TorchBackend, optional
        Array backend of both fits (:func:`vlmbrain.stats.backend.get_backend`; default
        numpy).

    Returns
    -------
    dict
        ``beta``, ``t`` (K x V float32), ``r``, ``alpha`` (V float32).
    """
    glm = ar1_glm(Y, add_intercept(atoms), bins=ar_bins, chunk_size=chunk_size, backend=backend)
    k = atoms.shape[1]
    pred = ridge_loro(atoms, Y, runs, list(ridge_alphas), chunk_size=chunk_size, backend=backend)
    return {
        "beta": glm["beta"][:k],
        "t": glm["t"][:k],
        "r": pred["r"].astype(np.float32),
        "alpha": pred["alpha"],
    }
