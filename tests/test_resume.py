"""Resuming after a crash: a run killed with SIGKILL in the middle of a job, then resumed
with the README's commands, ends with tables byte-identical to an uninterrupted run.

The run is a copy of the session's tiny run (``tiny_run``, hard links) whose group step is
forced to run again, so the test costs that step and what follows it, not a whole run. That
two whole runs give identical tables is checked by the Slurm test (``test_slurm.py``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import ROOT, snakemake
from test_reruns import copy_run
from tiny import TINY

pytestmark = pytest.mark.slow

# what a run must reproduce exactly (provenance and the report carry times and paths)
TABLES = ["results/tables", "results/simulation/recovery.tsv"]


def tables(workdir):
    out = {}
    for rel in TABLES:
        path = workdir / rel
        for f in sorted(path.rglob("*.tsv")) if path.is_dir() else [path]:
            out[str(f.relative_to(workdir))] = f.read_bytes()
    return out


def test_sigkill_mid_job_then_resume_gives_identical_tables(tiny_run, tmp_path):
    workdir = copy_run(tiny_run, tmp_path / "killed", own=["results/logs", "results/benchmarks"])
    incomplete = workdir / ".snakemake" / "incomplete"
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"),
           "--directory", str(workdir), "--configfile", str(TINY), "--cores", "2",
           "--forcerun", "group"]
    # its own process group, so that the kill takes Snakemake and its jobs at once, as a
    # lost session or an out-of-memory kill of the whole run would
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 600
    try:
        while not (incomplete.is_dir() and any(incomplete.iterdir())):
            assert proc.poll() is None, "the run ended before a job started"
            assert time.monotonic() < deadline, "no job started within 10 minutes"
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    # the README's commands: unlock (Snakemake itself was killed), then the same command
    # with --rerun-incomplete
    locked = snakemake(workdir, "--cores", "2", "--dry-run", check=False)
    assert "cannot be locked" in locked.stdout + locked.stderr
    snakemake(workdir, "--unlock")
    snakemake(workdir, "--cores", "2", "--forcerun", "group", "--rerun-incomplete")
    ours, reference = tables(workdir), tables(tiny_run)
    assert sorted(ours) == sorted(reference) and len(ours) > 5
    differ = [name for name in reference if ours[name] != reference[name]]
    assert not differ, f"tables differ from the uninterrupted run: {differ}"
    # and the resumed run is finished: nothing left to do
    again = snakemake(workdir, "--cores", "2", "--dry-run")
    assert "Nothing to be done" in again.stdout + again.stderr
