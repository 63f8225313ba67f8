"""Per-TR stimulus tables: which frame and which caption each TR of a run shows.

One row per TR of a run, with columns

``run, tr, onset, condition, clip, validation, frame_source, frame_time, caption``

``condition`` is ``movie`` inside a clip segment and ``rest`` elsewhere; rest TRs are
marked, never modelled. ``frame_time`` is the TR midpoint in seconds into the video
(NaN for image folders, where ``frame_source`` is the image of that TR).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from vlmbrain.io import read_tsv

COLUMNS = [
    "run",
    "tr",
    "onset",
    "condition",
    "clip",
    "validation",
    "frame_source",
    "frame_time",
    "caption",
]
SEGMENT_COLUMNS = ["run", "clip", "start", "end", "validation"]
CAPTION_COLUMNS = ["onset", "duration", "text"]


def read_segments(path):
    """Read a clip segment table (``run, clip, start, end, validation``).

    ``start`` and ``end`` are 0-based TR indices, ``end`` inclusive.

    Raises
    ------
    ValueError
        Naming the file, when a column is missing or a segment is empty or overlaps
        another one of the same run.
    """
    seg = read_tsv(path, dtype={"run": str, "clip": str})
    missing = [c for c in SEGMENT_COLUMNS if c not in seg.columns]
    if missing:
        raise ValueError(
            f"{path}: the clip segment table lacks column(s) {missing}; it needs "
            f"{SEGMENT_COLUMNS} (0-based TR indices, end inclusive)."
        )
    seg["validation"] = seg["validation"].astype(str).str.lower().isin(["true", "1", "yes"])
    for col in ("start", "end"):
        seg[col] = seg[col].astype(int)
    bad = seg[seg["end"] < seg["start"]]
    if len(bad):
        raise ValueError(f"{path}: segment(s) with end < start: {bad.to_dict('records')}")
    for run, grp in seg.groupby("run"):
        grp = grp.sort_values("start")
        if (grp["start"].to_numpy()[1:] <= grp["end"].to_numpy()[:-1]).any():
            raise ValueError(f"{path}: clip segments of run {run} overlap; fix their start/end.")
    return seg


CAPTION_OVERLAP_MODES = ("error", "allow")
OVERLAP_TOLERANCE = 1e-3  # seconds: rounding of onsets and durations is not an overlap


def read_captions(path, overlap="error"):
    """Read a captions table (``onset, duration, text``; seconds, BIDS events style).

    Parameters
    ----------
    path : str or Path
    overlap : {"error", "allow"}
        ``data.caption_overlap``: refuse a caption that starts before an earlier one ends
        (by more than 1 ms), or allow it (each TR then shows the caption that covers it
        the longest).

    Returns
    -------
    DataFrame
        ``onset, duration, text``, sorted by onset.

    Raises
    ------
    ValueError
        Naming the file and the rows (1-based data rows, the header not counted), when a
        column is missing, an onset or duration is invalid, or captions overlap.
    """
    if overlap not in CAPTION_OVERLAP_MODES:
        raise ValueError(
            f"data.caption_overlap must be one of {CAPTION_OVERLAP_MODES}, got {overlap!r}"
        )
    cap = read_tsv(path)
    missing = [c for c in CAPTION_COLUMNS if c not in cap.columns]
    if missing:
        raise ValueError(
            f"{path}: the captions table lacks column(s) {missing}; it needs "
            f"{CAPTION_COLUMNS} (seconds), one row per caption."
        )
    cap["text"] = cap["text"].fillna("").astype(str)
    cap["onset"] = cap["onset"].astype(float)
    cap["duration"] = cap["duration"].astype(float)
    bad = ~((cap["duration"] > 0) & (cap["onset"] >= 0))  # NaN fails too
    if bad.any():
        rows = ", ".join(
            f"row {i + 1} (onset {o}, duration {d})"
            for i, o, d in zip(np.flatnonzero(bad)[:5], cap["onset"][bad], cap["duration"][bad])
        )
        raise ValueError(
            f"{path}: captions need onset >= 0 and duration > 0 (seconds); {rows} do not."
        )
    cap["row"] = np.arange(1, len(cap) + 1)
    cap = cap.sort_values("onset", kind="stable").reset_index(drop=True)
    if overlap == "error":
        problems = overlapping_captions(cap)
        if problems:
            listed = "; ".join(problems[:5]) + (" ..." if len(problems) > 5 else "")
            raise ValueError(
                f"{path}: {len(problems)} caption(s) start before an earlier one ends "
                f"(rows are 1-based data rows, the header not counted): {listed}. Fix the "
                "onsets or durations, or set data.caption_overlap: allow to keep them (each "
                "TR then shows the caption that covers it the longest)."
            )
    return cap.drop(columns="row")


def overlapping_captions(cap):
    """Descriptions of the captions that start before an earlier one ends.

    ``cap`` is sorted by onset, with the file's 1-based ``row`` of each caption.
    """
    onset = cap["onset"].to_numpy()
    end = onset + cap["duration"].to_numpy()
    rows = cap["row"].to_numpy()
    out = []
    latest = 0  # index of the caption that ends last among the earlier ones
    for i in range(1, len(cap)):
        if onset[i] < end[latest] - OVERLAP_TOLERANCE:
            out.append(
                f"row {rows[i]} (onset {onset[i]:g} s) starts before row {rows[latest]} "
                f"(onset {onset[latest]:g} s) ends at {end[latest]:g} s"
            )
        if end[i] > end[latest]:
            latest = i
    return out


def caption_per_tr(captions, n_trs, tr):
    """Assign to each TR the caption that overlaps it the longest.

    Parameters
    ----------
    captions : DataFrame
        ``onset, duration, text`` in seconds.
    n_trs : int
        Number of TRs of the run.
    tr : float
        Repetition time in seconds.

    Returns
    -------
    list of str
        One caption per TR; ``""`` where no caption overlaps the TR. Ties go to the
        caption that started first.
    """
    starts = np.arange(n_trs) * tr
    ends = starts + tr
    on = captions["onset"].to_numpy()[:, None]
    off = on + captions["duration"].to_numpy()[:, None]
    overlap = np.clip(np.minimum(off, ends[None]) - np.maximum(on, starts[None]), 0, None)
    text = captions["text"].to_numpy()
    out = []
    for j in range(n_trs):
        if overlap.shape[0] == 0 or overlap[:, j].max() <= 0:
            out.append("")
        else:
            out.append(str(text[int(np.argmax(overlap[:, j]))]))
    return out


def build_stimulus_table(run, n_trs, tr, segments, captions, video=None, frames=None):
    """Build the stimulus table of one run.

    Parameters
    ----------
    run : str
        Run identifier.
    n_trs : int
        Number of TRs of the run (read from the video or the frame folder).
    tr : float
        Repetition time in seconds.
    segments : DataFrame
        Clip segments of all runs (see :func:`read_segments`).
    captions : DataFrame
        Captions of this run (see :func:`read_captions`).
    video : str, optional
        Video file of the run; frames are taken at TR midpoints.
    frames : list of str, optional
        One image per TR (alternative to ``video``).

    Returns
    -------
    DataFrame
        One row per TR with the columns of :data:`COLUMNS`.
    """
    if (video is None) == (frames is None):
        raise ValueError("give exactly one of video or frames")
    seg = segments[segments["run"] == run]
    if seg.empty:
        raise ValueError(f"run {run} has no clip segment in the segment table")
    if seg["end"].max() >= n_trs:
        raise ValueError(
            f"run {run}: a clip segment ends at TR {seg['end'].max()} but the run has only "
            f"{n_trs} TRs (from {video or 'the frame folder'}); check the segment table."
        )
    condition = np.full(n_trs, "rest", dtype=object)
    clip = np.full(n_trs, "", dtype=object)
    validation = np.zeros(n_trs, dtype=bool)
    for row in seg.itertuples():
        condition[row.start : row.end + 1] = "movie"
        clip[row.start : row.end + 1] = row.clip
        validation[row.start : row.end + 1] = bool(row.validation)
    caption = np.array(caption_per_tr(captions, n_trs, tr), dtype=object)
    caption[condition == "rest"] = ""
    onset = np.arange(n_trs) * tr
    if video is not None:
        frame_source = [str(video)] * n_trs
        frame_time = onset + tr / 2.0
    else:
        if len(frames) < n_trs:
            raise ValueError(f"run {run}: {len(frames)} frame images for {n_trs} TRs")
        frame_source = [str(f) for f in frames[:n_trs]]
        frame_time = np.full(n_trs, np.nan)
    return pd.DataFrame(
        {
            "run": run,
            "tr": np.arange(n_trs),
            "onset": onset,
            "condition": condition,
            "clip": clip,
            "validation": validation,
            "frame_source": frame_source,
            "frame_time": frame_time,
            "caption": caption,
        }
    )[COLUMNS]


def read_stimulus_table(path):
    """Read a stimulus table written by the ``stimulus_table`` rule.

    Returns
    -------
    DataFrame
        The columns of :data:`COLUMNS`, with ``caption`` and ``clip`` as strings
        (empty on rest) and ``validation`` as bool.
    """
    table = read_tsv(path, dtype={"run": str, "clip": str, "caption": str, "frame_source": str})
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"{path}: not a stimulus table (missing {missing}); rerun the workflow.")
    table["caption"] = table["caption"].fillna("")
    table["clip"] = table["clip"].fillna("")
    table["validation"] = table["validation"].astype(str).str.lower().isin(["true", "1"])
    return table


def read_stimulus_tables(paths):
    """Read and concatenate the stimulus tables of several runs, in the given order."""
    return pd.concat([read_stimulus_table(p) for p in paths], ignore_index=True)


def list_frames(folder):
    """Image files of a frame folder, in name order (one image per TR)."""
    exts = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}
    files = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in exts)
    if not files:
        raise FileNotFoundError(f"{folder}: no image files (png, jpg, ...) found for the frames")
    return [str(p) for p in files]


def write_stimulus_tables(runs, tr, frames, frames_are_folders, captions, segments, outputs, log=None,
                          caption_overlap="error"):
    """Build and write the stimulus table of every run.

    Every run is built and checked before any table is written: captions (overlaps, per
    ``caption_overlap``), segments, and that each video's frames really reach the end of
    its last movie TR (a file truncated after its header is refused, never padded).

    Parameters
    ----------
    runs : list of str
    tr : float
    frames : list of str
        Per run, the video file or (``frames_are_folders``) the frame folder.
    frames_are_folders : bool
    captions : list of str
        Per run, the captions table.
    segments : str
        The clip segment table.
    outputs : list of str
        Per run, the output table path.
    caption_overlap : {"error", "allow"}
        ``data.caption_overlap`` (:func:`read_captions`).

    Raises
    ------
    ValueError
        Naming the file: overlapping captions, segments beyond the run, a truncated video.
    """
    from vlmbrain.io import write_tsv
    from vlmbrain.stimuli.video import check_video_covers, video_info

    seg = read_segments(segments)
    unknown = sorted(set(seg["run"]) - set(runs))
    if unknown:
        raise ValueError(f"{segments}: runs {unknown} are not in the configured runs {runs}")
    tables = []
    for run, source, cap_path in zip(runs, frames, captions):
        cap = read_captions(cap_path, overlap=caption_overlap)
        if frames_are_folders:
            images = list_frames(source)
            table = build_stimulus_table(run, len(images), tr, seg, cap, frames=images)
        else:
            info = video_info(source)
            n_trs = int(np.floor(info["duration"] / tr + 1e-6))
            table = build_stimulus_table(run, n_trs, tr, seg, cap, video=source)
            movie = np.flatnonzero((table["condition"] == "movie").to_numpy())
            if movie.size:
                last = int(movie[-1])
                check_video_covers(
                    source, float(table["onset"].iloc[last]) + tr,
                    why=f"the stimulus table of run {run} (its last movie TR, {last}, at "
                    f"TR = {tr} s; {n_trs} TRs from the header's duration)",
                )
        tables.append(table)
        if log:
            movie = (table["condition"] == "movie").sum()
            log.info("%s: %d TRs (%d movie, %d rest) from %s", run, len(table), movie, len(table) - movie, source)
    for table, out in zip(tables, outputs):
        write_tsv(out, table)
    return tables


def timing(tables):
    """Row labels of all TRs of all runs from the stimulus tables.

    Parameters
    ----------
    tables : DataFrame or list of DataFrame
        Stimulus tables (``read_stimulus_table``), in ``data.runs`` order.

    Returns
    -------
    DataFrame
        ``run, tr, movie, validation`` per TR, runs concatenated.
    """
    if not isinstance(tables, pd.DataFrame):
        tables = pd.concat(list(tables), ignore_index=True)
    return pd.DataFrame(
        {
            "run": tables["run"].astype(str).to_numpy(),
            "tr": tables["tr"].astype(int).to_numpy(),
            "movie": (tables["condition"] == "movie").to_numpy(),
            "validation": tables["validation"].astype(bool).to_numpy(),
        }
    )


def read_timing(table_paths):
    """Row labels (``run, tr, movie, validation``) of all runs from stimulus table paths."""
    return timing([read_stimulus_table(p) for p in table_paths])


def kept_rows(rows, drop_rest=True):
    """Boolean mask of the rows kept for modelling (movie rows when ``drop_rest``).

    ``rows`` are row labels from :func:`timing` (one stimulus table or several).
    """
    return rows["movie"].to_numpy() if drop_rest else np.ones(len(rows), bool)
