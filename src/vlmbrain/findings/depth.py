"""Depth at a glance: each grayordinate's preferred layer per model and stream.

The preferred layer of a grayordinate is the layer whose held-out prediction r (the group
mean over subjects of Fisher z of r) is highest, kept only where the subjects' r at that
layer is significantly above zero (one-sided sign-flip test, BH-FDR over grayordinates).
It reads the hierarchy from the per-layer prediction alone, without the spill-over of
the per-atom marginal maps; it is still the prediction of each layer on its own, not the
variance a layer explains beyond the others.

Notes
-----
Choosing the layer before testing it would be optimistic (a null grayordinate's best of
``n_layers`` layers passes a test at the chosen layer up to ``n_layers`` times too often;
with 2,000 of 5,000 grayordinates planted the false discovery proportion was 13% at
``q = 0.05``). The test is therefore the max-statistic sign-flip test: the statistic of a
grayordinate is its largest t over layers, and each sign pattern flips a subject's z in
every layer at once, so the null is that of the best layer
(:func:`vlmbrain.stats.sign_flip_test` with a layer axis).

The *layer* chosen among layers of similar r is itself noisy: read neighbouring layers
as one.
"""

from __future__ import annotations

import logging
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.colors import BoundaryNorm, ListedColormap, Normalize  # noqa: E402

from vlmbrain.fmri.bold import NO_SURFACE  # noqa: E402
from vlmbrain.encoding.atoms import layer_files  # noqa: E402
from vlmbrain.findings import brainmaps, line_figures  # noqa: E402
from vlmbrain.fmri.cifti import write_dlabel  # noqa: E402
from vlmbrain.io import write_tsv  # noqa: E402
from vlmbrain.networks.templates import load_networks  # noqa: E402
from vlmbrain.stats import fdr_mask, fisher_z, sign_flip_test  # noqa: E402

log = logging.getLogger("vlmbrain")

NONE_LABEL = "no significant layer"
DEPTH_CMAP = "viridis"
TABLE_COLUMNS = ["model", "stream", "network", "layer", "n_grayordinates", "fraction"]


def preferred_layer(r, q=0.05, n_flips=10000, seed=0):
    """Each grayordinate's preferred layer: best group-mean z, kept where significant.

    Parameters
    ----------
    r : ndarray (n_layers, n_subjects, V)
        Held-out prediction r of every layer, subject and grayordinate; NaN where a
        subject has no value (left out of that grayordinate's mean and test).
    q : float
        BH-FDR level over grayordinates (significant where the q-value is <= ``q``).
    n_flips : int
        Sign-flip patterns of :func:`vlmbrain.stats.sign_flip_test` (all ``2**n`` when
        fewer).
    seed : int
        Seed of the random sign patterns.

    Returns
    -------
    dict
        ``layer`` (V, int16): index along the first axis of ``r`` of the preferred layer,
        -1 where it is not significant; ``best`` (V, int16): the layer of highest group
        mean z whether significant or not (-1 where no subject has data); ``mean_r`` (V,
        float32): ``tanh`` of the group mean z at ``best``; ``p`` and ``q`` (V, float64):
        one-sided max-statistic sign-flip p of the best layer (see the module notes) and
        its BH q-value (NaN where untestable).
    """
    r = np.asarray(r)
    if r.ndim != 3:
        raise ValueError(f"r must be n_layers x n_subjects x V, got shape {r.shape}")
    n_layers, n_subjects, n_vox = r.shape
    if n_layers < 1 or n_subjects < 2:
        raise ValueError(
            f"the preferred layer needs at least 1 layer and 2 subjects, got {n_layers} "
            f"layers and {n_subjects} subjects"
        )
    z = fisher_z(r)
    finite = np.isfinite(z)
    count = finite.sum(axis=1)
    total = np.where(finite, z, 0.0).sum(axis=1, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_z = np.where(count > 0, total / count, np.nan)  # n_layers x V
    has = np.isfinite(mean_z).any(axis=0)
    best = np.where(np.isfinite(mean_z), mean_z, -np.inf).argmax(axis=0)
    columns = np.arange(n_vox)
    _, p = sign_flip_test(np.swapaxes(z, 0, 1), n_flips=n_flips, seed=seed)
    q_values, significant = fdr_mask(p, q, axis=None)
    significant &= has
    return {
        "layer": np.where(significant, best, -1).astype(np.int16),
        "best": np.where(has, best, -1).astype(np.int16),
        "mean_r": np.tanh(mean_z[best, columns]).astype(np.float32),
        "p": p,
        "q": q_values,
    }


def layer_distribution(layer, names, masks, n_layers):
    """Share of each network's significant grayordinates that prefer each layer.

    Parameters
    ----------
    layer : ndarray (V,) int
        Preferred layer per grayordinate, -1 where none is significant (the ``layer`` of
        :func:`preferred_layer`, as layer numbers).
    names : list of str
        Network names.
    masks : ndarray (n_networks, V) bool
    n_layers : int or sequence of int
        Layers ``0 .. n_layers - 1``, or the layer numbers themselves.

    Returns
    -------
    DataFrame
        Columns ``network, layer, n_grayordinates, fraction``; per network one row per
        layer (``fraction``: share of the network's grayordinates *with a significant
        layer* that prefer it, NaN when it has none) and one row with ``layer = -1``: the
        grayordinates without a significant layer (``fraction``: share of *all* the
        network's grayordinates).
    """
    layer = np.asarray(layer)
    masks = np.asarray(masks, dtype=bool)
    layers = list(range(n_layers)) if np.isscalar(n_layers) else [int(x) for x in n_layers]
    if masks.ndim != 2 or masks.shape[1] != layer.shape[0] or len(names) != len(masks):
        raise ValueError(
            f"{len(names)} network names and masks of shape {masks.shape} do not match a "
            f"layer map of {layer.shape[0]} grayordinates"
        )
    unknown = np.setdiff1d(np.unique(layer[layer >= 0]), layers)
    if unknown.size:
        raise ValueError(f"layer map holds layers {unknown.tolist()} outside {layers}")
    rows = []
    for name, mask in zip(names, masks):
        inside = layer[mask]
        n_total = int(mask.sum())
        n_sig = int((inside >= 0).sum())
        for number in layers:
            n = int((inside == number).sum())
            rows.append((str(name), number, n, n / n_sig if n_sig else np.nan))
        n_none = n_total - n_sig
        rows.append((str(name), -1, n_none, n_none / n_total if n_total else np.nan))
    return pd.DataFrame(rows, columns=["network", "layer", "n_grayordinates", "fraction"])


def depth_colours(n_layers):
    """One RGBA colour per layer position, a ramp over relative depth (first to last)."""
    cmap = plt.get_cmap(DEPTH_CMAP)
    if n_layers == 1:
        return [tuple(cmap(0.0))]
    return [tuple(cmap(i / (n_layers - 1))) for i in range(n_layers)]


def depth_maps(encoding_dirs, networks_npz, networks_dlabel, out_dlabel, out_figure, out_table,
               model, q=0.05, n_flips=10000, seed=0):
    """Preferred-layer maps of one model: a dlabel (one map per stream), a figure, a table.

    The work of the ``depth`` rule (:func:`vlmbrain.findings.jobs.depth`).

    Parameters
    ----------
    encoding_dirs : list or dict of str or Path
        ``results/encoding/sub-{subject}/{model}`` of every subject (dict values are
        used); each holds ``{stream}/layer-LL.npz`` with ``r`` (V,).
    networks_npz, networks_dlabel : str or Path
        ``results/networks/networks.npz`` (names, masks) and its dlabel (the geometry of
        the outputs).
    out_dlabel : str or Path
        ``.dlabel.nii``: one map per stream named ``{model} {stream}``; key 0 is
        "no significant layer", key ``L + 1`` is "layer L", coloured along a ramp over
        depth.
    out_figure : str or Path or None
        PNG: one row of surface views per stream, with a depth colour bar; None for data
        without a cortical surface (NIfTI), whose figure is skipped (logged).
    out_table : str or Path
        TSV with columns ``model, stream, network, layer, n_grayordinates, fraction``
        (see :func:`layer_distribution`; ``layer = -1`` rows count the grayordinates
        without a significant layer).
    model : str
    q, n_flips, seed
        See :func:`preferred_layer`.
    """
    dirs = [Path(d) for d in (encoding_dirs.values() if isinstance(encoding_dirs, dict)
                              else encoding_dirs)]
    index = _layer_index(dirs)
    bm_axis = brainmaps.brain_model_axis(networks_dlabel)
    names, masks = load_networks(networks_npz)
    n_vox = len(bm_axis)
    if masks.shape[1] != n_vox:
        raise ValueError(
            f"{networks_npz}: masks cover {masks.shape[1]} grayordinates but "
            f"{networks_dlabel} has {n_vox}; rerun the networks rule"
        )
    labels, tables, map_names, rows, frames, positions = [], [], [], [], [], []
    for stream, layers in index.items():
        r = np.stack([
            np.stack([_read_r(d / stream / f"layer-{layer:02d}.npz", n_vox) for d in dirs])
            for layer in layers
        ])
        result = preferred_layer(r, q=q, n_flips=n_flips, seed=seed)
        position = result["layer"].astype(int)
        number = np.where(position >= 0, np.asarray(layers)[np.maximum(position, 0)], -1)
        colours = depth_colours(len(layers))
        labels.append(number + 1)
        tables.append({0: (NONE_LABEL, (1.0, 1.0, 1.0, 0.0)),
                       **{n + 1: (f"layer {n}", c) for n, c in zip(layers, colours)}})
        map_names.append(f"{model} {stream}")
        positions.append((stream, layers, position))
        frame = layer_distribution(number, names, masks, layers)
        frame.insert(0, "stream", stream)
        frame.insert(0, "model", model)
        frames.append(frame)
        n_sig = int((position >= 0).sum())
        log.info("%s %s: %d of %d grayordinates with a significant preferred layer",
                 model, stream, n_sig, n_vox)
    write_dlabel(out_dlabel, np.stack(labels), tables, map_name=map_names, bm_axis=bm_axis)
    write_tsv(out_table, pd.concat(frames, ignore_index=True)[TABLE_COLUMNS])
    if out_figure is None:
        log.info("surface figure skipped: %s", NO_SURFACE)
        return
    line_figures.save_figure(_figure(model, positions, bm_axis, q, len(dirs)), out_figure, dpi=80)


def _figure(model, positions, bm_axis, q, n_subjects):
    """Surface rows (one per stream) coloured by preferred layer, and a depth colour bar."""
    rows = []
    for stream, layers, position in positions:
        sig = position >= 0
        n = len(layers)
        median = ""
        if sig.any():
            median = f"; median layer {int(np.median(np.asarray(layers)[position[sig]]))}"
        title = (f"{model} {stream} ({n} layers): preferred layer at {int(sig.sum())} of "
                 f"{position.size} grayordinates (FDR q <= {q}, {n_subjects} subjects){median}")
        rows.append((title, (position + 1).astype(np.float32),
                     {"cmap": ListedColormap(depth_colours(n)), "vmin": 1, "vmax": max(n, 2),
                      "threshold": 0.5}))
    fig = brainmaps.brain_figure(
        rows, bm_axis, kind="roi",
        suptitle=f"{model}: preferred layer per grayordinate (highest held-out r, kept where "
        "significant; uncoloured: none)",
    )
    shared = {tuple(layers) for _, layers, _ in positions}
    cax = fig.add_axes([0.3, -0.04, 0.4, 0.02])
    if len(shared) == 1:
        layers = list(shared.pop())
        n = len(layers)
        norm = BoundaryNorm(np.arange(n + 1) - 0.5, n)
        bar = fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=ListedColormap(depth_colours(n))),
                           cax=cax, orientation="horizontal", ticks=np.arange(n))
        bar.ax.set_xticklabels([str(x) for x in layers], fontsize=7)
        bar.set_label("preferred layer (first to last)", fontsize=8)
    else:
        bar = fig.colorbar(plt.cm.ScalarMappable(norm=Normalize(0, 1), cmap=DEPTH_CMAP),
                           cax=cax, orientation="horizontal")
        bar.set_label("relative depth of the preferred layer (layer / (n_layers - 1))",
                      fontsize=8)
    return fig


def _layer_index(dirs):
    """``{stream: [layers]}`` shared by every subject's encoding folder."""
    if len(dirs) < 2:
        raise ValueError(
            f"the preferred-layer map needs at least 2 subjects' encoding folders, got "
            f"{len(dirs)}; list more subjects in data.subjects"
        )
    index = None
    for d in dirs:
        found = {}
        for stream, layer, _ in layer_files(d):
            found.setdefault(stream, []).append(layer)
        if not found:
            raise FileNotFoundError(
                f"{d}: no {{stream}}/layer-LL.npz files; run the encoding of this subject "
                "and model first"
            )
        found = {s: sorted(v) for s, v in sorted(found.items())}
        if index is None:
            index, first = found, d
        elif found != index:
            raise ValueError(
                f"{d}: streams and layers {found} differ from {first}: {index}; rerun the "
                "encoding of this subject (or of the first) so that all subjects have the "
                "same layer files"
            )
    return index


def _read_r(path, n_vox):
    """The held-out r (V,) of one encoding layer file, checked against the geometry."""
    with np.load(path) as data:
        if "r" not in data:
            raise KeyError(f"{path}: no array 'r' (held-out r); rerun the encoding of this subject")
        r = np.asarray(data["r"], dtype=np.float32)
    if r.shape != (n_vox,):
        raise ValueError(
            f"{path}: r has shape {r.shape}, but the network template has {n_vox} "
            "grayordinates; encode in the template's space or rebuild the networks"
        )
    return r
