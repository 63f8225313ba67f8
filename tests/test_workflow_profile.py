"""The workflow profile (``profiles/default``) reaches every command: Snakemake finds it
beside the Snakefile from any working directory, and it selects jobs greedily."""

import subprocess
import sys
from pathlib import Path

import yaml

from tiny import TINY

ROOT = Path(__file__).resolve().parents[1]


def test_workflow_profile_sets_greedy_scheduling():
    settings = yaml.safe_load((ROOT / "profiles/default/config.yaml").read_text())
    assert settings["scheduler"] == "greedy"


def test_workflow_profile_is_found_from_another_folder(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "snakemake", "--dry-run", "--snakefile", str(ROOT / "Snakefile"),
         "--directory", str(tmp_path), "--configfile", str(TINY)],
        cwd=tmp_path, capture_output=True, text=True,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert f"workflow specific profile {ROOT / 'profiles' / 'default'}" in out.stderr


def test_greedy_scheduling_keeps_within_the_cores(tmp_path):
    """With the workflow profile's scheduler, jobs never claim more threads at once than
    ``--cores``: a lone ready job's cores are taken from the pool like any other's
    (Snakemake 9.10 to 9.16 gave them back without taking them, and a 2-core run of the
    workflow held up to 4 jobs at once)."""
    (tmp_path / "Snakefile").write_text(
        'rule all:\n    input: "a", "b", "c"\n\n'
        'rule first:\n    output: "common"\n    threads: 2\n    shell: "touch {output}"\n\n'
        'rule second:\n    input: "common"\n    output: "{name}"\n    threads: 2\n'
        '    shell: "date +%s.%N > {output}.start; sleep 1; date +%s.%N > {output}"\n'
    )
    settings = yaml.safe_load((ROOT / "profiles/default/config.yaml").read_text())
    out = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "2", "--scheduler", settings["scheduler"]],
        cwd=tmp_path, capture_output=True, text=True,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    spans = sorted(
        (float((tmp_path / f"{n}.start").read_text()), float((tmp_path / n).read_text()))
        for n in "abc"
    )
    assert all(end <= start for (_, end), (start, _) in zip(spans, spans[1:])), spans
