"""Figures of the four findings across layers, streams and models (matplotlib, Agg).

Every model/stream is drawn with one colour per model and one line style per stream; the
unimodal references (ViT, RoBERTa) are labelled ``(unimodal)`` and drawn in grey tones
so that they read as baselines in every comparison.
"""

from __future__ import annotations

from io import BytesIO

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402
from PIL import Image  # noqa: E402

from vlmbrain.io import atomic_path  # noqa: E402

STREAM_STYLES = {"image": "-", "text": "--", "fusion_image": "-.", "fusion_text": ":"}
MODEL_COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"]
UNIMODAL_COLOURS = ["#555555", "#999999", "#333333", "#bbbbbb"]


def series_styles(index):
    """Colour, line style and label of each (model, stream), from the layer index.

    Parameters
    ----------
    index : DataFrame
        Configured layers (``model, stream, unimodal``).

    Returns
    -------
    dict
        ``{(model, stream): {"color", "linestyle", "label"}}`` in index order.
    """
    styles = {}
    multi, uni = [], []
    for model, unimodal in index.drop_duplicates("model")[["model", "unimodal"]].values:
        (uni if unimodal else multi).append(model)
    colours = {m: MODEL_COLOURS[i % len(MODEL_COLOURS)] for i, m in enumerate(multi)}
    colours.update({m: UNIMODAL_COLOURS[i % len(UNIMODAL_COLOURS)] for i, m in enumerate(uni)})
    for model, stream, unimodal in index.drop_duplicates(["model", "stream"])[
        ["model", "stream", "unimodal"]
    ].values:
        styles[(model, stream)] = {
            "color": colours[model],
            "linestyle": STREAM_STYLES.get(stream, "-"),
            "label": f"{model} {stream}" + (" (unimodal)" if unimodal else ""),
        }
    return styles


def save_figure(fig, path, dpi=110):
    """Save ``fig`` as a palette PNG atomically and close it.

    The figures are embedded in the self-contained report: reduced to 256 colours
    (octree, no dithering, which would only add noise to flat areas) and optimised, a
    figure's PNG is 3 to 4 times smaller than matplotlib's 24-bit one, with the same
    lines, text and colour maps (bench/README.md, "Disk footprint").
    """
    buffer = BytesIO()
    fig.savefig(buffer, dpi=dpi, format="png", bbox_inches="tight")
    plt.close(fig)
    buffer.seek(0)
    with Image.open(buffer) as image:
        palette = image.convert("RGB").quantize(
            colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE
        )
    with atomic_path(path) as tmp:
        palette.save(tmp, format="png", optimize=True)


def _network_grid(table, index, rows, networks, ylabel_fmt=None):
    """Line plots: one row per metric, one column per network, one line per stream."""
    styles = series_styles(index)
    fig, axes = plt.subplots(
        len(rows),
        len(networks),
        figsize=(3.2 * len(networks) + 2.5, 2.5 * len(rows)),
        squeeze=False,
        sharex=True,
    )
    for j, network in enumerate(networks):
        sub = table[table["network"] == network]
        for i, (column, label) in enumerate(rows):
            ax = axes[i, j]
            for (model, stream), style in styles.items():
                s = sub[(sub["model"] == model) & (sub["stream"] == stream)].sort_values("layer")
                if len(s):
                    ax.plot(s["layer"], s[column], marker="o", markersize=2.5, lw=1.3, **style)
            if i == 0:
                ax.set_title(network)
            if j == 0:
                ax.set_ylabel(label)
            if i == len(rows) - 1:
                ax.set_xlabel("layer")
            ax.grid(alpha=0.3)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8)
    fig.tight_layout()
    return fig


def prediction_figure(prediction, index):
    """Finding 1: mean held-out r and driven fraction per network across layers.

    Where a network's held-out r can be read against its noise ceiling (``r_fraction``
    defined), the r panel shows the ceiling as a dotted line and a row shows
    ``r_fraction``; elsewhere those panels say "n/a" (``ceiling_note`` says why).
    """
    networks = list(dict.fromkeys(prediction["network"]))
    if "r_fraction" in prediction:
        finite = np.isfinite(prediction["r_fraction"].astype(float))
        usable = finite.groupby(prediction["network"]).any()
        ceiling = prediction.drop_duplicates("network").set_index("network")["noise_ceiling"]
    else:
        usable = pd.Series(False, index=networks)
        ceiling = pd.Series(np.nan, index=networks)
    rows = [("mean_r", "mean held-out r")]
    if usable.any():
        rows.append(("r_fraction", "r / noise ceiling"))
    rows += [("fraction_driven", "fraction driven"), ("n_driving_atoms", "driving atoms")]
    fig = _network_grid(prediction, index, rows, networks)
    axes = np.asarray(fig.axes[: len(rows) * len(networks)]).reshape(len(rows), len(networks))
    for j, network in enumerate(networks):
        if usable.get(network, False):
            value = float(ceiling[network])
            axes[0, j].axhline(value, color="k", ls=":", lw=1.2)
            axes[0, j].text(0.98, value, f"noise ceiling {value:.2f}", ha="right", va="top",
                            transform=axes[0, j].get_yaxis_transform(), fontsize=7)
            continue
        for ax in axes[: 2 if usable.any() else 1, j]:
            ax.text(0.98, 0.95, "noise ceiling n/a (ceiling_note)", transform=ax.transAxes,
                    ha="right", va="top", fontsize=7, color="#555555",
                    bbox={"facecolor": "white", "alpha": 0.8, "linewidth": 0})
    fig.suptitle("Finding 1: artificial neurons predict brain networks", y=1.02)
    return fig


def redundancy_figure(redundancy, index):
    """Finding 2: atoms and ANs per driven grayordinate, networks per AN, Jaccard."""
    networks = list(dict.fromkeys(redundancy["network"]))
    fig = _network_grid(
        redundancy,
        index,
        [
            ("atoms_per_grayordinate", "atoms / driven BN"),
            ("ans_per_grayordinate", "ANs / driven BN"),
            ("networks_per_an", "networks / AN"),
            ("jaccard", "Jaccard of driving maps"),
        ],
        networks,
    )
    fig.suptitle("Finding 2: functional redundancy", y=1.02)
    return fig


def polarity_figure(polarity, trend, index):
    """Finding 3: activated (up, red) and deactivated (down, blue) fractions per layer."""
    networks = list(dict.fromkeys(polarity["network"]))
    styles = series_styles(index)
    keys = list(styles)
    fig, axes = plt.subplots(
        len(keys),
        len(networks),
        figsize=(3.0 * len(networks), 1.7 * len(keys) + 0.6),
        squeeze=False,
        sharey=True,
    )
    trend = trend.set_index(["model", "stream", "network"])
    lim = max(
        float(polarity[["fraction_activated", "fraction_deactivated"]].max().max()), 1e-3
    )
    for i, (model, stream) in enumerate(keys):
        for j, network in enumerate(networks):
            ax = axes[i, j]
            s = polarity[
                (polarity["model"] == model)
                & (polarity["stream"] == stream)
                & (polarity["network"] == network)
            ].sort_values("layer")
            ax.bar(s["layer"], s["fraction_activated"], color="#d62728", width=0.8)
            ax.bar(s["layer"], -s["fraction_deactivated"], color="#1f77b4", width=0.8)
            ax.axhline(0, color="k", lw=0.5)
            ax.set_ylim(-1.05 * lim, 1.05 * lim)
            r = trend.loc[(model, stream, network), "r"] if (
                model,
                stream,
                network,
            ) in trend.index else np.nan
            ax.text(
                0.02, 0.95, f"r = {r:.2f}" if np.isfinite(r) else "r = n/a",
                transform=ax.transAxes, fontsize=7, va="top",
            )
            if i == 0:
                ax.set_title(network)
            if j == 0:
                ax.set_ylabel(styles[(model, stream)]["label"], fontsize=7)
            if i == len(keys) - 1:
                ax.set_xlabel("layer")
            ax.tick_params(labelsize=7)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.suptitle(
        "Finding 3: polarity (red up: activated fraction; blue down: deactivated fraction)",
        y=1.0,
    )
    fig.tight_layout()
    return fig


def architecture_figure(architecture, prediction, index, vision="vision", language="language"):
    """Finding 4: modality-specificity index and cross-modal atoms per model and stream."""
    styles = series_styles(index)
    keys = [k for k in styles if k in set(map(tuple, architecture[["model", "stream"]].values))]
    arch = architecture.set_index(["model", "stream"]).loc[keys]
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.2))
    x = np.arange(len(keys))
    labels = [styles[k]["label"] for k in keys]
    colours = [styles[k]["color"] for k in keys]
    hatches = ["//" if u else "" for u in arch["unimodal"]]
    for ax, column, title in (
        (axes[0], "msi", "modality-specificity index\n(O_vision - O_language) / (O_vision + O_language)"),
        (axes[1], "share_cross_modal", "share of cross-modal atoms\n(drive vision and language)"),
    ):
        values = arch[column].to_numpy(float)
        bars = ax.bar(x, np.nan_to_num(values), color=colours, edgecolor="k", lw=0.5)
        for bar, hatch, value in zip(bars, hatches, values):
            bar.set_hatch(hatch)
            if not np.isfinite(value):
                ax.text(bar.get_x() + bar.get_width() / 2, 0, "n/a", ha="center",
                        va="bottom", fontsize=7)
        ax.set_xticks(x, labels, rotation=45, ha="right", fontsize=8)
        ax.axhline(0, color="k", lw=0.5)
        ax.set_title(title, fontsize=9)
    axes[0].set_ylim(-1.1, 1.1)
    axes[1].set_ylim(0, 1.05)
    for xi, n in zip(x, arch["n_cross_modal_atoms"]):
        axes[1].text(xi, 1.0, f"n={n}", ha="center", fontsize=7)
    ax = axes[2]
    wide = prediction[prediction["network"].isin([vision, language])].pivot_table(
        index=["model", "stream", "layer"], columns="network", values="fraction_driven"
    )
    for key in keys:
        if key not in wide.index.droplevel("layer"):
            continue
        s = wide.loc[key]
        total = s[vision] + s[language]
        msi = np.where(total > 0, (s[vision] - s[language]) / total.where(total > 0, 1), np.nan)
        ax.plot(s.index, msi, marker="o", markersize=3, **styles[key])
    ax.set_ylim(-1.1, 1.1)
    ax.axhline(0, color="k", lw=0.5)
    ax.set_xlabel("layer")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title("MSI per layer (layers driving neither network omitted)", fontsize=9)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.suptitle("Finding 4: architecture (hatched: unimodal references)", y=1.02)
    fig.tight_layout()
    return fig


def recovery_figure(recovery):
    """Simulation: planted (outlined) against detected (filled) cells per layer and network."""
    keys = list(dict.fromkeys(map(tuple, recovery[["model", "stream"]].values)))
    networks = list(dict.fromkeys(recovery["network"]))
    cols = [(n, s) for n in networks for s in (1, -1)]
    n_layers = recovery.groupby(["model", "stream"])["layer"].max() + 1
    fig, axes = plt.subplots(
        len(keys), 1, figsize=(8, 0.45 * len(cols) * len(keys) / 2 + 1.5), squeeze=False
    )
    colour = {"hit": "#2ca02c", "miss": "#d62728", "false positive": "#ff7f0e", "quiet": "#eeeeee"}
    for ax, key in zip(axes[:, 0], keys):
        sub = recovery[(recovery["model"] == key[0]) & (recovery["stream"] == key[1])]
        for row in sub.itertuples():
            y = cols.index((row.network, row.sign))
            ax.add_patch(
                plt.Rectangle(
                    (row.layer - 0.45, y - 0.45), 0.9, 0.9, facecolor=colour[row.outcome],
                    edgecolor="k" if row.planted else "none", lw=1.2,
                )
            )
        ax.set_xlim(-0.6, n_layers[key] - 0.4)
        ax.set_ylim(-0.6, len(cols) - 0.4)
        ax.set_yticks(range(len(cols)), [f"{n} {'+' if s > 0 else '-'}" for n, s in cols],
                      fontsize=7)
        ax.set_xticks(range(int(n_layers[key])))
        ax.tick_params(labelsize=7)
        ax.set_title(f"{key[0]} {key[1]}", fontsize=9)
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in colour.values()]
    fig.legend(handles, list(colour), loc="upper right", fontsize=8, ncol=4)
    axes[-1, 0].set_xlabel("layer")
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    return fig
