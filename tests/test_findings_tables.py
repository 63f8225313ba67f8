"""Findings tables on a small synthetic results tree (no models, small V)."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from vlmbrain.findings import jobs
from vlmbrain.findings.inputs import layer_index
from vlmbrain.models.files import load_activations
from vlmbrain.findings.recovery import recovery_summary, recovery_table
from vlmbrain.encoding.noise import group_noise_ceiling
from vlmbrain.findings.tables import (
    add_noise_ceiling,
    distinct_ans,
    mean_jaccard,
    merge_neuron_columns,
    noise_ceiling_table,
)
from vlmbrain.io import read_tsv, save_npz, write_json, write_tsv

V, K, N = 400, 5, 12
SUBJECTS = ["s1", "s2", "s3"]
NAMES = ["vision", "language", "default"]
SIZES = {"vision": (0, 100), "language": (100, 180), "default": (180, 300)}
STREAMS = {"clip": ("open_clip", {"image": 3, "text": 3}), "vit": ("hf_vit", {"image": 2})}
# (model, stream, layer, atom, network, sign, n grayordinates)
PLANTS = [
    ("clip", "image", 1, 0, "vision", 1, 40),
    ("clip", "text", 2, 1, "language", 1, 30),
    ("clip", "text", 2, 2, "default", -1, 50),
    ("clip", "text", 0, 0, "vision", 1, 30),
    ("clip", "text", 0, 0, "language", 1, 30),
    ("vit", "image", 0, 0, "vision", 1, 45),
]


def _masks():
    masks = np.zeros((len(NAMES), V), bool)
    for i, name in enumerate(NAMES):
        masks[i, slice(*SIZES[name])] = True
    return masks


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("findings")
    rng = np.random.default_rng(0)
    masks = _masks()
    save_npz(root / "networks.npz", names=np.array(NAMES), masks=masks)
    dirs = {}
    for model, (family, streams) in STREAMS.items():
        dirs[model] = root / "activations" / model
        write_json(
            dirs[model] / "manifest.json",
            {
                "family": family,
                "weights": {"kind": "random", "seed": 0},
                "random_weights": True,
                "streams": {s: {"n_layers": n, "n_heads": 3, "head_dim": 4} for s, n in streams.items()},
            },
        )
        for stream, n_layers in streams.items():
            for layer in range(n_layers):
                act = np.zeros((K, V), bool)
                deact = np.zeros((K, V), bool)
                act[4, rng.choice(V, 3, replace=False)] = True  # a few scattered false positives
                for m, s, lay, atom, net, sign, n in PLANTS:
                    if (m, s, lay) == (model, stream, layer):
                        lo, hi = SIZES[net]
                        (act if sign > 0 else deact)[atom, lo : lo + n] = True
                codes = rng.normal(size=(K, N)) * (rng.random((K, N)) < 0.5)
                codes[:, 0] = 1.0  # AN 0 is in every atom
                save_npz(
                    root / "group" / model / stream / f"layer-{layer:02d}.npz",
                    t=rng.normal(size=(K, V)).astype(np.float32),
                    q=np.ones((K, V), np.float32),
                    activated=act,
                    deactivated=deact,
                    mean_r=np.full(V, 0.1 * (layer + 1), np.float32),
                    n_subjects=np.full(V, 4, np.int16),
                )
                save_npz(
                    root / "atoms" / model / stream / f"layer-{layer:02d}.npz",
                    codes=codes.astype(np.float32),
                )
    _overlap(dirs, root / "group", root / "networks.npz", root / "network_overlap.tsv")
    for subject, scale in zip(SUBJECTS, (0.3, 0.4, 0.5)):
        ceiling = np.full(V, scale, np.float32)
        ceiling[SIZES["vision"][0] : SIZES["vision"][1]] = 2 * scale
        save_npz(root / f"nc_{subject}.npz", ceiling=ceiling, reliability=ceiling**2,
                 n_repeats=np.int64(3), n_trs=np.int64(20), note=np.array(""))
    outputs = {k: root / f"{k}.tsv" for k in
               ("prediction", "redundancy", "polarity", "polarity_trend", "architecture",
                "noise_ceiling")}
    _tables(dirs, root, root / "network_overlap.tsv", outputs)
    tables = {k: read_tsv(p, dtype={"driving_atoms": str}) for k, p in outputs.items()}
    tables["network_overlap"] = read_tsv(root / "network_overlap.tsv")
    return root, dirs, tables


def _overlap(dirs, group_root, networks, table):
    """The network_overlap job on ``{model: activations}`` and ``group_root/{model}``."""
    jobs.network_overlap(models=list(dirs), activations=list(dirs.values()), networks=networks,
                         group=[group_root / m for m in dirs], table=table)


def _tables(dirs, root, overlap, outputs, page=None, ceilings=None):
    """The findings_tables job on the folders of ``root`` (noise ceilings: ``ceilings``,
    else ``root/nc_{subject}.npz``)."""
    outputs = {"noise_ceiling": root / "noise_ceiling.tsv", **outputs}
    jobs.findings_tables(models=list(dirs), activations=list(dirs.values()),
                         networks=root / "networks.npz", overlap=overlap,
                         group=[root / "group" / m for m in dirs],
                         atoms=[root / "atoms" / m for m in dirs],
                         ceilings=ceilings or [root / f"nc_{s}.npz" for s in SUBJECTS],
                         subjects=SUBJECTS, page=page or root / "findings.html", **outputs)


def _row(table, **keys):
    sel = np.ones(len(table), bool)
    for k, v in keys.items():
        sel &= table[k].to_numpy() == v
    assert sel.sum() == 1, keys
    return table[sel].iloc[0]


def test_tables_complete_and_in_range(tree):
    _, dirs, t = tree
    index = layer_index({m: load_activations(d) for m, d in dirs.items()})
    assert len(index) == 8
    for key in ("prediction", "redundancy", "polarity"):
        assert len(t[key]) == len(index) * len(NAMES)
        assert not t[key].duplicated(["model", "stream", "layer", "network"]).any()
    assert len(t["network_overlap"]) == len(index) * K * len(NAMES) * 2
    for col in ("fraction_driven",):
        assert t["prediction"][col].between(0, 1).all()
    for col in ("fraction_activated", "fraction_deactivated"):
        assert t["polarity"][col].between(0, 1).all()
    assert t["redundancy"]["jaccard"].dropna().between(0, 1).all()
    assert t["architecture"]["msi"].dropna().between(-1, 1).all()
    assert len(t["architecture"]) == 3 and len(t["polarity_trend"]) == 3 * len(NAMES)


def test_overlap_rate_and_p_by_hand(tree):
    root, _, t = tree
    with np.load(root / "group/clip/image/layer-01.npz") as g:
        amap = g["activated"][0]
    mask = _masks()[0]
    row = _row(t["network_overlap"], model="clip", stream="image", layer=1, atom=0,
               network="vision", sign=1)
    inter = int((amap & mask).sum())
    assert row["overlap_rate"] == pytest.approx(inter / mask.sum())
    p = stats.hypergeom.sf(inter - 1, V, mask.sum(), amap.sum())
    assert row["p"] == pytest.approx(p, rel=1e-6)
    assert row["drives"]


def test_planted_structure_in_findings(tree):
    _, _, t = tree
    pred = _row(t["prediction"], model="clip", stream="image", layer=1, network="vision")
    assert pred["fraction_driven"] == pytest.approx(0.4)
    assert pred["n_driving_atoms"] == 1 and str(pred["driving_atoms"]) == "0"
    assert pred["mean_r"] == pytest.approx(0.2)
    quiet = _row(t["prediction"], model="clip", stream="image", layer=0, network="vision")
    assert quiet["fraction_driven"] == 0 and quiet["n_driving_atoms"] == 0
    pol = _row(t["polarity"], model="clip", stream="text", layer=2, network="default")
    assert pol["fraction_deactivated"] == pytest.approx(50 / 120)
    assert pol["fraction_activated"] <= 3 / 120 and pol["n_deactivating_atoms"] == 1
    # coupling sign = code sign x driving sign: deactivation flips it
    assert pol["share_negative_coupling"] == pytest.approx(pol["share_positive_codes"])
    arch = t["architecture"].set_index(["model", "stream"])
    assert arch.loc[("clip", "image"), "msi"] == 1.0
    assert arch.loc[("clip", "text"), "msi"] < 0
    assert arch.loc[("clip", "text"), "n_cross_modal_atoms"] == 1
    assert arch.loc[("clip", "image"), "n_cross_modal_atoms"] == 0
    assert bool(arch.loc[("vit", "image"), "unimodal"])


def test_prediction_reads_r_against_the_noise_ceiling(tree):
    root, _, t = tree
    pred = t["prediction"]
    assert list(pred.columns[:7]) == ["model", "stream", "layer", "network", "n_grayordinates",
                                      "mean_r", "noise_ceiling"]
    assert pred.columns[7] == "r_fraction" and pred.columns[-1] == "ceiling_note"
    # group ceiling = mean over subjects (0.3, 0.4, 0.5): 0.8 in vision, 0.4 elsewhere
    vision = _row(pred, model="clip", stream="image", layer=1, network="vision")
    assert vision["noise_ceiling"] == pytest.approx(0.8)
    assert vision["r_fraction"] == pytest.approx(0.2 / 0.8)
    language = _row(pred, model="clip", stream="text", layer=2, network="language")
    assert language["r_fraction"] == pytest.approx(0.3 / 0.4)
    assert pred["ceiling_note"].isna().all()  # empty: every ceiling defined
    per_subject = t["noise_ceiling"]
    assert len(per_subject) == len(SUBJECTS) * len(NAMES)
    row = _row(per_subject, subject="s3", network="vision")
    assert row["mean_ceiling"] == pytest.approx(1.0) and row["n_repeats"] == 3
    assert row["mean_reliability"] == pytest.approx(1.0)
    page = (root / "findings.html").read_text()
    assert "Noise ceiling" in page and "No noise ceiling" not in page


def test_no_repeated_clip_leaves_the_ceiling_empty_with_the_reason(tree, tmp_path):
    root, dirs, _ = tree
    reason = "no repeated clip: no TR is marked validation"
    ceilings = []
    for subject in SUBJECTS:
        ceilings.append(tmp_path / f"{subject}.npz")
        save_npz(ceilings[-1], ceiling=np.full(V, np.nan, np.float32),
                 reliability=np.full(V, np.nan, np.float32), n_repeats=np.int64(0),
                 n_trs=np.int64(0), note=np.array(reason))
    outputs = {k: tmp_path / f"{k}.tsv" for k in
               ("prediction", "redundancy", "polarity", "polarity_trend", "architecture",
                "noise_ceiling")}
    _tables(dirs, root, root / "network_overlap.tsv", outputs, page=tmp_path / "page.html",
            ceilings=ceilings)
    pred = read_tsv(outputs["prediction"])
    assert pred["noise_ceiling"].isna().all() and pred["r_fraction"].isna().all()
    assert pred["mean_r"].notna().all()
    assert (pred["ceiling_note"] == f"{reason} (sub-s1, sub-s2, sub-s3)").all()
    assert (read_tsv(outputs["noise_ceiling"])["note"] == reason).all()
    page = (tmp_path / "page.html").read_text()
    assert "No noise ceiling" in page and reason in page
    figure = tmp_path / "prediction.png"
    from vlmbrain.findings import line_figures

    index = layer_index({m: load_activations(d) for m, d in dirs.items()})
    line_figures.save_figure(line_figures.prediction_figure(pred, index), figure)
    assert figure.stat().st_size > 0


def test_network_ceiling_is_not_inflated_by_unreliable_grayordinates():
    """Reliability estimates of pure noise scatter around 0: sqrt(max(rho, 0)) would
    average to a positive ceiling; the signed root averages to about 0, which is not
    above 0 across subjects, so r is not read as a share of it. Where every repeat
    correlates, the ceiling is sqrt(rho)."""
    rng = np.random.default_rng(5)
    masks = np.zeros((2, 2000), bool)
    masks[0, :1000] = True
    masks[1, 1000:] = True
    subjects = ["s1", "s2", "s3", "s4"]
    ceilings = []
    for _ in subjects:
        rho = np.r_[rng.normal(0, 0.2, 1000), rng.normal(0.49, 0.05, 1000)].astype(np.float32)
        ceilings.append({"ceiling": np.sqrt(np.clip(rho, 0, None)), "reliability": rho,
                         "n_repeats": 3, "n_trs": 8, "note": ""})
    assert np.mean([c["ceiling"][:1000].mean() for c in ceilings]) > 0.1  # the clipped bias
    signed, note = group_noise_ceiling(ceilings, subjects)
    assert note == "" and signed.shape == (4, 2000) and abs(signed[:, :1000].mean()) < 0.02
    pred = pd.DataFrame({"model": "m", "stream": "image", "layer": 0,
                         "network": ["noise", "reliable"], "mean_r": [0.05, 0.35]})
    out = add_noise_ceiling(pred, signed, note, ["noise", "reliable"], masks).set_index("network")
    assert out.loc["reliable", "noise_ceiling"] == pytest.approx(0.7, abs=0.005)
    assert out.loc["reliable", "r_fraction"] == pytest.approx(0.5, abs=0.005)
    assert out.loc["reliable", "ceiling_note"] == ""
    assert abs(out.loc["noise", "noise_ceiling"]) < 0.02 and np.isnan(out.loc["noise", "r_fraction"])
    assert out.loc["noise", "ceiling_note"].startswith("noise ceiling not above 0 across subjects")
    table = noise_ceiling_table(subjects, ceilings, ["noise", "reliable"], masks)
    assert table.loc[table["network"] == "reliable", "mean_ceiling"].to_numpy() == pytest.approx(0.7, abs=0.01)
    assert (table.loc[table["network"] == "noise", "mean_ceiling"].abs() < 0.03).all()


def test_redundancy_by_hand(tree):
    root, _, t = tree
    red = _row(t["redundancy"], model="clip", stream="text", layer=0, network="vision")
    with np.load(root / "atoms/clip/text/layer-00.npz") as a:
        codes = a["codes"]
    assert red["n_driven_grayordinates"] == 30
    assert red["atoms_per_grayordinate"] == pytest.approx(1.0)
    assert red["ans_per_grayordinate"] == pytest.approx((codes[0] != 0).sum())
    assert red["ans_per_atom"] == pytest.approx((codes[0] != 0).sum())
    assert red["networks_per_an"] == pytest.approx(2.0)  # atom 0 drives vision and language


def test_helpers_against_brute_force():
    rng = np.random.default_rng(1)
    cover = rng.random((6, 50)) < 0.3
    support = rng.random((6, 20)) < 0.2
    brute = [len(set(np.flatnonzero(support[cover[:, g]].any(axis=0)))) for g in range(50)]
    assert distinct_ans(cover, support).tolist() == brute
    maps = rng.random((4, 30)) < 0.4
    jac = [
        (maps[i] & maps[j]).sum() / (maps[i] | maps[j]).sum()
        for i in range(4) for j in range(i + 1, 4)
    ]
    assert mean_jaccard(maps) == pytest.approx(np.mean(jac))
    assert np.isnan(mean_jaccard(maps[:1]))


def test_recovery_table(tree):
    _, dirs, t = tree
    index = layer_index({m: load_activations(d) for m, d in dirs.items()})
    gt = pd.DataFrame(
        [dict(model=m, stream=s, layer=lay, network=n, sign=sg, strength=1.0)
         for m, s, lay, _, n, sg, _ in PLANTS]
        + [dict(model="clip", stream="image", layer=2, network="default", sign=1, strength=1.0)]
    )
    rec = recovery_table(t["network_overlap"], gt, index, NAMES)
    assert len(rec) == len(index) * len(NAMES) * 2
    assert rec["planted"].sum() == len(PLANTS) + 1
    hits = rec[rec["outcome"] == "hit"]
    assert len(hits) == len(PLANTS)
    miss = _row(rec, model="clip", stream="image", layer=2, network="default", sign=1)
    assert miss["outcome"] == "miss" and not miss["detected"]
    hit = _row(rec, model="clip", stream="text", layer=2, network="default", sign=-1)
    assert hit["overlap_rate"] == pytest.approx(50 / 120) and hit["atom"] == 2 and hit["q"] < 0.05
    summary = recovery_summary(rec)
    assert summary["hits"] == len(PLANTS) and summary["misses"] == 1
    assert summary["false_positives"] == int((rec["outcome"] == "false positive").sum())
    bad = gt.assign(layer=gt["layer"].where(gt.index > 0, 99))
    with pytest.raises(ValueError, match="ground_truth.tsv: planted coupling at clip image layer 99"):
        recovery_table(t["network_overlap"], bad, index, NAMES)


def test_neuron_columns_merge(tree):
    _, _, t = tree
    summary = t["redundancy"][["model", "stream", "layer", "network"]].assign(
        ans_per_parcel=2.5, jaccard=-1.0
    )
    merged = merge_neuron_columns(t["redundancy"], summary)
    assert len(merged) == len(t["redundancy"])
    assert (merged["ans_per_parcel"] == 2.5).all() and (merged["jaccard_neuron"] == -1).all()
    assert merged["jaccard"].equals(t["redundancy"]["jaccard"])
    with pytest.raises(ValueError, match="missing key columns"):
        merge_neuron_columns(t["redundancy"], summary.drop(columns="network"))


def test_clear_errors(tree, tmp_path):
    root, dirs, _ = tree
    with pytest.raises(FileNotFoundError, match="manifest.json: activations manifest not found"):
        _overlap({"clip": tmp_path}, root / "group", root / "networks.npz", tmp_path / "o.tsv")
    bad = tmp_path / "group" / "clip" / "image"
    bad.mkdir(parents=True)
    save_npz(bad / "layer-00.npz", activated=np.zeros((K, V + 1), bool),
             deactivated=np.zeros((K, V + 1), bool), mean_r=np.zeros(V + 1, np.float32))
    with pytest.raises(ValueError, match="layer-00.npz: 401 grayordinates but the network"):
        _overlap({"clip": dirs["clip"]}, tmp_path / "group", root / "networks.npz",
                 tmp_path / "o.tsv")
    assert not (tmp_path / "o.tsv").exists()
    overlap = read_tsv(root / "network_overlap.tsv")
    write_tsv(tmp_path / "short.tsv", overlap[overlap["model"] == "vit"])
    with pytest.raises(ValueError, match="network_overlap.tsv has no rows for 6 configured"):
        _tables(dirs, root, tmp_path / "short.tsv", {}, page=tmp_path / "page.html")
