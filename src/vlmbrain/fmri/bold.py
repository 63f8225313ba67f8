"""A subject's BOLD data, checked against the stimulus tables and prepared for encoding.

Per run each grayordinate is z-scored over the TRs that are kept (movie TRs when
``drop_rest``), rest TRs are dropped and the runs are concatenated.
CIFTI-2 dense time series (91,282 grayordinates) and NIfTI 4D images with a mask are
accepted; NIfTI data are described by a volumetric brain-model axis built from the mask,
so that every output can be written as CIFTI in the input's own space.
"""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pandas as pd
from nibabel.cifti2 import cifti2_axes

from vlmbrain.fmri.cifti import dtseries_shape, read_dtseries
from vlmbrain.stimuli.table import kept_rows, read_stimulus_table, timing

TR_TOLERANCE = 1e-3


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


def read_bold(path, mask=None):
    """Read one run of BOLD data.

    Returns
    -------
    data : ndarray, float32, shape (T, V)
    brain_models : BrainModelAxis
    tr : float
    """
    if is_nifti(path):
        if mask is None:
            raise ValueError(
                f"{path}: NIfTI BOLD needs a brain mask in the same space: set data.mask."
            )
        img = nib.load(path)
        if img.ndim != 4:
            raise ValueError(f"{path}: NIfTI BOLD must be 4D (x, y, z, time), got {img.shape}")
        bm = mask_brain_models(mask)
        if tuple(img.shape[:3]) != tuple(bm.volume_shape):
            raise ValueError(
                f"{path}: image grid {img.shape[:3]} differs from the mask {mask} "
                f"{bm.volume_shape}; resample one to the other."
            )
        ijk = bm.voxel
        data = np.asarray(img.dataobj, dtype=np.float32)[ijk[:, 0], ijk[:, 1], ijk[:, 2], :].T
        return np.ascontiguousarray(data), bm, float(img.header.get_zooms()[3])
    return read_dtseries(path)


def bold_length(path):
    """Number of TRs and TR of a BOLD file, from its header alone."""
    if is_nifti(path):
        img = nib.load(path)
        return img.shape[3], float(img.header.get_zooms()[3])
    n, _, tr = dtseries_shape(path)
    return n, tr


def check_run(bold_path, table, table_path, tr):
    """Refuse a run whose TR or length differs from its stimulus table.

    Raises
    ------
    ValueError
        Naming both files and both values.
    """
    n, file_tr = bold_length(bold_path)
    if abs(file_tr - tr) > TR_TOLERANCE:
        raise ValueError(
            f"{bold_path}: TR is {file_tr} s but the stimulus table {table_path} (data.tr) "
            f"uses {tr} s; fix data.tr or the data."
        )
    if n != len(table):
        raise ValueError(
            f"{bold_path}: {n} TRs, but the stimulus table {table_path} has {len(table)} TRs; "
            "the BOLD run and the stimulus (video, segments) must match."
        )


def zscore(data, axis=0):
    """z-score along ``axis``; constant series become 0 (float32 in, float32 out)."""
    data = np.asarray(data, dtype=np.float32)
    mean = data.mean(axis=axis, keepdims=True)
    std = data.std(axis=axis, keepdims=True)
    std[std == 0] = 1.0
    return (data - mean) / std


def load_subject_bold(paths, tables, tr, drop_rest=True, mask=None):
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

    Returns
    -------
    ndarray, float32, shape (T_kept, V)
        Per run z-scored over kept TRs, runs concatenated.

    Notes
    -----
    Every run's header is checked before any data is read, so a mismatch fails fast.
    """
    if len(paths) != len(tables):
        raise ValueError(f"{len(paths)} BOLD files for {len(tables)} stimulus tables")
    loaded = []
    for path, table in zip(paths, tables):
        table_path = table if not isinstance(table, pd.DataFrame) else "<stimulus table>"
        table = read_stimulus_table(table) if not isinstance(table, pd.DataFrame) else table
        check_run(path, table, table_path, tr)
        loaded.append(table)
    out, geometry = [], None
    for path, table in zip(paths, loaded):
        data, bm, _ = read_bold(path, mask=mask)
        if geometry is None:
            geometry = (path, bm)
        elif len(bm) != len(geometry[1]):
            raise ValueError(
                f"{path}: {len(bm)} grayordinates, but {geometry[0]} has {len(geometry[1])}"
            )
        out.append(zscore(data[kept_rows(timing(table), drop_rest)]))
    return np.concatenate(out, axis=0)


def brain_models_of(path, mask=None):
    """The brain-model axis (geometry) of a BOLD file, for writing outputs in its space."""
    if is_nifti(path):
        return mask_brain_models(mask)
    img = nib.load(Path(path))
    return img.header.get_axis(1)
