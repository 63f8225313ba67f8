"""A small, complete input folder for the neurons rules, and a way to run them.

Used by the workflow test (``tests/test_neurons_workflow.py``, tiny) and by
``bench/neurons/memory.py`` (mid-size, job peak memory). It writes real CIFTI-2 BOLD files (91,282
grayordinates), stimulus tables, an activations manifest, regressors, atoms, networks and
a ground truth with one planted coupling (``image`` layer 1 -> vision, positive), then runs
the repository's ``common.smk`` + ``neurons.smk`` with a Snakefile of its own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

REPO = Path(__file__).resolve().parents[1]
PLANTED = [1, 6]
MAPPING = {"vision": ["Visual1", "Visual2"], "language": ["Language"], "default": ["Default"]}

SNAKEFILE = """
configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/neurons.smk"


rule all:
    input:
        final_outputs(stages=["neurons"]),
"""


def _ar1(rng, T, n, rho=0.4):
    e = rng.standard_normal((T, n)).astype(np.float32)
    for t in range(1, T):
        e[t] += rho * e[t - 1]
    return e


def make_workspace(
    root,
    n_subjects=2,
    n_runs=2,
    movie_trs=40,
    rest_trs=5,
    n_layers=2,
    n_heads=2,
    head_dim=4,
    grayordinate=True,
    seed=0,
):
    """Write the inputs of the neurons rules under ``root``; return ``root``."""
    from vlmbrain.fmri.cifti import write_dtseries
    from vlmbrain.io import save_npy, save_npz
    from vlmbrain.networks.templates import write_networks

    root = Path(root)
    rng = np.random.default_rng(seed)
    res = root / "results"
    root.mkdir(parents=True, exist_ok=True)
    for name in ("src", "workflow", "scripts", "envs"):
        link = root / name
        if not link.exists():
            link.symlink_to(REPO / name)
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config["simulation"].update(subjects=n_subjects, runs=n_runs, couplings=[])
    config["models"] = {"clip": config["models"]["clip"]}
    config["networks"]["mapping"] = MAPPING
    config["neurons"].update(grayordinate=grayordinate, n_shifts=20)
    (root / "config").mkdir(parents=True, exist_ok=True)
    (root / "config" / "config.yaml").write_text(yaml.safe_dump(config))
    (root / "Snakefile").write_text(SNAKEFILE)

    _, masks = write_networks(
        res / "networks" / "networks.npz",
        res / "networks" / "networks.dlabel.nii",
        "cole_anticevic",
        MAPPING,
    )
    n_trs = movie_trs + 2 * rest_trs
    runs = [f"run{i + 1}" for i in range(n_runs)]
    for folder in ("stimuli", "simulation"):
        (res / folder).mkdir(parents=True, exist_ok=True)
    for run in runs:
        tr = np.arange(n_trs)
        movie = (tr >= rest_trs) & (tr < rest_trs + movie_trs)
        pd.DataFrame(
            {
                "run": run,
                "tr": tr,
                "onset": tr * 1.0,
                "condition": np.where(movie, "movie", "rest"),
                "clip": np.where(movie, "c1", ""),
                "validation": False,
                "frame_source": "",
                "frame_time": np.nan,
                "caption": np.where(movie, "a photo", ""),
            }
        ).to_csv(res / "stimuli" / f"{run}.tsv", sep="\t", index=False)
    T = movie_trs * n_runs
    N = n_heads * head_dim
    act = res / "activations" / "clip"
    act.mkdir(parents=True, exist_ok=True)
    (act / "manifest.json").write_text(
        json.dumps(
            {"streams": {"image": {"n_layers": n_layers, "n_heads": n_heads, "head_dim": head_dim}}}
        )
    )
    regs = []
    for layer in range(n_layers):
        X = _ar1(rng, T, N)
        X = (X - X.mean(0)) / X.std(0)
        regs.append(X)
        save_npy(res / "regressors" / "clip" / "image" / f"layer-{layer:02d}.npy", X)
        codes = np.zeros((4, N), np.float32)
        codes[layer % 4, : N // 2] = 1.0
        save_npz(res / "atoms" / "clip" / "image" / f"layer-{layer:02d}.npz", codes=codes)
    mixture = regs[min(1, n_layers - 1)][:, PLANTED].mean(1)
    pd.DataFrame(
        [
            {
                "model": "clip",
                "stream": "image",
                "layer": min(1, n_layers - 1),
                "network": "vision",
                "sign": 1,
                "strength": 1.0,
                "n_grayordinates": int(masks[0].sum()),
                "ans": ",".join(map(str, PLANTED)),
            }
        ]
    ).to_csv(res / "simulation" / "ground_truth.tsv", sep="\t", index=False)
    V = masks.shape[1]
    for s in range(n_subjects):
        for i, run in enumerate(runs):
            data = _ar1(rng, n_trs, V)
            rows = slice(rest_trs, rest_trs + movie_trs)
            data[rows][:, masks[0]] += mixture[i * movie_trs : (i + 1) * movie_trs, None]
            write_dtseries(
                res / "simulation" / "bold" / f"sub-sim{s + 1:02d}" / f"{run}.dtseries.nii",
                data,
                tr=1.0,
            )
    return root


def run_workflow(root, targets=("all",), cores=2):
    """Run Snakemake in ``root`` (the workspace); return the completed process."""
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    cmd = [sys.executable, "-m", "snakemake", "--cores", str(cores), "--quiet", "rules", *targets]
    return subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True)
