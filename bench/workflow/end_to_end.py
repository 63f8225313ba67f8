"""A finished run's cost per rule, read from its ``benchmark:`` files.

Every rule writes ``results/benchmarks/{name}.tsv`` (Snakemake's ``benchmark:``: seconds,
peak RSS, CPU time of the job). The rule of each file is found by matching its path against
the ``benchmark_path("...")`` patterns of ``workflow/rules/*.smk``. The run's total job time
over its cores bounds its wall time from below; the span of the files' modification times
(each written when its job ends) estimates the wall time of a run made in one go.

Snakemake's extended benchmark format (``benchmark-extended``, set in the workflow profile
``profiles/default``) also records each job's input files. Their largest array (read from
the run's files in ``--run-dir``: headers of ``.npy``, ``.npz`` and NIfTI/CIFTI, the size of
other files; a subject's BOLD runs together, as the jobs concatenate them; the recorded size
of a ``temp()`` input already removed) judges the memory target: a job's peak beyond the
interpreter and libraries (:data:`vlmbrain.memory.BASELINE_MB`) at most twice its largest
input array.

    .venv/bin/python bench/workflow/end_to_end.py results/benchmarks [--cores 2] [--run-dir .]
"""

from __future__ import annotations

import argparse
import ast
import re
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]


def benchmark_patterns(rules_dir=ROOT / "workflow/rules"):
    """``{regex: rule}`` from the ``benchmark_path("...")`` of each rule in the ``.smk`` files."""
    patterns = {}
    for smk in sorted(Path(rules_dir).glob("*.smk")):
        rule = None
        for line in smk.read_text().splitlines():
            if m := re.match(r"\s*rule (\w+):", line):
                rule = m[1]
            elif (m := re.search(r'benchmark_path\(f?"([^"]+)"\)', line)) and rule:
                parts = re.split(r"\{(\w+)\}", m[1])
                regex = "".join(re.escape(p) if i % 2 == 0 else "[^/]+?" for i, p in enumerate(parts))
                patterns[re.compile(regex + r"\.tsv")] = rule
    return patterns


def array_mb(path):
    """The largest array of an input file or folder in MB, from headers where it has them.

    ``.npz``: its largest member (uncompressed); ``.npy``: its data; NIfTI and CIFTI: the
    image as float32 (as the jobs load it); a folder: its largest such array; any other
    file (tables, videos, checkpoints): its size. 0 for a path that does not exist.
    """
    import numpy as np

    from vlmbrain.resources import bold_mb, largest_array_mb

    path = Path(path)
    if path.is_dir():
        return max([array_mb(p) for p in path.rglob("*") if p.is_file()] or [0.0])
    if not path.exists():
        return 0.0
    if path.suffix == ".npz":
        return largest_array_mb(path)
    if path.suffix == ".npy":
        return np.load(path, mmap_mode="r").nbytes / 2**20
    if path.name.endswith((".nii", ".nii.gz")):
        return bold_mb(path)
    return path.stat().st_size / 2**20


def held_input_mb(inputs, run_dir, per_subject=False):
    """The largest input array a job holds, in MB, from its recorded inputs.

    ``inputs`` maps each input path (relative to ``run_dir``) to its size in MB as
    Snakemake recorded it. In a job of one subject (``per_subject``: it has a ``subject``
    wildcard) the BOLD images (NIfTI, CIFTI) count together: every such rule concatenates
    the subject's runs (:func:`vlmbrain.fmri.bold.load_subject_bold`); other jobs read
    images one at a time. An input that no longer exists (a ``temp()`` file, removed once
    read) counts with its recorded size.
    """
    images, sizes = 0.0, [0.0]
    for name, recorded in inputs.items():
        path = Path(run_dir) / name
        size = array_mb(path) if path.exists() else float(recorded or 0.0)
        sizes.append(size)
        if name.endswith((".nii", ".nii.gz")):
            images += size
    return max(images if per_subject else 0.0, *sizes)


def read_benchmarks(folder, run_dir=None):
    """One row per job: ``rule``, ``file``, ``s``, ``max_rss`` (MB), ``cpu_time``, ``end``
    (mtime) and, where the file has the extended format and ``run_dir`` (the folder
    Snakemake ran in) is given, ``largest_input_mb`` (:func:`held_input_mb`; NaN
    otherwise)."""
    folder = Path(folder)
    patterns = benchmark_patterns()
    records = []
    for path in sorted(folder.rglob("*.tsv")):
        name = path.relative_to(folder).as_posix()
        rule = next((r for p, r in patterns.items() if p.fullmatch(name)), "unknown")
        table = pd.read_csv(path, sep="\t")
        last = table.iloc[-1]
        largest = float("nan")
        if run_dir is not None and isinstance(last.get("input_size_mb"), str):
            wildcards = ast.literal_eval(str(last.get("wildcards", "{}")) or "{}")
            largest = held_input_mb(ast.literal_eval(last["input_size_mb"]), run_dir,
                                    per_subject="subject" in wildcards)
        records.append({"rule": rule, "file": name, "s": float(last["s"]),
                        "max_rss": pd.to_numeric(last["max_rss"], errors="coerce"),
                        "cpu_time": pd.to_numeric(last.get("cpu_time"), errors="coerce"),
                        "end": path.stat().st_mtime, "largest_input_mb": largest})
    return pd.DataFrame(records)


def memory_ratio(jobs):
    """Per job, its peak beyond :data:`vlmbrain.memory.BASELINE_MB` over its largest input
    array (NaN where that is unknown)."""
    from vlmbrain.memory import BASELINE_MB

    beyond = (jobs["max_rss"] - BASELINE_MB).clip(lower=0)
    return beyond / jobs["largest_input_mb"].where(jobs["largest_input_mb"] > 0)


def per_rule(jobs):
    """Jobs, total / median / max seconds, CPU seconds and peak RSS (MB) per rule, costliest first.

    On a loaded machine a job's wall seconds grow with the load, its CPU seconds much less:
    ``cpu_s`` is the better measure of its work.
    """
    jobs = jobs.assign(memory_ratio=memory_ratio(jobs))
    return (jobs.groupby("rule")
            .agg(jobs=("s", "size"), total_s=("s", "sum"), median_s=("s", "median"), max_s=("s", "max"),
                 cpu_s=("cpu_time", "sum"), peak_mb=("max_rss", "max"),
                 largest_input_mb=("largest_input_mb", "max"), memory_ratio=("memory_ratio", "max"))
            .sort_values("total_s", ascending=False))


def summary(jobs, cores=2):
    """Total job seconds, the wall-time lower bound on ``cores`` and the span of the files."""
    total = float(jobs["s"].sum())
    span = float(jobs["end"].max() - (jobs["end"] - jobs["s"]).min())
    return {"jobs": len(jobs), "job_seconds": total, "cpu_seconds": float(jobs["cpu_time"].sum()),
            "cores": cores, "wall_lower_bound_s": total / cores, "mtime_span_s": span}


def rows(fast, benchmarks=None, cores=2, run_dir=None):
    """The table's end-to-end line (the 10-minute target) and one line per rule (the
    memory target, where the inputs were recorded and ``run_dir`` is given)."""
    from bench.table import Row, skipped

    if benchmarks is None or not Path(benchmarks).is_dir():
        reason = "no benchmark folder given (--benchmarks)" if benchmarks is None else f"{benchmarks} not found"
        return [skipped("end_to_end", "default run, from its benchmark files", reason, "<= 600 s on 2 cores")]
    jobs = read_benchmarks(benchmarks, run_dir)
    s = summary(jobs, cores)
    out = [Row("end_to_end", f"job time / {cores} cores (wall lower bound)", s["wall_lower_bound_s"],
               target=f"<= 600 s on {cores} cores", met=s["wall_lower_bound_s"] <= 600,
               size=f"{s['jobs']} jobs in {benchmarks}",
               note=f"{s['job_seconds'] / 60:.0f} job-minutes, {s['cpu_seconds'] / 60:.0f} CPU-minutes; "
                    f"files span {s['mtime_span_s'] / 60:.0f} min (the wall time if run in one go)", extra=s)]
    for rule, r in per_rule(jobs).iterrows():
        if pd.isna(r.memory_ratio):
            met, note = None, f"peak {r.peak_mb:.0f} MB (inputs not recorded or no --run-dir: target not evaluated)"
        else:
            met = bool(r.memory_ratio <= 2)
            note = (f"peak {r.peak_mb:.0f} MB; largest input array {r.largest_input_mb:.1f} MB; "
                    f"peak beyond the interpreter / largest input, worst job: {r.memory_ratio:.2f}")
        out.append(Row(f"rule:{rule}", f"{int(r.jobs)} jobs, total", float(r.total_s),
                       target="peak <= 2x largest input array", met=met,
                       size=f"median {r.median_s:.1f} s, max {r.max_s:.1f} s", note=note,
                       extra={k: float(v) for k, v in r.items()}))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("benchmarks", type=Path)
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--run-dir", type=Path, help="the folder Snakemake ran in (for the inputs' sizes)")
    args = ap.parse_args()
    jobs = read_benchmarks(args.benchmarks, args.run_dir)
    print(per_rule(jobs).round(2).to_string())
    print(summary(jobs, args.cores))


if __name__ == "__main__":
    main()
