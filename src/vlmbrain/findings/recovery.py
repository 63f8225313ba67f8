"""Planted against found couplings: ``results/simulation/recovery.tsv``."""

from __future__ import annotations

import numpy as np
import pandas as pd

COLUMNS = [
    "model",
    "stream",
    "layer",
    "network",
    "sign",
    "planted",
    "detected",
    "overlap_rate",
    "q",
    "atom",
    "outcome",
]
GROUND_TRUTH_COLUMNS = ["model", "stream", "layer", "network", "sign"]


def recovery_table(overlap, ground_truth, index, names, source="ground_truth.tsv"):
    """Whether each (model, stream, layer, network, sign) was planted and whether it was found.

    Parameters
    ----------
    overlap : DataFrame
        ``network_overlap.tsv``.
    ground_truth : DataFrame
        ``results/simulation/ground_truth.tsv`` (``model, stream, layer, network, sign``...).
    index : DataFrame
        Configured layers (``model, stream, layer``).
    names : sequence of str
        Network names.
    source : str
        Ground-truth file name used in error messages.

    Returns
    -------
    DataFrame
        One row per configured (model, stream, layer, network, sign): ``planted``,
        ``detected`` (some atom of the layer drives the network with that sign),
        ``overlap_rate``, ``q`` and ``atom`` of the best atom (smallest q, then largest
        overlap rate; the best driving atom when detected) and ``outcome`` (``hit``,
        ``miss``, ``false positive`` or ``quiet``).
    """
    missing = set(GROUND_TRUTH_COLUMNS) - set(ground_truth.columns)
    if missing:
        raise ValueError(f"{source}: missing columns {sorted(missing)}")
    configured = set(index["model"])
    gt = ground_truth[ground_truth["model"].isin(configured)]
    layers = {(m, s, int(layer)) for m, s, layer in index[["model", "stream", "layer"]].values}
    for row in gt.itertuples():
        if (row.model, row.stream, int(row.layer)) not in layers:
            raise ValueError(
                f"{source}: planted coupling at {row.model} {row.stream} layer {row.layer}, "
                "which the model's activations do not have; the ground truth is stale, "
                "rerun the simulation"
            )
        if row.network not in names:
            raise ValueError(
                f"{source}: planted network {row.network!r} is not in the template "
                f"{list(names)}; rerun the simulation with this config"
            )
    planted = {
        (m, s, int(layer), n, int(sg))
        for m, s, layer, n, sg in gt[GROUND_TRUTH_COLUMNS].values
    }
    best = (
        overlap.assign(_neg_overlap=-overlap["overlap_rate"])
        .sort_values(["q", "_neg_overlap", "atom"], kind="mergesort")
        .drop_duplicates(["model", "stream", "layer", "network", "sign"])
        .set_index(["model", "stream", "layer", "network", "sign"])
    )
    detected = (
        overlap.groupby(["model", "stream", "layer", "network", "sign"])["drives"].any()
    )
    rows = []
    for m, s, layer in index[["model", "stream", "layer"]].values:
        for n in names:
            for sign in (1, -1):
                key = (m, s, int(layer), n, sign)
                is_planted = key in planted
                found = bool(detected.get(key, False))
                b = best.loc[key] if key in best.index else None
                rows.append(
                    {
                        "model": m,
                        "stream": s,
                        "layer": int(layer),
                        "network": n,
                        "sign": sign,
                        "planted": is_planted,
                        "detected": found,
                        "overlap_rate": float(b["overlap_rate"]) if b is not None else np.nan,
                        "q": float(b["q"]) if b is not None else np.nan,
                        "atom": int(b["atom"]) if b is not None else -1,
                        "outcome": _outcome(is_planted, found),
                    }
                )
    return pd.DataFrame(rows, columns=COLUMNS)


def _outcome(planted, detected):
    if planted:
        return "hit" if detected else "miss"
    return "false positive" if detected else "quiet"


def recovery_summary(recovery):
    """Counts of hits, misses, false positives and quiet cells, and the hit rate.

    Returns
    -------
    dict
        ``n_planted, hits, misses, false_positives, quiet, false_positive_rate_at_planted``
        (the share of detected cells among the (network, sign) cells of layers that carry
        a plant whose network has no plant at that layer).
    """
    counts = recovery["outcome"].value_counts()
    layer_net = ["model", "stream", "layer", "network"]
    planted_layers = recovery.loc[recovery["planted"], ["model", "stream", "layer"]]
    planted_nets = recovery.loc[recovery["planted"], layer_net].drop_duplicates()
    at = recovery.merge(planted_layers.drop_duplicates(), on=["model", "stream", "layer"])
    at = at.merge(planted_nets.assign(_net_planted=True), on=layer_net, how="left")
    unplanted_at = at[at["_net_planted"].isna()]
    return {
        "n_planted": int(recovery["planted"].sum()),
        "hits": int(counts.get("hit", 0)),
        "misses": int(counts.get("miss", 0)),
        "false_positives": int(counts.get("false positive", 0)),
        "quiet": int(counts.get("quiet", 0)),
        "false_positive_rate_at_planted": (
            float(unplanted_at["detected"].mean()) if len(unplanted_at) else np.nan
        ),
    }
