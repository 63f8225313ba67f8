"""Entry points of the findings rules: read inputs, compute, write outputs atomically."""

from __future__ import annotations

import logging
import numpy as np
from tqdm.auto import tqdm

from vlmbrain.findings import brainmaps, line_figures
from vlmbrain.findings.inputs import layer_file, layer_index
from vlmbrain.models.files import load_activations
from vlmbrain.findings.network_overlap import network_overlap_table
from vlmbrain.findings.recovery import recovery_table
from vlmbrain.findings.tables import (
    architecture,
    layer_tables,
    merge_neuron_columns,
    polarity_trend,
)
from vlmbrain.io import read_tsv, write_tsv
from vlmbrain.networks.templates import load_networks

log = logging.getLogger("vlmbrain")


def load_index(activation_dirs):
    """Layer index from the activations manifests (``{model: dir}``, config order)."""
    return layer_index({model: load_activations(d) for model, d in activation_dirs.items()})


def make_network_overlap(activation_dirs, group_root, networks_npz, output, q=0.05):
    """Write ``network_overlap.tsv`` for every configured layer.

    Parameters
    ----------
    activation_dirs : dict
        ``{model: results/activations/{model}}`` (manifests give streams and layers).
    group_root : str or Path
        ``results/group``.
    networks_npz : str or Path
        ``results/networks/networks.npz``.
    output : str or Path
        ``results/tables/network_overlap.tsv``.
    q : float
        ``networks.enrichment_q``.
    """
    index = load_index(activation_dirs)
    names, masks = load_networks(networks_npz)
    write_tsv(output, network_overlap_table(index, group_root, list(names), masks, q=q))


def make_tables(
    activation_dirs,
    group_root,
    atoms_root,
    networks_npz,
    overlap_tsv,
    outputs,
    neuron_summary=None,
    vision="vision",
    language="language",
):
    """Write the findings tables (prediction, redundancy, polarity, trend, architecture).

    Parameters
    ----------
    activation_dirs : dict
        ``{model: results/activations/{model}}``.
    group_root, atoms_root : str or Path
        ``results/group`` and ``results/atoms``.
    networks_npz, overlap_tsv : str or Path
    outputs : mapping
        Paths keyed ``prediction, redundancy, polarity, polarity_trend, architecture``.
    neuron_summary : str or Path, optional
        ``results/neurons/network_summary.tsv``; its columns are added to the redundancy
        and polarity tables.
    vision, language : str
        Network names of the architecture finding.
    """
    index = load_index(activation_dirs)
    names, masks = load_networks(networks_npz)
    overlap = read_tsv(overlap_tsv)
    prediction, redundancy, polarity = layer_tables(
        index, group_root, atoms_root, overlap, list(names), masks
    )
    trend = polarity_trend(polarity)
    arch = architecture(prediction, overlap, index, vision=vision, language=language)
    if neuron_summary:
        summary = read_tsv(neuron_summary)
        redundancy = merge_neuron_columns(redundancy, summary, source=str(neuron_summary))
        polarity = merge_neuron_columns(polarity, summary, source=str(neuron_summary))
    for key, table in (
        ("prediction", prediction),
        ("redundancy", redundancy),
        ("polarity", polarity),
        ("polarity_trend", trend),
        ("architecture", arch),
    ):
        write_tsv(outputs[key], table)


def make_recovery(activation_dirs, networks_npz, overlap_tsv, ground_truth_tsv, output):
    """Write ``results/simulation/recovery.tsv`` (planted against detected)."""
    index = load_index(activation_dirs)
    names, _ = load_networks(networks_npz)
    table = recovery_table(
        read_tsv(overlap_tsv), read_tsv(ground_truth_tsv), index, list(names),
        source=str(ground_truth_tsv),
    )
    write_tsv(output, table)


def make_figures(activation_dirs, tables, outputs, recovery_tsv=None):
    """Write the line figures of the four findings (and the recovery figure).

    Parameters
    ----------
    activation_dirs : dict
    tables : mapping
        Paths keyed ``prediction, redundancy, polarity, polarity_trend, architecture``.
    outputs : mapping
        PNG paths keyed ``prediction, redundancy, polarity, architecture`` (and
        ``recovery`` when ``recovery_tsv`` is given).
    recovery_tsv : str or Path, optional
    """
    index = load_index(activation_dirs)
    t = {key: read_tsv(path) for key, path in tables.items()}
    made = {
        "prediction": lambda: line_figures.prediction_figure(t["prediction"], index),
        "redundancy": lambda: line_figures.redundancy_figure(t["redundancy"], index),
        "polarity": lambda: line_figures.polarity_figure(t["polarity"], t["polarity_trend"], index),
        "architecture": lambda: line_figures.architecture_figure(
            t["architecture"], t["prediction"], index
        ),
    }
    if recovery_tsv:
        made["recovery"] = lambda: line_figures.recovery_figure(read_tsv(recovery_tsv))
    for key, make in tqdm(made.items(), desc="figures"):
        line_figures.save_figure(make(), outputs[key])


def make_model_brain_maps(model, group_root, overlap_tsv, networks_dlabel, atoms_png,
                          redundancy_png):
    """Brain maps of one model: representative atoms and the redundancy map.

    Parameters
    ----------
    model : str
    group_root : str or Path
        ``results/group`` (layer files with ``t``, ``activated``, ``deactivated``).
    overlap_tsv : str or Path
    networks_dlabel : str or Path
        CIFTI dlabel of the networks (its brain-model axis places grayordinates on the
        surfaces).
    atoms_png, redundancy_png : str or Path
        Output figures.
    """
    bm_axis = brainmaps.brain_model_axis(networks_dlabel)
    overlap = read_tsv(overlap_tsv)
    overlap = overlap[overlap["model"] == model]
    if overlap.empty:
        raise ValueError(f"{overlap_tsv}: no rows for model {model!r}; rerun network_overlap")
    streams = list(dict.fromkeys(overlap["stream"]))
    reps = brainmaps.representative_atoms(overlap)
    rows = []
    for stream in tqdm(streams, desc=f"{model} atom maps"):
        sub = reps[reps["stream"] == stream]
        if sub.empty:
            rows.append((f"{model} {stream}: no atom drives any network", None, {}))
        for rep in sub.itertuples():
            with np.load(layer_file(group_root, model, stream, rep.layer)) as g:
                values = brainmaps.signed_map(
                    g["t"][rep.atom], g["activated"][rep.atom], g["deactivated"][rep.atom]
                )
            vmax = float(np.abs(values).max()) or 1.0
            sign = "activates" if rep.sign > 0 else "deactivates"
            title = (
                f"{model} {stream} layer {rep.layer} atom {rep.atom}: {sign} {rep.network} "
                f"(overlap {rep.overlap_rate:.2f}, q = {rep.q:.1e}; max |t| = {vmax:.1f})"
            )
            rows.append((title, values, {"vmax": vmax}))
    fig = brainmaps.brain_figure(
        rows, bm_axis, kind="stat", cmap="cold_hot", threshold=1e-6,
        suptitle=f"{model}: representative atoms (group t at activated (red) and "
        "deactivated (blue) grayordinates)",
    )
    line_figures.save_figure(fig, atoms_png, dpi=80)

    rows = []
    layers = overlap.groupby(["stream", "layer"])["drives"].sum()
    for stream in tqdm(streams, desc=f"{model} redundancy maps"):
        per_layer = layers.loc[stream]
        layer = int(per_layer.idxmax())
        with np.load(layer_file(group_root, model, stream, layer)) as g:
            count = (g["activated"] | g["deactivated"]).sum(axis=0).astype(np.float32)
        rows.append(
            (
                f"{model} {stream} layer {layer} ({int(per_layer.max())} driving atom-network "
                f"pairs): atoms per grayordinate, max {int(count.max())}",
                count,
                {"vmax": max(float(count.max()), 1.0)},
            )
        )
    fig = brainmaps.brain_figure(
        rows, bm_axis, kind="stat", cmap="YlOrRd", threshold=0.5, vmin=0,
        suptitle=f"{model}: redundancy map (number of atoms with a significant grayordinate)",
    )
    line_figures.save_figure(fig, redundancy_png, dpi=80)


def make_network_map(networks_npz, networks_dlabel, output):
    """Write the network template figure."""
    names, masks = load_networks(networks_npz)
    bm_axis = brainmaps.brain_model_axis(networks_dlabel)
    if masks.shape[1] != len(bm_axis):
        raise ValueError(
            f"{networks_npz} has {masks.shape[1]} grayordinates but {networks_dlabel} has "
            f"{len(bm_axis)}; rerun the networks rule"
        )
    colours = brainmaps.label_colours(networks_dlabel, names)
    line_figures.save_figure(
        brainmaps.network_figure(list(names), masks, bm_axis, colours), output, dpi=90
    )

