"""The HCP 7T cohort's cost on paper, from a finished default run's per-job CPU times.

Each job of the HCP 7T run (184 subjects, the four models, attribution on; job counts from
``snakemake -n``, :func:`bench.workflow.dag.cohort_dag`) is costed as the CPU seconds of
the same rule's jobs in the finished default run (median over its jobs, per model where
the rule has one; :mod:`bench.workflow.end_to_end`; a job's CPU seconds are the larger of
its recorded CPU and wall time, since Snakemake's sampling misses a job's last seconds)
times a scale factor ``r``:

- where the rule's kernel was timed at both sizes on this machine (``KERNELS``), ``r`` is
  the kernel's time at HCP scale over its time at the default run's size;
- otherwise ``r`` is the growth of the data the job reads (``DATA``): TRs (3,655 / 645),
  subjects (184 / 6), atoms per layer (64 / 8), METER's pixels ((288 / 224)^2).

Where ``r`` comes from a kernel, the job's other work (reading BOLD: grows with TRs) is
scaled by the kernel's ``r`` in the low estimate and by ``max(r, TRs)`` in the high one.
Core-hours are CPU hours (a 2-thread job's CPU time counts both threads); the wall time on
``cores`` cores is core-hours / cores (thousands of jobs keep every core busy), never
shorter than the critical path (the longest extraction, its atoms, one subject's longest
job, a group step, its maps and tables, each at its rule's threads).

    .venv/bin/python -m bench.workflow.cohort_cost results/benchmarks [--nodes 4 16]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.workflow.end_to_end import read_benchmarks

MODELS = ("clip", "meter", "vit", "roberta")
# Sizes of the default run (config/config.yaml) and of HCP 7T (config/hcp7t.yaml).
TRS = 3655 / 645  # all TRs, movie and rest
SUBJECTS = 184 / 6
ATOMS = 64 / 8
METER_PIXELS = (288 / 224) ** 2
# Kernel seconds per (subject or model, layer) at the default size and at HCP scale,
# measured on this machine (bench/README.md and python -m bench full mode).
KERNELS = {
    "encoding": (0.55 + 1.1, 1.40 + 3.2, "AR(1) GLM + LORO ridge per layer (glm_bench.py --ridge)"),
    "attribution_subject": (1.55, 5.1, "banded ridge per layer (hcp_scale.py; 8 components)"),
    "neurons_subject": (0.21, 0.42, "parcel-level per-AN encoders per layer (encode_layer.py)"),
    "neurons_grayordinates": (4.6, 20.3, "grayordinate-level per-AN encoders per layer (encode_layer.py)"),
    "atoms": (4.6, 15.6, "SDL per layer, 768 ANs, 8 atoms x 405 TRs / 64 x 3,600 (sdl_bench.py)"),
}
DATA = {
    "activations": (TRS, "frames and captions (TRs); METER x (288/224)^2 pixels"),
    "neurons_parcel_bold": (TRS, "TRs"),
    "noise_ceiling": (TRS, "TRs (not in the default run's files: costed as neurons_parcel_bold)"),
    "group": (SUBJECTS * ATOMS, "subjects x atoms"),
    "neurons_group": (SUBJECTS, "subjects"),
    "neurons_cohort_bold": (SUBJECTS * TRS, "subjects x TRs"),
    "attribution_group": (SUBJECTS, "subjects"),
    "attribution_features": (TRS, "TRs"),
    "depth": (ATOMS, "atoms"),
    "brain_maps": (ATOMS, "atoms"),
    "findings_tables": (ATOMS, "atoms"),
}
THREADS = {"activations": 2, "atoms": 2, "encoding": 2, "neurons_grayordinates": 2}
CHAIN = ("activations", "atoms", "group", "depth", "brain_maps", "findings_tables")


def _model(file):
    return next((m for m in MODELS if m in Path(file).stem.split("_") or Path(file).stem == m), None)


def per_job(benchmarks):
    """CPU seconds per job at the default size and HCP scale (low, high), per rule and model.

    Parameters
    ----------
    benchmarks : Path
        The default run's ``results/benchmarks``.

    Returns
    -------
    dict
        ``{(rule, model or None): (default_cpu_s, hcp_low_s, hcp_high_s, basis)}``.
    """
    jobs = read_benchmarks(benchmarks)
    jobs["model"] = [_model(f) for f in jobs["file"]]
    # Snakemake samples a job's CPU time while it runs and misses its last seconds (most of
    # a short job's): count max(CPU, wall), the wall time bounding a one-thread job's CPU
    jobs["cost"] = jobs[["cpu_time", "s"]].max(axis=1)
    out = {}
    for (rule, model), cost in jobs.groupby(["rule", jobs["model"].fillna("")])["cost"]:
        base = float(cost.median())
        if rule in KERNELS:
            small, large, what = KERNELS[rule]
            r = large / small
            low, high, basis = base * r, base * max(r, TRS), f"{what}: r = {r:.1f}"
        elif rule in DATA:
            r, what = DATA[rule]
            if rule == "activations" and model == "meter":
                r *= METER_PIXELS
            low = high = base * r
            basis = f"{what}: r = {r:.1f}"
        else:
            low = high = base
            basis = "does not grow with the cohort: r = 1"
        out[rule, model or None] = (base, low, high, basis)
    if ("noise_ceiling", None) not in out and ("neurons_parcel_bold", None) in out:
        base = out["neurons_parcel_bold", None][0]
        out["noise_ceiling", None] = (base, base * TRS, base * TRS, DATA["noise_ceiling"][1] + f": r = {TRS:.1f}")
    return out


def cohort(benchmarks, counts):
    """Per-rule jobs and core-hours of the cohort (low, high), and the critical path.

    Returns
    -------
    rules : dict
        ``{rule: (jobs, core_hours_low, core_hours_high, basis)}``.
    chain : dict
        Seconds of the longest job of each step of the critical path (high estimate).

    Parameters
    ----------
    counts : dict
        Jobs per rule of the cohort's DAG (``snakemake -n``).
    """
    costs = per_job(benchmarks)
    rules = {}
    for rule, n in counts.items():
        if rule in ("all", "total"):
            continue
        entries = [(m, v) for (r, m), v in costs.items() if r == rule]
        if not entries:
            rules[rule] = (n, 0.0, 0.0, "not in the default run: not costed")
            continue
        per_model = n / len(entries)  # jobs split evenly over the models (or one entry)
        low = sum(per_model * v[1] for _, v in entries) / 3600
        high = sum(per_model * v[2] for _, v in entries) / 3600
        rules[rule] = (n, low, high, entries[0][1][3])

    def longest(rule):
        vals = [v[2] / THREADS.get(rule, 1) for (r, _), v in costs.items() if r == rule]
        return max(vals) if vals else 0.0

    chain = {r: longest(r) for r in CHAIN}
    chain["one subject"] = max(longest("encoding"), longest("attribution_subject"))
    return rules, chain


def wall(core_hours, cores, path_s):
    """Hours on ``cores`` cores, never below the critical path."""
    return max(core_hours / cores, path_s / 3600)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("benchmarks", type=Path)
    ap.add_argument("--nodes", type=int, nargs="*", default=[4, 16])
    ap.add_argument("--cores-per-node", type=int, default=16)
    args = ap.parse_args()
    from bench.workflow.dag import cohort_dag

    _, counts = cohort_dag(184)
    rules, chain = cohort(args.benchmarks, counts)
    path = sum(chain.values())
    print(f"{'rule':24s} {'jobs':>5s} {'core-h low':>11s} {'core-h high':>12s}  basis")
    for rule, (n, low, high, basis) in sorted(rules.items(), key=lambda kv: -kv[1][2]):
        print(f"{rule:24s} {n:5d} {low:11.1f} {high:12.1f}  {basis}")
    low = sum(v[1] for v in rules.values())
    high = sum(v[2] for v in rules.values())
    print(f"{'total':24s} {counts['total']:5d} {low:11.1f} {high:12.1f}")
    print(f"critical path {path / 3600:.2f} h: " + ", ".join(f"{k} {v / 60:.0f} min" for k, v in chain.items()))
    machines = [("2-core laptop", 2), ("16-core workstation", 16)]
    machines += [(f"Slurm, {n} nodes x {args.cores_per_node} cores", n * args.cores_per_node) for n in args.nodes]
    for name, cores in machines:
        print(f"{name:32s} {wall(low, cores, path):8.1f} to {wall(high, cores, path):8.1f} h")


if __name__ == "__main__":
    main()
