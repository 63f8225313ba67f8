"""Extraction speed per model: frames/s, captions/s and hook overhead, side by side.

Usage::

    .venv/bin/python bench/extraction/bench_extraction.py [--config config/config.yaml]
        [--models clip meter vit roberta] [--n 32] [--batch-size 16] [--threads 2] [--repeats 2]

For each model of the config (full size, the configured weights) it times the same batches
of synthetic frames and captions twice: a plain forward pass, and the same pass with AN
capture hooks on every attention layer; overhead = capture / plain - 1 (target <= 10%).
"""

from __future__ import annotations

import argparse
import time

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
    torch.set_num_threads(args.threads)
    an = {"tensor": "context", "pooling": "mean", "fusion_attention": "cross", **config.get("an", {})}
    ex = config.get("extraction", {})
    frames, texts = _inputs(args.n)
    print(f"torch {torch.__version__}, {args.threads} threads, {args.n} stimuli, batch {args.batch_size}")
    header = f"{'model':10s} {'input':8s} {'plain/s':>9s} {'capture/s':>10s} {'overhead':>9s}"
    print(header)
    print("-" * len(header))
    for key in args.models or list(config["models"]):
        model = build_model(key, config["models"][key], seed=ex.get("seed", 0), cache_dir=ex.get("cache_dir"))
        sites = model.sites(an["fusion_attention"])
        for kind in sorted(set(model.inputs.values())):
            _time(model, frames[:2], texts[:2], kind, 2, sites, an)  # warm-up
            plain, capture = float("inf"), float("inf")
            for _ in range(args.repeats):  # interleaved, best of each: robust to machine load
                plain = min(plain, _time(model, frames, texts, kind, args.batch_size, None, an))
                capture = min(capture, _time(model, frames, texts, kind, args.batch_size, sites, an))
            label = {IMAGE: "frames", TEXT: "captions", JOINT: "frame+caption"}[kind]
            print(
                f"{key:10s} {label:8s} {args.n / plain:9.2f} {args.n / capture:10.2f} "
                f"{100 * (capture / plain - 1):8.1f}%",
                flush=True,
            )


if __name__ == "__main__":
    main()
