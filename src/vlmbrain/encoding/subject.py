"""One subject's encoding of one model (the ``encoding`` and ``noise_ceiling`` rules)."""

from __future__ import annotations

import logging

import numpy as np
from tqdm.auto import tqdm

from vlmbrain.encoding.atoms import layer_files
from vlmbrain.encoding.glm import add_intercept, ar1_glm
from vlmbrain.encoding.noise import noise_ceiling
from vlmbrain.encoding.ridge import ridge_loro
from vlmbrain.fmri.bold import load_subject_bold
from vlmbrain.io import atomic_path, layer_name, save_npy, save_npz
from vlmbrain.stimuli.table import kept_rows, read_timing

log = logging.getLogger("vlmbrain")


def encode_layer(Y, atoms, runs, encoding):
    """AR(1) GLM and leave-one-run-out ridge of one layer's atoms.

    Parameters
    ----------
    Y : ndarray (T, V) float32
    atoms : ndarray (T, K)
    runs : array (T,)
    encoding : dict
        ``encoding`` config section (``chunk_size``, ``ar_bins``, ``ridge_alphas``).

    Returns
    -------
    dict
        ``beta``, ``t`` (K x V float32), ``r``, ``alpha`` (V float32).
    """
    glm = ar1_glm(Y, add_intercept(atoms), bins=encoding["ar_bins"], chunk_size=encoding["chunk_size"])
    k = atoms.shape[1]
    pred = ridge_loro(atoms, Y, runs, encoding["ridge_alphas"], chunk_size=encoding["chunk_size"])
    return {
        "beta": glm["beta"][:k],
        "t": glm["t"][:k],
        "r": pred["r"].astype(np.float32),
        "alpha": pred["alpha"],
    }


def encode_subject(bold_paths, table_paths, atoms_dir, out_dir, tr, temporal, encoding, mask=None):
    """Encode every stream and layer of one model in one subject.

    Writes ``{out_dir}/{stream}/layer-LL.npz`` (``beta``, ``t``, ``r``, ``alpha``); the
    folder is moved into place only when complete.
    """
    rows = read_timing(table_paths)
    keep = kept_rows(rows, temporal["drop_rest"])
    runs = rows["run"].to_numpy()[keep]
    layers = layer_files(atoms_dir)
    if not layers:
        raise FileNotFoundError(f"{atoms_dir}: no atoms (stream/layer-LL.npz); rerun the atoms rule")
    Y = load_subject_bold(bold_paths, table_paths, tr, drop_rest=temporal["drop_rest"], mask=mask)
    with atomic_path(out_dir, suffix="") as tmp:
        tmp.mkdir()
        for stream, layer, path in tqdm(layers, desc=f"encoding {out_dir}", mininterval=5):
            with np.load(path) as data:
                atoms = data["atoms"]
            if atoms.shape[0] != Y.shape[0]:
                raise ValueError(
                    f"{path}: atoms have {atoms.shape[0]} time points but the BOLD of "
                    f"{bold_paths[0]}... has {Y.shape[0]} kept TRs; rerun the atoms rule "
                    "with the same stimulus tables and temporal settings."
                )
            save_npz(tmp / stream / f"{layer_name(layer)}.npz", **encode_layer(Y, atoms, runs, encoding))


def subject_noise_ceiling(bold_paths, table_paths, out_path, tr, temporal, mask=None):
    """Write the noise ceiling (V) of one subject; NaN when no validation clip repeats."""
    rows = read_timing(table_paths)
    keep = kept_rows(rows, temporal["drop_rest"])
    Y = load_subject_bold(bold_paths, table_paths, tr, drop_rest=temporal["drop_rest"], mask=mask)
    ceiling = noise_ceiling(Y, rows["run"].to_numpy()[keep], rows["validation"].to_numpy()[keep])
    if ceiling is None:
        log.warning("fewer than two runs hold the validation clip: noise ceiling is NaN")
        ceiling = np.full(Y.shape[1], np.nan, np.float32)
    save_npy(out_path, ceiling)
