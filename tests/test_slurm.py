"""The cluster section of the README, run: the Slurm profile on a real Slurm, the job count
of the HCP cohort, the GPU request, the plugin's install command.

The integration test starts a single-node cluster on localhost (munged, slurmctld, slurmd;
no accounting database, so ``sacct`` cannot answer: ``tests/slurm_cluster.py``), runs the
README's command on the tiny configuration (one subject and every step over subjects)
through ``snakemake-executor-plugin-slurm`` and
the project's profile (``profiles/slurm``), and compares its tables with those of the
session's local run (``tiny_run``). It skips only where the daemons cannot start: not
root, or Debian's ``slurm-wlm`` and ``munge`` not installed (.ci/run installs them).
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import shlex
import tomllib

import pytest
import yaml

from conftest import ROOT, snakemake
from slurm_cluster import missing, slurm_cluster
from test_reruns import as_tiny, copy_run, write_yaml

PROFILE = ROOT / "profiles" / "slurm"
SECTION = "## On a cluster"
HCP_RUNS = ["tfMRI_MOVIE1_7T_AP", "tfMRI_MOVIE2_7T_PA", "tfMRI_MOVIE3_7T_PA", "tfMRI_MOVIE4_7T_AP"]
HCP_SUBJECTS = 184


def section_commands():
    """The commands of the README's cluster section, continuation lines joined."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index(f"\n{SECTION}\n") + 1 :]
    section = section[: re.search(r"^## ", section[3:], re.MULTILINE).start() + 3]
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", section, re.DOTALL):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split("#")[0].strip()
            if line:
                commands.append(" ".join(line.split()))
    return section, commands


def readme_snakemake(dry):
    """The section's snakemake command with (``dry``) or without ``-n``."""
    found = [
        c for c in section_commands()[1] if c.startswith("snakemake ") and ("-n" in c.split()) == dry
    ]
    assert len(found) == 1, found
    return found[0]


def tables(run):
    """Every table of a run: ``results/tables/*.tsv`` and the simulation's recovery."""
    res = run / "results"
    files = sorted(res.glob("tables/*.tsv")) + [res / "simulation" / "recovery.tsv"]
    return {str(p.relative_to(res)): p.read_text() for p in files}


def test_profile_states_status_through_squeue():
    """Without accounting ``sacct`` fails and the plugin would wait for ever: the profile
    asks for ``squeue``, which slurmctld answers with or without accounting; partition
    and account are left to the user."""
    profile = yaml.safe_load((PROFILE / "config.yaml").read_text())
    assert profile["executor"] == "slurm"
    assert profile["slurm-status-command"] == "squeue"
    assert not {"slurm_partition", "slurm_account"} & set(profile["default-resources"])
    text = (PROFILE / "config.yaml").read_text()
    assert "# slurm_partition: <partition>" in text and "# slurm_account: <account>" in text


def test_readme_installs_the_plugin_of_the_test_extra():
    """The README's install command names the plugin that ``pip install -e '.[test]'``
    installs (``make test``), and that plugin is installed here."""
    (pip,) = [c for c in section_commands()[1] if " install " in c]
    package = shlex.split(pip)[-1]
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    test_extra = extra["optional-dependencies"]["test"]
    assert any(re.match(rf"{re.escape(package)}\b", req) for req in test_extra)
    assert importlib.metadata.version(package)


def test_extraction_and_the_fits_ask_for_a_gpu_when_configured(tmp_path):
    """``extraction.device: cuda`` gives extraction one GPU (the resource ``gpu``, which
    the plugin turns into ``sbatch --gpus=1``), and no other rule; ``compute`` torch on
    cuda gives one to each encoding-stage fit (numpy on cuda: none); the default, none."""

    def gpus(*configfiles):
        out = snakemake(tmp_path, "--dry-run", "--forceall", configfiles=configfiles)
        found = {}
        for block in (out.stdout + out.stderr).split("\nrule ")[1:]:
            match = re.search(r"resources: .*\bgpu=(\d+)", block)
            found[block.split(":", 1)[0]] = int(match.group(1)) if match else 0
        return found

    cuda = write_yaml(tmp_path / "cuda.yaml", {"extraction": {"device": "cuda"}})
    with_gpu = gpus(cuda)
    assert {rule for rule, n in with_gpu.items() if n} == {"activations"}
    assert with_gpu["activations"] == 1
    fits = write_yaml(tmp_path / "fits.yaml", {"compute": {"backend": "torch", "device": "cuda"}})
    with_gpu = gpus(fits)
    assert {rule for rule, n in with_gpu.items() if n} == {
        "encoding", "neurons_subject", "neurons_grayordinates", "attribution_subject"
    }
    assert set(with_gpu.values()) == {0, 1}
    numpy = write_yaml(tmp_path / "numpy.yaml", {"compute": {"backend": "numpy", "device": "cuda"}})
    assert not any(gpus(numpy).values())
    assert not any(gpus().values())


@pytest.fixture(scope="module")
def hcp_placeholders(tmp_path_factory):
    """A folder with the HCP preset's inputs as empty placeholder files (184 subjects,
    4 runs), and a config file pointing the preset at them."""
    root = tmp_path_factory.mktemp("hcp")
    subjects = [str(100000 + i) for i in range(HCP_SUBJECTS)]
    (root / "subjects.txt").write_text("\n".join(subjects) + "\n")
    for subject in subjects:
        (root / "bold" / subject).mkdir(parents=True)
        for run in HCP_RUNS:
            (root / "bold" / subject / f"{run}.dtseries.nii").touch()
    (root / "video").mkdir()
    (root / "captions").mkdir()
    for run in HCP_RUNS:
        (root / "video" / f"{run}.mp4").touch()
        (root / "captions" / f"{run}.tsv").write_text("onset\tduration\ttext\n0\t1\ta\n")
    (root / "meter.ckpt").touch()
    data = {
        "subjects_file": str(root / "subjects.txt"),
        "bold": str(root / "bold/{subject}/{run}.dtseries.nii"),
        "video": {run: str(root / "video" / f"{run}.mp4") for run in HCP_RUNS},
        "captions": str(root / "captions/{run}.tsv"),
        "segments": str(ROOT / "config/hcp7t_segments.tsv"),
    }
    models = {"meter": {"checkpoint": str(root / "meter.ckpt")}}
    return write_yaml(root / "placeholders.yaml", {"data": data, "models": models})


@pytest.mark.slow
def test_hcp_cohort_submits_the_number_of_jobs_the_readme_states(hcp_placeholders, tmp_path):
    """The README's dry run on the HCP preset (placeholder inputs, 184 subjects): every
    job of a subject is in one of its three groups, and the numbers of jobs and of
    submissions are those the README states."""
    args = shlex.split(readme_snakemake(dry=True))[1:]
    args[args.index("config/hcp7t.yaml")] = str(ROOT / "config/hcp7t.yaml")
    out = snakemake(tmp_path, *args, str(hcp_placeholders))
    text = out.stdout + out.stderr
    total = int(re.search(r"^total\s+(\d+)$", text, re.MULTILINE).group(1))
    groups = re.findall(r"Group job (\w+)-(\d+) \(jobs", text)
    alone = re.findall(r"^rule (\w+):$", text, re.MULTILINE)
    grouped = re.findall(r"^    rule (\w+):$", text, re.MULTILINE)
    assert len(alone) + len(grouped) == total
    assert {kind for kind, _ in groups} == {"encoding", "neurons", "attribution"}
    assert len(groups) == len(set(groups)) == 3 * HCP_SUBJECTS
    submitted = len(groups) + len(alone) - alone.count("all")  # all runs nothing
    section = section_commands()[0]
    stated = re.search(r"counts ([\d,]+) jobs, submitted as ([\d,]+) \(([\d,]+) subject", section)
    assert stated, "the README states the job count of the HCP cohort"
    numbers = [int(n.replace(",", "")) for n in stated.groups()]
    assert numbers == [total, submitted, len(groups)]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A running single-node Slurm cluster (2 CPUs, 8 GB), stopped at the end of the module."""
    reason = missing()
    if reason:
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("slurm", numbered=True)
    with slurm_cluster(root, cpus=2, mem_mb=8000) as running:
        yield running


@pytest.mark.slow
def test_tiny_config_on_slurm_equals_the_local_run(cluster, tiny_run, tmp_path):
    """The README's command on the tiny config, on a node of 2 CPUs and 8 GB, from the
    finished local run after one subject's BOLD was rewritten (as when a subject's data
    are fixed): Slurm runs that subject's three group jobs and every step over subjects
    (group tests, attribution tables, findings, figures, report), and the tables equal the
    local run's. A whole run on Slurm costs twice the local one (a process per job,
    status polling) and would double the suite's longest test for no more coverage: the
    subject's jobs are those of any other subject. Jobs that asked for fixed full-size
    memory (16 GB) would be refused; a group job is capped to the node (--cores,
    --resources)."""
    bold = "results/simulation/bold/sub-sim02"
    workdir = copy_run(tiny_run, tmp_path / "run", own=["results/logs", "results/benchmarks", bold])
    for run in (workdir / bold).iterdir():
        os.utime(run)  # newer than everything made from it, same content
    args = as_tiny(readme_snakemake(dry=False), "sim01")
    args[args.index("profiles/slurm")] = str(PROFILE)
    out = snakemake(
        workdir,
        *args,
        "--cores", "2",
        "--resources", "mem_mb=8000",
        # first status check after 5 s instead of 40 (a short test; nothing else differs)
        "--slurm-init-seconds-before-status-checks", "5",
        env=cluster.env,
        check=False,
    )
    text = out.stdout + out.stderr
    assert out.returncode == 0, f"{text[-6000:]}\n{cluster.logs()}"
    submitted = re.findall(r"submitted with SLURM jobid (\d+)", text)
    assert len(submitted) >= 10, text[-3000:]
    assert "Group job" in text or "group job" in text
    for group in ("encoding", "neurons", "attribution"):
        assert f"{group}-sim02" in text, f"no {group} group job of sim02"
    assert tables(workdir) == tables(tiny_run)


@pytest.mark.slow
def test_a_cluster_without_default_partition_fails_with_sbatchs_reason(cluster, tmp_path):
    """With the profile's partition left out, a cluster that has no default partition
    refuses the first job, and Snakemake stops with the reason the README quotes."""
    cluster.run("scontrol", "update", "PartitionName=debug", "Default=NO")
    try:
        out = snakemake(
            tmp_path,
            "--profile", str(PROFILE),
            "--slurm-init-seconds-before-status-checks", "5",
            "results/networks/networks.npz",
            env=cluster.env,
            check=False,
        )
    finally:
        cluster.run("scontrol", "update", "PartitionName=debug", "Default=YES")
    text = out.stdout + out.stderr
    assert out.returncode != 0, text[-3000:]
    reason = "No partition specified or system default partition"
    assert reason in text, text[-3000:]
    assert reason in section_commands()[0]
