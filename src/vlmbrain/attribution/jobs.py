"""The attribution rules' work, one function per rule, called by ``scripts/attribution_*.py``."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from vlmbrain.attribution.cells import architecture_unique, drives_unique, layer_cells
from vlmbrain.attribution.features import (
    feature_key,
    layer_components,
    reference_components,
    reference_key,
)
from vlmbrain.attribution.partition import MAPS, map_key, mapped_layers, partition_model
from vlmbrain.attribution.plots import attribution_figure
from vlmbrain.attribution.significance import unique_group_maps
from vlmbrain.encoding.atoms import layer_files, read_timing
from vlmbrain.encoding.temporal import kept_rows
from vlmbrain.fmri.bold import brain_models_of, load_subject_bold
from vlmbrain.fmri.cifti import write_dscalar
from vlmbrain.io import atomic_path, layer_name, read_tsv, save_npz, write_tsv
from vlmbrain.networks.templates import load_networks

log = logging.getLogger("vlmbrain")


def attribution_features(regressors, models, out_npz, out_tsv, *, n_components,
                         reference_per_layer, reference_components_, references):
    """Feature spaces of every layer and the modality references (once for all subjects).

    Parameters
    ----------
    regressors : list of str
        ``results/regressors/{model}`` of each model, in the order of ``models``.
    models : list of str
    out_npz : str
        Feature spaces (:func:`~vlmbrain.attribution.features.feature_key`,
        :func:`~vlmbrain.attribution.features.reference_key`), T_kept x k float32.
    out_tsv : str
        ``model, stream, layer, n_ans, n_components, explained`` per feature space and per
        reference (``model`` = ``reference``, ``stream`` = its name).
    n_components : int
        Components of each layer's space (``attribution.n_components``).
    reference_per_layer : int
        Leading components of each layer entering a reference.
    reference_components_ : int
        Components of each reference.
    references : dict
        Reference name -> stream names that span it in every model (``attribution.references``).
    """
    arrays, rows, blocks = {}, [], {name: [] for name in references}
    for model, folder in zip(models, regressors, strict=True):
        files = layer_files(folder, suffix=".npy")
        if not files:
            raise FileNotFoundError(f"{folder}: no regressors (stream/layer-LL.npy); rerun the atoms rule")
        for stream, layer, path in tqdm(files, desc=f"features {model}", mininterval=5):
            X = np.load(path)
            scores, explained = layer_components(X, n_components)
            arrays[feature_key(model, stream, layer)] = scores
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
        scores, explained = reference_components(parts, reference_components_)
        arrays[reference_key(name)] = scores
        rows.append(("reference", name, -1, len(parts) * reference_per_layer, scores.shape[1],
                     float(explained.sum())))
        log.info("reference %s: %d layers, %d components hold %.3f of their leading span",
                 name, len(parts), scores.shape[1], explained.sum())
    save_npz(out_npz, **arrays)
    write_tsv(out_tsv, pd.DataFrame(rows, columns=["model", "stream", "layer", "n_ans",
                                                   "n_components", "explained"]))


def attribution_subject(bold, tables, features, out_npz, *, model, tr, drop_rest, mask,
                        against, alphas, n_ratios, log10_span, chunk_size, backend="numpy",
                        device=None, threads=1):
    """Unique and shared held-out R^2 of every layer of one model in one subject.

    ``threads`` bounds the BLAS threads of the solver (the job's ``threads``).
    """
    rows = read_timing(tables)
    runs = rows["run"].to_numpy()[kept_rows(rows, drop_rest)]
    with np.load(features) as data:
        feats = {k: data[k] for k in data.files}
    n_t = next(iter(feats.values())).shape[0]
    if n_t != runs.size:
        raise ValueError(
            f"{features}: feature spaces have {n_t} time points but the stimulus tables keep "
            f"{runs.size}; rerun attribution_features with the same tables and temporal settings"
        )
    Y = load_subject_bold(list(bold), list(tables), tr, drop_rest=drop_rest, mask=mask)
    out = partition_model(Y, runs, feats, model, against, alphas, n_ratios, log10_span,
                          chunk_size=chunk_size, backend=backend, device=device,
                          blas_threads=threads)
    save_npz(out_npz, **out)


def attribution_group(subjects, networks, geometry, out_npz, out_cells, out_dscalar, *, model,
                      against, mask=None, q=0.05, n_flips=10000, seed=0):
    """Group maps of unique R^2 of one model, their network cells and a CIFTI dscalar."""
    names, masks = load_networks(networks)
    data = [np.load(path) for path in subjects]
    try:
        keys = sorted(data[0].files)
        for path, d in zip(subjects, data):
            if sorted(d.files) != keys:
                raise ValueError(f"{path}: its layers differ from {subjects[0]}; rerun attribution_subject")
        layers = mapped_layers(keys)
        arrays, cells, maps, map_names = {}, [], [], []
        for stream, layer in tqdm(layers, desc=f"attribution group {model}", mininterval=5):
            stack = {kind: np.stack([d[map_key(stream, layer, kind)] for d in data]) for kind in MAPS}
            res = unique_group_maps(stack["unique"], stack["shared"], stack["r2_joint"], q=q,
                                    n_flips=n_flips, seed=seed)
            for kind, value in res.items():
                arrays[map_key(stream, layer, kind)] = value
            reference = "+".join(against[stream])
            cells.append(layer_cells(model, stream, layer, reference, res, names, masks))
            maps.append(np.where(res["significant"], res["mean_unique"], 0.0))
            map_names.append(f"{model} {stream} {layer_name(layer)} unique R2 vs {reference} (q<={q})")
    finally:
        for d in data:
            d.close()
    save_npz(out_npz, **arrays)
    write_tsv(out_cells, pd.concat(cells, ignore_index=True))
    write_dscalar(out_dscalar, np.stack(maps).astype(np.float32), map_names,
                  brain_models_of(geometry, mask))


def attribution_tables(cells, out_table, out_architecture, *, q=0.05):
    """``attribution.tsv`` (BH-FDR over all cells) and the architecture on unique maps."""
    table = drives_unique(pd.concat([read_tsv(p) for p in cells], ignore_index=True), q)
    write_tsv(out_table, table)
    write_tsv(out_architecture, architecture_unique(table))


def attribution_figure_job(table, out_figure, *, model):
    """The attribution figure of one model from ``attribution.tsv``."""
    attribution_figure(read_tsv(table), model, out_figure)
