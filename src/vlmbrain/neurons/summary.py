"""Per-AN and per-network columns of the neurons tables: pure functions of test results.

``an_table`` names a layer's ANs; ``an_parcel_columns`` and ``parcel_summary`` summarise
the parcel-level group test, ``grayordinate_an_columns``, ``grayordinate_summary`` and
``grayordinate_layer_row`` the cohort grayordinate test (``GrayordinateEncoder.encode``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "an_table",
    "an_parcel_columns",
    "top_parcels",
    "parcel_summary",
    "grayordinate_an_columns",
    "grayordinate_summary",
    "grayordinate_layer_row",
]


def an_table(model, stream, layer, n_heads, head_dim):
    """Identifiers of a layer's ANs: model, stream, layer, head, dim, column."""
    column = np.arange(n_heads * head_dim)
    return pd.DataFrame(
        {
            "model": model,
            "stream": stream,
            "layer": int(layer),
            "head": column // head_dim,
            "dim": column % head_dim,
            "column": column,
        }
    )


def an_parcel_columns(t, qv, mean_r, pos, neg, names, parcel_net, net_names, max_listed=20):
    """Per-AN parcel-level columns of one layer (no loop over ANs except the list strings)."""
    N = t.shape[0]
    rows = np.arange(N)
    sig = pos | neg
    score = np.where(sig, np.abs(t), -np.inf)
    strength = np.where(np.isnan(t), -np.inf, np.abs(t))  # NaN: untested
    best = np.where(sig.any(1), score.argmax(1), strength.argmax(1))
    net_of_best = parcel_net[best]
    out = {
        "n_parcels_pos": pos.sum(1),
        "n_parcels_neg": neg.sum(1),
        "best_parcel": names[best],
        "best_parcel_network": np.where(
            net_of_best >= 0, np.asarray(net_names + [""])[net_of_best], ""
        ),
        "best_parcel_t": t[rows, best],
        "best_parcel_r": mean_r[rows, best],
        "best_parcel_q": qv[rows, best],
    }
    for k, net in enumerate(net_names):
        inside = parcel_net == k
        out[f"parcels_pos_{net}"] = pos[:, inside].sum(1)
        out[f"parcels_neg_{net}"] = neg[:, inside].sum(1)
        # signed t of the strongest significant parcel of the network (0: none)
        t_in = np.where(sig[:, inside], t[:, inside], 0.0)
        pick = np.abs(t_in).argmax(1) if inside.any() else None
        out[f"max_t_{net}"] = t_in[rows, pick] if inside.any() else np.zeros(N)
    out["top_parcels"] = top_parcels(t, sig, names, max_listed)
    return pd.DataFrame(out)


def top_parcels(t, sig, names, max_listed):
    """Per AN, its ``max_listed`` strongest significant parcels as ``+name,-name,...``."""
    order = np.argsort(-np.abs(t), axis=1)[:, :max_listed]
    rows = np.arange(t.shape[0])[:, None]
    keep = sig[rows, order]
    signs = np.where(t[rows, order] > 0, "+", "-")
    labels = np.char.add(signs, names[order].astype(str))
    return np.array([",".join(lab[k]) for lab, k in zip(labels, keep)], dtype=object)
def parcel_summary(model, stream, layer, pos, neg, parcel_net, net_names):
    """Per-network neuron-level columns of one layer (parcel resolution)."""
    N = pos.shape[0]
    rows = []
    for k, net in enumerate(net_names):
        inside = parcel_net == k
        n_par = int(inside.sum())
        p_in, n_in = pos[:, inside], neg[:, inside]
        rows.append(
            {
                "model": model,
                "stream": stream,
                "layer": int(layer),
                "network": net,
                "n_parcels": n_par,
                "ans_per_parcel": float((p_in | n_in).sum() / n_par) if n_par else np.nan,
                "ans_per_parcel_pos": float(p_in.sum() / n_par) if n_par else np.nan,
                "ans_per_parcel_neg": float(n_in.sum() / n_par) if n_par else np.nan,
                "n_significant_ans": int((p_in | n_in).any(1).sum()),
                "share_positive_ans": float(p_in.any(1).sum() / N),
                "share_negative_ans": float(n_in.any(1).sum() / N),
            }
        )
    return pd.DataFrame(rows)


def grayordinate_an_columns(res, net_names):
    """Per-AN grayordinate columns of one layer from ``GrayordinateEncoder.encode``."""
    out = {
        "n_grayordinates_pos": res["an_total"][:, 0],
        "n_grayordinates_neg": res["an_total"][:, 1],
        "best_grayordinate_r": res["best_r"],
    }
    for k, net in enumerate(net_names):
        out[f"grayordinates_pos_{net}"] = res["an_counts"][:, k, 0]
        out[f"grayordinates_neg_{net}"] = res["an_counts"][:, k, 1]
        out[f"enriched_pos_{net}"] = res["an_enriched"][:, k, 0]
        out[f"enriched_neg_{net}"] = res["an_enriched"][:, k, 1]
    return pd.DataFrame(out)


def grayordinate_summary(model, stream, layer, res, masks, net_names):
    """Per-network rows of one layer at grayordinate resolution (a list of dicts)."""
    sizes = masks.sum(1)
    N = res["an_enriched"].shape[0]
    rows = []
    for k, net in enumerate(net_names):
        cnt = res["bn_counts"][:, masks[k]]
        hit = res["an_enriched"][:, k, :]
        rows.append(
            {
                "model": model,
                "stream": stream,
                "layer": int(layer),
                "network": net,
                "n_grayordinates": int(sizes[k]),
                "ans_per_grayordinate": float(cnt.sum() / max(sizes[k], 1)),
                "ans_per_grayordinate_pos": float(cnt[0].sum() / max(sizes[k], 1)),
                "ans_per_grayordinate_neg": float(cnt[1].sum() / max(sizes[k], 1)),
                "share_positive_ans_grayordinate": float(hit[:, 0].sum() / N),
                "share_negative_ans_grayordinate": float(hit[:, 1].sum() / N),
            }
        )
    return rows


def grayordinate_layer_row(model, stream, layer, res):
    """One row of ``grayordinate_layers.tsv``: tests, threshold and calibration of a layer."""
    return {
        "model": model,
        "stream": stream,
        "layer": int(layer),
        "n_ans": int(res["an_enriched"].shape[0]),
        "n_tests": res["n_tests"],
        "p_threshold": res["threshold"],
        "n_significant": int(res["an_total"].sum()),
        "calibration_mean_abs_p_diff": res["calibration"],
    }
