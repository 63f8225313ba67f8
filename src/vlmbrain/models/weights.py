"""Where weights come from: pretrained tags, hub ids, local paths or seeded random init."""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path

import torch

from vlmbrain.config import WEIGHT_SUFFIXES


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


def path_weights(path, kind="path", tag=None, revision=None):
    """Manifest entry of weights read from a local file or folder.

    Parameters
    ----------
    path : str or Path
        The checkpoint file, or the folder holding the weight files (a transformers
        folder or a hub cache snapshot).
    kind : {"path", "pretrained", "hub"}
        How the config named them: a local path, an open_clip pretrained tag or a hub id.
    tag : str, optional
        The pretrained tag or hub id.
    revision : str, optional
        The hub snapshot (commit) the files were read from.

    Returns
    -------
    dict
        ``kind``, ``path``, ``files`` (every weight file with its ``sha256``: of a folder,
        its safetensors files if it has any, else its other weight files; symbolic links,
        as in a hub cache, are followed) and ``sha256`` (of the file, or of all
        files in order, name and content), with ``tag`` and ``revision`` when given.
    """
    path = Path(path)
    files = [path] if path.is_file() else sorted(
        p for p in path.rglob("*") if p.suffix in WEIGHT_SUFFIXES and p.is_file()
    )
    if any(f.suffix == ".safetensors" for f in files):  # what transformers reads when both are there
        files = [f for f in files if f.suffix == ".safetensors"]
    entry = {"kind": kind, "path": str(path)}
    if tag is not None:
        entry["tag"] = tag
    if revision is not None:
        entry["revision"] = revision
    entry["files"] = [{"file": str(f), "sha256": sha256_file(f)} for f in files]
    if files:
        entry["sha256"] = entry["files"][0]["sha256"] if len(files) == 1 else sha256_files(files)
    return entry


def checked_keys(key, source, missing=(), unexpected=(), mismatched=(), ignorable=()):
    """Refuse a checkpoint that does not fill the model exactly.

    Parameters
    ----------
    key : str
        Config key of the model.
    source : str
        The checkpoint file or folder (named in the error).
    missing, unexpected, mismatched : iterable of str
        Keys the model has and the checkpoint lacks, keys the checkpoint has and the model
        lacks, keys whose shapes differ.
    ignorable : tuple of str
        Prefixes of unexpected keys that are heads the extraction does not use (a
        pooler, a masked-language-model head): those are returned, not refused.

    Returns
    -------
    list of str
        The unexpected keys that were ignored, sorted.

    Raises
    ------
    ValueError
        Naming the model, the checkpoint and every missing, unexpected or mismatched key.
    """
    unexpected = sorted(unexpected)
    ignored = [k for k in unexpected if k.startswith(tuple(ignorable))]
    refused = [k for k in unexpected if k not in set(ignored)]
    lines = []
    for title, keys in (("missing", sorted(missing)), ("unexpected", refused),
                        ("shape mismatch", sorted(map(str, mismatched)))):
        if keys:
            lines.append(f"{len(keys)} {title} key(s):\n  " + "\n  ".join(keys))
    if lines:
        raise ValueError(
            f"models.{key}: the weights in {source} do not match the model's architecture "
            "(a checkpoint of another architecture or size, or a truncated file):\n"
            + "\n".join(lines)
        )
    return ignored


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
