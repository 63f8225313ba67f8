"""Every check of the inputs that their headers and the config allow, before any expensive job.

The ``validate_inputs`` job runs these once, first: every job that builds a model or reads
BOLD data depends on it. It reads headers only (a few frames are decoded at the end of
each video) and builds no model; every fault is reported at once, one message per fault
naming the file (or config key), what is wrong and how to fix it:

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

What needs the data themselves (NaN or constant BOLD values, the captions a captioning
model writes, the BOLD the simulation writes) is checked by the job that reads them.
"""

from __future__ import annotations

import logging

import pandas as pd

from vlmbrain.io import write_json

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
            problems += bold_problems(path, n_trs[run], tr, f"of run {run} (from {frames[i]})", mask)
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
        "runs": {run: {"n_trs": n_trs.get(run), "frames": str(src)}
                 for run, src in zip(runs, frames, strict=True)},
        "bold_files": len(bold),
        "models": streams,
        "couplings": len(couplings),
    }
    return problems, summary


def validate_inputs(*, frames, segments, report, runs, tr, frames_dir, captions=(), bold=(),
                    mask=(), weights=(), subjects=(), caption_overlap="error", models=None,
                    couplings=(), networks=(), cache_dir=None, offline=True):
    """Rule ``validate_inputs``: check every input that headers and config allow, before
    any model is built or any BOLD is read, and report every fault at once.

    Parameters
    ----------
    frames : list of str
        Per run, the video (or frame folder, with ``frames_dir``).
    segments : str
        ``data.segments``.
    report : str
        Output ``validation/inputs.json``: what was checked (each run's TRs, the number
        of BOLD files, each model's streams); written only when nothing is wrong.
    runs : list of str
    tr : float
    frames_dir : bool
    captions : list of str
        Per run, ``data.captions``; empty when ``captioning.enabled``.
    bold : list of str
        Every subject's BOLD runs, subject after subject; empty for the simulation, whose
        BOLD is written by the workflow (and checked when read).
    mask : list of str
        ``[data.mask]`` or empty.
    weights : list of str
        Local weight files (declared so that the job reruns when they change; read
        through ``models``).
    subjects : list of str
        The subjects of ``bold``.
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

    Raises
    ------
    InputError
        Listing every fault, one per line.
    """
    problems, summary = input_problems(
        runs=runs, tr=tr, frames=frames, frames_dir=frames_dir, segments=segments,
        captions=captions, bold=bold, subjects=subjects, mask=mask[0] if mask else None,
        caption_overlap=caption_overlap, models=models, couplings=couplings, networks=networks,
        cache_dir=cache_dir, offline=offline,
    )
    if problems:
        for problem in problems:
            log.error(problem)
        raise InputError(
            f"{len(problems)} fault(s) in the inputs, found before any model is built or any "
            "BOLD is read (each names the file or config key, the fault and the fix):\n  - "
            + "\n  - ".join(problems)
        )
    log.info("inputs valid: %d runs (%s TRs), %d BOLD files, models %s", len(runs),
             ", ".join(str(r["n_trs"]) for r in summary["runs"].values()), len(bold),
             ", ".join(summary["models"]))
    write_json(report, summary)
    return summary
