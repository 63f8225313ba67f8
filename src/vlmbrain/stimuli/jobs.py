"""The jobs of the stimuli rules: one function per rule, named for it.

Each takes the rule's declared inputs and outputs as paths and its params as keyword
arguments, and calls the library below it (``movie``, ``table``, ``captioning``), imported
inside the job so that each rule's environment needs only its own stage's packages.
"""

from __future__ import annotations

import logging

log = logging.getLogger("vlmbrain")

__all__ = ["synthetic_movie", "stimulus_tables", "captions"]


def synthetic_movie(*, videos, captions, segments, movie, tr, video_template,
                    captions_template):
    """Rule ``synthetic_movie``: the simulation's videos, captions tables and segments.

    Parameters
    ----------
    videos, captions : list of str
        Output videos and captions tables, one per run (written through the templates).
    segments : str
        Output segments table (``data.segments``).
    movie : dict
        The ``simulation`` keys the movie depends on (``vlmbrain.config.MOVIE_KEYS``).
    tr : float
    video_template, captions_template : str
        Path templates with ``{run}`` (``data.video``, ``data.captions``).
    """
    from vlmbrain.stimuli.movie import write_movie

    plans = write_movie(
        movie,
        tr=tr,
        video_template=video_template,
        captions_template=captions_template,
        segments_path=segments,
    )
    for run, plan in plans.items():
        log.info("%s: %d TRs, %d captions", run, plan["n_trs"], len(plan["captions"]))


def stimulus_tables(*, frames, captions, segments, tables, runs, tr, frames_dir,
                    caption_overlap="error"):
    """Rule ``stimulus_tables``: one table per run (onset, condition, clip, frame, caption).

    Parameters
    ----------
    frames : list of str
        Video (or, with ``frames_dir``, frame folder) of every run.
    captions : list of str
        Captions table of every run.
    segments : str
        Clip segments table.
    tables : list of str
        Output tables, one per run.
    runs : list of str
    tr : float
    frames_dir : bool
        Whether ``frames`` are folders of images.
    caption_overlap : {"error", "allow"}
        ``data.caption_overlap``: overlapping captions stop the job, or are allowed.

    Every table is checked (captions, segments, that each video really holds the frames
    its last movie TR needs) before any is written.
    """
    from vlmbrain.stimuli.table import write_stimulus_tables

    write_stimulus_tables(
        runs=runs,
        tr=tr,
        frames=frames,
        frames_are_folders=frames_dir,
        captions=captions,
        segments=segments,
        outputs=tables,
        log=log,
        caption_overlap=caption_overlap,
    )


def captions(*, frames, captions, model, interval, max_new_tokens, batch_size, tr,
             frames_dir, device="auto", cache_dir=None, offline=True, threads=1):
    """Rule ``captions``: the captions table of one run from its frames.

    Parameters
    ----------
    frames : str
        The run's video (or frame folder, with ``frames_dir``).
    captions : str
        Output captions table (``results/stimuli/captions/{run}.tsv``), checked as a
        user's captions table is.
    model, interval, max_new_tokens, batch_size
        ``captioning.*``.
    tr : float
    frames_dir : bool
    device, cache_dir, offline
        ``extraction.device``, ``extraction.cache_dir``, ``extraction.offline``.
    threads : int
        Torch CPU threads.
    """
    from vlmbrain.stimuli.captioning import caption_run

    caption_run(
        captions,
        model,
        video=None if frames_dir else frames,
        frames_dir=frames if frames_dir else None,
        interval=interval,
        tr=tr,
        max_new_tokens=max_new_tokens,
        batch_size=batch_size,
        cache_dir=cache_dir,
        offline=offline,
        device=device,
        threads=threads,
    )
