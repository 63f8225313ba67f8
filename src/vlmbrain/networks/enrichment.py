"""Overlap and enrichment of binary grayordinate maps with functional networks."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from vlmbrain.stats import enrichment_p, fdr_mask


def _as_bool_2d(name, array):
    array = np.asarray(array)
    if array.ndim == 1:
        array = array[None]
    if array.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (n x V) boolean array, got shape {array.shape}")
    if array.dtype != bool:
        raise ValueError(f"{name} must be boolean, got dtype {array.dtype}")
    return array


def overlap_stats(maps, masks):
    """Overlap rate, Dice and hypergeometric enrichment of maps with networks.

    Parameters
    ----------
    maps : ndarray of bool, shape (n_maps, V)
        Binary maps (e.g. one atom's activated grayordinates).
    masks : ndarray of bool, shape (n_networks, V)
        Network masks on the same V grayordinates.

    Returns
    -------
    dict of ndarray, each (n_maps, n_networks)
        ``overlap_rate`` = |M & N| / |N|; ``dice`` = 2|M & N| / (|M| + |N|) (0 when both
        are empty); ``p`` = P(X >= |M & N|) for X hypergeometric with population V,
        |N| successes and |M| draws (:func:`vlmbrain.stats.enrichment_p`, equal to scipy's
        ``hypergeom.sf``; 1 for empty maps);
        ``n_overlap`` = |M & N| (int).
    """
    maps = _as_bool_2d("maps", maps)
    masks = _as_bool_2d("masks", masks)
    if maps.shape[1] != masks.shape[1]:
        raise ValueError(
            f"maps have {maps.shape[1]} grayordinates but network masks have "
            f"{masks.shape[1]}; both must be on the same grayordinate space"
        )
    n_vox = maps.shape[1]
    inter = maps.astype(np.float32) @ masks.T.astype(np.float32)
    inter = np.rint(inter).astype(np.int64)
    size_m = maps.sum(1).astype(np.int64)[:, None]
    size_n = masks.sum(1).astype(np.int64)[None, :]
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(size_n > 0, inter / np.maximum(size_n, 1), 0.0)
        denom = size_m + size_n
        dice = np.where(denom > 0, 2.0 * inter / np.maximum(denom, 1), 0.0)
    p = enrichment_p(inter, n_vox, size_n, size_m)
    return {"overlap_rate": rate, "dice": dice, "p": p, "n_overlap": inter}


def layer_overlap_table(activated, deactivated, names, masks, q=0.05):
    """Network overlap table of one layer's atoms, both polarities.

    Parameters
    ----------
    activated, deactivated : ndarray of bool, shape (K, V)
        Each atom's activated (sign +1) and deactivated (sign -1) grayordinates.
    names : sequence of str
        Network names, one per row of ``masks``.
    masks : ndarray of bool, shape (n_networks, V)
        Network masks.
    q : float
        FDR level for ``drives``.

    Returns
    -------
    DataFrame
        One row per atom x network x sign with columns ``atom, network, sign,
        overlap_rate, dice, p, q, drives``; ``q`` is Benjamini-Hochberg over all rows of
        the layer and ``drives = (q <= q_threshold) & (overlap_rate > 0)``.
    """
    activated = _as_bool_2d("activated", activated)
    deactivated = _as_bool_2d("deactivated", deactivated)
    names = [str(n) for n in names]
    if activated.shape != deactivated.shape:
        raise ValueError(
            f"activated {activated.shape} and deactivated {deactivated.shape} maps differ in shape"
        )
    if len(names) != np.asarray(masks).shape[0]:
        raise ValueError(f"{len(names)} network names for {np.asarray(masks).shape[0]} masks")
    n_atoms = activated.shape[0]
    frames = []
    for sign, maps in ((1, activated), (-1, deactivated)):
        res = overlap_stats(maps, masks)
        atom, net = np.meshgrid(np.arange(n_atoms), np.arange(len(names)), indexing="ij")
        frames.append(
            pd.DataFrame(
                {
                    "atom": atom.ravel(),
                    "network": np.asarray(names, dtype=object)[net.ravel()],
                    "sign": sign,
                    "overlap_rate": res["overlap_rate"].ravel(),
                    "dice": res["dice"].ravel(),
                    "p": res["p"].ravel(),
                }
            )
        )
    table = pd.concat(frames, ignore_index=True)
    qv, sig = fdr_mask(table["p"].to_numpy(), q, axis=0)
    table["q"] = qv
    table["drives"] = sig & (table["overlap_rate"] > 0)
    return table.sort_values(["atom", "sign", "network"], ascending=[True, False, True],
                             kind="stable").reset_index(drop=True)
