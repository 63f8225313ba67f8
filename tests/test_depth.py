"""Preferred layer per grayordinate: planted layers, noise, and the job on the real template."""

import shutil
import subprocess

import nibabel as nib
import numpy as np
import pytest
from PIL import Image

from vlmbrain.findings.depth import layer_distribution, preferred_layer
from vlmbrain.findings.jobs import depth
from vlmbrain.fmri.cifti import read_dlabel, write_dlabel
from vlmbrain.io import read_tsv, save_npz
from vlmbrain.networks.templates import write_networks

MAPPING = {"vision": ["Visual1", "Visual2"], "language": ["Language"]}


def planted_r(n_subjects=6, n_layers=4, n_vox=5000, seed=0):
    """Held-out r: grayordinates 0-999 best at layer 1, 1000-1999 at layer 3, rest noise."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0.0, 0.05, (n_layers, n_subjects, n_vox))
    z[1, :, :1000] += 0.1
    z[3, :, 1000:2000] += 0.1
    return np.tanh(z)


def test_planted_layers_are_found():
    out = preferred_layer(planted_r(), q=0.05, seed=0)
    layer = out["layer"]
    assert layer.dtype == np.int16 and layer.shape == (5000,)
    assert (layer[:1000] == 1).mean() > 0.6  # the max-statistic's price for the choice
    assert (layer[1000:2000] == 3).mean() > 0.6
    assert (layer[2000:] == -1).mean() > 0.97
    assert (out["best"][:1000] == 1).mean() > 0.99
    np.testing.assert_allclose(out["mean_r"][:1000].mean(), np.tanh(0.1), atol=0.01)
    assert np.all(out["q"][layer >= 0] <= 0.05)


def test_selection_of_the_layer_is_accounted_for():
    # 2,000 of 5,000 grayordinates carry signal: testing the chosen layer as if it had
    # been fixed let 13% false discoveries through at q = 0.05; the max-statistic does not.
    fdp = []
    for seed in range(3):
        layer = preferred_layer(planted_r(seed=seed), q=0.05, seed=seed)["layer"]
        found = layer >= 0
        fdp.append(found[2000:].sum() / max(found.sum(), 1))
    assert np.mean(fdp) <= 0.06


def test_pure_noise_rarely_survives():
    fractions = []
    for seed in range(5):
        rng = np.random.default_rng(seed)
        r = np.tanh(rng.normal(0.0, 0.05, (4, 6, 3000)))
        fractions.append((preferred_layer(r, q=0.05, seed=seed)["layer"] >= 0).mean())
    assert max(fractions) <= 0.05
    assert np.mean(fractions) < 0.01


def test_missing_subjects_and_grayordinates():
    r = planted_r(n_subjects=5, n_vox=3000)
    r[:, :, 2500:] = np.nan  # no data at all
    r[:, 0, :10] = np.nan  # one subject missing
    whole = preferred_layer(r, seed=1)
    assert np.all(whole["layer"][2500:] == -1) and np.all(whole["best"][2500:] == -1)
    assert np.isnan(whole["q"][2500:]).all()
    assert (whole["best"][:10] == 1).all() and np.isfinite(whole["q"][:10]).all()
    with pytest.raises(ValueError, match="2 subjects"):
        preferred_layer(r[:, :1])


def test_layer_distribution():
    layer = np.array([0, 0, 1, -1, 2, 2, -1, -1])
    masks = np.array([[1, 1, 1, 1, 0, 0, 0, 0], [0, 0, 0, 0, 1, 1, 1, 0]], bool)
    table = layer_distribution(layer, ["a", "b"], masks, 3)
    a = table[table["network"] == "a"].set_index("layer")
    assert a.loc[0, "n_grayordinates"] == 2 and a.loc[0, "fraction"] == pytest.approx(2 / 3)
    assert a.loc[-1, "n_grayordinates"] == 1 and a.loc[-1, "fraction"] == pytest.approx(1 / 4)
    b = table[table["network"] == "b"].set_index("layer")
    assert b.loc[2, "fraction"] == 1.0 and b.loc[0, "n_grayordinates"] == 0
    with pytest.raises(ValueError, match="outside"):
        layer_distribution(layer, ["a", "b"], masks, 2)


def test_multi_map_dlabel(tmp_path):
    v = 91282
    labels = np.zeros((2, v), int)
    labels[1, :5] = 2
    tables = [{1: ("one", (1, 0, 0, 1))}, {2: ("two", (0, 1, 0, 1))}]
    write_dlabel(tmp_path / "m.dlabel.nii", labels, tables, map_name=["a", "b"])
    axis = nib.load(tmp_path / "m.dlabel.nii").header.get_axis(0)
    assert list(axis.name) == ["a", "b"] and axis.label[1][2][0] == "two"
    write_dlabel(tmp_path / "one.dlabel.nii", labels[1], tables[1], map_name="b")  # old call
    values, names, _ = read_dlabel(tmp_path / "one.dlabel.nii")
    assert names[2] == "two" and values[:5].tolist() == [2] * 5
    with pytest.raises(ValueError, match="one of each per map"):
        write_dlabel(tmp_path / "bad.dlabel.nii", labels, tables[:1] * 3, map_name=["a", "b"])


@pytest.fixture(scope="module")
def encoding(tmp_path_factory):
    """Networks on the real template and 6 subjects' encoding folders of one model."""
    root = tmp_path_factory.mktemp("depth")
    names, masks = write_networks(root / "networks.npz", root / "networks.dlabel.nii",
                                  "cole_anticevic", MAPPING)
    vision, language = masks[names.index("vision")], masks[names.index("language")]
    v = masks.shape[1]
    dirs = []
    for s in range(6):
        rng = np.random.default_rng(s)
        d = root / f"encoding/sub-{s:02d}/clip"
        for stream, n_layers, planted, best in (("image", 3, vision, 2), ("text", 2, language, 0)):
            for layer in range(n_layers):
                r = rng.normal(0.0, 0.03, v) + np.where(planted & (layer == best), 0.2, 0.0)
                save_npz(d / stream / f"layer-{layer:02d}.npz", r=r.astype(np.float32),
                         alpha=np.ones(v, np.float32))
        dirs.append(d)
    return root, dirs, vision, language


def test_depth_job(encoding, tmp_path):
    root, dirs, vision, language = encoding
    out = {"preferred": tmp_path / "depth.dlabel.nii", "figure": tmp_path / "depth.png",
           "table": tmp_path / "depth.tsv"}
    depth(encoding=dirs, networks=root / "networks.npz", dlabel=root / "networks.dlabel.nii",
          model="clip", n_flips=1000, **out)

    img = nib.load(out["preferred"])
    axis = img.header.get_axis(0)
    assert list(axis.name) == ["clip image", "clip text"]
    image_table = {k: name for k, (name, _) in axis.label[0].items()}
    assert image_table == {0: "no significant layer", 1: "layer 0", 2: "layer 1", 3: "layer 2"}
    assert {k: name for k, (name, _) in axis.label[1].items()} == {
        0: "no significant layer", 1: "layer 0", 2: "layer 1"}
    data = np.asarray(img.dataobj)
    assert (data[0][vision] == 3).mean() > 0.95  # image: vision prefers layer 2
    assert (data[1][language] == 1).mean() > 0.95  # text: language prefers layer 0
    outside = ~(vision | language)
    assert (data[0][outside] == 0).mean() > 0.95

    table = read_tsv(out["table"])
    assert list(table.columns) == ["model", "stream", "network", "layer", "n_grayordinates",
                                   "fraction"]
    row = table[(table["stream"] == "image") & (table["network"] == "vision")].set_index("layer")
    assert row.loc[2, "fraction"] > 0.95
    assert row.loc[[0, 1, 2, -1], "n_grayordinates"].sum() == vision.sum()
    assert set(table[table["stream"] == "text"]["layer"]) == {-1, 0, 1}

    rgb = np.asarray(Image.open(out["figure"]).convert("RGB")).astype(int)
    assert rgb.shape[1] > 300 and ((rgb.max(2) - rgb.min(2)) > 60).mean() > 0.002

    if shutil.which("wb_command"):
        info = subprocess.run(["wb_command", "-file-information", str(out["preferred"])],
                              capture_output=True, text=True)
        assert info.returncode == 0, info.stderr
        assert "clip text" in info.stdout


def test_depth_refuses_mismatched_subjects(encoding, tmp_path):
    root, dirs, _, _ = encoding
    odd = tmp_path / "sub-09/clip"
    shutil.copytree(dirs[0], odd)
    (odd / "text/layer-01.npz").unlink()
    with pytest.raises(ValueError, match="sub-09/clip: streams and layers"):
        depth(encoding=[dirs[0], odd], networks=root / "networks.npz",
              dlabel=root / "networks.dlabel.nii", preferred=tmp_path / "x.dlabel.nii",
              figure=tmp_path / "x.png", table=tmp_path / "x.tsv", model="clip")
    assert not (tmp_path / "x.dlabel.nii").exists()
