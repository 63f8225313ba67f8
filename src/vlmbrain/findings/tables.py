"""The four findings as tables, one row per (model, stream, layer, network).

Definitions (columns documented in ``docs/outputs.md``):

- An atom *drives* a network with a sign when its activated (sign +1) or deactivated
  (sign -1) group map is enriched in the network (``network_overlap.tsv``, ``drives``).
- A network grayordinate is *driven* when it lies in the map, of the driving sign, of at
  least one atom that drives the network.
- An atom's *ANs* are those with a nonzero code on it.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from scipy import stats
from tqdm.auto import tqdm

from vlmbrain.encoding.noise import signed_root
from vlmbrain.findings.inputs import layer_file, load_codes, load_group_layer

log = logging.getLogger("vlmbrain")

KEYS = ["model", "stream", "layer", "network"]
PREDICTION_COLUMNS = KEYS + [
    "n_grayordinates",
    "mean_r",
    "fraction_driven",
    "n_driving_atoms",
    "n_activating_atoms",
    "n_deactivating_atoms",
    "driving_atoms",
]
CEILING_COLUMNS = ["noise_ceiling", "r_fraction"]
NOISE_CEILING_COLUMNS = [
    "subject",
    "network",
    "n_grayordinates",
    "n_repeats",
    "n_trs",
    "mean_reliability",
    "mean_ceiling",
    "median_ceiling",
    "note",
]
REDUNDANCY_COLUMNS = KEYS + [
    "n_driven_grayordinates",
    "atoms_per_grayordinate",
    "ans_per_grayordinate",
    "ans_per_atom",
    "networks_per_an",
    "jaccard",
]
POLARITY_COLUMNS = KEYS + [
    "fraction_activated",
    "fraction_deactivated",
    "n_activating_atoms",
    "n_deactivating_atoms",
    "share_positive_codes",
    "share_negative_codes",
    "share_positive_coupling",
    "share_negative_coupling",
]
TREND_COLUMNS = [
    "model",
    "stream",
    "network",
    "n_layers",
    "r",
    "p",
    "mean_fraction_activated",
    "mean_fraction_deactivated",
    "peak_activated_layer",
    "peak_deactivated_layer",
]
ARCHITECTURE_COLUMNS = [
    "model",
    "stream",
    "unimodal",
    "n_layers",
    "vision_overlap",
    "language_overlap",
    "msi",
    "n_vision_atoms",
    "n_language_atoms",
    "n_cross_modal_atoms",
    "share_cross_modal",
]


def distinct_ans(cover, support):
    """Number of distinct ANs in the atoms that cover each grayordinate.

    Parameters
    ----------
    cover : ndarray (K, G) bool
        ``cover[k, g]``: grayordinate g is in atom k's significant map.
    support : ndarray (K, N) bool
        ``support[k, n]``: AN n has a nonzero code on atom k.

    Returns
    -------
    ndarray (G,) int
        ``|union of support[k] over k with cover[k, g]|`` for each g.
    """
    if cover.shape[1] == 0:
        return np.zeros(0, dtype=np.int64)
    patterns, inverse = np.unique(cover.T, axis=0, return_inverse=True)
    counts = ((patterns.astype(np.float32) @ support.astype(np.float32)) > 0).sum(axis=1)
    return counts[np.ravel(inverse)]


def mean_jaccard(maps):
    """Mean pairwise Jaccard index of boolean maps (n x V); NaN for fewer than two maps."""
    n = len(maps)
    if n < 2:
        return np.nan
    m = maps.astype(np.float32)
    inter = m @ m.T
    sizes = np.diag(inter)
    union = sizes[:, None] + sizes[None, :] - inter
    iu = np.triu_indices(n, k=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        jac = np.where(union[iu] > 0, inter[iu] / union[iu], 0.0)
    return float(jac.mean())


def _share(values):
    values = np.asarray(values)
    if values.size == 0:
        return np.nan, np.nan
    return float((values > 0).mean()), float((values < 0).mean())


def layer_findings(activated, deactivated, mean_r, codes, overlap, names, masks):
    """Prediction, redundancy and polarity rows of one layer, one per network.

    Parameters
    ----------
    activated, deactivated : ndarray (K, V) bool
        Group maps of the layer's atoms.
    mean_r : ndarray (V,)
        Mean held-out prediction r over subjects.
    codes : ndarray (K, N)
        Sparse codes of the layer's ANs on its atoms.
    overlap : DataFrame
        The layer's rows of ``network_overlap.tsv`` (``atom, network, sign, drives``).
    names : sequence of str
    masks : ndarray (n_networks, V) bool

    Returns
    -------
    prediction, redundancy, polarity : list of dict
        One dict per network (without the model, stream and layer keys).
    """
    k, v = activated.shape
    if codes.shape[0] != k:
        raise ValueError(
            f"codes have {codes.shape[0]} atoms but the group maps have {k}; the atoms and "
            "group files come from different runs"
        )
    support = codes != 0
    sig = activated | deactivated
    sig_count = sig.sum(axis=0)
    any_act = activated.any(axis=0)
    any_deact = deactivated.any(axis=0)
    drives = overlap[overlap["drives"].astype(bool)]
    items = {
        name: [(int(a), int(s)) for a, s in zip(sub["atom"], sub["sign"])]
        for name, sub in drives.groupby("network")
    }
    atoms = {name: sorted({a for a, _ in items.get(name, [])}) for name in names}
    reach = np.stack([support[atoms[n]].any(axis=0) for n in names])  # networks x N
    networks_per_an = reach.sum(axis=0)

    prediction, redundancy, polarity = [], [], []
    for i, name in enumerate(names):
        mask = masks[i]
        size = int(mask.sum())
        pairs = items.get(name, [])
        maps = (
            np.stack([activated[a] if s > 0 else deactivated[a] for a, s in pairs])
            if pairs
            else np.zeros((0, v), dtype=bool)
        )
        covered = maps.any(axis=0) & mask
        n_cov = int(covered.sum())
        net_atoms = atoms[name]
        prediction.append(
            {
                "network": name,
                "n_grayordinates": size,
                "mean_r": float(np.nanmean(mean_r[mask])) if size else np.nan,
                "fraction_driven": n_cov / size if size else np.nan,
                "n_driving_atoms": len(net_atoms),
                "n_activating_atoms": len({a for a, s in pairs if s > 0}),
                "n_deactivating_atoms": len({a for a, s in pairs if s < 0}),
                "driving_atoms": ",".join(str(a) for a in net_atoms),
            }
        )
        redundancy.append(
            {
                "network": name,
                "n_driven_grayordinates": n_cov,
                "atoms_per_grayordinate": float(sig_count[covered].mean()) if n_cov else np.nan,
                "ans_per_grayordinate": (
                    float(distinct_ans(sig[:, covered], support).mean()) if n_cov else np.nan
                ),
                "ans_per_atom": float(support[net_atoms].sum(axis=1).mean()) if net_atoms else np.nan,
                "networks_per_an": (
                    float(networks_per_an[reach[i]].mean()) if reach[i].any() else np.nan
                ),
                "jaccard": mean_jaccard(maps),
            }
        )
        code_values = codes[net_atoms][support[net_atoms]]
        coupling = np.concatenate(
            [np.sign(codes[a][support[a]]) * s for a, s in pairs] if pairs else [np.zeros(0)]
        )
        pos_codes, neg_codes = _share(code_values)
        pos_coupling, neg_coupling = _share(coupling)
        polarity.append(
            {
                "network": name,
                "fraction_activated": float((any_act & mask).sum() / size) if size else np.nan,
                "fraction_deactivated": float((any_deact & mask).sum() / size) if size else np.nan,
                "n_activating_atoms": prediction[-1]["n_activating_atoms"],
                "n_deactivating_atoms": prediction[-1]["n_deactivating_atoms"],
                "share_positive_codes": pos_codes,
                "share_negative_codes": neg_codes,
                "share_positive_coupling": pos_coupling,
                "share_negative_coupling": neg_coupling,
            }
        )
    return prediction, redundancy, polarity


def layer_tables(index, group_dirs, atoms_dirs, overlap, names, masks):
    """Prediction, redundancy and polarity tables over all configured layers.

    Parameters
    ----------
    index : DataFrame
        Configured layers (``model, stream, layer``).
    group_dirs, atoms_dirs : mapping
        ``{model: results/group/{model}}`` and ``{model: results/atoms/{model}}``.
    overlap : DataFrame
        ``network_overlap.tsv``.
    names : sequence of str
    masks : ndarray (n_networks, V) bool

    Returns
    -------
    prediction, redundancy, polarity : DataFrame
    """
    _check_overlap_covers(overlap, index, names)
    groups = {key: sub for key, sub in overlap.groupby(["model", "stream", "layer"])}
    out = {"prediction": [], "redundancy": [], "polarity": []}
    for row in tqdm(index.itertuples(), total=len(index), desc="findings tables"):
        key = (row.model, row.stream, int(row.layer))
        group = load_group_layer(layer_file(group_dirs, *key), masks.shape[1])
        codes = load_codes(layer_file(atoms_dirs, *key))
        parts = layer_findings(
            group["activated"],
            group["deactivated"],
            group["mean_r"],
            codes,
            groups[key],
            names,
            masks,
        )
        for table, rows in zip(out, parts):
            for r in rows:
                out[table].append({"model": key[0], "stream": key[1], "layer": key[2], **r})
    return (
        pd.DataFrame(out["prediction"], columns=PREDICTION_COLUMNS),
        pd.DataFrame(out["redundancy"], columns=REDUNDANCY_COLUMNS),
        pd.DataFrame(out["polarity"], columns=POLARITY_COLUMNS),
    )


def network_ceilings(signed, note, names, masks, p_max=0.05):
    """Each network's noise ceiling and whether held-out r can be read as a share of it.

    Parameters
    ----------
    signed : ndarray (n_subjects, V)
        Each subject's signed ceiling
        (:func:`vlmbrain.encoding.noise.group_noise_ceiling`); NaN when undefined.
    note : str
        Why ``signed`` is NaN, or ``""``.
    names : sequence of str
    masks : ndarray (n_networks, V) bool
    p_max : float
        ``encoding.ceiling_p``: the network's ceiling counts as above 0 when a one-sided
        one-sample t-test of the subjects' network means gives p below it.

    Returns
    -------
    DataFrame
        One row per network: ``network``, ``noise_ceiling`` (mean over subjects of the
        network mean), ``usable`` (above 0 by the test) and ``ceiling_note`` (why it is
        NaN or not usable; ``""`` otherwise).
    """
    if signed.ndim != 2 or signed.shape[1] != masks.shape[1]:
        raise ValueError(
            f"the noise ceilings have shape {signed.shape} but the network template has "
            f"{masks.shape[1]} grayordinates; rerun the `noise_ceiling` rule"
        )
    rows = []
    for name, mask in zip(names, masks, strict=True):
        row = {"network": name, "noise_ceiling": np.nan, "usable": False, "ceiling_note": note}
        if not note and not mask.any():
            row["ceiling_note"] = "the network has no grayordinate"
        elif not note:
            means = signed[:, mask].astype(np.float64).mean(axis=1)
            row["noise_ceiling"] = float(means.mean())
            if np.ptp(means) == 0:
                p = 0.0 if means[0] > 0 else 1.0
            else:
                p = float(stats.ttest_1samp(means, 0.0, alternative="greater").pvalue)
            row["usable"] = p < p_max
            if not row["usable"]:
                row["ceiling_note"] = (
                    f"noise ceiling not above 0 across subjects (network means "
                    f"{row['noise_ceiling']:.3f} on average, one-sided t-test p = {p:.2g}, "
                    f"not below encoding.ceiling_p = {p_max}): the repeats of the validation "
                    "clip do not reliably correlate here, so r is not read as a share of it"
                )
        rows.append(row)
    return pd.DataFrame(rows, columns=["network", "noise_ceiling", "usable", "ceiling_note"])


def add_noise_ceiling(prediction, signed, note, names, masks, p_max=0.05):
    """Add the noise ceiling to the prediction table: held-out r as a share of it.

    Parameters
    ----------
    prediction : DataFrame
        From :func:`layer_tables` (``network``, ``mean_r``).
    signed, note, names, masks, p_max
        As in :func:`network_ceilings`.

    Returns
    -------
    DataFrame
        ``prediction`` with ``noise_ceiling`` (mean over subjects and the network of the
        signed ceiling) and ``r_fraction`` (``mean_r / noise_ceiling``: a ratio of network
        means, since per-grayordinate ratios explode where the ceiling is near 0; NaN
        where the ceiling is NaN or not above 0 across subjects) after ``mean_r``, and
        ``ceiling_note`` last: why ``r_fraction`` is NaN (empty when it is not).
    """
    per_network = network_ceilings(signed, note, names, masks, p_max).set_index("network")
    out = prediction.copy()
    out["noise_ceiling"] = out["network"].map(per_network["noise_ceiling"]).astype(float)
    usable = out["network"].map(per_network["usable"]).fillna(False).astype(bool)
    out["r_fraction"] = np.where(usable, out["mean_r"] / out["noise_ceiling"].where(usable), np.nan)
    out["ceiling_note"] = [per_network["ceiling_note"].get(n, "") for n in out["network"]]
    at = list(out.columns).index("mean_r") + 1
    base = [c for c in out.columns if c not in CEILING_COLUMNS + ["ceiling_note"]]
    return out[base[:at] + CEILING_COLUMNS + base[at:] + ["ceiling_note"]]


def noise_ceiling_table(subjects, ceilings, names, masks):
    """Each subject's noise ceiling per network.

    Parameters
    ----------
    subjects : list of str
    ceilings : list of dict
        :func:`vlmbrain.encoding.noise.read_noise_ceiling` of each subject.
    names : sequence of str
    masks : ndarray (n_networks, V) bool

    Returns
    -------
    DataFrame
        One row per (subject, network), the columns of :data:`NOISE_CEILING_COLUMNS`:
        repeats and TRs per repeat of the validation clip, the network's mean
        reliability (mean pairwise r of the repeats), the mean and median of its signed
        ceiling (:func:`vlmbrain.encoding.noise.signed_root`), and the note saying why
        they are NaN.
    """
    rows = []
    for subject, c in zip(subjects, ceilings, strict=True):
        signed = signed_root(c["reliability"]).astype(np.float64)
        reliability = c["reliability"].astype(np.float64)
        for name, mask in zip(names, masks, strict=True):
            defined = mask.any() and not c["note"]
            rows.append(
                {
                    "subject": subject,
                    "network": name,
                    "n_grayordinates": int(mask.sum()),
                    "n_repeats": c["n_repeats"],
                    "n_trs": c["n_trs"],
                    "mean_reliability": float(np.nanmean(reliability[mask])) if defined else np.nan,
                    "mean_ceiling": float(np.nanmean(signed[mask])) if defined else np.nan,
                    "median_ceiling": float(np.nanmedian(signed[mask])) if defined else np.nan,
                    "note": c["note"],
                }
            )
    return pd.DataFrame(rows, columns=NOISE_CEILING_COLUMNS)


def _check_overlap_covers(overlap, index, names):
    have = set(map(tuple, overlap[["model", "stream", "layer"]].drop_duplicates().values))
    want = {(m, s, int(layer)) for m, s, layer in index[["model", "stream", "layer"]].values}
    missing = sorted(want - {(m, s, int(layer)) for m, s, layer in have})
    if missing:
        raise ValueError(
            f"network_overlap.tsv has no rows for {len(missing)} configured layers "
            f"(first: {missing[0]}); rerun the `network_overlap` rule"
        )
    unknown = sorted(set(overlap["network"]) - set(names))
    if unknown:
        raise ValueError(
            f"network_overlap.tsv names networks {unknown} absent from the network template "
            f"({list(names)}); rerun the `network_overlap` rule"
        )


def polarity_trend(polarity):
    """Correlation across layers of the activated and deactivated curves.

    Parameters
    ----------
    polarity : DataFrame
        ``polarity.tsv``.

    Returns
    -------
    DataFrame
        One row per (model, stream, network): ``r`` and ``p`` (Pearson, NaN when a curve
        is constant or there are fewer than three layers), mean fractions and the layers
        of the peaks.
    """
    rows = []
    for (model, stream, network), sub in polarity.groupby(
        ["model", "stream", "network"], sort=False
    ):
        sub = sub.sort_values("layer")
        act = sub["fraction_activated"].to_numpy(float)
        deact = sub["fraction_deactivated"].to_numpy(float)
        r = p = np.nan
        if len(sub) >= 3 and np.ptp(act) > 0 and np.ptp(deact) > 0:
            r, p = stats.pearsonr(act, deact)
        rows.append(
            {
                "model": model,
                "stream": stream,
                "network": network,
                "n_layers": len(sub),
                "r": float(r),
                "p": float(p),
                "mean_fraction_activated": float(act.mean()),
                "mean_fraction_deactivated": float(deact.mean()),
                "peak_activated_layer": int(sub["layer"].iloc[int(np.argmax(act))]),
                "peak_deactivated_layer": int(sub["layer"].iloc[int(np.argmax(deact))]),
            }
        )
    return pd.DataFrame(rows, columns=TREND_COLUMNS)


def check_modality_networks(networks, vision="vision", language="language", source="the network template"):
    """Refuse a table whose networks lack the vision or language network of finding 4."""
    nets = set(networks)
    for name in (vision, language):
        if name not in nets:
            raise ValueError(
                f"network {name!r} is not in {source} ({sorted(nets)}); the architecture "
                "finding needs `vision` and `language` in networks.mapping"
            )


def modality_specificity(o_vision, o_language):
    """MSI = (O_v - O_l) / (O_v + O_l); NaN when both are 0."""
    total = o_vision + o_language
    return (o_vision - o_language) / total if total > 0 else np.nan


def architecture(prediction, overlap, index, vision="vision", language="language"):
    """Modality specificity and cross-modal atoms per model and stream.

    Parameters
    ----------
    prediction : DataFrame
        ``prediction.tsv`` (for ``fraction_driven``).
    overlap : DataFrame
        ``network_overlap.tsv`` (for the atoms that drive each network).
    index : DataFrame
        Configured layers (``model, stream, layer, unimodal``).
    vision, language : str
        Names of the vision and language networks.

    Returns
    -------
    DataFrame
        One row per (model, stream): ``vision_overlap`` and ``language_overlap`` (mean
        over layers of the driven fraction of the network), ``msi`` = (O_v - O_l) /
        (O_v + O_l) (NaN when both are 0), the numbers of (layer, atom) pairs driving
        vision, language and both (cross-modal), and ``share_cross_modal`` = cross-modal /
        atoms driving vision or language (NaN when none).
    """
    check_modality_networks(prediction["network"], vision, language)
    drives = overlap[overlap["drives"].astype(bool)]
    rows = []
    streams = index.drop_duplicates(["model", "stream"])
    for row in streams.itertuples():
        pred = prediction[(prediction["model"] == row.model) & (prediction["stream"] == row.stream)]
        o_v = float(pred.loc[pred["network"] == vision, "fraction_driven"].mean())
        o_l = float(pred.loc[pred["network"] == language, "fraction_driven"].mean())
        msi = modality_specificity(o_v, o_l)
        d = drives[(drives["model"] == row.model) & (drives["stream"] == row.stream)]
        atoms_v = set(map(tuple, d.loc[d["network"] == vision, ["layer", "atom"]].values))
        atoms_l = set(map(tuple, d.loc[d["network"] == language, ["layer", "atom"]].values))
        modal = atoms_v | atoms_l
        cross = atoms_v & atoms_l
        rows.append(
            {
                "model": row.model,
                "stream": row.stream,
                "unimodal": bool(row.unimodal),
                "n_layers": int(row.n_layers),
                "vision_overlap": o_v,
                "language_overlap": o_l,
                "msi": msi,
                "n_vision_atoms": len(atoms_v),
                "n_language_atoms": len(atoms_l),
                "n_cross_modal_atoms": len(cross),
                "share_cross_modal": len(cross) / len(modal) if modal else np.nan,
            }
        )
    return pd.DataFrame(rows, columns=ARCHITECTURE_COLUMNS)


def merge_neuron_columns(table, summary, source="network_summary.tsv"):
    """Add the neuron-level columns of ``results/neurons/network_summary.tsv``.

    Parameters
    ----------
    table : DataFrame
        A findings table keyed by ``model, stream, layer, network``.
    summary : DataFrame
        The neuron-level summary with the same keys plus its own columns.
    source : str
        File name used in error messages.

    Returns
    -------
    DataFrame
        ``table`` with the summary's columns appended (suffix ``_neuron`` where a name
        is already taken); rows without a neuron-level match get NaN.
    """
    missing = set(KEYS) - set(summary.columns)
    if missing:
        raise ValueError(f"{source}: missing key columns {sorted(missing)} (need {KEYS})")
    if summary.duplicated(KEYS).any():
        raise ValueError(f"{source}: several rows per (model, stream, layer, network)")
    summary = summary.copy()
    summary["layer"] = summary["layer"].astype(int)
    return table.merge(summary, on=KEYS, how="left", suffixes=("", "_neuron"), validate="1:1")
