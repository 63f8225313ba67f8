"""The jobs of the attribution rules: one function per rule, named for it.

Each takes the rule's declared inputs and outputs as paths and its params as keyword
arguments; the science lives below (``features``, ``banded``, ``partition``,
``significance``, ``cells``, ``plots``).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from vlmbrain.attribution.keys import MAPS, map_key, mapped_layers
from vlmbrain.attribution.significance import unique_group_maps
from vlmbrain.fmri.bold import brain_models_of, load_subject_bold
from vlmbrain.fmri.cifti import write_dscalar
from vlmbrain.io import half_precision, layer_name, read_tsv, save_npz, write_tsv
from vlmbrain.networks.templates import load_networks
from vlmbrain.stimuli.table import kept_rows, read_timing

log = logging.getLogger("vlmbrain")


def attribution_features(*, regressors, features, table, models, n_components,
                         reference_per_layer, reference_components, references):
    """Rule ``attribution_features``: every layer's feature space and the references.

    Parameters
    ----------
    regressors : list of str
        ``regressors/{model}`` of each model, in the order of ``models``.
    features : str
        Output ``attribution/features.npz``: T x k float32 spaces keyed
        :func:`~vlmbrain.attribution.features.feature_key` and
        :func:`~vlmbrain.attribution.features.reference_key`.
    table : str
        Output ``attribution/features.tsv``: ``model, stream, layer, n_ans,
        n_components, explained`` per space (references: ``model`` = ``reference``).
    models : list of str
    n_components, reference_per_layer, reference_components, references
        ``attribution.*``.
    """
    from vlmbrain.attribution import features as feature_spaces
    from vlmbrain.encoding.atoms import layer_files

    arrays, rows, blocks = {}, [], {name: [] for name in references}
    for model, folder in zip(models, regressors, strict=True):
        files = layer_files(folder, suffix=".npy")
        if not files:
            raise FileNotFoundError(f"{folder}: no regressors (stream/layer-LL.npy); rerun the atoms rule")
        for stream, layer, path in tqdm(files, desc=f"features {model}", mininterval=5):
            X = np.load(path)
            scores, explained = feature_spaces.layer_components(X, n_components)
            arrays[feature_spaces.feature_key(model, stream, layer)] = scores
            rows.append((model, stream, layer, X.shape[1], scores.shape[1], float(explained.sum())))
            for name, streams in references.items():
                if stream in streams:
                    blocks[name].append(scores[:, :reference_per_layer])
    for name, parts in blocks.items():
        if not parts:
            raise ValueError(
                f"attribution.references.{name} names streams {references[name]} that no "
                f"configured model ({models}) has; name streams that exist"
            )
        scores, explained = feature_spaces.reference_components(parts, reference_components)
        arrays[feature_spaces.reference_key(name)] = scores
        rows.append(("reference", name, -1, sum(p.shape[1] for p in parts), scores.shape[1],
                     float(explained.sum())))
        log.info("reference %s: %d layers; %d components hold %.3f of their leading components",
                 name, len(parts), scores.shape[1], explained.sum())
    save_npz(features, **arrays)
    write_tsv(table, pd.DataFrame(rows, columns=["model", "stream", "layer", "n_ans",
                                                 "n_components", "explained"]))


def attribution_subject(*, bold, tables, features, partition, model, tr, drop_rest, against,
                        alphas, n_ratios, log10_span, chunk_size, backend="numpy", device=None,
                        threads=1, mask=(), nonfinite="error", mem_mb=None):
    """Rule ``attribution_subject``: unique and shared held-out R^2 of one model's layers.

    Parameters
    ----------
    bold, tables : list of str
        The subject's BOLD runs and the stimulus tables, in run order.
    features : str
        ``attribution/features.npz``.
    partition : str
        Output ``attribution/sub-{subject}/{model}.npz``: per layer
        ``{stream}.layer-LL.{unique,shared,r2_joint,r2_stream}`` and per reference set
        ``reference.{names}`` (V held-out R^2, float16 (:func:`vlmbrain.io.half_precision`);
        NaN at the grayordinates excluded for this subject).
    model : str
    tr, drop_rest
        ``data.tr``, ``temporal.drop_rest``.
    against, alphas, n_ratios, log10_span, chunk_size
        ``attribution.*``.
    backend, device : str
        ``compute.backend``, ``compute.device`` (:func:`vlmbrain.stats.backend.get_backend`).
    threads : int
        BLAS threads of the solver, and torch's on the CPU (the job's threads).
    mask : list of str
        ``[data.mask]`` (NIfTI brain mask) or empty.
    nonfinite : {"error", "exclude"}
        ``data.nonfinite`` (:func:`vlmbrain.fmri.bold.load_subject_bold`).
    mem_mb : int, optional
        The rule's ``resources.mem_mb``: the job stops before loading anything when its
        estimated need (:mod:`vlmbrain.memory`) exceeds it.
    """
    from vlmbrain import memory
    from vlmbrain.attribution.features import feature_layers
    from vlmbrain.attribution.partition import partition_model
    from vlmbrain.stats.backend import get_backend

    rows = read_timing(list(tables))
    runs = rows["run"].to_numpy()[kept_rows(rows, drop_rest)]
    sizes = memory.bold_sizes(list(bold), list(tables), drop_rest, mask[0] if mask else None)
    shapes = memory.npz_shapes(features)
    parts = memory.attribution_parts(sizes, shapes, len(feature_layers(shapes, model)),
                                     chunk_size, len(alphas), n_ratios)
    memory.check_memory("attribution_subject", parts, mem_mb, fix="lower attribution.chunk_size")
    with np.load(features) as data:
        feats = {k: data[k] for k in data.files}
    n_t = next(iter(feats.values())).shape[0]
    if n_t != runs.size:
        raise ValueError(
            f"{features}: feature spaces have {n_t} time points but the stimulus tables keep "
            f"{runs.size}; rerun attribution_features with the same tables and temporal settings"
        )
    Y = load_subject_bold(list(bold), list(tables), tr, drop_rest=drop_rest,
                          mask=mask[0] if mask else None, nonfinite=nonfinite)
    out = partition_model(Y, runs, feats, model, dict(against), list(alphas), n_ratios,
                          log10_span, chunk_size=chunk_size,
                          backend=get_backend(backend, device, threads), blas_threads=threads)
    # half precision: the group test's sampling spread across subjects dwarfs its rounding
    save_npz(partition, **{key: half_precision(value) for key, value in out.items()})


def attribution_group(*, subjects, networks, geometry, maps, cells, dscalar, model, against,
                      q=0.05, n_flips=10000, seed=0, test_scale="sqrt", moderated=True, mask=()):
    """Rule ``attribution_group``: group maps of unique R^2 of one model.

    Parameters
    ----------
    subjects : list of str
        ``attribution/sub-{subject}/{model}.npz`` of every subject.
    networks : str
        ``networks/networks.npz``.
    geometry : str
        A BOLD file of the data (the maps' grayordinates).
    maps : str
        Output npz: per layer ``{stream}.layer-LL.{t,p,q,significant,mean_unique,
        mean_shared,mean_joint,n_subjects}``
        (:func:`~vlmbrain.attribution.significance.unique_group_maps`; ``n_subjects``: the
        subjects with data at each grayordinate, those its test used).
    cells : str
        Output TSV: the model's network cells, without the FDR over cells
        (:func:`~vlmbrain.attribution.cells.layer_cells`).
    dscalar : str
        Output CIFTI dscalar: per layer, the group mean unique R^2 where significant.
    model : str
    against, q, n_flips, seed, test_scale, moderated
        ``attribution.against``, ``attribution.fdr_q``, ``attribution.n_flips``,
        ``attribution.seed``, ``attribution.test_scale``, ``attribution.moderated``.
    mask : list of str
        ``[data.mask]`` or empty.
    """
    from vlmbrain.attribution.cells import layer_cells  # scipy.stats: imported by this rule only

    names, masks = load_networks(networks)
    data = [np.load(p) for p in subjects]
    try:
        keys = sorted(data[0].files)
        for p, d in zip(subjects, data):
            if sorted(d.files) != keys:
                raise ValueError(f"{p}: its layers differ from {subjects[0]}; rerun attribution_subject")
        arrays, rows, planes, plane_names = {}, [], [], []
        for stream, layer in tqdm(mapped_layers(keys), desc=f"attribution group {model}", mininterval=5):
            stack = {  # float32, as before the subjects' maps were stored in float16
                kind: np.stack([d[map_key(stream, layer, kind)] for d in data]).astype(np.float32)
                for kind in MAPS
            }
            res = unique_group_maps(stack["unique"], stack["shared"], stack["r2_joint"], q=q,
                                    n_flips=n_flips, seed=seed, scale=test_scale,
                                    moderated=moderated)
            arrays.update({map_key(stream, layer, kind): value for kind, value in res.items()})
            reference = "+".join(against[stream])
            rows.append(layer_cells(model, stream, layer, reference, res, names, masks))
            planes.append(np.where(res["significant"], res["mean_unique"], 0.0))
            plane_names.append(f"{model} {stream} {layer_name(layer)} unique R2 vs {reference} (q<={q})")
    finally:
        for d in data:
            d.close()
    save_npz(maps, **arrays)
    write_tsv(cells, pd.concat(rows, ignore_index=True))
    write_dscalar(dscalar, np.stack(planes).astype(np.float32), plane_names,
                  brain_models_of(geometry, mask[0] if mask else None))


def attribution_tables(*, cells, table, architecture, q=0.05):
    """Rule ``attribution_tables``: ``attribution.tsv`` (BH-FDR over all cells) and the
    architecture finding on unique maps (``architecture_unique.tsv``)."""
    from vlmbrain.attribution.cells import architecture_unique, drives_unique

    found = drives_unique(pd.concat([read_tsv(p) for p in cells], ignore_index=True), q)
    write_tsv(table, found)
    write_tsv(architecture, architecture_unique(found))


def attribution_figure(*, table, figure, model):
    """Rule ``attribution_figure``: unique and shared R^2 per network across one model's layers."""
    from vlmbrain.attribution.plots import unique_variance_figure

    unique_variance_figure(read_tsv(table), model, figure)
