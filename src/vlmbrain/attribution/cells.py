"""Attribution per network: the cells of ``attribution.tsv`` and the architecture on unique maps.

A cell is (model, stream, layer, network). Its unique map is the set of grayordinates with
significant unique R^2 (:mod:`vlmbrain.attribution.significance`); the stream *drives the
network uniquely* when that map is enriched in the network (hypergeometric test, BH-FDR over
all cells), the same rule as the marginal analysis applies to atom maps.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from vlmbrain.findings.tables import check_modality_networks, modality_specificity
from vlmbrain.stats import enrichment_p, fdr_mask

__all__ = ["COLUMNS", "ARCHITECTURE_COLUMNS", "architecture_unique", "drives_unique", "layer_cells"]

COLUMNS = [
    "model", "stream", "layer", "network", "reference", "unique_r2", "shared_r2",
    "fraction_unique", "n_unique", "p", "q", "drives_unique",
]
ARCHITECTURE_COLUMNS = [
    "model", "stream", "reference", "n_layers", "vision_unique", "language_unique", "msi_unique",
    "n_vision_layers", "n_language_layers", "n_cross_modal_layers", "share_cross_modal_layers",
]


def layer_cells(model, stream, layer, reference, maps, names, masks):
    """The network rows of one layer (without the FDR columns).

    Parameters
    ----------
    model, stream : str
    layer : int
    reference : str
        The references the stream competed with (``text``, ``image+text``...).
    maps : dict
        :func:`~vlmbrain.attribution.significance.unique_group_maps` of the layer.
    names : sequence of str
        Network names.
    masks : ndarray (n_networks, V) bool

    Returns
    -------
    DataFrame
        ``model, stream, layer, network, reference, unique_r2, shared_r2`` (group means
        over the network's grayordinates), ``fraction_unique`` (share of the network with
        significant unique R^2), ``n_unique`` and the enrichment ``p``.
    """
    sig = np.asarray(maps["significant"], bool)
    masks = np.asarray(masks, bool)
    if masks.shape[1] != sig.size:
        raise ValueError(f"networks have {masks.shape[1]} grayordinates, the maps {sig.size}")
    inter = (masks & sig[None, :]).sum(1)
    sizes = masks.sum(1)
    p = enrichment_p(inter, sig.size, sizes, int(sig.sum()))
    rows = []
    for i, name in enumerate(names):
        m = masks[i]
        rows.append({
            "model": model, "stream": stream, "layer": int(layer), "network": name,
            "reference": reference,
            "unique_r2": float(np.nanmean(maps["mean_unique"][m])) if m.any() else np.nan,
            "shared_r2": float(np.nanmean(maps["mean_shared"][m])) if m.any() else np.nan,
            "fraction_unique": float(inter[i] / sizes[i]) if sizes[i] else np.nan,
            "n_unique": int(inter[i]),
            "p": float(p[i]),
        })
    return pd.DataFrame(rows)


def drives_unique(cells, q=0.05):
    """Add ``q`` (BH-FDR over all cells) and ``drives_unique`` (``q <= q`` and some overlap)."""
    cells = cells.copy()
    qv, sig = fdr_mask(cells["p"].to_numpy(), q, axis=None)
    cells["q"] = qv
    cells["drives_unique"] = sig & (cells["n_unique"].to_numpy() > 0)
    return cells[COLUMNS]


def architecture_unique(cells, vision="vision", language="language"):
    """Finding 4 on unique maps: modality specificity and cross-modal layers per stream.

    Returns
    -------
    DataFrame
        One row per (model, stream): ``vision_unique`` and ``language_unique`` (mean over
        layers of the fraction of the network with significant unique R^2), ``msi_unique``
        = (U_v - U_l) / (U_v + U_l) (NaN when both are 0), the numbers of layers whose
        unique map drives vision, language and both, and ``share_cross_modal_layers`` =
        both / either (NaN when none).
    """
    check_modality_networks(cells["network"], vision, language, "the attribution table")
    rows = []
    for (model, stream), sub in cells.groupby(["model", "stream"], sort=False):
        v = sub[sub["network"] == vision]
        lang = sub[sub["network"] == language]
        u_v, u_l = float(v["fraction_unique"].mean()), float(lang["fraction_unique"].mean())
        layers_v = set(v.loc[v["drives_unique"].astype(bool), "layer"])
        layers_l = set(lang.loc[lang["drives_unique"].astype(bool), "layer"])
        either, both = layers_v | layers_l, layers_v & layers_l
        rows.append({
            "model": model, "stream": stream, "reference": sub["reference"].iloc[0],
            "n_layers": int(sub["layer"].nunique()),
            "vision_unique": u_v, "language_unique": u_l,
            "msi_unique": modality_specificity(u_v, u_l),
            "n_vision_layers": len(layers_v), "n_language_layers": len(layers_l),
            "n_cross_modal_layers": len(both),
            "share_cross_modal_layers": len(both) / len(either) if either else np.nan,
        })
    return pd.DataFrame(rows, columns=ARCHITECTURE_COLUMNS)
