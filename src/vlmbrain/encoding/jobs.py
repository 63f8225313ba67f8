"""The jobs of the encoding rules: one function per rule, named for it.

Each takes the rule's declared inputs and outputs as paths and its params as keyword
arguments; the science is below (``temporal``, ``sdl``, ``subject``, ``noise``, ``group``).
A job imports the modules that only its own rule needs inside its function: scikit-learn
and scipy.stats take one to two CPU-seconds each to import, paid by every job of a rule.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from vlmbrain import memory
from vlmbrain.encoding.atoms import layer_files
from vlmbrain.encoding.noise import noise_ceiling as validation_noise_ceiling
from vlmbrain.encoding.subject import encode_layer
from vlmbrain.fmri.bold import brain_models_of, load_subject_bold
from vlmbrain.io import (atomic_path, half_precision, layer_name, save_npy, save_npz, single,
                         write_tsv)
from vlmbrain.models.files import load_activations, load_layer
from vlmbrain.stats.backend import get_backend
from vlmbrain.stimuli.table import kept_rows, read_timing

log = logging.getLogger("vlmbrain")

__all__ = ["atoms", "encoding", "noise_ceiling", "group"]

# Below this many TRs per repeat, the noise ceiling job warns that single grayordinates'
# reliabilities are noisy (HCP 7T's validation clip has 84).
SHORT_REPEAT_TRS = 30
SUMMARY_COLUMNS = ["model", "stream", "layer", "n_ans", "n_atoms", "alpha", "zero_fraction", "r2"]


def atoms(*, model, activations, tables, regressors, atoms, tr, hrf="spm", drop_rest=True,
          n_atoms=64, alpha=1.0, max_iter=10, batch_size=256, seed=0):
    """Rule ``atoms``: regressors and sparse dictionary atoms of every layer of one model.

    Parameters
    ----------
    model : str
        Model key (for the summary table).
    activations : str
        ``activations/{model}`` folder.
    tables : list of str
        Stimulus tables, in run order.
    regressors, atoms : str
        Output folders ``regressors/{model}`` and ``atoms/{model}``, each written whole
        and moved into place at the end.
    tr : float
    hrf : str
        ``temporal.hrf``.
    drop_rest : bool
        ``temporal.drop_rest``.
    n_atoms, alpha, max_iter, batch_size, seed
        ``sdl.*``.
    """
    from vlmbrain.encoding.sdl import atoms_per_tr_warning, learn_atoms
    from vlmbrain.encoding.temporal import regressor_pipeline

    activations_dir, regressors_dir, atoms_dir = activations, regressors, atoms
    manifest = load_activations(activations_dir)
    rows = read_timing(list(tables))
    if int(manifest.get("n_trs", len(rows))) != len(rows):
        raise ValueError(
            f"{activations_dir}: activations have {manifest['n_trs']} TRs but the stimulus "
            f"tables have {len(rows)}; rerun the activations rule."
        )
    keep = kept_rows(rows, drop_rest)
    pipe = regressor_pipeline(rows, hrf, tr, drop_rest)
    warning = atoms_per_tr_warning(int(np.count_nonzero(keep)), int(n_atoms))
    if warning:
        log.warning(warning)
    layers = [(s, layer) for s, info in manifest["streams"].items() for layer in range(info["n_layers"])]
    summary = []
    with atomic_path(regressors_dir, suffix="") as reg_tmp, atomic_path(atoms_dir, suffix="") as atom_tmp:
        reg_tmp.mkdir()
        atom_tmp.mkdir()
        write_tsv(reg_tmp / "timing.tsv", rows.loc[keep, ["run", "tr"]])
        for stream, layer in tqdm(layers, desc=f"atoms {model}", mininterval=5):
            X = np.asarray(load_layer(activations_dir, stream, layer), np.float32)
            if X.shape[0] != len(rows):
                raise ValueError(
                    f"{activations_dir}/{stream}/{layer_name(layer)}.npy has {X.shape[0]} rows, "
                    f"expected {len(rows)} (all TRs of all runs); rerun the activations rule."
                )
            R = pipe.transform(X)
            save_npy(reg_tmp / stream / f"{layer_name(layer)}.npy", R)
            res = learn_atoms(R, n_atoms, alpha, max_iter, batch_size, seed)
            save_npz(atom_tmp / stream / f"{layer_name(layer)}.npz", **res)
            summary.append(
                (model, stream, layer, R.shape[1], n_atoms, alpha,
                 float(res["zero_fraction"]), float(res["r2"]))
            )
            log.info("%s %s layer %d: zero codes %.3f, R2 %.3f", model, stream, layer,
                     res["zero_fraction"], res["r2"])
        write_tsv(atom_tmp / "summary.tsv", pd.DataFrame(summary, columns=SUMMARY_COLUMNS))


def encoding(*, bold, tables, atoms, encoding, tr, drop_rest=True, chunk_size=20000,
             ar_bins=100, ridge_alphas=(0.1, 1.0, 10.0, 100.0, 1000.0, 10000.0), mask=(),
             nonfinite="error", backend="numpy", device=None, threads=None, mem_mb=None):
    """Rule ``encoding``: AR(1) GLM and ridge prediction of one subject and model.

    Writes ``{encoding}/{stream}/layer-LL.npz`` (``beta`` K x V float16, ``r`` and
    ``alpha`` V float32; NaN at the grayordinates excluded for this subject); the folder
    is moved into place only when complete. What the group and depth rules read, no more:
    the subject's GLM t is left out, and the betas are stored in half precision
    (:func:`vlmbrain.io.half_precision`: rounding of at most 0.05% of each beta, far below
    their spread across subjects, which the group t-test divides by).

    Parameters
    ----------
    bold : list of str
        The subject's BOLD runs, in run order.
    tables : list of str
    atoms : str
        ``atoms/{model}`` folder.
    encoding : str
        Output folder ``encoding/sub-{subject}/{model}``.
    tr : float
    drop_rest : bool
    chunk_size, ar_bins, ridge_alphas
        ``encoding.*``.
    mask : list of str
        ``[data.mask]`` (NIfTI brain mask) or empty.
    nonfinite : {"error", "exclude"}
        ``data.nonfinite`` (:func:`vlmbrain.fmri.bold.load_subject_bold`).
    backend, device : str
        ``compute.backend``, ``compute.device`` (:func:`vlmbrain.stats.backend.get_backend`).
    threads : int, optional
        The job's threads (torch's on the CPU).
    mem_mb : int, optional
        The rule's ``resources.mem_mb``: the job stops before loading anything when its
        estimated need (:mod:`vlmbrain.memory`) exceeds it.
    """
    bold_paths, table_paths, atoms_dir, out_dir = list(bold), list(tables), atoms, encoding
    rows = read_timing(table_paths)
    keep = kept_rows(rows, drop_rest)
    runs = rows["run"].to_numpy()[keep]
    layers = layer_files(atoms_dir)
    if not layers:
        raise FileNotFoundError(f"{atoms_dir}: no atoms (stream/layer-LL.npz); rerun the atoms rule")
    sizes = memory.bold_sizes(bold_paths, table_paths, drop_rest, single(mask))
    shapes = [memory.npz_shapes(path)["atoms"] for _, _, path in layers]
    memory.check_memory("encoding", memory.encoding_parts(sizes, shapes, chunk_size,
                                                          len(ridge_alphas)),
                        mem_mb, fix="lower encoding.chunk_size")
    be = get_backend(backend, device, threads)
    Y = load_subject_bold(bold_paths, table_paths, tr, drop_rest=drop_rest, mask=single(mask),
                          nonfinite=nonfinite)
    with atomic_path(out_dir, suffix="") as tmp:
        tmp.mkdir()
        for stream, layer, path in tqdm(layers, desc=f"encoding {out_dir}", mininterval=5):
            with np.load(path) as data:
                A = data["atoms"]
            if A.shape[0] != Y.shape[0]:
                raise ValueError(
                    f"{path}: atoms have {A.shape[0]} time points but the BOLD of "
                    f"{bold_paths[0]}... has {Y.shape[0]} kept TRs; rerun the atoms rule "
                    "with the same stimulus tables and temporal settings."
                )
            fit = encode_layer(Y, A, runs, chunk_size=chunk_size, ar_bins=ar_bins,
                               ridge_alphas=ridge_alphas, backend=be)
            save_npz(tmp / stream / f"{layer_name(layer)}.npz", beta=half_precision(fit["beta"]),
                     r=fit["r"], alpha=fit["alpha"])


def noise_ceiling(*, bold, tables, ceiling, tr, drop_rest=True, mask=(), nonfinite="error",
                  mem_mb=None):
    """Rule ``noise_ceiling``: one subject's noise ceiling from the validation clip
    repeated in every run (:func:`vlmbrain.encoding.noise.noise_ceiling`).

    Parameters
    ----------
    bold : list of str
        The subject's BOLD runs, in run order.
    tables : list of str
        Stimulus tables (their ``validation`` column marks the repeated clip).
    ceiling : str
        Output ``encoding/sub-{subject}/noise_ceiling.npz``: ``ceiling``, ``reliability``
        (V), ``n_repeats``, ``n_trs`` and ``note``; with no repeated clip the maps are NaN
        and ``note`` says why (also logged).
    tr : float
    drop_rest : bool
    mask : list of str
        ``[data.mask]`` or empty.
    nonfinite : {"error", "exclude"}
        ``data.nonfinite``; excluded grayordinates get a NaN ceiling.
    mem_mb : int, optional
        The rule's ``resources.mem_mb`` (:mod:`vlmbrain.memory`).
    """
    table_paths = list(tables)
    rows = read_timing(table_paths)
    keep = kept_rows(rows, drop_rest)
    runs, validation = rows["run"].to_numpy()[keep], rows["validation"].to_numpy()[keep]
    lengths = pd.Series(validation).groupby(runs, sort=False).sum()
    lengths = lengths[lengths > 0]
    if lengths.nunique() > 1:
        log.warning(
            "the validation clip has %s modelled TRs in runs %s; the repeats are cut to the "
            "shortest (%d)", lengths.tolist(), lengths.index.tolist(), lengths.min()
        )
    sizes = memory.bold_sizes(list(bold), table_paths, drop_rest, single(mask))
    memory.check_memory("noise_ceiling", memory.noise_ceiling_parts(sizes), mem_mb)
    Y = load_subject_bold(list(bold), table_paths, tr, drop_rest=drop_rest, mask=single(mask),
                          nonfinite=nonfinite)
    values = validation_noise_ceiling(Y, runs, validation)
    if values["note"]:
        log.warning("noise ceiling is NaN: %s", values["note"])
    else:
        if values["n_trs"] < SHORT_REPEAT_TRS:
            log.warning(
                "the validation clip has %d modelled TRs per repeat: each grayordinate's "
                "reliability is noisy (standard error about %.2f per pair of repeats); "
                "read network means, not single grayordinates", values["n_trs"],
                1 / np.sqrt(values["n_trs"]),
            )
        finite = values["ceiling"][np.isfinite(values["ceiling"])]
        log.info(
            "noise ceiling from %d repeats of %d TRs: median %.3f, 95th percentile %.3f",
            values["n_repeats"], values["n_trs"], np.median(finite), np.percentile(finite, 95),
        )
    save_npz(ceiling, **{k: np.asarray(v) for k, v in values.items()})


def group(*, encoding, geometry, group, q=0.05, atom_maps=False, moderated=True, mask=()):
    """Rule ``group``: group t maps, FDR and activated/deactivated masks of one model.

    Parameters
    ----------
    encoding : list of str
        ``encoding/sub-{subject}/{model}`` of every subject.
    geometry : str
        One BOLD file (its grayordinates or voxels place the CIFTI maps).
    group : str
        Output folder ``group/{model}``.
    q : float
        ``group.fdr_q``.
    atom_maps : bool
        ``group.atom_maps``.
    moderated : bool
        ``group.moderated``.
    mask : list of str
        ``[data.mask]`` or empty.
    """
    from vlmbrain.encoding.group import group_model

    group_model(
        list(encoding),
        group,
        q=q,
        atom_maps=atom_maps,
        bm_axis=brain_models_of(geometry, single(mask)),
        moderated=moderated,
    )
