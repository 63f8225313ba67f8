"""One model's regressors and atoms (the ``atoms`` rule): temporal model + SDL per layer."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from vlmbrain.encoding.sdl import atoms_per_tr_warning, learn_atoms
from vlmbrain.encoding.temporal import regressor_pipeline
from vlmbrain.models.files import load_activations, load_layer
from vlmbrain.io import atomic_path, layer_name, save_npy, save_npz, write_tsv
from vlmbrain.stimuli.table import kept_rows, read_timing

log = logging.getLogger("vlmbrain")


def layer_files(root, suffix=".npz"):
    """Every ``{stream}/layer-LL{suffix}`` under ``root`` as sorted (stream, layer, path)."""
    out = []
    for path in sorted(Path(root).glob(f"*/layer-*{suffix}")):
        out.append((path.parent.name, int(path.name[len("layer-") : -len(suffix)]), path))
    return out


def build_atoms(model, activations_dir, table_paths, regressors_dir, atoms_dir, tr, temporal, sdl):
    """Write the regressors and atoms of every stream and layer of one model.

    Parameters
    ----------
    model : str
        Model key (for the summary table).
    activations_dir : str or Path
        ``results/activations/{model}``.
    table_paths : list of str
        Stimulus tables in ``data.runs`` order.
    regressors_dir, atoms_dir : str or Path
        Output folders (``results/regressors/{model}``, ``results/atoms/{model}``),
        each written whole and moved into place at the end.
    tr : float
    temporal : dict
        ``temporal`` config section (``hrf``, ``drop_rest``).
    sdl : dict
        ``sdl`` config section (``n_atoms``, ``alpha``, ``max_iter``, ``batch_size``, ``seed``).
    """
    manifest = load_activations(activations_dir)
    rows = read_timing(table_paths)
    if int(manifest.get("n_trs", len(rows))) != len(rows):
        raise ValueError(
            f"{activations_dir}: activations have {manifest['n_trs']} TRs but the stimulus "
            f"tables have {len(rows)}; rerun the activations rule."
        )
    keep = kept_rows(rows, temporal["drop_rest"])
    pipe = regressor_pipeline(rows, temporal["hrf"], tr, temporal["drop_rest"])
    warning = atoms_per_tr_warning(int(np.count_nonzero(keep)), int(sdl["n_atoms"]))
    if warning:
        log.warning(warning)
    jobs = [(s, layer) for s, info in manifest["streams"].items() for layer in range(info["n_layers"])]
    summary = []
    with atomic_path(regressors_dir, suffix="") as reg_tmp, atomic_path(atoms_dir, suffix="") as atom_tmp:
        reg_tmp.mkdir()
        atom_tmp.mkdir()
        write_tsv(reg_tmp / "timing.tsv", rows.loc[keep, ["run", "tr"]])
        for stream, layer in tqdm(jobs, desc=f"atoms {model}", mininterval=5):
            X = np.asarray(load_layer(activations_dir, stream, layer), np.float32)
            if X.shape[0] != len(rows):
                raise ValueError(
                    f"{activations_dir}/{stream}/{layer_name(layer)}.npy has {X.shape[0]} rows, "
                    f"expected {len(rows)} (all TRs of all runs); rerun the activations rule."
                )
            R = pipe.transform(X)
            save_npy(reg_tmp / stream / f"{layer_name(layer)}.npy", R)
            res = learn_atoms(
                R, sdl["n_atoms"], sdl["alpha"], sdl["max_iter"], sdl["batch_size"], sdl["seed"]
            )
            save_npz(atom_tmp / stream / f"{layer_name(layer)}.npz", **res)
            summary.append(
                (model, stream, layer, R.shape[1], sdl["n_atoms"], sdl["alpha"],
                 float(res["zero_fraction"]), float(res["r2"]))
            )
            log.info("%s %s layer %d: zero codes %.3f, R2 %.3f", model, stream, layer,
                     res["zero_fraction"], res["r2"])
        write_tsv(
            atom_tmp / "summary.tsv",
            pd.DataFrame(summary, columns=["model", "stream", "layer", "n_ans", "n_atoms",
                                           "alpha", "zero_fraction", "r2"]),
        )
