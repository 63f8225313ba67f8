"""``network_overlap.tsv``: every atom map (per polarity) against every network."""

from __future__ import annotations

import logging

import pandas as pd
from tqdm.auto import tqdm

from vlmbrain.findings.inputs import layer_file, load_group_layer
from vlmbrain.networks.enrichment import layer_overlap_table

log = logging.getLogger("vlmbrain")

COLUMNS = [
    "model",
    "stream",
    "layer",
    "atom",
    "network",
    "sign",
    "overlap_rate",
    "dice",
    "p",
    "q",
    "drives",
]


def network_overlap_table(index, group_dirs, names, masks, q=0.05):
    """Overlap, Dice and enrichment of every atom map with every network, all layers.

    Parameters
    ----------
    index : DataFrame
        Configured layers (columns ``model, stream, layer``), from
        :func:`vlmbrain.findings.inputs.layer_index`.
    group_dirs : mapping
        ``{model: results/group/{model}}``; layer files are ``{stream}/layer-{LL}.npz``.
    names : sequence of str
        Network names.
    masks : ndarray (n_networks, V) bool
        Network masks.
    q : float
        FDR level of ``drives`` (Benjamini-Hochberg over atoms x networks x signs of a
        layer, as in :func:`vlmbrain.networks.enrichment.layer_overlap_table`).

    Returns
    -------
    DataFrame
        Columns ``model, stream, layer, atom, network, sign, overlap_rate, dice, p, q,
        drives``; one row per (layer, atom, network, sign).
    """
    frames = []
    for row in tqdm(index.itertuples(), total=len(index), desc="network overlap"):
        group = load_group_layer(
            layer_file(group_dirs, row.model, row.stream, row.layer), masks.shape[1]
        )
        table = layer_overlap_table(group["activated"], group["deactivated"], names, masks, q=q)
        table.insert(0, "layer", int(row.layer))
        table.insert(0, "stream", row.stream)
        table.insert(0, "model", row.model)
        frames.append(table)
    out = pd.concat(frames, ignore_index=True)[COLUMNS]
    out["sign"] = out["sign"].astype(int)
    out["drives"] = out["drives"].astype(bool)
    log.info(
        "network overlap: %d rows, %d driving (atom, network, sign) over %d layers",
        len(out),
        int(out["drives"].sum()),
        len(index),
    )
    return out
