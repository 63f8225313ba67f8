"""Memory and run time of the heavy rules, computed from the sizes of a job's inputs.

A cluster queues a job by what it asks for, so a job should ask for what it needs: little
on the tiny test configuration, enough for the HCP cohort. The heavy rules hold a few
copies of the data they read: one subject's BOLD (``T x V`` float32: TRs times
grayordinates), the cohort-mean BOLD, one layer's maps (atoms times grayordinates) of one
subject or of every subject. Their request is

    mem_mb  = MARGIN * (BASE_MB + copies * data_mb), in steps of 100 MB
    runtime = MARGIN * (BASE_MINUTES + minutes_per_gb * data_mb / 1024), whole minutes

with ``data_mb`` read from the job's input files when the job is ready to run (a resource
that is a function of ``input`` raises ``FileNotFoundError`` while an input is missing:
``snakemake -n`` shows it as ``<TBD>``, and Snakemake computes it again once the inputs
exist): for memory, what the job holds at once; for time, what it reads in
all. The kinds of data, ``copies`` and ``minutes_per_gb`` of each rule are in ``RULES``.

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

import errno
import math
import os
import zipfile
from pathlib import Path

MARGIN = 1.5
BASE_MB = 1200
BASE_MINUTES = 5

# rule: (the data it holds at once, copies of it at the peak; the data it reads in all,
# minutes per GB of that). Kinds of data (data_mb): "bold" one subject's BOLD,
# "subject_bold" one subject's of every subject's BOLD, "all_bold" every subject's BOLD,
# "cohort" the cohort-mean BOLD, "map" one map of one subject, "maps" one map of every
# subject, "all_maps" every subject's maps.
RULES = {
    # one subject's BOLD: the data, a standardized copy, one chunk's working arrays
    "encoding": ("bold", 4, "bold", 120),
    "attribution_subject": ("bold", 4, "bold", 120),
    "noise_ceiling": ("bold", 3, "bold", 10),
    "neurons_parcel_bold": ("bold", 3, "bold", 10),
    # a running sum over subjects, one subject loaded at a time
    "neurons_cohort_bold": ("subject_bold", 4, "all_bold", 0.3),
    # the cohort-mean BOLD and its periodogram
    "neurons_grayordinates": ("cohort", 4, "cohort", 120),
    # running sums (float64) of one layer's maps over subjects, read one at a time
    "group": ("map", 8, "all_maps", 0.4),
    # one layer's unique, shared and joint R2 of every subject, stacked; sign flips
    "attribution_group": ("maps", 6, "all_maps", 8),
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


def _per_subject(input):
    """The per-subject inputs of a group step: ``encoding`` folders or ``subjects`` files."""
    found = input.encoding if hasattr(input, "encoding") else input.subjects
    return [found] if isinstance(found, str) else list(found)


def data_mb(kind, input):
    """Data of ``kind`` (see ``RULES``) in MB, from a job's named inputs.

    Parameters
    ----------
    kind : str
        ``bold``, ``subject_bold``, ``all_bold``, ``cohort``, ``map``, ``maps`` or
        ``all_maps``.
    input : Snakemake's ``input`` of the job (named inputs as attributes)
        ``bold`` (one subject's runs; every subject's runs for ``subject_bold`` and
        ``all_bold``, with one stimulus table per run in ``tables``), ``cohort``,
        ``encoding`` (one folder of ``.npz`` files per subject) or ``subjects`` (one
        ``.npz`` per subject): one map is the largest array of the first subject's.
    """
    if kind in ("bold", "all_bold"):
        return bold_mb(input.bold)
    if kind == "subject_bold":
        # every subject's runs; the stimulus tables count the runs of one subject
        return bold_mb(input.bold) * len(input.tables) / max(1, len(input.bold))
    if kind == "cohort":
        return file_mb(input.cohort)
    if kind == "map":
        return largest_array_mb(_per_subject(input)[0])
    if kind == "maps":
        subjects = _per_subject(input)
        return largest_array_mb(subjects[0]) * len(subjects)
    if kind == "all_maps":
        return file_mb(_per_subject(input))
    raise ValueError(f"unknown kind of data {kind!r}; one of those of RULES")


def memory_mb(rule, megabytes):
    """``mem_mb`` of a job of ``rule`` holding ``megabytes`` of data at once (its first
    kind of data in ``RULES``; module docstring).

    Parameters
    ----------
    rule : str
        A key of ``RULES``.
    megabytes : float

    Returns
    -------
    int
        Megabytes, a multiple of 100.
    """
    copies = RULES[rule][1]
    return int(math.ceil(MARGIN * (BASE_MB + copies * megabytes) / 100) * 100)


def runtime_minutes(rule, megabytes):
    """``runtime`` in minutes of a job of ``rule`` reading ``megabytes`` of data in all
    (its second kind of data in ``RULES``).

    Parameters
    ----------
    rule : str
        A key of ``RULES``.
    megabytes : float

    Returns
    -------
    int
        Whole minutes.
    """
    per_gb = RULES[rule][3]
    return int(math.ceil(MARGIN * (BASE_MINUTES + per_gb * megabytes / 1024)))


def mem_mb(rule):
    """The ``mem_mb`` resource of ``rule`` for its ``resources:``.

    Parameters
    ----------
    rule : str
        A key of ``RULES``.

    Returns
    -------
    callable
        ``f(wildcards, input) -> int``: Snakemake calls it once the job's inputs exist.
    """

    def resource(wildcards, input):
        _require_inputs(input)
        return memory_mb(rule, data_mb(RULES[rule][0], input))

    return resource


def runtime(rule):
    """The ``runtime`` resource of ``rule`` (minutes) for its ``resources:``, like
    :func:`mem_mb`: ``f(wildcards, input) -> int``."""

    def resource(wildcards, input):
        _require_inputs(input)
        return runtime_minutes(rule, data_mb(RULES[rule][2], input))

    return resource


def _require_inputs(input):
    """Raise ``FileNotFoundError`` for the first of a job's input files not made yet.

    A job's request is read from its inputs' sizes, so it is not computed before they
    exist: Snakemake takes this error for an input still to come, shows the resource as
    ``<TBD>`` (``snakemake -n``) and computes it again when the job is ready to run.
    """
    for path in input:
        if not os.path.exists(path):
            raise FileNotFoundError(errno.ENOENT, "input not made yet", path)
