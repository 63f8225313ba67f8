"""Light helpers for the workflow (importable without torch)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from vlmbrain.io import layer_name, read_json


def local_weight_files(model_cfg):
    """Local files or folders holding a model's weights (METER checkpoint, open_clip
    checkpoint path, transformers folder), so that replacing them reruns extraction."""
    candidates = [model_cfg.get("checkpoint"), model_cfg.get("pretrained")]
    if model_cfg.get("pretrained") is True:
        candidates.append(model_cfg.get("name"))
    return [str(p) for p in candidates if isinstance(p, str) and os.path.exists(p)]


# Reading an activations folder (no torch needed: encoding jobs use these too).
MANIFEST = "manifest.json"


def layer_path(folder, stream, layer):
    """Path of one layer's array."""
    return Path(folder) / stream / f"{layer_name(layer)}.npy"


def load_activations(folder):
    """Read and check an activations folder's manifest.

    Returns
    -------
    dict
        The manifest (``streams``, ``n_trs``, ``weights``, ...); layers are read with
        :func:`load_layer`, which names any missing layer file.

    Raises
    ------
    FileNotFoundError, ValueError
        Naming the folder, when it has no manifest, the manifest lists no streams or a
        stream has no layers.
    """
    folder = Path(folder)
    path = folder / MANIFEST
    if not path.exists():
        raise FileNotFoundError(f"{path}: activations manifest not found; rerun the activations rule for this model.")
    manifest = read_json(path)
    if not isinstance(manifest.get("streams"), dict) or not manifest["streams"]:
        raise ValueError(f"{path}: no `streams` mapping; rerun the activations rule.")
    for stream, info in manifest["streams"].items():
        if int(info.get("n_layers", 0)) < 1:
            raise ValueError(f"{path}: stream {stream!r} has no `n_layers` >= 1; rerun the activations rule.")
    return manifest


def load_layer(folder, stream, layer):
    """One layer's T_all x N AN array, memory-mapped (read-only)."""
    path = layer_path(folder, stream, layer)
    if not path.exists():
        raise FileNotFoundError(
            f"{path} not found: {Path(folder).name} has no stream {stream!r} layer {layer} "
            f"(see {Path(folder) / MANIFEST})."
        )
    return np.load(path, mmap_mode="r")
