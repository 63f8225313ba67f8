"""Which (model, stream, layer) are configured, and readers of the files the findings use."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from vlmbrain.io import layer_name
from vlmbrain.models.files import load_activations

UNIMODAL_FAMILIES = ("hf_vit", "hf_roberta", "hf_bert")
STREAM_ORDER = ("image", "text", "fusion_image", "fusion_text")


def layer_index(manifests):
    """Every configured (model, stream, layer), in model, stream and depth order.

    Parameters
    ----------
    manifests : dict
        ``{model: manifest}`` as read by :func:`vlmbrain.models.files.load_activations`, in config order.

    Returns
    -------
    DataFrame
        Columns ``model, stream, layer, n_layers, depth`` (depth = layer / (n_layers - 1),
        0 for single-layer streams) and ``unimodal`` (ViT, RoBERTa and BERT families).
    """
    rows = []
    for model, manifest in manifests.items():
        unimodal = manifest.get("family") in UNIMODAL_FAMILIES
        streams = sorted(
            manifest["streams"],
            key=lambda s: (STREAM_ORDER.index(s) if s in STREAM_ORDER else len(STREAM_ORDER), s),
        )
        for stream in streams:
            n_layers = int(manifest["streams"][stream]["n_layers"])
            for layer in range(n_layers):
                depth = layer / (n_layers - 1) if n_layers > 1 else 0.0
                rows.append((model, stream, layer, n_layers, depth, unimodal))
    return pd.DataFrame(
        rows, columns=["model", "stream", "layer", "n_layers", "depth", "unimodal"]
    )


def layer_file(folders, model, stream, layer, suffix=".npz"):
    """Path ``{folders[model]}/{stream}/layer-{LL}{suffix}`` of a model's layer files.

    ``folders`` maps each model to its folder (``results/group/{model}``,
    ``results/atoms/{model}``, ...).
    """
    return Path(folders[model]) / stream / f"{layer_name(layer)}{suffix}"


def load_group_layer(path, n_grayordinates=None):
    """Read one group-level file (``results/group/{model}/{stream}/layer-{LL}.npz``).

    Parameters
    ----------
    path : str or Path
    n_grayordinates : int, optional
        Expected V (that of the network template); checked when given.

    Returns
    -------
    dict
        ``activated``, ``deactivated`` (K x V bool), ``mean_r`` (V float32) and ``q``
        (K x V, when present).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: group-level file missing; run the `group` rule for this model"
        )
    with np.load(path) as data:
        missing = {"activated", "deactivated", "mean_r"} - set(data.files)
        if missing:
            raise ValueError(
                f"{path}: missing arrays {sorted(missing)} (expected t, q, activated, "
                "deactivated, mean_r, n_subjects); rerun the `group` rule"
            )
        out = {
            "activated": data["activated"].astype(bool),
            "deactivated": data["deactivated"].astype(bool),
            "mean_r": data["mean_r"].astype(np.float32),
        }
    k, v = out["activated"].shape
    if out["deactivated"].shape != (k, v) or out["mean_r"].shape != (v,):
        raise ValueError(
            f"{path}: inconsistent shapes activated {out['activated'].shape}, deactivated "
            f"{out['deactivated'].shape}, mean_r {out['mean_r'].shape}; rerun the `group` rule"
        )
    if n_grayordinates is not None and v != n_grayordinates:
        raise ValueError(
            f"{path}: {v} grayordinates but the network template has {n_grayordinates}; "
            "the group maps and networks come from different spaces"
        )
    return out


def load_codes(path):
    """Read the sparse codes (K x N) of one layer from ``results/atoms/...npz``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: atoms file missing; run the `atoms` rule for this model")
    with np.load(path) as data:
        if "codes" not in data.files:
            raise ValueError(f"{path}: no `codes` array (K x N); rerun the `atoms` rule")
        return np.asarray(data["codes"], dtype=np.float32)
