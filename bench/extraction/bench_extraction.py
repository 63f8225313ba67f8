"""Extraction speed per model: frames/s, captions/s and hook overhead, side by side.

Usage::

    .venv/bin/python bench/extraction/bench_extraction.py [--config config/config.yaml]
        [--models clip meter vit roberta] [--n 32] [--batch-size 16] [--threads 2] [--repeats 2]

For each model of the config (full size, the configured weights) it times the same batches
of synthetic frames and captions twice: a plain forward pass, and the same pass with AN
capture hooks on every attention layer; overhead = capture / plain - 1 (target <= 10%).
``python -m bench`` runs :func:`rows` as part of the whole table.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
import yaml

from vlmbrain.models.base import IMAGE, JOINT, TEXT
from vlmbrain.models.capture import ANCapture
from vlmbrain.models.registry import build_model


def _inputs(n, seed=0):
    rng = np.random.default_rng(seed)
    frames = [rng.integers(0, 255, (256, 256, 3), dtype=np.uint8) for _ in range(n)]
    words = "a dog cat car man woman walks runs on the red green street park at night".split()
    texts = [" ".join(rng.choice(words, size=rng.integers(4, 12))) for _ in range(n)]
    return frames, texts


def _time(model, frames, texts, kind, batch, capture_sites, an):
    """Seconds for one pass over the inputs, best of the repeats handled by the caller."""
    start = time.perf_counter()
    with torch.inference_mode():
        cap = ANCapture(capture_sites, an["tensor"], an["pooling"]) if capture_sites else None
        if cap:
            cap.__enter__()
        try:
            for i in range(0, len(frames), batch):
                f, t = frames[i : i + batch], texts[i : i + batch]
                if kind == JOINT:
                    model.run(images=f, texts=t, capture=cap)
                elif kind == IMAGE:
                    model.run(images=f, capture=cap)
                else:
                    model.run(texts=t, capture=cap)
                if cap:
                    cap.pop()
        finally:
            if cap:
                cap.__exit__(None, None, None)
    return time.perf_counter() - start


def measure(config, models=None, n=32, batch_size=16, threads=2, repeats=2):
    """Time plain forward passes and extraction with AN capture for each model and input kind.

    Parameters
    ----------
    config : dict
        A workflow config (its ``models``, ``an`` and ``extraction`` sections).
    models : list of str, optional
        Model keys (default: all of the config's).

    Returns
    -------
    list of dict
        One per (model, input kind): ``model``, ``input``, ``n``, ``plain_s``, ``capture_s``
        (best of the repeats, interleaved so that machine load hits both alike).
    """
    torch.set_num_threads(threads)
    an = {"tensor": "context", "pooling": "mean", "fusion_attention": "cross", **config.get("an", {})}
    ex = config.get("extraction", {})
    frames, texts = _inputs(n)
    out = []
    for key in models or list(config["models"]):
        model = build_model(key, config["models"][key], seed=ex.get("seed", 0), cache_dir=ex.get("cache_dir"))
        sites = model.sites(an["fusion_attention"])
        for kind in sorted(set(model.inputs.values())):
            _time(model, frames[:2], texts[:2], kind, 2, sites, an)  # warm-up
            plain, capture = float("inf"), float("inf")
            for _ in range(repeats):
                plain = min(plain, _time(model, frames, texts, kind, batch_size, None, an))
                capture = min(capture, _time(model, frames, texts, kind, batch_size, sites, an))
            label = {IMAGE: "frames", TEXT: "captions", JOINT: "frame+caption"}[kind]
            out.append({"model": key, "input": label, "n": n, "plain_s": plain, "capture_s": capture})
    return out


def rows(fast):
    """The table's extraction lines: per model and input, capture against a plain forward pass.

    ``--fast`` uses the test suite's tiny models (same code, random weights, 32-pixel
    images); the full mode the default config's full-size models (random weights).
    """
    from bench.table import Row

    root = Path(__file__).resolve().parents[2]
    path = root / ("tests/config/tiny.yaml" if fast else "config/config.yaml")
    config = yaml.safe_load(path.read_text())
    if fast:
        full = yaml.safe_load((root / "config/config.yaml").read_text())
        config = {**full, "models": config["models"]}
    kw = dict(n=8, batch_size=4, repeats=2) if fast else {}
    out = []
    for m in measure(config, **kw):
        size = f"{m['n']} {m['input']}, {'tiny' if fast else 'full-size'} model, random weights"
        out.append(Row(
            f"extraction_{m['model']}_{m['input']}", "extraction with AN capture", m["capture_s"],
            "plain forward pass", m["plain_s"], "ratio <= 1.10", m["capture_s"] <= 1.1 * m["plain_s"], size,
            f"{m['n'] / m['capture_s']:.2f} {m['input']}/s with capture", m,
        ))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", default="config/config.yaml")
    parser.add_argument("--models", nargs="*")
    parser.add_argument("--n", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    config = yaml.safe_load(open(args.config))
    print(f"torch {torch.__version__}, {args.threads} threads, {args.n} stimuli, batch {args.batch_size}")
    header = f"{'model':10s} {'input':8s} {'plain/s':>9s} {'capture/s':>10s} {'overhead':>9s}"
    print(header)
    print("-" * len(header))
    for m in measure(config, args.models, args.n, args.batch_size, args.threads, args.repeats):
        print(
            f"{m['model']:10s} {m['input']:8s} {args.n / m['plain_s']:9.2f} {args.n / m['capture_s']:10.2f} "
            f"{100 * (m['capture_s'] / m['plain_s'] - 1):8.1f}%",
            flush=True,
        )


if __name__ == "__main__":
    main()
