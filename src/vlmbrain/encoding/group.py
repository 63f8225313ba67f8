"""Group maps (docs/method.md, encoding): one-sample t-test of subject betas, BH-FDR, masks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from vlmbrain.encoding.atoms import layer_files
from vlmbrain.fmri.cifti import write_dscalar
from vlmbrain.io import atomic_path, half_precision, layer_name, save_npz
from vlmbrain.stats import OneSampleT, fdr_mask


def group_maps(betas, q=0.05, moderated=True):
    """Group t, q and activated/deactivated masks of one layer.

    Parameters
    ----------
    betas : iterable of ndarray (K, V)
        One beta map set per subject; NaN where the subject has no data (a grayordinate
        excluded for it), which leaves that subject out of the grayordinate's test.
    q : float
        BH-FDR level over grayordinates, per atom.
    moderated : bool
        The moderated t (a variance prior per atom, fitted over grayordinates;
        :meth:`vlmbrain.stats.OneSampleT.result`) instead of the ordinary one.

    Returns
    -------
    dict
        ``t`` and ``q`` (K x V float32; NaN where fewer than two subjects have data or
        their betas do not vary: untested, never significant), ``activated`` and
        ``deactivated`` (K x V bool), ``n_subjects`` (V int16: subjects with data at each
        grayordinate, those whose betas entered its test).
    """
    acc = OneSampleT()
    for beta in betas:
        acc.add(beta)
    _, t, p = acc.result(moderated=moderated)
    qv, sig = fdr_mask(p, q, axis=-1)
    return {
        "t": t.astype(np.float32),
        "q": qv.astype(np.float32),
        "activated": sig & (t > 0),
        "deactivated": sig & (t < 0),
        "n_subjects": acc.count.min(axis=0).astype(np.int16),
    }


def group_model(encoding_dirs, out_dir, q=0.05, atom_maps=False, bm_axis=None, moderated=True):
    """Group statistics of every stream and layer of one model.

    Parameters
    ----------
    encoding_dirs : list of str or Path
        ``results/encoding/sub-{subject}/{model}`` of every subject.
    out_dir : str or Path
        ``results/group/{model}``: ``{stream}/layer-LL.npz`` (``t``, ``q`` in float16,
        ``activated``, ``deactivated``, ``mean_r`` (mean over the subjects with data, NaN
        where none has), ``n_subjects`` (V: subjects with data)) and ``maps/``:
        ``{stream}_summary.dscalar.nii`` (per layer: number of atoms activating and
        deactivating each grayordinate, group mean r) and, with ``atom_maps``,
        ``{stream}_layer-LL.dscalar.nii`` (per atom: t where q < q, else 0).
    q : float
        ``group.fdr_q``.
    moderated : bool
        ``group.moderated`` (:func:`group_maps`).
    bm_axis : BrainModelAxis, optional
        Geometry of the maps (default: the 91,282 template).
    """
    layers = [layer_files(d) for d in encoding_dirs]
    keys = [(s, layer) for s, layer, _ in layers[0]]
    for d, lf in zip(encoding_dirs, layers, strict=True):
        if [(s, layer) for s, layer, _ in lf] != keys:
            raise ValueError(
                f"{d}: its streams/layers differ from {encoding_dirs[0]}; rerun the encoding rule"
            )
    summary = {}
    with atomic_path(out_dir, suffix="") as tmp:
        tmp.mkdir()
        (tmp / "maps").mkdir()
        for i, (stream, layer) in enumerate(tqdm(keys, desc=f"group {out_dir}", mininterval=5)):
            sum_r, n_r = 0.0, 0

            def betas():
                nonlocal sum_r, n_r
                for lf in layers:
                    with np.load(lf[i][2]) as data:
                        r = data["r"].astype(np.float64)
                        sum_r = sum_r + np.where(np.isnan(r), 0.0, r)
                        n_r = n_r + ~np.isnan(r)
                        yield data["beta"]

            res = group_maps(betas(), q=q, moderated=moderated)
            with np.errstate(divide="ignore", invalid="ignore"):
                res["mean_r"] = np.where(n_r > 0, sum_r / n_r, np.nan).astype(np.float32)
            # t and q in half precision: read only for display and by users, every decision
            # (activated, deactivated) is taken above in full precision
            save_npz(tmp / stream / f"{layer_name(layer)}.npz",
                     **{**res, "t": half_precision(res["t"]), "q": half_precision(res["q"])})
            summary.setdefault(stream, []).append(
                (layer, res["activated"].sum(0), res["deactivated"].sum(0), res["mean_r"])
            )
            if atom_maps:
                sig = np.where(res["activated"] | res["deactivated"], res["t"], 0.0)
                names = [f"atom-{k:02d} t (q<{q})" for k in range(sig.shape[0])]
                write_dscalar(tmp / "maps" / f"{stream}_{layer_name(layer)}.dscalar.nii", sig,
                              names, bm_axis)
        for stream, items in summary.items():
            maps, names = [], []
            for layer, n_act, n_deact, mean_r in items:
                maps += [n_act, n_deact, mean_r]
                names += [f"{layer_name(layer)} activating atoms", f"{layer_name(layer)} "
                          "deactivating atoms", f"{layer_name(layer)} mean r"]
            write_dscalar(Path(tmp) / "maps" / f"{stream}_summary.dscalar.nii",
                          np.stack(maps).astype(np.float32), names, bm_axis)
