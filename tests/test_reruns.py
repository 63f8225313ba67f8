"""What reruns when: incremental runs, one subject at a time and resuming, checked on the
job list of ``snakemake --dry-run`` (rule and wildcards of every planned job).

The tests on a finished run use the session's tiny run (``tiny_run``) through a copy whose
results are hard links (cheap); files a test changes the times of are real copies, so the
shared run is never modified. The README's commands are parsed out of README.md and run
as written, with the tiny config and a tiny subject in place of the HCP ones.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shlex
import shutil
from pathlib import Path
from typing import NamedTuple

import pytest
import yaml

from conftest import ROOT, snakemake
from tiny import TINY

# Every rule of the tiny workflow by what it depends on: shared work done once for all
# subjects, one subject's own jobs, and the steps that aggregate over subjects.
SHARED = {
    "synthetic_movie",
    "stimulus_tables",
    "networks",
    "network_map",
    "activations",
    "atoms",
    "ground_truth",
    "attribution_features",
}
PER_SUBJECT = {
    "simulate_bold",
    "encoding",
    "noise_ceiling",
    "neurons_parcel_bold",
    "neurons_subject",
    "attribution_subject",
}
AGGREGATES = {
    "group",
    "depth",
    "attribution_group",
    "attribution_tables",
    "attribution_figure",
    "neurons_group",
    "neurons_cohort_bold",
    "neurons_grayordinates",
    "neurons_catalogue",
    "network_overlap",
    "findings_tables",
    "findings_figures",
    "brain_maps",
    "recovery",
    "provenance",
    "all",
}
# What extraction does not reach: the movie, its stimulus tables and the networks.
BEFORE_EXTRACTION = {"synthetic_movie", "stimulus_tables", "networks", "network_map"}


class Job(NamedTuple):
    rule: str
    wildcards: tuple  # sorted (name, value) pairs

    @property
    def subject(self):
        return dict(self.wildcards).get("subject")

    def __repr__(self):
        return f"{self.rule}[{','.join(f'{k}={v}' for k, v in self.wildcards)}]"


RULE_LINE = re.compile(r"^(?:local)?rule (\w+):$")
TOTAL_LINE = re.compile(r"^total\s+(\d+)$", re.MULTILINE)


def planned(out):
    """The jobs a dry run lists (``rule X:`` blocks and their ``wildcards:``), checked
    against the total of its job-stats table."""
    text = out.stdout + out.stderr
    jobs = []
    for line in text.splitlines():
        match = RULE_LINE.match(line)
        if match:
            jobs.append([match.group(1), ()])
        elif jobs and line.startswith("    wildcards: "):
            pairs = line.split(": ", 1)[1].split(", ")
            jobs[-1][1] = tuple(sorted(tuple(p.split("=", 1)) for p in pairs))
    totals = TOTAL_LINE.findall(text)
    if not jobs:
        assert "Nothing to be done" in text, text[-3000:]
        return set()
    assert totals and int(totals[0]) == len(jobs), text[-3000:]
    found = {Job(rule, wildcards) for rule, wildcards in jobs}
    assert len(found) == len(jobs), "a job listed twice"
    return found


def dry_run(workdir, *args, **kwargs):
    """The set of jobs ``snakemake --dry-run`` plans in ``workdir`` (tiny config)."""
    return planned(snakemake(workdir, "--dry-run", *args, **kwargs))


def every_job(workdir, *args, **kwargs):
    """Every job of the workflow's DAG for the same config (a forced dry run)."""
    return dry_run(workdir, "--forceall", *args, **kwargs)


def assert_jobs(found, expected):
    missing, extra = sorted(expected - found, key=repr), sorted(found - expected, key=repr)
    assert not missing and not extra, f"missing: {missing}\nunexpected: {extra}"


def copy_run(run, dest, own=()):
    """A copy of the finished run ``run`` at ``dest``: result files hard-linked, except
    those under the ``own`` folders (relative paths), which are real copies whose times a
    test may change; ``.snakemake`` (metadata) copied. Times are kept."""
    own = [run / p for p in own]

    def link_or_copy(src, dst):
        if any(Path(src).is_relative_to(p) for p in own):
            return shutil.copy2(src, dst)
        os.link(src, dst)
        return dst

    shutil.copytree(run / "results", dest / "results", copy_function=link_or_copy)
    shutil.copytree(run / ".snakemake", dest / ".snakemake", ignore=shutil.ignore_patterns("log"))
    return dest


def write_yaml(path, data):
    path.write_text(yaml.safe_dump(data))
    return path


def readme_commands(heading):
    """The ``snakemake`` commands of the README section ``heading``, continuation lines
    joined, in order."""
    text = (ROOT / "README.md").read_text()
    start = text.index(f"\n{heading}\n")
    section = text[start + 1 :]
    end = re.search(r"^#{2,3} ", section[len(heading) :], re.MULTILINE)
    section = section[: len(heading) + end.start()] if end else section
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", section, re.DOTALL):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split("#")[0].strip()
            if line.startswith("snakemake "):
                commands.append(" ".join(line.split()))
    return commands


def as_tiny(command, subject):
    """A README command's arguments with the tiny config and ``subject`` in place of the
    HCP preset and its example subject (all else as written)."""
    args = shlex.split(command)
    assert args[0] == "snakemake" and "config/hcp7t.yaml" in args, command
    return [
        str(TINY) if a == "config/hcp7t.yaml" else a.replace("100610", subject)
        for a in args[1:]
    ]


# ---------------------------------------------------------------------------------------
# Without a finished run: the rule classes above cover the workflow, and the README's
# per-subject rules are exactly the workflow's.


def test_every_rule_is_shared_per_subject_or_aggregate(tmp_path):
    rules = {job.rule for job in every_job(tmp_path)}
    assert rules == SHARED | PER_SUBJECT | AGGREGATES
    assert not (SHARED & PER_SUBJECT or SHARED & AGGREGATES or PER_SUBJECT & AGGREGATES)


def test_readme_forces_every_per_subject_rule_of_real_data(tmp_path):
    """The README's one-subject command forces the rules with a ``{subject}`` wildcard,
    all of them, except the simulation's ``simulate_bold`` (real BOLD is data)."""
    forced = [c for c in readme_commands("### One subject at a time") if "--forcerun" in c]
    assert len(forced) == 1, forced
    args = shlex.split(forced[0])
    rules = set(args[args.index("--forcerun") + 1 :])
    with_subject = {job.rule for job in every_job(tmp_path) if job.subject}
    assert rules == with_subject - {"simulate_bold"}
    assert rules == PER_SUBJECT - {"simulate_bold"}


def test_subject_target_holds_only_that_subjects_jobs(tmp_path):
    """From scratch, one subject's target plans its own jobs and the shared work they
    read, and nothing of the other subjects or of the group steps."""
    jobs = dry_run(tmp_path, "results/subjects/sub-sim02.done")
    assert {job.subject for job in jobs} == {None, "sim02"}
    assert {job.rule for job in jobs if not job.subject} == SHARED - {"network_map"}
    assert {job.rule for job in jobs if job.subject} == PER_SUBJECT | {"subject"}


# ---------------------------------------------------------------------------------------
# On the finished tiny run.

@pytest.fixture()
def finished(tiny_run, tmp_path):
    """A hard-linked copy of the finished tiny run."""
    return copy_run(tiny_run, tmp_path / "run")


@pytest.mark.slow
def test_finished_run_is_a_no_op(finished):
    assert dry_run(finished) == set()
    assert dry_run(finished, "--profile", str(ROOT / "profiles/local")) == set()


@pytest.mark.slow
def test_adding_a_simulated_subject_reruns_it_and_the_aggregates(finished, tmp_path):
    more = write_yaml(tmp_path / "more.yaml", {"simulation": {"subjects": 4}})
    found = dry_run(finished, configfiles=[more])
    dag = every_job(finished, configfiles=[more])
    expected = {j for j in dag if j.subject == "sim04" or j.rule in AGGREGATES}
    assert_jobs(found, expected)
    assert {j.rule for j in found if j.subject} == PER_SUBJECT
    assert not {j.rule for j in found} & SHARED


@pytest.mark.slow
def test_adding_a_subject_to_real_data_reruns_it_and_the_aggregates(finished, tmp_path):
    """A real-data config (``data.source: custom``) reading the tiny run's movie and BOLD
    as data, its subjects in a ``data.subjects_file``; then one more subject in the file."""
    bold = "results/simulation/bold/sub-{subject}/{run}.dtseries.nii"
    new = finished / "results/simulation/bold/sub-new01"
    new.mkdir()
    for run in ("run1", "run2", "run3"):
        os.link(finished / bold.format(subject="sim03", run=run), new / f"{run}.dtseries.nii")
    subjects = tmp_path / "subjects.txt"
    subjects.write_text("sim01\nsim02\nsim03\n")
    data = write_yaml(
        tmp_path / "data.yaml",
        {
            "data": {
                "source": "custom",
                "runs": ["run1", "run2", "run3"],
                "subjects_file": str(subjects),
                "bold": bold,
                "video": "results/simulation/movie/{run}.mp4",
                "captions": "results/simulation/movie/{run}_captions.tsv",
                "segments": "results/simulation/movie/segments.tsv",
            }
        },
    )
    before = dry_run(finished, configfiles=[data])
    # the same files read as real data: only report-level steps (the provenance page and
    # the neuron catalogue no longer read a ground truth) and what follows them
    assert {j.rule for j in before} <= AGGREGATES
    subjects.write_text("sim01\nsim02\nsim03\nnew01  # added\n")
    found = dry_run(finished, configfiles=[data])
    dag = every_job(finished, configfiles=[data])
    expected = {j for j in dag if j.subject == "new01" or j.rule in AGGREGATES}
    assert_jobs(found, expected)
    assert {j.rule for j in found if j.subject} == PER_SUBJECT - {"simulate_bold"}


@pytest.mark.slow
def test_newer_bold_of_one_subject_reruns_its_chain_and_the_aggregates(tiny_run, tmp_path):
    bold = Path("results/simulation/bold/sub-sim02")
    run = copy_run(tiny_run, tmp_path / "run", own=[bold])
    os.utime(run / bold / "run2.dtseries.nii")  # now: newer than every output
    found = dry_run(run)
    dag = every_job(run)
    expected = {
        j
        for j in dag
        if (j.subject == "sim02" and j.rule != "simulate_bold")
        or j.rule in AGGREGATES - {"provenance"}  # provenance reads no BOLD
    }
    assert_jobs(found, expected)


@pytest.mark.slow
def test_an_setting_reruns_extraction_onward(finished, tmp_path):
    cls = write_yaml(tmp_path / "an.yaml", {"an": {"pooling": "cls"}})
    found = dry_run(finished, configfiles=[cls])
    expected = {j for j in every_job(finished) if j.rule not in BEFORE_EXTRACTION}
    assert_jobs(found, expected)


@pytest.mark.slow
def test_a_new_vlmbrain_version_reruns_every_job(finished, tmp_path):
    """A copy of this checkout (times kept) plans nothing; with another ``__version__``
    in its ``src/vlmbrain/__init__.py`` it reruns every job (each rule with a script
    records the version among its params)."""
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    shutil.copy2(ROOT / "Snakefile", checkout / "Snakefile")
    for name in ("workflow", "scripts", "src", "envs", "config"):
        shutil.copytree(
            ROOT / name,
            checkout / name,
            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"),
        )
    snakefile = checkout / "Snakefile"
    assert dry_run(finished, snakefile=snakefile) == set()
    init = checkout / "src/vlmbrain/__init__.py"
    text = init.read_text()
    bumped = re.sub(r'__version__ = "[^"]+"', '__version__ = "999.0.0"', text)
    assert bumped != text
    init.write_text(bumped)
    found = dry_run(finished, snakefile=snakefile)
    assert_jobs(found, every_job(finished))


@pytest.mark.slow
def test_readme_reruns_one_subject_then_the_aggregates(tiny_run, tmp_path):
    """The README's commands, as written (tiny config, subject sim02): the target alone
    plans only the subject's flag (its outputs are there), the forced run only sim02's own
    jobs; once they have run (here: --touch), the plain run plans steps over subjects and
    none of any subject's jobs."""
    commands = readme_commands("### One subject at a time")
    assert len(commands) == 3, commands
    target, forced, after = (as_tiny(c, "sim02") for c in commands)
    own = [
        Path("results/encoding/sub-sim02"),
        Path("results/neurons/sub-sim02"),
        Path("results/attribution/sub-sim02"),
    ]
    run = copy_run(tiny_run, tmp_path / "run", own=own)
    flag = Job("subject", (("subject", "sim02"),))
    # the target alone: the subject's outputs are there, only its flag is made
    assert dry_run(run, *target) == {flag}
    found = dry_run(run, *forced)
    dag = every_job(run)
    mine = {j for j in dag if j.subject == "sim02" and j.rule != "simulate_bold"}
    assert_jobs(found, mine | {flag})
    snakemake(run, "--touch", "--cores", "1", *forced)
    found = dry_run(run, *after)
    # only steps over subjects, at least those reading the encoding folders (compared by
    # time; a touched file under 1 MB has its recorded checksum and does not count as new)
    assert {j.rule for j in found} <= AGGREGATES - {"provenance"}
    assert {j for j in dag if j.rule in {"group", "depth", "network_overlap"}} <= found


@pytest.mark.slow
def test_readme_resumes_after_a_crash(finished):
    """An output left marked incomplete (as a killed run leaves it) stops a plain run;
    the README's command, and the laptop profile, rerun that job and what follows."""
    (command,) = readme_commands("### Resuming after a crash")
    marker = finished / ".snakemake/incomplete" / base64.urlsafe_b64encode(
        b"results/tables/prediction.tsv"
    ).decode()
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps({"external_jobid": None}))
    plain = snakemake(finished, "--dry-run", check=False)
    assert plain.returncode != 0 and "IncompleteFilesException" in plain.stderr + plain.stdout
    expected = {Job("findings_tables", ()), Job("findings_figures", ()), Job("all", ())}
    assert_jobs(dry_run(finished, *as_tiny(command, "sim01")), expected)
    assert_jobs(dry_run(finished, "--profile", str(ROOT / "profiles/local")), expected)
    assert yaml.safe_load((ROOT / "profiles/slurm/config.yaml").read_text())["rerun-incomplete"]
