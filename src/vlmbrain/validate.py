"""Every check of the inputs that their headers and the config allow, before any job runs.

The workflow runs :func:`validate_inputs` when it starts (its ``onstart`` handler, in
``workflow/rules/validate.smk``), after the DAG is built and before the first job, on
every run that has jobs to do (not on dry runs). It reads headers only (a few frames are
decoded at the end of each video) and builds no model; every fault is reported at once,
one message per fault naming the file (or config key), what is wrong and how to fix it:

- stimuli: the clip segment table, each run's captions table (columns, numbers, UTF-8,
  overlaps), each video's header and the decodability of the last frame its stimulus
  table needs (or each frame folder), through the same functions the ``stimulus_tables``
  job uses (:mod:`vlmbrain.stimuli.table`);
- BOLD (real data): every run's header, for its grayordinate space (CIFTI: the 91,282
  grayordinates; NIfTI: 4D on the mask's grid), its TR against ``data.tr`` and its number
  of TRs against the run's stimulus table (:func:`vlmbrain.fmri.bold.bold_problems`, the
  check the BOLD-reading jobs repeat when they read a run);
- models: family and keys, architecture and override names, pretrained tags and local
  weight files (read weights-only and memory-mapped), METER checkpoint keys and shapes
  against the architecture (:func:`vlmbrain.models.registry.model_problems`);
- the simulation's couplings: model, stream, layer, network and ``like``
  (:func:`vlmbrain.simulation.truth.coupling_problems`), from the streams each model's
  config gives (:func:`vlmbrain.models.registry.model_streams`).

What the workflow writes itself (the simulation's movie and BOLD, the captions a
captioning model writes) does not exist yet when it starts, and what needs the data (NaN or
constant BOLD values) cannot be seen in headers: both are checked by the job that reads
them, through the same functions.

A handler rather than a job: a job that every expensive job depends on either reruns them
all whenever it reruns (a new subject, a changed model entry) or, read through
``ancient()``, hides their own reasons to rerun from Snakemake (9.x skips the jobs
downstream of one that must run and reaches them only through that job), so that a
changed input would be missed.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

log = logging.getLogger("vlmbrain")

__all__ = ["InputError", "input_problems", "validate_inputs"]


class InputError(ValueError):
    """Faults of the inputs, one per line, found before any expensive job."""


def _attempt(problems, where, fn, *args, **kwargs):
    """``fn(*args, **kwargs)``, or None with its error appended to ``problems`` (prefixed
    with ``where`` when the message does not name it)."""
    try:
        return fn(*args, **kwargs)
    except (OSError, ValueError) as err:
        message = str(err)
    except Exception as err:  # noqa: BLE001 - a reader's own error is a fault of the file too
        message = f"{type(err).__name__}: {err}"
    problems.append(message if str(where) in message else f"{where}: {message}")
    return None


def stimulus_problems(runs, tr, frames, frames_dir, captions, segments, caption_overlap="error"):
    """Faults of the stimuli and each run's number of TRs.

    Parameters
    ----------
    runs : list of str
    tr : float
    frames : list of str
        Per run, the video (or, with ``frames_dir``, the frame folder).
    frames_dir : bool
    captions : list of str
        Per run, the captions table; empty when the captioning rule writes them.
    segments : str
        The clip segment table.
    caption_overlap : {"error", "allow"}

    Returns
    -------
    problems : list of str
    n_trs : dict
        ``{run: number of TRs}`` of the runs whose stimulus table could be built.
    """
    from vlmbrain.stimuli.table import (
        CAPTION_COLUMNS,
        build_run_table,
        read_captions,
        read_run_segments,
    )

    problems, n_trs = [], {}
    if not frames:  # the simulation writes its movie: checked when the tables are built
        return problems, n_trs
    seg = _attempt(problems, segments, read_run_segments, segments, runs)
    no_captions = pd.DataFrame({"onset": [], "duration": [], "text": []})[CAPTION_COLUMNS]
    for i, (run, source) in enumerate(zip(runs, frames, strict=True)):
        cap = no_captions
        if captions:
            cap = _attempt(problems, captions[i], read_captions, captions[i],
                           overlap=caption_overlap)
            cap = no_captions if cap is None else cap
        if seg is None:
            continue
        table = _attempt(problems, source, build_run_table, run, source, cap, seg, tr, frames_dir)
        if table is not None:
            n_trs[run] = len(table)
    return problems, n_trs


def bold_file_problems(bold, subjects, runs, n_trs, tr, frames, mask=None):
    """Faults of every BOLD run's header (:func:`vlmbrain.fmri.bold.bold_problems`).

    ``bold`` lists every subject's runs, subject after subject, in run order; ``n_trs``
    gives each run's number of TRs (runs whose stimulus could not be read are checked
    for their header alone).
    """
    from vlmbrain.fmri.bold import bold_header, bold_problems

    bold = list(bold)
    if len(bold) != len(subjects) * len(runs):
        raise ValueError(f"{len(bold)} BOLD files for {len(subjects)} subjects x {len(runs)} runs")
    problems = []
    for k, path in enumerate(bold):
        i = k % len(runs)
        run = runs[i]
        if run in n_trs:
            source = f"of run {run} (from {frames[i]})" if frames else f"of run {run}"
            problems += bold_problems(path, n_trs[run], tr, source, mask)
        else:
            _attempt(problems, path, bold_header, path, mask)
    return problems


def input_problems(*, runs, tr, frames, frames_dir, segments, captions=(), bold=(), subjects=(),
                   mask=None, caption_overlap="error", models=None, couplings=(), networks=(),
                   cache_dir=None, offline=True):
    """Every fault the inputs' headers and the config show (see the module docstring).

    Returns
    -------
    problems : list of str
        One message per fault (empty when none).
    summary : dict
        What was checked: each run's number of TRs, the BOLD files, each model's streams.
    """
    from vlmbrain.models.registry import model_problems
    from vlmbrain.simulation.truth import coupling_problems

    runs = list(runs)
    problems, n_trs = stimulus_problems(runs, tr, list(frames), frames_dir, list(captions),
                                        segments, caption_overlap)
    if bold:
        problems += bold_file_problems(bold, list(subjects), runs, n_trs, tr, list(frames), mask)
    streams = {}
    for key, cfg in (models or {}).items():
        found, streams[key] = model_problems(key, cfg, cache_dir=cache_dir, offline=offline)
        problems += found
    if couplings:
        problems += coupling_problems(list(couplings), streams, list(networks))
    summary = {
        "runs": {run: {"n_trs": n_trs.get(run)} for run in runs},
        "bold_files": len(bold),
        "models": streams,
        "couplings": len(couplings),
    }
    return problems, summary


def validate_inputs(*, runs, tr, frames=(), frames_dir=False, segments=None, captions=(),
                    bold=(), subjects=(), mask=None, caption_overlap="error", models=None,
                    couplings=(), networks=(), cache_dir=None, offline=True, log_file=None):
    """Check every input that headers and config allow, before any job runs, and report
    every fault at once (the workflow's ``onstart`` handler).

    Parameters
    ----------
    runs : list of str
    tr : float
        ``data.tr``.
    frames : list of str
        Per run, the video (or frame folder, with ``frames_dir``); empty when the
        simulation writes the movie.
    frames_dir : bool
    segments : str
        ``data.segments``.
    captions : list of str
        Per run, ``data.captions``; empty when they are written by the workflow.
    bold : list of str
        Every subject's BOLD runs, subject after subject; empty for the simulation.
    subjects : list of str
        The subjects of ``bold``.
    mask : str, optional
        ``data.mask``.
    caption_overlap : {"error", "allow"}
        ``data.caption_overlap``.
    models : dict
        ``models``.
    couplings : list of dict
        ``simulation.couplings`` (simulation only).
    networks : list of str
        The networks of ``networks.mapping``.
    cache_dir, offline
        ``extraction.cache_dir``, ``extraction.offline``.
    log_file : str, optional
        ``results/logs/validate_inputs.log``: what was checked, or every fault.

    Returns
    -------
    dict
        What was checked: each run's TRs, the number of BOLD files, each model's streams.

    Raises
    ------
    InputError
        Listing every fault, one per line.
    """
    problems, summary = input_problems(
        runs=runs, tr=tr, frames=frames, frames_dir=frames_dir, segments=segments,
        captions=captions, bold=bold, subjects=subjects, mask=mask,
        caption_overlap=caption_overlap, models=models, couplings=couplings, networks=networks,
        cache_dir=cache_dir, offline=offline,
    )
    if problems:
        message = (
            f"{len(problems)} fault(s) in the inputs, found before any model is built or any "
            "BOLD is read (each names the file or config key, the fault and the fix):\n  - "
            + "\n  - ".join(problems)
        )
        _write_log(log_file, message)
        raise InputError(message)
    done = (
        f"inputs valid: {len(runs)} runs ("
        + ", ".join("written by the workflow" if r["n_trs"] is None else f"{r['n_trs']} TRs"
                    for r in summary["runs"].values())
        + f"), {len(bold)} BOLD files, models "
        + ", ".join(f"{k} {v}" for k, v in summary["models"].items())
    )
    log.info(done)
    _write_log(log_file, done)
    return summary


def _write_log(path, text):
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(text + "\n")
