"""Peak memory of the neurons jobs on a mid-size case, from their Snakemake benchmark files.

Builds a workspace (``tests/neurons_workspace.py``) with S subjects of real CIFTI BOLD (91,282
grayordinates) and N ANs per layer, runs the neurons rules with Snakemake and checks that
no job's peak memory (``max_rss`` of its ``benchmark:`` file) comes near the size of one
N x V x S float32 array: proof that none is ever allocated.

Usage: ``.venv/bin/python bench/neurons/memory.py [--subjects 12] [--heads 8] [--dir D]``
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
from neurons_workspace import make_workspace, run_workflow  # noqa: E402

V = 91282


def peak_memory(root):
    """``job, max_rss`` (MB) of every neurons job of a finished workspace."""
    rows = []
    for path in sorted((Path(root) / "results" / "benchmarks" / "neurons").glob("*.tsv")):
        bench = pd.read_csv(path, sep="\t")
        rows.append(
            {
                "job": path.stem,
                "s": float(bench["s"].iloc[-1]),
                "max_rss_mb": float(bench["max_rss"].iloc[-1]),
            }
        )
    return pd.DataFrame(rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=12)
    parser.add_argument("--heads", type=int, default=8)
    parser.add_argument("--head-dim", type=int, default=64)
    parser.add_argument("--movie-trs", type=int, default=150)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--dir", default="/tmp/vlmbrain_neurons_memory")
    args = parser.parse_args(argv)
    root = Path(args.dir)
    shutil.rmtree(root, ignore_errors=True)
    t0 = time.time()
    make_workspace(
        root,
        n_subjects=args.subjects,
        n_runs=args.runs,
        movie_trs=args.movie_trs,
        n_layers=2,
        n_heads=args.heads,
        head_dim=args.head_dim,
    )
    print(f"workspace written in {time.time() - t0:.0f} s")
    done = run_workflow(root)
    if done.returncode:
        print(done.stderr[-5000:])
        raise SystemExit("the workflow failed")
    table = peak_memory(root)
    N = args.heads * args.head_dim
    full_mb = N * V * args.subjects * 4 / 1e6
    table["share_of_NxVxS"] = table["max_rss_mb"] / full_mb
    print(
        f"N = {N} ANs, V = {V}, S = {args.subjects} subjects, T = {args.runs * args.movie_trs}:"
        f" one N x V x S float32 array = {full_mb:.0f} MB"
    )
    print(table.to_string(index=False))
    worst = table["max_rss_mb"].max()
    assert worst < 0.5 * full_mb, f"a job peaked at {worst:.0f} MB >= half of N x V x S"
    print(f"OK: the largest job peak ({worst:.0f} MB) is {worst / full_mb:.0%} of N x V x S")
    return table


if __name__ == "__main__":
    main()
