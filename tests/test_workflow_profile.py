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
