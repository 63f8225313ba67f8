"""A finished run's cost per rule, read from its ``benchmark:`` files.

Every rule writes ``results/benchmarks/{name}.tsv`` (Snakemake's ``benchmark:``: seconds,
peak RSS, CPU time of the job). The rule of each file is found by matching its path against
the ``benchmark_path("...")`` patterns of ``workflow/rules/*.smk``. The run's total job time
over its cores bounds its wall time from below; the span of the files' modification times
(each written when its job ends) estimates the wall time of a run made in one go.

    .venv/bin/python bench/workflow/end_to_end.py results/benchmarks [--cores 2]
"""

from __future__ import annotations

import argparse
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


def read_benchmarks(folder):
    """One row per job: ``rule``, ``file``, ``s``, ``max_rss`` (MB), ``cpu_time``, ``end`` (mtime)."""
    folder = Path(folder)
    patterns = benchmark_patterns()
    records = []
    for path in sorted(folder.rglob("*.tsv")):
        name = path.relative_to(folder).as_posix()
        rule = next((r for p, r in patterns.items() if p.fullmatch(name)), "unknown")
        table = pd.read_csv(path, sep="\t")
        last = table.iloc[-1]
        records.append({"rule": rule, "file": name, "s": float(last["s"]),
                        "max_rss": pd.to_numeric(last["max_rss"], errors="coerce"),
                        "cpu_time": pd.to_numeric(last.get("cpu_time"), errors="coerce"),
                        "end": path.stat().st_mtime})
    return pd.DataFrame(records)


def per_rule(jobs):
    """Jobs, total / median / max seconds, CPU seconds and peak RSS (MB) per rule, costliest first.

    On a loaded machine a job's wall seconds grow with the load, its CPU seconds much less:
    ``cpu_s`` is the better measure of its work.
    """
    return (jobs.groupby("rule")
            .agg(jobs=("s", "size"), total_s=("s", "sum"), median_s=("s", "median"), max_s=("s", "max"),
                 cpu_s=("cpu_time", "sum"), peak_mb=("max_rss", "max"))
            .sort_values("total_s", ascending=False))


def summary(jobs, cores=2):
    """Total job seconds, the wall-time lower bound on ``cores`` and the span of the files."""
    total = float(jobs["s"].sum())
    span = float(jobs["end"].max() - (jobs["end"] - jobs["s"]).min())
    return {"jobs": len(jobs), "job_seconds": total, "cpu_seconds": float(jobs["cpu_time"].sum()),
            "cores": cores, "wall_lower_bound_s": total / cores, "mtime_span_s": span}


def rows(fast, benchmarks=None, cores=2):
    """The table's end-to-end line (the 10-minute target) and one line per rule."""
    from bench.table import Row, skipped

    if benchmarks is None or not Path(benchmarks).is_dir():
        reason = "no benchmark folder given (--benchmarks)" if benchmarks is None else f"{benchmarks} not found"
        return [skipped("end_to_end", "default run, from its benchmark files", reason, "<= 600 s on 2 cores")]
    jobs = read_benchmarks(benchmarks)
    s = summary(jobs, cores)
    out = [Row("end_to_end", f"job time / {cores} cores (wall lower bound)", s["wall_lower_bound_s"],
               target=f"<= 600 s on {cores} cores", met=s["wall_lower_bound_s"] <= 600,
               size=f"{s['jobs']} jobs in {benchmarks}",
               note=f"{s['job_seconds'] / 60:.0f} job-minutes, {s['cpu_seconds'] / 60:.0f} CPU-minutes; "
                    f"files span {s['mtime_span_s'] / 60:.0f} min (the wall time if run in one go)", extra=s)]
    for rule, r in per_rule(jobs).iterrows():
        out.append(Row(f"rule:{rule}", f"{int(r.jobs)} jobs, total", float(r.total_s),
                       target="peak <= 2x largest input array", size=f"median {r.median_s:.1f} s, max {r.max_s:.1f} s",
                       note=f"peak {r.peak_mb:.0f} MB (input sizes not recorded: target not evaluated)",
                       extra={k: float(v) for k, v in r.items()}))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("benchmarks", type=Path)
    ap.add_argument("--cores", type=int, default=2)
    args = ap.parse_args()
    jobs = read_benchmarks(args.benchmarks)
    print(per_rule(jobs).round(1).to_string())
    print(summary(jobs, args.cores))


if __name__ == "__main__":
    main()
