"""Attribution: feature spaces, unique variance of correlated spaces, group maps, cells."""

import numpy as np
import pandas as pd
import pytest

from vlmbrain.attribution.banded import default_deltas, variance_partition
from vlmbrain.attribution.cells import architecture_unique, drives_unique, layer_cells
from vlmbrain.attribution.features import layer_components, reference_components
from vlmbrain.attribution.significance import unique_group_maps

ALPHAS = [0.1, 1.0, 10.0, 100.0, 1000.0]


def zscore_runs(a, runs):
    a = np.array(a, np.float64)
    for r in np.unique(runs):
        m = runs == r
        a[m] = (a[m] - a[m].mean(0)) / a[m].std(0)
    return a


def correlated_spaces(seed, T=240, p=5):
    rng = np.random.default_rng(seed)
    runs = np.repeat(np.arange(3), T // 3)
    A = rng.standard_normal((T, p))
    B = 0.7 * A @ rng.standard_normal((p, p)) / np.sqrt(p) + 0.5 * rng.standard_normal((T, p))
    return runs, zscore_runs(A, runs), zscore_runs(B, runs)


def subjects_unique(drive, n_subjects=6, V=300, driven=150, gain=0.5):
    """Per-subject unique R^2 of A (vs B) and of B (vs A); Y driven as ``drive`` says."""
    runs, A, B = correlated_spaces(0)
    rng = np.random.default_rng(1)
    wa, wb = rng.standard_normal((A.shape[1], V)), rng.standard_normal((B.shape[1], V))
    out = {"A": [], "B": []}
    for s in range(n_subjects):
        noise = np.random.default_rng(100 + s).standard_normal((len(runs), V))
        signal = 0.0
        if "A" in drive:
            signal = signal + A @ wa
        if "B" in drive:
            signal = signal + B @ wb
        Y = noise.copy()
        Y[:, :driven] += gain * (signal[:, :driven] / np.std(signal[:, :driven], 0))
        Y = zscore_runs(Y, runs)
        for name, own, ref in (("A", A, B), ("B", B, A)):
            res = variance_partition(own, [ref], Y, runs, ALPHAS)
            out[name].append(res)
    return out


def group(results, q=0.05):
    stack = {k: np.stack([r[k] for r in results]) for k in ("unique", "shared", "r2_joint")}
    return unique_group_maps(stack["unique"], stack["shared"], stack["r2_joint"], q=q)


def test_only_the_driving_space_has_significant_unique_variance():
    res = subjects_unique("A")
    a, b = group(res["A"]), group(res["B"])
    assert a["significant"][:150].mean() > 0.5
    assert b["significant"].mean() <= 0.05
    assert np.abs(b["mean_unique"][:150]).mean() < 0.25 * a["mean_unique"][:150].mean()
    # the correlated space B shares variance with A where A drives Y
    assert b["mean_shared"][:150].mean() > 0.02
    assert a["significant"][150:].mean() <= 0.05


def test_both_spaces_are_found_when_both_drive():
    res = subjects_unique("AB", gain=1.0)
    assert group(res["A"])["significant"][:150].mean() > 0.3
    assert group(res["B"])["significant"][:150].mean() > 0.3


def test_layer_components_keep_the_leading_span_on_one_scale():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((120, 3)) @ rng.standard_normal((3, 40)) + 0.1 * rng.standard_normal((120, 40))
    scores, explained = layer_components(X, 8)
    assert scores.shape == (120, 8) and explained.shape == (8,)
    assert explained[:3].sum() > 0.95
    np.testing.assert_allclose(scores.var(0, ddof=1).mean(), 1.0, rtol=1e-5)
    few, _ = layer_components(X[:, :4], 8)  # fewer ANs than components asked for
    assert few.shape == (120, 4)
    ref, ref_explained = reference_components([scores, 10.0 * scores[:, ::-1]], 4)
    assert ref.shape == (120, 4) and ref_explained.sum() <= 1.0 + 1e-6
    with pytest.raises(ValueError, match="at least one layer"):
        reference_components([], 4)


def test_cells_enrichment_fdr_and_architecture():
    V = 1000
    masks = np.zeros((2, V), bool)
    masks[0, :200] = True  # vision
    masks[1, 200:400] = True  # language
    sig = np.zeros(V, bool)
    sig[:80] = True  # all of the image layer's unique map lies in vision
    sig[500:505] = True
    maps = {"significant": sig, "mean_unique": np.where(sig, 0.05, 0.0), "mean_shared": np.zeros(V)}
    rows = [layer_cells("clip", "image", 3, "text", maps, ["vision", "language"], masks)]
    maps_text = {"significant": np.zeros(V, bool), "mean_unique": np.zeros(V), "mean_shared": np.zeros(V)}
    rows.append(layer_cells("clip", "text", 3, "image", maps_text, ["vision", "language"], masks))
    table = drives_unique(pd.concat(rows, ignore_index=True), q=0.05)
    got = table.set_index(["stream", "network"])
    assert got.loc[("image", "vision"), "drives_unique"]
    assert not got.loc[("image", "language"), "drives_unique"]
    assert got.loc[("image", "vision"), "fraction_unique"] == pytest.approx(0.4)
    assert not table.loc[table["stream"] == "text", "drives_unique"].any()
    arch = architecture_unique(table).set_index("stream")
    assert arch.loc["image", "msi_unique"] == pytest.approx(1.0)
    assert np.isnan(arch.loc["text", "msi_unique"])
    assert arch.loc["image", "n_vision_layers"] == 1 and arch.loc["image", "n_cross_modal_layers"] == 0


def test_default_grid_is_used_for_fusion_streams():
    assert default_deltas(3).shape == (25, 3)


def test_planted_unique_share_is_what_the_references_leave():
    from vlmbrain.attribution.truth import planted_unique_share

    rng = np.random.default_rng(3)
    runs = np.repeat([0, 1, 2], 50)
    R = zscore_runs(rng.standard_normal((150, 4)), runs)
    inside = R @ np.array([1.0, -0.5, 0.2, 0.0])
    assert planted_unique_share(inside, [R], runs) == pytest.approx(0.0, abs=1e-6)
    outside = rng.standard_normal(150)
    assert planted_unique_share(outside, [R], runs) > 0.9


def test_recovery_reads_unique_detection_with_the_marginal_sign():
    from vlmbrain.findings.recovery import add_unique_detection, unique_summary

    rec = pd.DataFrame([
        # model, stream, layer, network, sign, planted, detected
        ("clip", "image", 8, "vision", 1, True, True),
        ("clip", "image", 8, "vision", -1, False, True),
        ("clip", "image", 8, "language", 1, False, True),
        ("clip", "image", 8, "language", -1, False, False),
        ("clip", "text", 8, "language", 1, True, True),
        ("clip", "text", 8, "language", -1, False, False),
        ("clip", "text", 8, "vision", 1, False, True),
        ("clip", "text", 8, "vision", -1, False, False),
    ], columns=["model", "stream", "layer", "network", "sign", "planted", "detected"])
    attribution = pd.DataFrame([
        ("clip", "image", 8, "vision", True), ("clip", "image", 8, "language", True),
        ("clip", "text", 8, "language", True), ("clip", "text", 8, "vision", False),
    ], columns=["model", "stream", "layer", "network", "drives_unique"])
    truth = pd.DataFrame([
        ("clip", "image", 8, "vision", 1, "", 0.9), ("clip", "text", 8, "language", 1, "", 0.7),
    ], columns=["model", "stream", "layer", "network", "sign", "like", "unique_share"])
    out = add_unique_detection(rec, attribution, truth)
    got = out.set_index(["stream", "network", "sign"])
    assert got.loc[("image", "vision", 1), "detected_unique"]
    assert got.loc[("image", "vision", -1), "detected_unique"]  # unique and marginal sign -1
    assert not got.loc[("image", "language", -1), "detected_unique"]  # marginal did not find it
    assert got.loc[("image", "vision", 1), "unique_share"] == pytest.approx(0.9)
    assert np.isnan(got.loc[("image", "language", 1), "unique_share"])
    summary = unique_summary(out, truth)
    assert summary["unique_checked_planted"] == 2 and summary["unique_hits"] == 2
    # language at the image layer and vision at the text layer are planted only from the
    # other modality: 4 rows, of which one is detected_unique
    assert summary["unique_checked_false"] == 4 and summary["unique_false"] == 1
    assert summary["unique_cells"] == 4 and summary["unique_cells_detected"] == 3
    # pure noise: nothing planted, so nothing is checked, and every cell is counted
    empty = truth.iloc[:0]
    noise = unique_summary(add_unique_detection(rec.assign(planted=False), attribution, empty), empty)
    assert noise["unique_checked_planted"] == 0 and noise["unique_checked_false"] == 0
    assert np.isnan(noise["unique_false_rate"])
    assert noise["unique_cells"] == 4 and noise["unique_cells_detected"] == 3


def test_group_test_scale_keeps_pure_noise_calibrated():
    rng = np.random.default_rng(11)
    unique = rng.standard_normal((6, 4000)) * 0.01
    for scale in ("sqrt", "r2"):
        res = unique_group_maps(unique, unique, unique, q=0.05, scale=scale)
        assert res["significant"].mean() <= 0.01
    with pytest.raises(ValueError, match="scale"):
        unique_group_maps(unique, unique, unique, scale="log")
