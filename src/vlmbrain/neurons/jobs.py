"""The jobs of the neurons rules: one function per rule, named for it.

Each takes the rule's declared inputs and outputs as paths and its params as keyword
arguments; the statistics live below (:mod:`vlmbrain.stats`, ``null``, ``cohort``) and
the table columns in ``summary``.

Files (under ``results/``):

- ``neurons/sub-{subject}/parcel_bold.npz``: ``series`` (T_kept x P), ``names`` (P).
- ``neurons/sub-{subject}/{model}.npz``: per layer ``z__{stream}__{LL}`` (Fisher z of the
  AR(1) GLM's r), N x P float16 (what the group test reads; :func:`vlmbrain.io.half_precision`).
- ``neurons/{model}/parcels.npz``: per layer ``t__``, ``mean_r__`` (N x P float16, for
  reading only: every decision is taken in full precision before), ``q__`` (float32) and
  ``parcel_counts__`` (2 x P: significant ANs per parcel, positive then negative);
  ``neurons/{model}/ans.tsv`` (one row per AN) and ``neurons/{model}/network_summary.tsv``.
- ``neurons/cohort_bold.npy``: the cohort-mean BOLD (T_kept x V).
- ``neurons/{model}/grayordinates.npz``: per layer ``bn_counts__`` (2 x V) and
  ``an_counts__`` (N x K x 2); ``grayordinate_ans.tsv``, ``grayordinate_summary.tsv``,
  ``grayordinate_layers.tsv``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from vlmbrain.io import (half_precision, layer_name, read_json, save_npy, save_npz, single,
                         write_tsv)
from vlmbrain.neurons.summary import (
    an_parcel_columns,
    an_table,
    grayordinate_an_columns,
    grayordinate_layer_row,
    grayordinate_summary,
    parcel_summary,
)
from vlmbrain.stats.missing import missing_columns

log = logging.getLogger("vlmbrain")

__all__ = [
    "layers_of",
    "layer_key",
    "neurons_parcel_bold",
    "neurons_subject",
    "neurons_group",
    "neurons_cohort_bold",
    "neurons_grayordinates",
    "neurons_catalogue",
]


def layers_of(manifest_path):
    """``[(stream, layer, n_heads, head_dim), ...]`` from an activations manifest."""
    manifest = read_json(manifest_path)
    streams = manifest.get("streams")
    if not streams:
        raise ValueError(f"{manifest_path}: no 'streams' entry; rerun the activations rule")
    out = []
    for stream, info in streams.items():
        for key in ("n_layers", "n_heads", "head_dim"):
            if key not in info:
                raise ValueError(f"{manifest_path}: stream {stream} lacks '{key}'")
        out += [
            (stream, layer, int(info["n_heads"]), int(info["head_dim"]))
            for layer in range(int(info["n_layers"]))
        ]
    return out


def manifest_of(activations):
    """The manifest file of an activations folder."""
    return Path(activations) / "manifest.json"


def layer_key(kind, stream, layer):
    """Name of one layer's array in the neurons npz files, e.g. ``z__image__08``."""
    return f"{kind}__{stream}__{int(layer):02d}"


def regressor_path(regressors_dir, stream, layer):
    """``{regressors_dir}/{stream}/layer-{LL}.npy``."""
    return Path(regressors_dir) / stream / f"{layer_name(layer)}.npy"


def load_regressors(regressors_dir, stream, layer, n_trs, n_ans):
    """One layer's regressors (T_kept x N), checked against the BOLD's length."""
    path = regressor_path(regressors_dir, stream, layer)
    if not path.exists():
        raise FileNotFoundError(f"{path}: missing regressors; rerun the atoms rule of this model")
    X = np.load(path, mmap_mode="r")
    if X.ndim != 2 or X.shape[0] != n_trs or X.shape[1] != n_ans:
        raise ValueError(
            f"{path}: shape {X.shape}, expected ({n_trs}, {n_ans}) (kept TRs of the BOLD x "
            "heads * head_dim of the manifest); regressors and BOLD must use the same "
            "stimulus tables and temporal.drop_rest"
        )
    return np.asarray(X, dtype=np.float32)


def neurons_parcel_bold(*, bold, tables, parcel_bold, tr, drop_rest, parcellation, mask=(),
                        parcellation_file=(), nonfinite="error", mem_mb=None):
    """Rule ``neurons_parcel_bold``: parcel-average BOLD of one subject (T_kept x P).

    ``mask`` is ``[data.mask]`` or empty; ``parcellation_file`` the dlabel file of a
    custom ``parcellation`` (declared so that the job reruns when it changes) or empty;
    ``nonfinite`` is ``data.nonfinite``. A parcel averages the grayordinates that have
    data for this subject; one with none left is NaN (no data). ``mem_mb`` is the rule's
    ``resources.mem_mb`` (:mod:`vlmbrain.memory`).
    """
    bold_paths, mask = list(bold), single(mask)
    from vlmbrain import memory
    from vlmbrain.fmri.bold import load_subject_bold
    from vlmbrain.neurons.parcels import load_parcellation, parcel_series

    names, index = load_parcellation(parcellation, mask=mask)  # checked before any BOLD is read
    sizes = memory.bold_sizes(bold_paths, list(tables), drop_rest, mask)
    memory.check_memory("neurons_parcel_bold", memory.parcel_bold_parts(sizes, len(names)),
                        mem_mb)
    bold = load_subject_bold(list(bold_paths), list(tables), tr, drop_rest=drop_rest, mask=mask,
                             nonfinite=nonfinite)
    if bold.shape[1] != len(index):
        raise ValueError(
            f"{bold_paths[0]}: {bold.shape[1]} grayordinates but the parcellation "
            f"{parcellation} has {len(index)}; set neurons.parcellation to one in this space"
        )
    series = parcel_series(bold, index, len(names))
    log.info("parcel BOLD: %d TRs x %d parcels", *series.shape)
    empty = missing_columns(series)
    if empty.any():
        log.warning("%d parcels have no grayordinate with data for this subject: NaN (%s)",
                    int(empty.sum()), ", ".join(np.asarray(names)[empty][:10]))
    save_npz(parcel_bold, series=series, names=np.array(names))


def neurons_subject(*, parcel_bold, activations, regressors, stats, ar_bins=100,
                    backend="numpy", device=None, threads=None, mem_mb=None):
    """Rule ``neurons_subject``: every AN of every layer of one model against one
    subject's parcels (``activations`` gives the layers, ``regressors`` their series).
    ``backend``, ``device`` are ``compute.*`` (:func:`vlmbrain.stats.backend.get_backend`),
    ``threads`` the job's; ``mem_mb`` is the rule's ``resources.mem_mb``
    (:mod:`vlmbrain.memory`)."""
    from vlmbrain import memory
    from vlmbrain.stats import ar1_glm, fisher_z
    from vlmbrain.stats.backend import get_backend

    T, P = memory.npz_shapes(parcel_bold)["series"]
    layers = [heads * dim for _, _, heads, dim in layers_of(manifest_of(activations))]
    memory.check_memory("neurons_subject", memory.neurons_subject_parts(T, P, layers), mem_mb)
    with np.load(parcel_bold) as data:
        Y, names = data["series"], data["names"]
    arrays = {"names": names}
    be = get_backend(backend, device, threads)
    for stream, layer, heads, dim in tqdm(layers_of(manifest_of(activations)), desc="layers"):
        X = load_regressors(regressors, stream, layer, Y.shape[0], heads * dim)
        fit = ar1_glm(Y, X, bins=ar_bins, pairwise=True, backend=be)
        # the z alone: the group test reads nothing else; half precision rounds each z by
        # at most 0.05%, far below its spread across subjects (about 1 / sqrt(T))
        arrays[layer_key("z", stream, layer)] = half_precision(fisher_z(fit["r"]))
    save_npz(stats, **arrays)


def _parcel_networks(parcellation, networks_npz, mask=None):
    from vlmbrain.networks.templates import load_networks
    from vlmbrain.neurons.parcels import load_parcellation, parcel_networks

    net_names, masks = load_networks(networks_npz)
    names, index = load_parcellation(parcellation, masks.shape[1], mask=mask)
    return names, parcel_networks(index, masks, len(names)), net_names


def neurons_group(
    *,
    model,
    subjects,
    parcel_bold,
    activations,
    regressors,
    networks,
    parcels,
    ans,
    summary,
    parcellation,
    q=0.05,
    parcellation_file=(),
    mask=(),
):
    """Rule ``neurons_group``: group test per (AN, parcel), BH-FDR per layer, per-AN and
    network tables (``mask``: ``[data.mask]`` of NIfTI data, or empty).

    A pair is significant when its subjects' Fisher z differ from 0 consistently (one-sample
    t across subjects) *and* its correlation with the subject-average parcel series exceeds
    the circular-shift null, with the same sign: p = max(p_t, p_shift) (intersection-union
    test), BH-FDR over all AN x parcel pairs of the layer. The t alone is not enough in
    movie data: the stimulus-driven signal is shared by all subjects, so an AN's chance
    correlation with it (autocorrelated series, finite T) is consistent across subjects
    and a t across subjects calls it significant; the circular-shift null is what rules it
    out.

    A parcel without data for a subject (a NaN series) leaves that subject out of the
    parcel's t and average; pairs with fewer than two such subjects, or an undefined t,
    are untested (NaN t, p and q) and never significant. ``parcels`` records
    ``n_subjects`` (P: the subjects with data in each parcel).
    """
    from scipy.special import ndtr

    from vlmbrain.neurons.cohort import cohort_mean
    from vlmbrain.stats import OneSampleT, fdr_mask
    from vlmbrain.neurons.null import circular_null_z

    subject_npzs, parcel_npzs = list(subjects), list(parcel_bold)
    out_npz, out_ans, out_summary = parcels, ans, summary
    names, parcel_net, net_names = _parcel_networks(parcellation, networks, single(mask))
    names = np.asarray(names)
    for path in list(subject_npzs) + list(parcel_npzs):
        with np.load(path) as data:
            if len(data["names"]) != len(names) or (data["names"] != names).any():
                raise ValueError(f"{path}: parcels differ from {parcellation}; rerun it")
    if len(parcel_npzs) != len(subject_npzs):
        raise ValueError(f"{len(subject_npzs)} subject files but {len(parcel_npzs)} parcel files")
    with_data = []  # per subject, the parcels with data (read in the same pass as the mean)

    def subjects_series():
        for path in parcel_npzs:
            series = np.load(path)["series"]
            with_data.append(~missing_columns(series))
            yield series

    average = cohort_mean(subjects_series())
    n_subjects = np.sum(with_data, axis=0, dtype=np.int16)
    arrays = {"names": names, "networks": np.array(net_names), "n_subjects": n_subjects}
    ans, summary = [], []
    for stream, layer, heads, dim in tqdm(layers_of(manifest_of(activations)), desc="layers"):
        acc = OneSampleT()
        for path in subject_npzs:
            with np.load(path) as data:
                acc.add(data[layer_key("z", stream, layer)])
        mean_z, t, p_t = acc.result()
        X = load_regressors(regressors, stream, layer, average.shape[0], heads * dim)
        r_avg, z_shift = circular_null_z(X, average, dtype=np.float64)
        p_shift = 2.0 * ndtr(-np.abs(z_shift))
        p = np.where(np.sign(r_avg) == np.sign(t), np.maximum(p_t, p_shift), 1.0)
        p[np.isnan(t) | np.isnan(p_shift)] = np.nan  # untested, not p = 1
        qv, sig = fdr_mask(p, q, axis=None)
        pos, neg = sig & (t > 0), sig & (t < 0)
        mean_r = np.tanh(mean_z)
        arrays[layer_key("t", stream, layer)] = half_precision(t)
        arrays[layer_key("q", stream, layer)] = qv.astype(np.float32)
        arrays[layer_key("mean_r", stream, layer)] = half_precision(mean_r)
        arrays[layer_key("parcel_counts", stream, layer)] = np.stack(
            [pos.sum(0), neg.sum(0)]
        ).astype(np.int32)
        table = an_table(model, stream, layer, heads, dim)
        table = table.join(
            an_parcel_columns(t, qv, mean_r, pos, neg, names, parcel_net, net_names)
        )
        ans.append(table)
        summary.append(parcel_summary(model, stream, layer, pos, neg, parcel_net, net_names))
    save_npz(out_npz, **arrays)
    write_tsv(out_ans, pd.concat(ans, ignore_index=True))
    write_tsv(out_summary, pd.concat(summary, ignore_index=True))


def neurons_cohort_bold(*, bold, tables, cohort, n_subjects, tr, drop_rest, mask=(),
                        nonfinite="error", mem_mb=None):
    """Rule ``neurons_cohort_bold``: cohort-mean BOLD (T_kept x V), loading one subject at
    a time; ``bold`` lists every subject's runs, subject after subject. Each grayordinate
    averages the subjects with data there (``nonfinite``: ``data.nonfinite``); NaN where
    none has. ``mem_mb`` is the rule's ``resources.mem_mb`` (:mod:`vlmbrain.memory`)."""
    bold, mask = list(bold), single(mask)
    if len(bold) % n_subjects:
        raise ValueError(f"{len(bold)} BOLD files do not split into {n_subjects} subjects")
    per = len(bold) // n_subjects
    bold_paths_by_subject = [bold[i * per : (i + 1) * per] for i in range(n_subjects)]
    from vlmbrain import memory
    from vlmbrain.fmri.bold import load_subject_bold
    from vlmbrain.neurons.cohort import cohort_mean

    sizes = memory.bold_sizes(bold_paths_by_subject[0], list(tables), drop_rest, mask)
    memory.check_memory("neurons_cohort_bold", memory.cohort_bold_parts(sizes), mem_mb)

    def bolds():
        for paths in tqdm(bold_paths_by_subject, desc="subjects"):
            yield load_subject_bold(list(paths), list(tables), tr, drop_rest=drop_rest, mask=mask,
                                    nonfinite=nonfinite)

    save_npy(cohort, cohort_mean(bolds()))


def neurons_grayordinates(
    *,
    model,
    cohort,
    activations,
    regressors,
    networks,
    counts,
    ans,
    summary,
    layers,
    q=0.05,
    n_shifts=200,
    chunk_size=8192,
    seed=0,
    enrichment_q=0.05,
    backend="numpy",
    device=None,
    threads=None,
    mem_mb=None,
):
    """Rule ``neurons_grayordinates``: every AN of every layer of one model against every
    grayordinate of the cohort. ``backend``, ``device`` are ``compute.*``
    (:func:`vlmbrain.stats.backend.get_backend`), ``threads`` the job's; ``mem_mb`` is the
    rule's ``resources.mem_mb`` (:mod:`vlmbrain.memory`)."""
    out_npz, out_ans, out_summary, out_layers = counts, ans, summary, layers
    from vlmbrain import memory
    from vlmbrain.networks.templates import load_networks
    from vlmbrain.neurons.cohort import GrayordinateEncoder
    from vlmbrain.stats.backend import get_backend

    T, V = memory.npy_shape(cohort)
    widths = [heads * dim for _, _, heads, dim in layers_of(manifest_of(activations))]
    memory.check_memory("neurons_grayordinates",
                        memory.grayordinates_parts(T, V, widths, chunk_size), mem_mb,
                        fix="lower neurons.chunk_size")
    net_names, masks = load_networks(networks)
    target = np.load(cohort)
    encoder = GrayordinateEncoder(
        target,
        masks,
        q=q,
        chunk_size=chunk_size,
        n_shifts=n_shifts,
        seed=seed,
        enrichment_q=enrichment_q,
        backend=get_backend(backend, device, threads),
    )
    arrays, ans, summary, layers = {"networks": np.array(net_names)}, [], [], []
    for stream, layer, heads, dim in tqdm(layers_of(manifest_of(activations)), desc="layers"):
        X = load_regressors(regressors, stream, layer, target.shape[0], heads * dim)
        res = encoder.encode(X)
        arrays[layer_key("bn_counts", stream, layer)] = res["bn_counts"]
        arrays[layer_key("an_counts", stream, layer)] = res["an_counts"]
        ans.append(an_table(model, stream, layer, heads, dim).join(
            grayordinate_an_columns(res, net_names)))
        summary += grayordinate_summary(model, stream, layer, res, masks, net_names)
        layers.append(grayordinate_layer_row(model, stream, layer, res))
    save_npz(out_npz, **arrays)
    write_tsv(out_ans, pd.concat(ans, ignore_index=True))
    write_tsv(out_summary, pd.DataFrame(summary))
    write_tsv(out_layers, pd.DataFrame(layers))


def neurons_catalogue(
    *,
    models,
    ans,
    summaries,
    grayordinate_ans,
    grayordinate_summaries,
    atoms,
    networks,
    ground_truth,
    catalogue,
    summary,
    figure,
    html,
    enrichment,
):
    """Rule ``neurons_catalogue``: the catalogue, network summary, figure, HTML table and,
    when simulating, the planted-AN enrichment.

    ``ans``, ``summaries``, ``atoms`` (and the grayordinate lists, empty without the
    grayordinate option) follow ``models``; ``ground_truth`` and ``enrichment`` are lists
    of one path when simulating, else empty.
    """
    from vlmbrain.io import atomic_path
    from vlmbrain.networks.templates import load_networks
    from vlmbrain.neurons.catalogue import (
        build_catalogue,
        catalogue_html,
        network_summary,
        planted_enrichment,
    )
    from vlmbrain.neurons.catalogue_figure import catalogue_figure

    ans, grayordinate_ans = list(ans), list(grayordinate_ans)
    network_names, _ = load_networks(networks)
    cat = build_catalogue(ans, network_names, dict(zip(models, atoms, strict=True)), grayordinate_ans)
    table = network_summary(list(summaries), list(grayordinate_summaries))
    write_tsv(catalogue, cat)
    write_tsv(summary, table)
    catalogue_figure(table, figure)
    with atomic_path(html) as tmp:
        Path(tmp).write_text(catalogue_html(cat), encoding="utf-8")
    if ground_truth and enrichment:
        write_tsv(enrichment[0], planted_enrichment(ground_truth[0], ans, grayordinate_ans))
