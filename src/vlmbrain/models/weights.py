"""Where weights come from: pretrained tags, hub ids, local paths or seeded random init."""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path

import torch


class WeightsNotFoundError(FileNotFoundError):
    """Weights (or a tokenizer vocabulary) that the config asks for are not available."""


def sha256_file(path, chunk=1 << 22):
    """SHA-256 hex digest of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def sha256_files(paths):
    """One SHA-256 over several files, in order (name and content of each)."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(Path(path).name.encode())
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()


def random_weights(seed):
    """Manifest entry of seeded random weights."""
    return {"kind": "random", "seed": int(seed), "description": f"random weights, seed {int(seed)}"}


def path_weights(path, kind="path", tag=None):
    """Manifest entry of weights read from a local file or folder (sha256 of its weight files)."""
    path = Path(path)
    files = [path] if path.is_file() else sorted(
        p for p in path.rglob("*") if p.suffix in {".safetensors", ".bin", ".pt", ".pth", ".ckpt"}
    )
    entry = {"kind": kind, "path": str(path)}
    if tag is not None:
        entry["tag"] = tag
    if files:
        entry["sha256"] = sha256_file(files[0]) if len(files) == 1 else sha256_files(files)
    return entry


@contextlib.contextmanager
def hub_environment(cache_dir=None, offline=True):
    """Set the Hugging Face cache and offline switches for the duration of a build."""
    keys = ["HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HUB_CACHE"]
    saved = {k: os.environ.get(k) for k in keys}
    try:
        if offline:
            os.environ["HF_HUB_OFFLINE"] = "1"
            os.environ["TRANSFORMERS_OFFLINE"] = "1"
        if cache_dir:
            os.environ["HF_HUB_CACHE"] = str(cache_dir)
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def seeded(seed):
    """Seed torch's generator (random initialisation is then reproducible)."""
    torch.manual_seed(int(seed))


def not_found(model_key, what, expected, how):
    """A :class:`WeightsNotFoundError` naming the model, the expected file and the fix."""
    return WeightsNotFoundError(
        f"models.{model_key}: {what} not found. Expected {expected}. {how} "
        f"Or set the model's weights to null/false to run with seeded random weights."
    )
