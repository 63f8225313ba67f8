"""Run every benchmark, print one table, write it as JSON and CSV with the machine.

Usage (from the repository root)::

    .venv/bin/python -m bench --fast                       # smoke mode: small sizes, about a minute
    .venv/bin/python -m bench                              # full mode: HCP scale, full-size models
    .venv/bin/python -m bench --benchmarks results/benchmarks --run-dir .   # with a finished run

Each line times this workflow and its reference in one process and gives their ratio and
the target; ``--only glm ridge`` runs the lines whose module or name starts so.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
import traceback
from pathlib import Path

from bench.table import Row, machine, text_table, write

# (module, keyword arguments of its rows() taken from the command line)
MODULES = [
    ("bench.encoding.glm_bench", ()),
    ("bench.encoding.ridge_bench", ()),
    ("bench.attribution.hcp_scale", ()),
    ("bench.encoding.hrf_bench", ()),
    ("bench.encoding.sdl_bench", ()),
    ("bench.extraction.bench_extraction", ()),
    ("bench.neurons.encode_layer", ()),
    ("bench.workflow.dag", ("run_dir", "run_config")),
    ("bench.workflow.end_to_end", ("benchmarks", "cores", "run_dir")),
    ("bench.workflow.floor", ("benchmarks", "cores")),
]


def run(fast, only=(), **options):
    """The rows of every selected module; a module that fails gives one row with its error."""
    rows = []
    for name, keys in MODULES:
        short = name.rsplit(".", 1)[1]
        if only and not any(short.startswith(o) for o in only):
            continue
        t0 = time.perf_counter()
        try:
            new = importlib.import_module(name).rows(fast, **{k: options[k] for k in keys})
        except Exception as exc:  # one failing line must not hide the others
            traceback.print_exc()
            new = [Row(short, "error", None, note=f"error: {type(exc).__name__}: {exc}"[:300])]
        print(f"[{time.perf_counter() - t0:6.1f} s] {short}: " + ", ".join(r.line for r in new), flush=True)
        rows += new
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    ap.add_argument("--fast", action="store_true", help="smoke mode: small sizes, tiny models")
    ap.add_argument("--only", nargs="*", default=(), help="module name prefixes (glm_bench, dag, ...)")
    ap.add_argument("--out", type=Path, default=Path("results/bench"), help="folder for bench.json, bench.csv")
    ap.add_argument("--benchmarks", type=Path, help="a finished run's results/benchmarks folder")
    ap.add_argument("--run-dir", type=Path, help="a finished run's folder, for the no-op rerun")
    ap.add_argument("--run-config", type=Path, nargs="*", default=(), help="the config files that run was given")
    ap.add_argument("--cores", type=int, default=2, help="cores the finished run had")
    args = ap.parse_args(argv)
    mode = "fast" if args.fast else "full"
    info = machine()
    print(f"bench ({mode}) on {info['host']}: {info['cpu_count']} CPUs, {info['device']}, load {info['load_average']}")
    rows = run(args.fast, args.only, run_dir=args.run_dir, run_config=args.run_config,
               benchmarks=args.benchmarks, cores=args.cores)
    print()
    if args.fast:
        print("--fast: small sizes and tiny models; the targets are for the full sizes, so met / missed "
              "here is only indicative")
    print(text_table(rows))
    js, cs = write(rows, info, args.out, mode)
    print(f"\nwrote {js} and {cs}")
    return 1 if any(r.note.startswith("error") for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
