"""Atomic file writing, small readers and writers shared by every stage."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd


@contextlib.contextmanager
def atomic_path(path, suffix=None):
    """Yield a temporary path next to ``path`` and move it into place on success.

    Parameters
    ----------
    path : str or Path
        Final destination (a file or a directory).
    suffix : str, optional
        Suffix of the temporary name, so that writers that infer the format from the
        extension (nibabel, numpy, av) see the right one. Defaults to the suffixes of
        ``path``.

    Notes
    -----
    Nothing is left at ``path`` if the body raises: the temporary file or folder is
    removed and the exception propagates.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = "".join(path.suffixes) if suffix is None else suffix
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=f".tmp{suffix}", dir=path.parent)
    os.close(fd)
    os.unlink(tmp)
    tmp = Path(tmp)
    try:
        yield tmp
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        os.replace(tmp, path)
    except BaseException:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp.exists():
            tmp.unlink()
        raise


def layer_name(layer):
    """File stem of one layer in every per-layer folder: ``layer-LL`` (two digits)."""
    return f"layer-{int(layer):02d}"


def save_npy(path, array):
    """Write one array to ``path`` (``.npy``) atomically."""
    with atomic_path(path) as tmp:
        np.save(tmp, array)


def save_npz(path, **arrays):
    """Write arrays to ``path`` (``.npz``, deflate-compressed) atomically.

    Float maps shrink by about a tenth; what the files hold beside them shrinks many
    times: boolean masks, counts, q-values tied at 1, NaN outside the data, penalties
    drawn from a short list. Writing costs about 0.1 s of CPU per 2 MB.
    """
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, **arrays)


# Largest finite float16 (65,504): above it a value would be stored as infinite.
FLOAT16_MAX = float(np.finfo(np.float16).max)


def half_precision(array):
    """``array`` as float16 for storage, or as float32 when a finite value would not fit.

    float16 keeps 11 significant bits: a rounding error of at most 2**-11 (0.05%) of each
    value (below 6.1e-5 in absolute value, at most 3e-8). Used only for maps that are
    displayed, or that enter statistics across subjects whose sampling spread dwarfs that
    error (docs/design.md, "Storage"); NaN stays NaN.

    Parameters
    ----------
    array : array_like of float

    Returns
    -------
    ndarray
        float16, or float32 when some finite value exceeds :data:`FLOAT16_MAX` in absolute
        value.
    """
    array = np.asarray(array)
    finite = np.abs(array[np.isfinite(array)])
    if finite.size and finite.max() > FLOAT16_MAX:
        return array.astype(np.float32)
    return array.astype(np.float16)


def write_tsv(path, frame):
    """Write a DataFrame as a tab-separated table atomically (no index)."""
    with atomic_path(path) as tmp:
        pd.DataFrame(frame).to_csv(tmp, sep="\t", index=False)


def read_tsv(path, **kwargs):
    """Read a tab-separated table, keeping empty strings as empty strings."""
    return pd.read_csv(path, sep="\t", keep_default_na=False, na_values=[""], **kwargs)


def write_json(path, obj):
    """Write ``obj`` as indented JSON atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, default=_json_default) + "\n")


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot write {type(obj).__name__} to JSON")


def read_json(path):
    """Read a JSON file."""
    return json.loads(Path(path).read_text())


def single(files):
    """The one path of an optional input (a list of zero or one path), or None."""
    files = list(files)
    if len(files) > 1:
        raise ValueError(f"expected at most one file, got {files}")
    return str(files[0]) if files else None


def setup_logging(log_path=None, name="vlmbrain"):
    """Log to ``log_path`` (the rule's ``log:`` file) and to stderr; return the logger.

    tqdm progress bars in the library write to stderr, which scripts redirect to the
    same log file, so that a job's log holds both.
    """
    logger = logging.getLogger(name)
    logger.setLevel(logging.INFO)
    logger.handlers.clear()
    logger.propagate = False
    if log_path:
        Path(log_path).parent.mkdir(parents=True, exist_ok=True)
        # tqdm and warnings write to sys.stderr: send them to the log as well.
        sys.stderr = open(log_path, "a", buffering=1)  # noqa: SIM115
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    return logger
