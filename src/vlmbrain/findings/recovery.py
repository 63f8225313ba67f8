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


def modality(stream, like=None):
    """Modality of a planted coupling or a stream: its ``like`` when given, else its stream
    (``image``, ``text``; fusion streams without ``like`` have none)."""
    if isinstance(like, str) and like:
        return like
    return stream if stream in ("image", "text") else None


def add_unique_detection(recovery, attribution, ground_truth):
    """Add the attribution's reading to the recovery table.

    Parameters
    ----------
    recovery : DataFrame
        :func:`recovery_table`.
    attribution : DataFrame
        ``attribution.tsv`` (``model, stream, layer, network, drives_unique``...).
    ground_truth : DataFrame
        ``ground_truth.tsv``, with ``unique_share`` when known (see
        :func:`vlmbrain.attribution.truth.planted_unique_share`).

    Returns
    -------
    DataFrame
        ``recovery`` with ``detected_unique`` (the stream has significant unique variance
        in the network at that layer, and the marginal analysis finds the row's sign) and
        ``unique_share`` of planted rows (the share of the planted signal that the
        stream's references do not explain; NaN elsewhere).
    """
    cell = ["model", "stream", "layer", "network"]
    drives = attribution[cell + ["drives_unique"]].astype({"layer": int})
    out = recovery.merge(drives, on=cell, how="left")
    out["detected_unique"] = out["drives_unique"].fillna(False).astype(bool) & out["detected"].astype(bool)
    out = out.drop(columns="drives_unique")
    share = ground_truth[GROUND_TRUTH_COLUMNS + (["unique_share"] if "unique_share" in ground_truth else [])]
    share = share.astype({"layer": int, "sign": int})
    if "unique_share" not in share:
        share = share.assign(unique_share=np.nan)
    out = out.merge(share.drop_duplicates(GROUND_TRUTH_COLUMNS), on=GROUND_TRUTH_COLUMNS, how="left")
    return out


def unique_summary(recovery, ground_truth):
    """The attribution's recovery counts.

    Returns
    -------
    dict
        ``unique_checked_planted`` and ``unique_hits``: planted rows at layers of image or
        text streams and how many are ``detected_unique``; ``unique_checked_false`` and
        ``unique_false``: rows at those layers whose network has no plant of the layer's
        modality (planted only from the other modality, or not at all) and how many are
        ``detected_unique``; ``unique_false_rate`` (their ratio). Fusion streams' rows
        are not counted (reported with their ``unique_share``). Over the whole run:
        ``unique_cells`` (model, stream, layer, network) and ``unique_cells_detected``,
        those with a ``detected_unique`` row of either sign (on pure noise, the false
        discoveries of the attribution).
    """
    gt = ground_truth.assign(_modality=[modality(s, lk) for s, lk in
                                        zip(ground_truth["stream"], ground_truth.get("like", [None] * len(ground_truth)))])
    nets_by_modality = {m: set(g["network"]) for m, g in gt.groupby("_modality")}
    layers = {(m, s, int(la)) for m, s, la in gt[["model", "stream", "layer"]].values if s in ("image", "text")}
    at = recovery[np.array([(m, s, int(la)) in layers for m, s, la in
                            recovery[["model", "stream", "layer"]].values], bool)]
    planted = at[at["planted"].astype(bool)]
    false = at[np.array([n not in nets_by_modality.get(s, set()) for s, n in
                         at[["stream", "network"]].values], bool)]
    n_false = int(false["detected_unique"].sum())
    cells = recovery.groupby(["model", "stream", "layer", "network"])["detected_unique"].any()
    return {
        "unique_checked_planted": len(planted),
        "unique_hits": int(planted["detected_unique"].sum()),
        "unique_checked_false": len(false),
        "unique_false": n_false,
        "unique_false_rate": n_false / len(false) if len(false) else np.nan,
        "unique_cells": len(cells),
        "unique_cells_detected": int(cells.sum()),
    }
