"""Shared fixtures: the whole workflow run once on the tiny configuration."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tiny import TINY

ROOT = Path(__file__).resolve().parents[1]


def snakemake(workdir, *args, check=True, configfiles=(), snakefile=ROOT / "Snakefile",
              base=TINY, env=None):
    """Run this checkout's Snakefile (or ``snakefile``) in ``workdir`` on the tiny config
    (or on ``base``; None: on ``configfiles`` alone), with ``configfiles`` merged over it
    (and ``env`` as its environment, if given)."""
    files = ([base] if base is not None else []) + list(configfiles)
    cmd = [
        sys.executable, "-m", "snakemake",
        "--snakefile", str(snakefile),
        "--directory", str(workdir),
        "--configfile", *map(str, files),
        *args,
    ]
    env = {**(os.environ if env is None else env), "PYTHONUNBUFFERED": "1"}
    out = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if check and out.returncode != 0:
        logs = "\n".join(
            f"--- {p}\n{p.read_text()[-3000:]}" for p in sorted(Path(workdir).glob("results/logs/**/*.log"))
        )
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{out.stderr[-6000:]}\n{logs[-6000:]}")
    return out


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """Run the whole workflow on the tiny config; the folder it ran in."""
    workdir = tmp_path_factory.mktemp("tiny")
    snakemake(workdir, "--cores", "2")
    return workdir


@pytest.fixture(scope="session")
def tiny_report(tiny_run):
    """The self-contained HTML report of the tiny run."""
    path = tiny_run / "results" / "report.html"
    snakemake(tiny_run, "--cores", "1", "--report", str(path))
    assert path.exists()
    return path
