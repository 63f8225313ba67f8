"""The workflow's DAG at cohort scale, and a no-op rerun of a finished run.

:func:`placeholder_cohort` writes, in a temporary folder, empty stand-ins for every input
that ``config/hcp7t.yaml`` names (one BOLD file per subject and run, the four videos, the
captions, a METER checkpoint) and a config pointing at them; :func:`dry_run` times
``snakemake -n`` on it and reads the job counts. :func:`noop_rerun` dry-runs a finished
run through a copy of its ``results`` made of hard links (the run itself is not touched),
with ``--rerun-triggers mtime`` so that a different checkout's code does not count.

    .venv/bin/python bench/workflow/dag.py [--subjects 184] [--run-dir DIR]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
HCP7T = ROOT / "config/hcp7t.yaml"


def placeholder_cohort(folder, n_subjects):
    """Empty stand-ins for the HCP 7T inputs of ``n_subjects`` subjects, and their config.

    Returns
    -------
    Path
        A config file to give after ``config/hcp7t.yaml``.
    """
    folder = Path(folder)
    config = yaml.safe_load(HCP7T.read_text())
    data = config["data"]
    subjects = [str(100000 + i) for i in range(n_subjects)]
    (folder / "subjects.txt").write_text("\n".join(subjects) + "\n")
    for run in data["runs"]:
        for s in subjects:
            bold = folder / "bold" / s / f"{run}.dtseries.nii"
            bold.parent.mkdir(parents=True, exist_ok=True)
            bold.touch()
        video = folder / "video" / f"{run}.mp4"
        video.parent.mkdir(parents=True, exist_ok=True)
        video.touch()
        captions = folder / "captions" / f"{run}.tsv"
        captions.parent.mkdir(parents=True, exist_ok=True)
        captions.write_text("onset\tduration\ttext\n0\t1\ta placeholder\n")
    (folder / "meter.ckpt").touch()
    override = {
        "results": str(folder / "results"),
        "data": {
            "subjects_file": str(folder / "subjects.txt"),
            "bold": str(folder / "bold/{subject}/{run}.dtseries.nii"),
            "video": {run: str(folder / "video" / f"{run}.mp4") for run in data["runs"]},
            "captions": str(folder / "captions/{run}.tsv"),
            "segments": str(ROOT / data["segments"]),
        },
        "models": {"meter": {"checkpoint": str(folder / "meter.ckpt")}},
    }
    path = folder / "placeholders.yaml"
    path.write_text(yaml.safe_dump(override))
    return path


def dry_run(workdir, configfiles=(), extra=()):
    """Time ``snakemake -n`` of this checkout's Snakefile in ``workdir``.

    Returns
    -------
    seconds : float
    jobs : dict
        Planned jobs per rule, and ``total`` (0 when there is nothing to do).
    """
    cmd = [sys.executable, "-m", "snakemake", "-n", "--quiet", "rules", "--snakefile", str(ROOT / "Snakefile"),
           "--directory", str(workdir), *extra]
    if configfiles:
        cmd += ["--configfile", *map(str, configfiles)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    t0 = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    seconds = time.perf_counter() - t0
    if out.returncode != 0:
        raise RuntimeError(f"snakemake -n failed:\n{out.stderr[-3000:]}")
    text = out.stdout + out.stderr
    jobs = {m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)\s*$", text, re.M)}
    jobs.setdefault("total", 0)
    return seconds, jobs


def cohort_dag(n_subjects=184):
    """Seconds and job counts of ``snakemake -n`` on ``config/hcp7t.yaml`` with placeholders."""
    with tempfile.TemporaryDirectory() as tmp:
        override = placeholder_cohort(tmp, n_subjects)
        return dry_run(tmp, [HCP7T, override])


def noop_rerun(run_dir, configfiles=()):
    """Seconds and planned jobs of ``snakemake -n`` on a hard-linked copy of a finished run.

    Parameters
    ----------
    run_dir : Path
        The folder the run ran in (its ``config/`` and ``results/``).
    configfiles : sequence of Path
        The config files the run was given, if any.
    """
    run_dir = Path(run_dir)
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp)
        shutil.copytree(run_dir / "config", copy / "config")
        shutil.copytree(run_dir / "results", copy / "results", copy_function=os.link)
        return dry_run(copy, configfiles, ["--rerun-triggers", "mtime"])


def rows(fast, run_dir=None, run_config=()):
    """The table's DAG lines: the cohort's DAG, and a no-op rerun (skipped without a run)."""
    from bench.table import Row, skipped

    n = 8 if fast else 184
    seconds, jobs = cohort_dag(n)
    out = [Row("dag_hcp7t", "snakemake -n, config/hcp7t.yaml", seconds, target="<= 60 s (184 subjects)",
               met=seconds <= 60, size=f"{n} subjects, placeholder inputs", note=f"{jobs['total']:,} jobs",
               extra={"jobs": jobs})]
    if run_dir is None:
        out.append(skipped("noop_rerun", "snakemake -n on a finished run", "no finished run given (--run-dir)",
                           "<= 10 s"))
    else:
        seconds, jobs = noop_rerun(run_dir, run_config)
        out.append(Row("noop_rerun", "snakemake -n on a finished run", seconds, target="<= 10 s, 0 jobs",
                       met=seconds <= 10 and jobs["total"] == 0, size=str(run_dir),
                       note=f"{jobs['total']} jobs planned (hard-linked copy, --rerun-triggers mtime)",
                       extra={"jobs": jobs}))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--subjects", type=int, default=184)
    ap.add_argument("--run-dir", type=Path)
    ap.add_argument("--run-config", type=Path, nargs="*", default=())
    args = ap.parse_args()
    seconds, jobs = cohort_dag(args.subjects)
    print(f"DAG of {args.subjects} subjects: {seconds:.1f} s, {jobs['total']} jobs")
    for rule, count in sorted(jobs.items()):
        print(f"  {rule:24s} {count}")
    if args.run_dir:
        seconds, jobs = noop_rerun(args.run_dir, args.run_config)
        print(f"no-op rerun of {args.run_dir}: {seconds:.1f} s, {jobs['total']} jobs planned")


if __name__ == "__main__":
    main()
