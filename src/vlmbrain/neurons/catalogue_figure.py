"""The neuron catalogue figure: share of ANs per network and sign, across layers."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from vlmbrain.findings.line_figures import save_figure  # noqa: E402

__all__ = ["catalogue_figure"]


def catalogue_figure(summary, path):
    """One panel per model x stream: per layer, the share of ANs coupled to each network.

    Positive coupling is drawn above zero, negative below (mirrored), from the parcel-level
    ``share_positive_ans`` and ``share_negative_ans`` of ``network_summary``.
    """
    groups = list(summary.groupby(["model", "stream"], sort=False))
    n = max(len(groups), 1)
    ncol = min(4, n)
    nrow = int(np.ceil(n / ncol))
    fig, axes = plt.subplots(nrow, ncol, figsize=(4 * ncol, 3 * nrow), squeeze=False, sharey=True)
    networks = list(dict.fromkeys(summary["network"]))
    colours = {net: plt.cm.tab10(i % 10) for i, net in enumerate(networks)}
    for ax, ((model, stream), frame) in zip(axes.flat, groups):
        for net, f in frame.groupby("network", sort=False):
            f = f.sort_values("layer")
            ax.plot(f["layer"], f["share_positive_ans"], "-o", ms=3, color=colours[net], label=net)
            ax.plot(f["layer"], -f["share_negative_ans"], "--o", ms=3, color=colours[net])
        ax.axhline(0, color="k", lw=0.5)
        ax.set_title(f"{model} / {stream}", fontsize=9)
        ax.set_xlabel("layer")
    for ax in axes[:, 0]:
        ax.set_ylabel("share of ANs (+ above, - below)")
    for ax in list(axes.flat)[len(groups) :]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.suptitle("Share of ANs with a significant parcel per network and sign", fontsize=10)
    fig.tight_layout()
    save_figure(fig, path, dpi=110)
