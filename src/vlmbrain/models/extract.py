"""Extract artificial-neuron time series for every TR of a movie, and read them back.

Output (docs/design.md, "Activations"), one folder per model::

    manifest.json
    {stream}/layer-{LL}.npy   T_all x N float32, rest rows zero, column = head * dim + d
    {stream}/ans.tsv          stream, layer, head, dim, column

The folder is written under a temporary name and moved into place when complete.
"""

from __future__ import annotations

import hashlib
import logging
import platform
from itertools import islice
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from vlmbrain.io import atomic_path, write_json, write_tsv
from vlmbrain.models.base import IMAGE, JOINT, TEXT
from vlmbrain.models.capture import ANCapture
from vlmbrain.models.files import MANIFEST, layer_path

log = logging.getLogger("vlmbrain")

def an_table(stream, info):
    """AN ids of one stream: ``stream, layer, head, dim, column`` for every layer."""
    heads, dims = np.divmod(np.arange(info.n_ans), info.head_dim)
    frames = [
        pd.DataFrame(
            {"stream": stream, "layer": layer, "head": heads, "dim": dims, "column": np.arange(info.n_ans)}
        )
        for layer in range(info.n_layers)
    ]
    return pd.concat(frames, ignore_index=True)


def stimulus_sha256(paths):
    """SHA-256 of the stimulus tables, in run order (content only)."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()


def _batches(iterable, size):
    it = iter(iterable)
    while chunk := list(islice(it, size)):
        yield chunk


def _store(arrays, pooled, rows, seen):
    for key, values in pooled.items():
        arrays[key][rows] = values.cpu().numpy()
        seen.add(key)


def extract_activations(
    model,
    table,
    frames,
    out_dir,
    *,
    tensor="context",
    pooling="mean",
    fusion_attention="cross",
    batch_size=16,
    manifest_extra=None,
):
    """Capture every stream and layer of ``model`` for every TR of ``table``.

    Parameters
    ----------
    model : ANModel
        Built model (on its device).
    table : DataFrame
        Stimulus tables of all runs, concatenated in run order (``condition``, ``caption``).
    frames : iterable of ndarray
        One RGB frame per row of ``table`` (rest rows included, ignored); consumed only
        when a stream needs images.
    out_dir : str or Path
        The model's activations folder (written atomically).
    tensor, pooling, fusion_attention : str
        AN settings (``an.*`` in the config).
    batch_size : int
        Stimuli per forward pass.
    manifest_extra : dict, optional
        Added to the manifest (settings, stimulus hash, ...).

    Returns
    -------
    dict
        The manifest.

    Notes
    -----
    Rest TRs are not run and stay zero. Streams that need only text run once per unique
    caption; image streams once per movie TR; joint streams (METER) once per movie TR with
    that TR's frame and caption, capturing all of the model's streams in the same pass.
    """
    movie = (table["condition"].to_numpy() == "movie")
    captions = table["caption"].fillna("").astype(str).to_numpy()
    n_trs = len(table)
    rows = np.flatnonzero(movie)
    kinds = set(model.inputs.values())
    sites = model.sites(fusion_attention)
    with atomic_path(out_dir, suffix="") as tmp:
        arrays, seen = {}, set()
        for stream, info in model.streams.items():
            (tmp / stream).mkdir(parents=True)
            for layer in range(info.n_layers):
                arrays[(stream, layer)] = np.lib.format.open_memmap(
                    layer_path(tmp, stream, layer), mode="w+", dtype=np.float32, shape=(n_trs, info.n_ans)
                )
            write_tsv(tmp / stream / "ans.tsv", an_table(stream, info))
        with torch.inference_mode(), ANCapture(sites, tensor, pooling) as capture:
            if kinds & {IMAGE, JOINT}:
                movie_frames = (f for f, m in zip(frames, movie) if m)
                n_batches = -(-len(rows) // batch_size)
                desc = f"{model.key}: {'frames+captions' if JOINT in kinds else 'frames'}"
                for i, batch in enumerate(tqdm(_batches(movie_frames, batch_size), total=n_batches, desc=desc)):
                    idx = rows[i * batch_size : i * batch_size + len(batch)]
                    texts = list(captions[idx]) if JOINT in kinds else None
                    model.run(images=batch, texts=texts, capture=capture)
                    _store(arrays, capture.pop(), idx, seen)
            if TEXT in kinds:
                unique, inverse = np.unique(captions[rows], return_inverse=True)
                per_caption = {}
                n_batches = -(-len(unique) // batch_size)
                for batch in tqdm(
                    _batches(range(len(unique)), batch_size), total=n_batches, desc=f"{model.key}: captions"
                ):
                    model.run(texts=list(unique[batch]), capture=capture)
                    for key, values in capture.pop().items():
                        per_caption.setdefault(key, []).append(values.cpu().numpy())
                for key, chunks in per_caption.items():
                    arrays[key][rows] = np.concatenate(chunks)[inverse]
                    seen.add(key)
        missing = sorted(set(arrays) - seen)
        if len(rows) and missing:
            raise RuntimeError(f"{model.key}: no activations captured for {missing}")
        for array in arrays.values():
            array.flush()
        del arrays
        manifest = {
            "model": model.key,
            "family": model.family,
            "architecture": model.architecture,
            "weights": model.weights,
            "random_weights": model.random_weights,
            "an": {"tensor": tensor, "pooling": pooling, "fusion_attention": fusion_attention},
            "tokenizer": model.tokenizer,
            "streams": model.stream_manifest(),
            "n_trs": int(n_trs),
            "n_movie_trs": int(movie.sum()),
            "runs": list(dict.fromkeys(table["run"].astype(str))) if "run" in table else [],
            "torch": torch.__version__,
            "python": platform.python_version(),
            **(manifest_extra or {}),
        }
        write_json(tmp / MANIFEST, manifest)
    return manifest
