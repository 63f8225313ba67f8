"""Feature spaces of the attribution: each layer's leading components and modality references.

A layer's feature space is the leading principal components of its HRF-convolved AN
series (``results/regressors/{model}/{stream}/layer-LL.npy``, T_kept x N), computed once
per layer for every subject. A reference spans one modality across the configured models:
the leading components of the concatenated leading components of every layer of the
streams that make up that modality (e.g. ``image``: CLIP image, METER image, ViT), each
layer's block weighted equally. Every space is scaled so that its columns have mean
variance 1 (relative component variances kept: ridge on the scores is ridge on the layer's
ANs restricted to their leading span), which keeps the bands of a banded ridge on one scale.
"""

from __future__ import annotations

import numpy as np

__all__ = ["feature_key", "feature_layers", "layer_components", "reference_components", "reference_key"]


def feature_key(model, stream, layer):
    """Key of a layer's feature space in ``features.npz``: ``{model}.{stream}.layer-LL``."""
    return f"{model}.{stream}.layer-{int(layer):02d}"


def feature_layers(keys, model):
    """``(stream, layer)`` of every feature space of ``model`` among ``keys`` (sorted)."""
    out = []
    for key in keys:
        parts = key.split(".")
        if len(parts) == 3 and parts[0] == model and parts[2].startswith("layer-"):
            out.append((parts[1], int(parts[2][len("layer-"):])))
    return sorted(out)


def reference_key(name):
    """Key of a modality reference in ``features.npz``: ``reference.{name}``."""
    return f"reference.{name}"


def _scaled_scores(X, n_components):
    X = np.asarray(X, np.float64)
    if X.ndim != 2:
        raise ValueError(f"expected a T x N array, got shape {X.shape}")
    k = int(min(n_components, X.shape[0] - 1, X.shape[1]))
    if k < 1:
        raise ValueError(f"cannot take {n_components} components of a {X.shape} array")
    # imported here: the per-subject jobs read this module's keys, not its PCA (1 s to import)
    from sklearn.decomposition import PCA

    pca = PCA(n_components=k, svd_solver="full")
    scores = pca.fit_transform(X)
    total = float(pca.explained_variance_.sum())
    if total <= 0:
        raise ValueError("the series do not vary: no components to take")
    scores /= np.sqrt(total / k)  # mean column variance 1
    return scores.astype(np.float32), pca.explained_variance_ratio_.astype(np.float32)


def layer_components(X, n_components):
    """Leading principal component scores of one layer's regressors.

    Parameters
    ----------
    X : ndarray (T, N)
        The layer's HRF-convolved, z-scored AN series.
    n_components : int
        Components kept (fewer when the layer has fewer ANs or time points).

    Returns
    -------
    scores : ndarray (T, k) float32
        Scaled so that the columns have mean variance 1.
    explained : ndarray (k,) float32
        Fraction of the layer's variance each component holds.
    """
    return _scaled_scores(X, n_components)


def reference_components(blocks, n_components):
    """Leading components of several layers' leading components (a modality reference).

    Parameters
    ----------
    blocks : list of ndarray (T, k_l)
        Each layer's leading component scores (as :func:`layer_components` gives them).
    n_components : int
        Components of the reference.

    Returns
    -------
    scores : ndarray (T, k) float32
    explained : ndarray (k,) float32
        Fraction of the concatenated blocks' variance each component holds.
    """
    if not blocks:
        raise ValueError("a reference needs at least one layer")
    weighted = []
    for b in blocks:
        b = np.asarray(b, np.float64)
        weighted.append(b / np.sqrt(max(float(b.var(0).sum()), 1e-12)))  # each layer weighs 1
    return _scaled_scores(np.hstack(weighted), n_components)
