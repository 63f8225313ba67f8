"""Memory and run time of the heavy rules, computed from the sizes of a job's inputs.

A cluster queues a job by what it asks for, so a job should ask for what it needs: little
on the tiny test configuration, enough for the HCP cohort. The heavy rules hold a few
copies of the data they read: one subject's BOLD (``T x V`` float32: TRs times
grayordinates), the cohort-mean BOLD, or one layer of every subject's maps (subjects times
atoms times grayordinates). Their request is

    mem_mb  = MARGIN * (BASE_MB + copies * data_mb), in steps of 100 MB
    runtime = MARGIN * (BASE_MINUTES + minutes_per_gb * data_mb / 1024), whole minutes

with ``data_mb`` read from the job's input files when the job is ready to run (Snakemake
evaluates a resource that is a function of ``input`` once the inputs exist; ``snakemake -n``
shows it as ``<TBD>``). ``copies`` and ``minutes_per_gb`` per rule are in ``RULES``.

``BASE_MB`` is a job's interpreter with its libraries (numpy, scipy, nibabel, torch)
imported: the tiny configuration's jobs peak at 0.3 to 1.2 GB (their ``benchmark:`` files,
``max_rss``). ``copies`` counts the arrays of the size of the data a job holds at its peak
(the data, a standardized or prewhitened copy, and the working arrays of one chunk).
``minutes_per_gb`` is sized so that the HCP cohort (3,600 TRs x 91,282 grayordinates,
1.25 GB per subject) gets the run time the workflow asked for before it was computed.
``MARGIN`` (1.5) covers what the model leaves out (allocator slack, temporary copies made
by libraries); Snakemake's ``--set-resources RULE:mem_mb=...`` overrides any of it.
"""

from __future__ import annotations

import math
import os
import zipfile
from pathlib import Path

MARGIN = 1.5
BASE_MB = 1200
BASE_MINUTES = 5

# rule: (data of the rule, copies of it at the peak, minutes per GB of it)
RULES = {
    # one subject's BOLD
    "encoding": ("bold", 4, 120),
    "attribution_subject": ("bold", 4, 120),
    "noise_ceiling": ("bold", 3, 10),
    "neurons_parcel_bold": ("bold", 3, 10),
    # every subject's BOLD, loaded one subject at a time into a running sum
    "neurons_cohort_bold": ("subject_bold", 4, 0.5),
    # the cohort-mean BOLD and its periodogram
    "neurons_grayordinates": ("cohort", 4, 120),
    # one layer of every subject's maps: beta and t (group), unique, shared and joint R2
    # (attribution_group), stacked over subjects, and the statistics computed from them
    "group": ("maps", 4, 30),
    "attribution_group": ("maps", 6, 30),
}


def file_mb(paths):
    """Total size in MB of files and folders (every file under a folder).

    Parameters
    ----------
    paths : str, path or sequence of them

    Returns
    -------
    float
        Megabytes (2**20 bytes); a path that does not exist counts 0.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    total = 0
    for path in map(Path, paths):
        if path.is_dir():
            total += sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
        elif path.exists():
            total += path.stat().st_size
    return total / 2**20


def largest_array_mb(path):
    """Size in MB of the largest array in an ``.npz`` file, or in the ``.npz`` files under
    a folder (read from the archive's directory; nothing is loaded); 0 where none exists."""
    path = Path(path)
    files = sorted(path.rglob("*.npz")) if path.is_dir() else [path] if path.exists() else []
    largest = 0
    for file in files:
        with zipfile.ZipFile(file) as archive:
            largest = max([largest] + [m.file_size for m in archive.infolist()])
    return largest / 2**20


def bold_mb(paths):
    """Size in MB of BOLD runs held as float32: the file sizes for uncompressed files
    (CIFTI-2 and ``.nii`` store float32 or wider), 4 bytes per value of the header's shape
    for compressed ones (``.nii.gz``)."""
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    total = 0.0
    for path in map(str, paths):
        if path.endswith(".gz") and os.path.exists(path):
            import nibabel as nib

            total += math.prod(nib.load(path).shape) * 4 / 2**20
        else:
            total += file_mb(path)
    return total


def data_mb(rule, input):
    """The data of one job of ``rule`` (see ``RULES``) in MB, from its named inputs.

    Parameters
    ----------
    rule : str
        A key of ``RULES``.
    input : Snakemake's ``input`` of the job (named inputs as attributes)
        ``bold`` (one subject's runs; every subject's runs for ``neurons_cohort_bold``,
        with one stimulus table per run in ``tables``), ``cohort``, ``encoding`` (one
        folder of ``.npz`` files per subject) or ``subjects`` (one ``.npz`` per subject):
        one map is the largest array of the first subject's.
    """
    kind = RULES[rule][0]
    if kind == "bold":
        return bold_mb(input.bold)
    if kind == "subject_bold":
        # every subject's runs; the stimulus tables count the runs of one subject
        return bold_mb(input.bold) * len(input.tables) / max(1, len(input.bold))
    if kind == "cohort":
        return file_mb(input.cohort)
    if kind == "maps":
        per_subject = input.encoding if hasattr(input, "encoding") else input.subjects
        per_subject = [per_subject] if isinstance(per_subject, str) else list(per_subject)
        # one map (the largest array) of the first subject, times the subjects
        return largest_array_mb(per_subject[0]) * len(per_subject)
    raise ValueError(f"unknown data kind {kind!r} of rule {rule!r}")


def memory_mb(rule, megabytes):
    """``mem_mb`` of a job of ``rule`` holding ``megabytes`` of data (module docstring)."""
    copies = RULES[rule][1]
    return int(math.ceil(MARGIN * (BASE_MB + copies * megabytes) / 100) * 100)


def runtime_minutes(rule, megabytes):
    """``runtime`` in minutes of a job of ``rule`` on ``megabytes`` of data."""
    per_gb = RULES[rule][2]
    return int(math.ceil(MARGIN * (BASE_MINUTES + per_gb * megabytes / 1024)))


def mem_mb(rule):
    """The ``mem_mb`` resource of ``rule``: a function of the job's ``wildcards`` and
    ``input`` for a rule's ``resources:``."""

    def resource(wildcards, input):
        return memory_mb(rule, data_mb(rule, input))

    return resource


def runtime(rule):
    """The ``runtime`` resource of ``rule`` (minutes), like :func:`mem_mb`."""

    def resource(wildcards, input):
        return runtime_minutes(rule, data_mb(rule, input))

    return resource
