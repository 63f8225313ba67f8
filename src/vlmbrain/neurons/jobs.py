"""The work of each neurons rule: thin functions over files, called by ``scripts/neurons_*``.

Files (under ``results/``):

- ``neurons/sub-{subject}/parcel_bold.npz``: ``series`` (T_kept x P), ``names`` (P).
- ``neurons/sub-{subject}/{model}.npz``: per layer ``z__{stream}__{LL}`` (Fisher z of r)
  and ``t__{stream}__{LL}`` (AR(1) GLM t), N x P float32.
- ``neurons/{model}/parcels.npz``: per layer ``t__``, ``q__``, ``mean_r__`` (N x P) and
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

from vlmbrain.io import layer_name, read_json, save_npy, save_npz, write_tsv

log = logging.getLogger("vlmbrain")

__all__ = [
    "layers_of",
    "layer_key",
    "an_table",
    "parcel_bold_job",
    "subject_job",
    "group_job",
    "cohort_bold_job",
    "grayordinate_job",
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


def an_table(model, stream, layer, n_heads, head_dim):
    """Identifiers of a layer's ANs: model, stream, layer, head, dim, column."""
    column = np.arange(n_heads * head_dim)
    return pd.DataFrame(
        {
            "model": model,
            "stream": stream,
            "layer": int(layer),
            "head": column // head_dim,
            "dim": column % head_dim,
            "column": column,
        }
    )


def parcel_bold_job(bold_paths, tables, tr, drop_rest, parcellation, out_npz, mask=None):
    """Parcel-average BOLD of one subject (T_kept x P)."""
    from vlmbrain.fmri.bold import load_subject_bold
    from vlmbrain.neurons.parcels import load_parcellation, parcel_series

    names, index = load_parcellation(parcellation)  # checked before any BOLD is read
    bold = load_subject_bold(list(bold_paths), list(tables), tr, drop_rest=drop_rest, mask=mask)
    if bold.shape[1] != len(index):
        raise ValueError(
            f"{bold_paths[0]}: {bold.shape[1]} grayordinates but the parcellation "
            f"{parcellation} has {len(index)}; set neurons.parcellation to one in this space"
        )
    series = parcel_series(bold, index, len(names))
    log.info("parcel BOLD: %d TRs x %d parcels", *series.shape)
    save_npz(out_npz, series=series, names=np.array(names))


def subject_job(parcel_npz, manifest_path, regressors_dir, out_npz, ar_bins=100):
    """Every AN of every layer of one model against one subject's parcels."""
    from vlmbrain.stats import ar1_glm, fisher_z

    with np.load(parcel_npz) as data:
        Y, names = data["series"], data["names"]
    arrays = {"names": names}
    for stream, layer, heads, dim in tqdm(layers_of(manifest_path), desc="layers"):
        X = load_regressors(regressors_dir, stream, layer, Y.shape[0], heads * dim)
        fit = ar1_glm(Y, X, bins=ar_bins, pairwise=True)
        r, t = fit["r"], fit["t"]
        arrays[layer_key("z", stream, layer)] = fisher_z(r).astype(np.float32)
        arrays[layer_key("t", stream, layer)] = t.astype(np.float32)
    save_npz(out_npz, **arrays)


def _parcel_networks(parcellation, networks_npz):
    from vlmbrain.networks.templates import load_networks
    from vlmbrain.neurons.parcels import load_parcellation, parcel_networks

    net_names, masks = load_networks(networks_npz)
    names, index = load_parcellation(parcellation, masks.shape[1])
    return names, parcel_networks(index, masks, len(names)), net_names


def group_job(
    model,
    subject_npzs,
    parcel_npzs,
    manifest_path,
    regressors_dir,
    parcellation,
    networks_npz,
    out_npz,
    out_ans,
    out_summary,
    q=0.05,
):
    """Group test per (AN, parcel), BH-FDR per layer, per-AN and network tables.

    A pair is significant when its subjects' Fisher z differ from 0 consistently (one-sample
    t across subjects) *and* its correlation with the subject-average parcel series exceeds
    the circular-shift null, with the same sign: p = max(p_t, p_shift) (intersection-union
    test), BH-FDR over all AN x parcel pairs of the layer. The t alone is not enough in
    movie data: the stimulus-driven signal is shared by all subjects, so an AN's chance
    correlation with it (autocorrelated series, finite T) is consistent across subjects
    and a t across subjects calls it significant; the circular-shift null is what rules it
    out.
    """
    from scipy.special import ndtr

    from vlmbrain.neurons.cohort import cohort_mean
    from vlmbrain.stats import OneSampleT, fdr_mask
    from vlmbrain.neurons.null import circular_null_z

    names, parcel_net, net_names = _parcel_networks(parcellation, networks_npz)
    names = np.asarray(names)
    for path in list(subject_npzs) + list(parcel_npzs):
        with np.load(path) as data:
            if len(data["names"]) != len(names) or (data["names"] != names).any():
                raise ValueError(f"{path}: parcels differ from {parcellation}; rerun it")
    if len(parcel_npzs) != len(subject_npzs):
        raise ValueError(f"{len(subject_npzs)} subject files but {len(parcel_npzs)} parcel files")
    average = cohort_mean(np.load(path)["series"] for path in parcel_npzs)
    arrays, ans, summary = {"names": names, "networks": np.array(net_names)}, [], []
    for stream, layer, heads, dim in tqdm(layers_of(manifest_path), desc="layers"):
        acc = OneSampleT()
        for path in subject_npzs:
            with np.load(path) as data:
                acc.add(data[layer_key("z", stream, layer)])
        mean_z, t, p_t = acc.result()
        X = load_regressors(regressors_dir, stream, layer, average.shape[0], heads * dim)
        r_avg, z_shift = circular_null_z(X, average, dtype=np.float64)
        p_shift = 2.0 * ndtr(-np.abs(z_shift))
        p = np.where(np.sign(r_avg) == np.sign(t), np.maximum(p_t, p_shift), 1.0)
        qv, sig = fdr_mask(p, q, axis=None)
        pos, neg = sig & (t > 0), sig & (t < 0)
        mean_r = np.tanh(mean_z)
        arrays[layer_key("t", stream, layer)] = t.astype(np.float32)
        arrays[layer_key("q", stream, layer)] = qv.astype(np.float32)
        arrays[layer_key("mean_r", stream, layer)] = mean_r.astype(np.float32)
        arrays[layer_key("parcel_counts", stream, layer)] = np.stack(
            [pos.sum(0), neg.sum(0)]
        ).astype(np.int32)
        table = an_table(model, stream, layer, heads, dim)
        table = table.join(
            _an_parcel_columns(t, qv, mean_r, pos, neg, names, parcel_net, net_names)
        )
        ans.append(table)
        summary.append(_parcel_summary(model, stream, layer, pos, neg, parcel_net, net_names))
    save_npz(out_npz, **arrays)
    write_tsv(out_ans, pd.concat(ans, ignore_index=True))
    write_tsv(out_summary, pd.concat(summary, ignore_index=True))


def _an_parcel_columns(t, qv, mean_r, pos, neg, names, parcel_net, net_names, max_listed=20):
    """Per-AN parcel-level columns of one layer (no loop over ANs except the list strings)."""
    N = t.shape[0]
    rows = np.arange(N)
    sig = pos | neg
    score = np.where(sig, np.abs(t), -np.inf)
    best = np.where(sig.any(1), score.argmax(1), np.abs(t).argmax(1))
    net_of_best = parcel_net[best]
    out = {
        "n_parcels_pos": pos.sum(1),
        "n_parcels_neg": neg.sum(1),
        "best_parcel": names[best],
        "best_parcel_network": np.where(
            net_of_best >= 0, np.asarray(net_names + [""])[net_of_best], ""
        ),
        "best_parcel_t": t[rows, best],
        "best_parcel_r": mean_r[rows, best],
        "best_parcel_q": qv[rows, best],
    }
    for k, net in enumerate(net_names):
        inside = parcel_net == k
        out[f"parcels_pos_{net}"] = pos[:, inside].sum(1)
        out[f"parcels_neg_{net}"] = neg[:, inside].sum(1)
        # signed t of the strongest significant parcel of the network (0: none)
        t_in = np.where(sig[:, inside], t[:, inside], 0.0)
        pick = np.abs(t_in).argmax(1) if inside.any() else None
        out[f"max_t_{net}"] = t_in[rows, pick] if inside.any() else np.zeros(N)
    out["top_parcels"] = _top_parcels(t, sig, names, max_listed)
    return pd.DataFrame(out)


def _top_parcels(t, sig, names, max_listed):
    """Per AN, its ``max_listed`` strongest significant parcels as ``+name,-name,...``."""
    order = np.argsort(-np.abs(t), axis=1)[:, :max_listed]
    rows = np.arange(t.shape[0])[:, None]
    keep = sig[rows, order]
    signs = np.where(t[rows, order] > 0, "+", "-")
    labels = np.char.add(signs, names[order].astype(str))
    return np.array([",".join(lab[k]) for lab, k in zip(labels, keep)], dtype=object)
    return pd.DataFrame(out)


def _parcel_summary(model, stream, layer, pos, neg, parcel_net, net_names):
    """Per-network neuron-level columns of one layer (parcel resolution)."""
    N = pos.shape[0]
    rows = []
    for k, net in enumerate(net_names):
        inside = parcel_net == k
        n_par = int(inside.sum())
        p_in, n_in = pos[:, inside], neg[:, inside]
        rows.append(
            {
                "model": model,
                "stream": stream,
                "layer": int(layer),
                "network": net,
                "n_parcels": n_par,
                "ans_per_parcel": float((p_in | n_in).sum() / n_par) if n_par else np.nan,
                "ans_per_parcel_pos": float(p_in.sum() / n_par) if n_par else np.nan,
                "ans_per_parcel_neg": float(n_in.sum() / n_par) if n_par else np.nan,
                "n_significant_ans": int((p_in | n_in).any(1).sum()),
                "share_positive_ans": float(p_in.any(1).sum() / N),
                "share_negative_ans": float(n_in.any(1).sum() / N),
            }
        )
    return pd.DataFrame(rows)


def cohort_bold_job(bold_paths_by_subject, tables, tr, drop_rest, out_npy, mask=None):
    """Cohort-mean BOLD (T_kept x V), loading one subject at a time."""
    from vlmbrain.fmri.bold import load_subject_bold
    from vlmbrain.neurons.cohort import cohort_mean

    def bolds():
        for paths in tqdm(bold_paths_by_subject, desc="subjects"):
            yield load_subject_bold(list(paths), list(tables), tr, drop_rest=drop_rest, mask=mask)

    save_npy(out_npy, cohort_mean(bolds()))


def grayordinate_job(
    model,
    cohort_npy,
    manifest_path,
    regressors_dir,
    networks_npz,
    out_npz,
    out_ans,
    out_summary,
    out_layers,
    q=0.05,
    n_shifts=200,
    chunk_size=8192,
    seed=0,
    enrichment_q=0.05,
):
    """Every AN of every layer of one model against every grayordinate of the cohort."""
    from vlmbrain.networks.templates import load_networks
    from vlmbrain.neurons.cohort import GrayordinateEncoder

    net_names, masks = load_networks(networks_npz)
    target = np.load(cohort_npy)
    encoder = GrayordinateEncoder(
        target,
        masks,
        q=q,
        chunk_size=chunk_size,
        n_shifts=n_shifts,
        seed=seed,
        enrichment_q=enrichment_q,
    )
    arrays, ans, summary, layers = {"networks": np.array(net_names)}, [], [], []
    sizes = masks.sum(1)
    for stream, layer, heads, dim in tqdm(layers_of(manifest_path), desc="layers"):
        X = load_regressors(regressors_dir, stream, layer, target.shape[0], heads * dim)
        res = encoder.encode(X)
        arrays[layer_key("bn_counts", stream, layer)] = res["bn_counts"]
        arrays[layer_key("an_counts", stream, layer)] = res["an_counts"]
        table = an_table(model, stream, layer, heads, dim)
        table["n_grayordinates_pos"] = res["an_total"][:, 0]
        table["n_grayordinates_neg"] = res["an_total"][:, 1]
        table["best_grayordinate_r"] = res["best_r"]
        for k, net in enumerate(net_names):
            table[f"grayordinates_pos_{net}"] = res["an_counts"][:, k, 0]
            table[f"grayordinates_neg_{net}"] = res["an_counts"][:, k, 1]
            table[f"enriched_pos_{net}"] = res["an_enriched"][:, k, 0]
            table[f"enriched_neg_{net}"] = res["an_enriched"][:, k, 1]
        ans.append(table)
        N = X.shape[1]
        for k, net in enumerate(net_names):
            cnt = res["bn_counts"][:, masks[k]]
            hit = res["an_enriched"][:, k, :]
            summary.append(
                {
                    "model": model,
                    "stream": stream,
                    "layer": int(layer),
                    "network": net,
                    "n_grayordinates": int(sizes[k]),
                    "ans_per_grayordinate": float(cnt.sum() / max(sizes[k], 1)),
                    "ans_per_grayordinate_pos": float(cnt[0].sum() / max(sizes[k], 1)),
                    "ans_per_grayordinate_neg": float(cnt[1].sum() / max(sizes[k], 1)),
                    "share_positive_ans_grayordinate": float(hit[:, 0].sum() / N),
                    "share_negative_ans_grayordinate": float(hit[:, 1].sum() / N),
                }
            )
        layers.append(
            {
                "model": model,
                "stream": stream,
                "layer": int(layer),
                "n_ans": N,
                "n_tests": res["n_tests"],
                "p_threshold": res["threshold"],
                "n_significant": int(res["an_total"].sum()),
                "calibration_mean_abs_p_diff": res["calibration"],
            }
        )
    save_npz(out_npz, **arrays)
    write_tsv(out_ans, pd.concat(ans, ignore_index=True))
    write_tsv(out_summary, pd.DataFrame(summary))
    write_tsv(out_layers, pd.DataFrame(layers))
