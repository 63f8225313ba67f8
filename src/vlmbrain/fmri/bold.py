"""A subject's BOLD data, checked against the stimulus tables and prepared for encoding.

Per run each grayordinate is z-scored over the TRs that are kept (movie TRs when
``drop_rest``), rest TRs are dropped and the runs are concatenated.

Bad values never pass silently. A NaN or infinite value stops the job when the file is
read, naming the file, the count and the first positions (``data.nonfinite: error``); with
``data.nonfinite: exclude`` those grayordinates are excluded for the subject instead. A
grayordinate that is constant over the kept TRs of any run has no signal to z-score and
is excluded too. An excluded grayordinate is an all-NaN column of the subject's data, so
that every statistic of the subject there is NaN (:mod:`vlmbrain.stats.missing`) and the
group tests use the subjects that have data there; every exclusion is counted in the log.
CIFTI-2 dense time series (91,282 grayordinates) and NIfTI 4D images with a mask are
accepted; NIfTI data are described by a volumetric brain-model axis built from the mask,
so that every output can be written as CIFTI in the input's own space.
"""

from __future__ import annotations

import logging
from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
from nibabel.cifti2 import cifti2_axes

from vlmbrain.fmri.cifti import dtseries_brain_models, dtseries_dims, read_dtseries
from vlmbrain.stimuli.table import kept_rows, read_stimulus_table, timing

log = logging.getLogger("vlmbrain")

TR_TOLERANCE = 1e-3
NONFINITE_MODES = ("error", "exclude")
LISTED_POSITIONS = 5  # bad (TR, grayordinate) positions named in a message


def is_nifti(path):
    """Whether a BOLD path is a NIfTI image (not CIFTI)."""
    name = str(path)
    return (name.endswith(".nii") or name.endswith(".nii.gz")) and ".dtseries." not in name


def mask_brain_models(mask_path):
    """A volumetric brain-model axis for the voxels of a NIfTI mask."""
    mask = nib.load(mask_path)
    data = np.asarray(mask.dataobj) > 0
    if data.ndim != 3 or not data.any():
        raise ValueError(f"{mask_path}: the mask must be a 3D image with at least one voxel > 0")
    return cifti2_axes.BrainModelAxis.from_mask(data, affine=mask.affine, name="other")


def labels_on_mask(path, mask_path, key):
    """The integer labels of a NIfTI label image at the voxels of a NIfTI mask, in the
    order of the mask's brain-model axis (that of every output of NIfTI data).

    Parameters
    ----------
    path : str or Path
        A 3D label image (an atlas or a parcellation) in the mask's space.
    mask_path : str or Path
        ``data.mask``.
    key : str
        The config key that names ``path`` (in the errors).

    Returns
    -------
    ndarray of int, shape (V,)
        0 where a voxel of the mask is unlabelled.

    Raises
    ------
    ValueError
        When the image is not 3D, not on the mask's grid (shape and affine) or has labels
        that are not whole numbers, naming both files and how to fix it.
    """
    img = nib.load(path)
    bm = mask_brain_models(mask_path)
    shape = img.shape[:3] if img.ndim == 4 and img.shape[3] == 1 else img.shape
    if len(shape) != 3:
        raise ValueError(f"{key}: {path} must be a 3D label image, got shape {img.shape}")
    if tuple(shape) != tuple(bm.volume_shape) or not np.allclose(img.affine, bm.affine, atol=1e-3):
        raise ValueError(
            f"{key}: {path} (grid {tuple(shape)}) is not in the space of the mask {mask_path} "
            f"(grid {tuple(bm.volume_shape)}, or another affine); resample it to the mask with "
            "nearest-neighbour interpolation, e.g. nilearn.image.resample_to_img(atlas, mask, "
            "interpolation='nearest')."
        )
    data = np.asarray(img.dataobj).reshape(shape)
    ijk = bm.voxel
    values = data[ijk[:, 0], ijk[:, 1], ijk[:, 2]]
    if not np.all(np.isfinite(values)) or not np.all(values == np.round(values)):
        raise ValueError(f"{key}: {path} has values that are not whole numbers; a label image is expected")
    return values.astype(int)


def read_bold(path, mask=None, nonfinite="error"):
    """Read one run of BOLD data and refuse non-finite values.

    Parameters
    ----------
    path : str or Path
        CIFTI-2 dense time series, or NIfTI 4D image (with ``mask``).
    mask : str, optional
        Brain mask of NIfTI data.
    nonfinite : {"error", "exclude"}
        ``data.nonfinite``: raise on any NaN or infinite value (default), or return them
        as NaN for the caller to exclude those grayordinates.

    Returns
    -------
    data : ndarray, float32, shape (T, V)
    brain_models : BrainModelAxis
    tr : float

    Raises
    ------
    ValueError
        With ``nonfinite="error"``, naming the file, the number of bad values and the
        first (TR, grayordinate) positions, and how to fix it.
    """
    if nonfinite not in NONFINITE_MODES:
        raise ValueError(f"data.nonfinite must be one of {NONFINITE_MODES}, got {nonfinite!r}")
    if is_nifti(path):
        img, bm, _, tr = nifti_header(path, mask)
        ijk = bm.voxel
        data = np.asarray(img.dataobj, dtype=np.float32)[ijk[:, 0], ijk[:, 1], ijk[:, 2], :].T
        data = np.ascontiguousarray(data)
    else:
        data, bm, tr = read_dtseries(path)
    # one pass and no T x V mask when all is well: a column's sum is finite only when all
    # its values are (a sum that overflows is checked value by value)
    if not np.isfinite(np.add.reduce(data, axis=0)).all():
        bad = ~np.isfinite(data)
        if bad.any():
            if nonfinite == "error":
                raise ValueError(nonfinite_message(path, bad))
            data[bad] = np.nan  # infinite values too: no data
    return data, bm, tr


def nonfinite_message(path, bad):
    """The error for non-finite BOLD values: file, count, first positions and the fixes.

    Parameters
    ----------
    path : str or Path
    bad : ndarray of bool (T, V)
        Where the data are NaN or infinite.
    """
    positions = np.argwhere(bad)[:LISTED_POSITIONS]
    listed = ", ".join(f"({int(t)}, {int(v)})" for t, v in positions)
    n_bad, n_columns = int(bad.sum()), int(bad.any(axis=0).sum())
    more = " ..." if n_bad > len(positions) else ""
    return (
        f"{path}: {n_bad} non-finite BOLD values (NaN or infinite) in {n_columns} of "
        f"{bad.shape[1]} grayordinates; first at (TR, grayordinate), 0-based: {listed}{more}. "
        "Fix or regenerate this file (the preprocessing that wrote it, or a mask that "
        "leaves those grayordinates out), or set data.nonfinite: exclude to leave them out "
        "for this subject (their statistics are then NaN and the group tests use the "
        "other subjects there)."
    )


def nifti_header(path, mask):
    """Open a NIfTI 4D BOLD image and check its header against the mask (no data read).

    Returns
    -------
    img, brain_models, n_trs, tr

    Raises
    ------
    FileNotFoundError, ValueError
        Naming the file: missing, no mask, not 4D, or a grid other than the mask's.
    """
    if not Path(path).exists():
        raise FileNotFoundError(f"{path}: BOLD file not found; check data.bold in the config.")
    if mask is None:
        raise ValueError(f"{path}: NIfTI BOLD needs a brain mask in the same space: set data.mask.")
    try:
        img = nib.load(path)
    except Exception as err:  # noqa: BLE001 - nibabel raises many kinds for a bad header
        raise ValueError(f"{path}: not a readable NIfTI image ({err}).") from err
    if img.ndim != 4:
        raise ValueError(f"{path}: NIfTI BOLD must be 4D (x, y, z, time), got {img.shape}")
    bm = mask_brain_models(mask)
    if tuple(img.shape[:3]) != tuple(bm.volume_shape):
        raise ValueError(
            f"{path}: image grid {img.shape[:3]} differs from the mask {mask} "
            f"{bm.volume_shape}; resample one to the other."
        )
    return img, bm, int(img.shape[3]), float(img.header.get_zooms()[3])


def bold_header(path, mask=None):
    """Number of TRs, TR and number of grayordinates (or mask voxels) of a BOLD file, from
    its header alone, checked as when it is read (CIFTI: the 91,282-grayordinate space;
    NIfTI: 4D on the mask's grid).

    Raises
    ------
    FileNotFoundError, ValueError
        Naming the file, the fault and the fix.
    """
    if is_nifti(path):
        _, bm, n_trs, tr = nifti_header(path, mask)
        return n_trs, tr, len(bm)
    n_trs, n_grayordinates, tr = dtseries_dims(path)
    return n_trs, tr, n_grayordinates


def bold_problems(path, n_trs, tr, table_path, mask=None):
    """What is wrong with a BOLD run's header for its stimulus table: one message per
    fault, each naming the file, the fault and the fix (empty when none).

    The one check of a run's header; :func:`check_run` raises on it when a job reads the
    run, ``validate_inputs`` reports it for every run when the workflow starts.

    Parameters
    ----------
    path : str or Path
    n_trs : int
        TRs of the run's stimulus table.
    tr : float
        ``data.tr``.
    table_path : str
        The stimulus table (or what gives the run's length), for the messages.
    mask : str, optional
        ``data.mask`` (NIfTI data).
    """
    try:
        n, file_tr, _ = bold_header(path, mask)
    except (OSError, ValueError) as err:
        return [str(err)]
    problems = []
    if abs(file_tr - tr) > TR_TOLERANCE:
        problems.append(
            f"{path}: TR is {file_tr} s but the stimulus table {table_path} (data.tr) "
            f"uses {tr} s; fix data.tr or the data."
        )
    if n != n_trs:
        problems.append(
            f"{path}: {n} TRs, but the stimulus table {table_path} has {n_trs} TRs; "
            "the BOLD run and the stimulus (video, segments) must match."
        )
    return problems


def check_run(bold_path, table, table_path, tr, mask=None):
    """Refuse a run whose header is bad or whose TR or length differs from its stimulus
    table (:func:`bold_problems`).

    Raises
    ------
    ValueError
        Naming both files and both values (every fault of the run).
    """
    problems = bold_problems(bold_path, len(table), tr, table_path, mask)
    if problems:
        raise ValueError("\n".join(problems))


def zscore(data, axis=0):
    """z-score along ``axis``; constant series become 0 (float32 in, float32 out).

    Callers that model the series exclude constant ones first (as
    :func:`load_subject_bold` does): their 0 is no data, not a null response.
    """
    data = np.array(data, dtype=np.float32)
    moved = np.moveaxis(data, axis, 0)
    _zscore_inplace(moved, np.empty_like(moved))
    return data


def _copy_rows(data, rows, out, block=512):
    """``out[:] = data[rows]`` a block of columns at a time.

    A CIFTI file's array is column-major (each grayordinate's series contiguous), and
    copying it whole into row-major order strides across all of memory: 0.5 to 0.8 s for
    a run of 900 TRs x 91,282 grayordinates, against 0.1 to 0.2 s by blocks of columns.
    """
    for start in range(0, data.shape[1], block):
        cols = slice(start, start + block)
        np.compress(rows, data[:, cols], axis=0, out=out[:, cols])


def _zscore_inplace(x, buf):
    """z-score the columns of ``x`` (float32, T x ...) in place, with ``buf`` (its shape)
    for the squares.

    The float32 operations of ``(x - x.mean(0)) / x.std(0)`` (numpy's own ``_var``), so
    the same values, without their three T x V temporaries; a constant column becomes 0.
    """
    mean = x.mean(axis=0, keepdims=True)
    x -= mean
    np.square(x, out=buf)
    var = np.add.reduce(buf, axis=0, keepdims=True)
    np.true_divide(var, np.intp(x.shape[0]), out=var, casting="unsafe")
    std = np.sqrt(var, out=var)
    std[std == 0] = 1.0
    x /= std


def load_subject_bold(paths, tables, tr, drop_rest=True, mask=None, nonfinite="error"):
    """Load, check and prepare all runs of one subject.

    Parameters
    ----------
    paths : list of str
        One BOLD file per run, in the order of ``data.runs``.
    tables : list of str or DataFrame
        The stimulus table of each run (paths or tables), same order.
    tr : float
        Expected repetition time (``data.tr``).
    drop_rest : bool
        Drop rest TRs (``temporal.drop_rest``).
    mask : str, optional
        Brain mask for NIfTI data.
    nonfinite : {"error", "exclude"}
        ``data.nonfinite``: a NaN or infinite value stops the job (default), or excludes
        its grayordinate for this subject.

    Returns
    -------
    ndarray, float32, shape (T_kept, V)
        Per run z-scored over kept TRs, runs concatenated. Excluded grayordinates (any
        non-finite value with ``nonfinite="exclude"``, or constant over the kept TRs of
        any run) are all-NaN columns.

    Raises
    ------
    ValueError
        On a header mismatch (before any data is read), on non-finite values with
        ``nonfinite="error"`` (when their run is read), or when every grayordinate is
        excluded.

    Notes
    -----
    Every run's header is checked before any data is read, so a mismatch fails fast.
    """
    if len(paths) != len(tables):
        raise ValueError(f"{len(paths)} BOLD files for {len(tables)} stimulus tables")
    if nonfinite not in NONFINITE_MODES:
        raise ValueError(f"data.nonfinite must be one of {NONFINITE_MODES}, got {nonfinite!r}")
    loaded = []
    for path, table in zip(paths, tables):
        table_path = table if not isinstance(table, pd.DataFrame) else "<stimulus table>"
        table = read_stimulus_table(table) if not isinstance(table, pd.DataFrame) else table
        check_run(path, table, table_path, tr, mask)
        loaded.append(table)
    # each run is written, z-scored in place, into its rows of one preallocated array:
    # no T x V temporaries beyond the run being read and one buffer for the squares
    rows = [kept_rows(timing(table), drop_rest) for table in loaded]
    counts = [int(r.sum()) for r in rows]
    starts = np.concatenate([[0], np.cumsum(counts)])
    bold = buf = geometry = None
    no_data = constant = None
    for i, path in enumerate(paths):
        data, bm, _ = read_bold(path, mask=mask, nonfinite=nonfinite)
        if geometry is None:
            geometry = (path, bm)
            no_data = np.zeros(len(bm), bool)
            constant = np.zeros(len(bm), bool)
            bold = np.empty((int(starts[-1]), len(bm)), np.float32)
            buf = np.empty((max(counts), len(bm)), np.float32)
        elif len(bm) != len(geometry[1]):
            raise ValueError(
                f"{path}: {len(bm)} grayordinates, but {geometry[0]} has {len(geometry[1])}"
            )
        # with "error", read_bold has refused any non-finite value; with "exclude" it made
        # them NaN, and a column's sum is NaN exactly when the column holds one
        if nonfinite == "exclude":
            bad = np.isnan(np.add.reduce(data, axis=0))
        else:
            bad = np.zeros(len(bm), bool)
        kept = bold[starts[i] : starts[i + 1]]
        _copy_rows(data, rows[i], kept)
        del data  # not alive while the next run is read
        flat = np.zeros_like(bad)
        if counts[i]:
            flat = (kept.max(axis=0) == kept.min(axis=0)) & ~bad
        if bad.any() or flat.any():
            log.warning(
                "%s: %d grayordinates with non-finite values (excluded: data.nonfinite: "
                "exclude), %d constant over the run's %d kept TRs (excluded)",
                path, int(bad.sum()), int(flat.sum()), counts[i],
            )
        no_data |= bad
        constant |= flat
        if counts[i]:
            _zscore_inplace(kept, buf[: counts[i]])
    excluded = no_data | constant
    if excluded.all():
        raise ValueError(
            f"{paths[0]} ...: every one of the {excluded.size} grayordinates of this subject "
            f"is excluded ({int(no_data.sum())} with non-finite values, "
            f"{int((constant & ~no_data).sum())} constant within a run); check the data."
        )
    if excluded.any():
        bold[:, excluded] = np.nan
        log.warning(
            "%s ...: %d of %d grayordinates excluded for this subject (%d with non-finite "
            "values, %d constant within a run): their statistics are NaN and the group "
            "tests use the other subjects there",
            paths[0], int(excluded.sum()), excluded.size, int(no_data.sum()),
            int((constant & ~no_data).sum()),
        )
    return bold


def brain_models_of(path, mask=None):
    """The brain-model axis (geometry) of a BOLD file, for writing outputs in its space."""
    if is_nifti(path):
        return mask_brain_models(mask)
    return dtseries_brain_models(path)


# Why NIfTI data have no surface figures (brain maps, network map, preferred-layer figure):
# logged by the workflow and the depth jobs, shown in the report.
NO_SURFACE = (
    "the data are NIfTI volumes (data.mask's voxels), which have no fs_LR cortical surface "
    "to draw on; the maps themselves are written (CIFTI files on the mask's voxels)"
)


def volumetric(config):
    """Whether the BOLD runs are NIfTI images (on the voxels of ``data.mask``) rather than
    CIFTI dense time series."""
    return is_nifti(config["data"]["bold"])
