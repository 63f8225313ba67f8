"""Where weights come from: pretrained tags, hub ids, local paths or seeded random init."""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import re
import zipfile
from pathlib import Path

import torch

from vlmbrain.config import WEIGHT_SUFFIXES


class WeightsNotFoundError(FileNotFoundError):
    """Weights (or a tokenizer vocabulary) that the config asks for are not available."""


class CheckpointError(ValueError):
    """A weights file that is refused (not readable as weights alone, or not the expected
    kind of checkpoint), with the file named in the message."""


SAFETENSORS_SUFFIX = ".safetensors"


def read_weights(path, mmap=False):
    """The content of a weights file, read without running any code stored in it.

    ``.safetensors`` files are read with safetensors (a flat mapping of tensors); any
    other file with ``torch.load(..., weights_only=True)``, which rebuilds tensors and
    plain containers only. A pickle that needs any other object (a class of the program
    that saved it, an optimizer, a callback) is refused, never loaded in full: unpickling
    it could run any code.

    Parameters
    ----------
    path : str or Path
    mmap : bool
        Map the tensors' storage instead of reading it (torch zip files; the keys and
        shapes are then cheap to read whatever the file's size).

    Raises
    ------
    CheckpointError
        Naming the file: unreadable, or holding objects besides tensors (with the global
        that was refused and how to re-save the weights alone).
    """
    path = Path(path)
    if path.suffix == SAFETENSORS_SUFFIX:
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            return load_file(str(path), device="cpu")
        except (SafetensorError, OSError, ValueError) as err:
            raise CheckpointError(f"{path}: not a readable safetensors file ({err}).") from err
    try:
        try:
            return torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)
        except RuntimeError as err:
            if not (mmap and "mmap" in str(err)):
                raise
            return torch.load(path, map_location="cpu", weights_only=True)  # legacy format
    except pickle.UnpicklingError as err:
        if "Weights only load failed" not in str(err) or "Unsupported operand" in str(err):
            raise CheckpointError(
                f"{path}: not a PyTorch checkpoint torch can read (not a pickle of tensors)."
            ) from err
        found = re.search(r"Unsupported global: GLOBAL (\S+)", str(err))
        needs = f" (the first needs {found.group(1)})" if found else ""
        raise CheckpointError(
            f"{path}: holds pickled Python objects besides tensors{needs} and is not "
            "loaded: unpickling them could "
            "run any code stored in the file (weights are read with torch.load(weights_only="
            "True), never in full). Save its weights alone, once, where you trust the file: "
            f"torch.save({{'state_dict': torch.load('{path}', weights_only=False)"
            "['state_dict']}, 'weights.ckpt') (or safetensors.torch.save_file to a "
            ".safetensors file), and point the config at the new file."
        ) from err
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError) as err:
        reason = _first_line(err) or "the file is empty or cut short"
        raise CheckpointError(f"{path}: not a PyTorch checkpoint torch can read ({reason}).") from err


def _first_line(err):
    lines = str(err).strip().splitlines()
    return lines[0] if lines else ""


def tensor_shapes(state):
    """``{key: shape}`` of a mapping's tensor values (None when some value is not a
    tensor)."""
    if not all(isinstance(v, torch.Tensor) for v in state.values()):
        return None
    return {str(k): tuple(v.shape) for k, v in state.items()}


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
