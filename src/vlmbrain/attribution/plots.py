"""The attribution figure of one model: unique and shared R^2 per network across layers."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from vlmbrain.findings.line_figures import STREAM_STYLES, save_figure  # noqa: E402

STREAM_COLOURS = {"image": "#1f77b4", "text": "#d62728", "fusion_image": "#2ca02c",
                  "fusion_text": "#9467bd"}


def unique_variance_figure(cells, model, path):
    """One panel per network: each stream's unique R^2 (solid, filled where it drives the
    network uniquely) and shared R^2 (thin, grey) across layers.

    Parameters
    ----------
    cells : DataFrame
        ``attribution.tsv`` rows (any models; ``model`` selects).
    model : str
    path : str or Path
        PNG written atomically.
    """
    sub = cells[cells["model"] == model]
    if sub.empty:
        raise ValueError(f"the attribution table has no row of model {model!r}")
    networks = list(dict.fromkeys(sub["network"]))
    fig, axes = plt.subplots(1, len(networks), figsize=(3.2 * len(networks), 3.0),
                             sharey=True, squeeze=False)
    for ax, network in zip(axes[0], networks):
        for stream, s in sub[sub["network"] == network].groupby("stream", sort=False):
            s = s.sort_values("layer")
            colour = STREAM_COLOURS.get(stream, "#555555")
            label = f"{stream} vs {s['reference'].iloc[0]}"
            ax.plot(s["layer"], s["unique_r2"], color=colour,
                    linestyle=STREAM_STYLES.get(stream, "-"), label=f"unique: {label}")
            drives = s["drives_unique"].astype(bool).to_numpy()
            ax.scatter(s["layer"][drives], s["unique_r2"][drives], color=colour, s=22, zorder=3)
            ax.plot(s["layer"], s["shared_r2"], color=colour, alpha=0.35, linewidth=1,
                    linestyle=":", label=f"shared: {stream}")
        ax.axhline(0.0, color="black", linewidth=0.5)
        ax.set_title(network)
        ax.set_xlabel("layer")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[0][0].set_ylabel("held-out R$^2$ (group mean over the network)")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=7)
    fig.suptitle(f"{model}: unique and shared variance (dots: the stream drives the network "
                 "uniquely, FDR)", fontsize=9)
    fig.tight_layout()
    save_figure(fig, path)
