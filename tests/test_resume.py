"""Resuming after a crash, and determinism: a tiny run killed with SIGKILL in the middle of a
long job, then resumed with the README's commands, ends with tables byte-identical to the
session's uninterrupted tiny run (``tiny_run``), which also checks that two runs of one
config give the same tables."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import ROOT, snakemake
from tiny import TINY

pytestmark = pytest.mark.slow

# what a run must reproduce exactly (provenance and the report carry times and paths)
TABLES = ["results/tables", "results/simulation/recovery.tsv", "results/simulation/ground_truth.tsv"]


def tables(workdir):
    out = {}
    for rel in TABLES:
        path = workdir / rel
        for f in sorted(path.rglob("*.tsv")) if path.is_dir() else [path]:
            out[str(f.relative_to(workdir))] = f.read_bytes()
    return out


def test_sigkill_mid_job_then_resume_gives_identical_tables(tiny_run, tmp_path):
    workdir = tmp_path / "killed"
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"),
           "--directory", str(workdir), "--configfile", str(TINY), "--cores", "2"]
    # its own process group, so that the kill takes Snakemake and its jobs at once, as a
    # lost session or an out-of-memory kill of the whole run would
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    started = workdir / "results" / "logs" / "encoding"
    deadline = time.monotonic() + 900
    try:
        while not (started.is_dir() and any(started.rglob("*.log"))):
            assert proc.poll() is None, "the run ended before an encoding job started"
            assert time.monotonic() < deadline, "no encoding job started within 15 minutes"
            time.sleep(0.2)
        time.sleep(1.0)  # in the middle of the job
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert not (workdir / "results" / "tables").exists()  # it was stopped half way
    # the README's commands: unlock (Snakemake itself was killed), then rerun the incomplete
    snakemake(workdir, "--unlock")
    snakemake(workdir, "--cores", "2", "--rerun-incomplete")
    ours, reference = tables(workdir), tables(tiny_run)
    assert sorted(ours) == sorted(reference) and len(ours) > 5
    differ = [name for name in reference if ours[name] != reference[name]]
    assert not differ, f"tables differ from the uninterrupted run: {differ}"
    # and a finished run is a no-op
    again = snakemake(workdir, "--cores", "2", "--dry-run")
    assert "Nothing to be done" in again.stdout + again.stderr
