"""Per-neuron encoder jobs end to end on small synthetic files, and the parcellation."""

import base64
import gzip
import json
import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from vlmbrain.io import read_tsv, save_npy, save_npz
from vlmbrain.networks.templates import write_networks
from vlmbrain.neurons import jobs
from vlmbrain.neurons.parcels import (
    averaging_matrix,
    load_parcellation,
    parcel_networks,
    parcel_series,
)

T, HEADS, DIM, SUBJECTS = 150, 2, 4, 8
MAPPING = {"vision": ["Visual1", "Visual2"], "language": ["Language"], "default": ["Default"]}
PLANTED = [1, 6]  # AN columns of image layer 1 mixed into the vision network


def ar1(rng, n, rho=0.4):
    e = rng.standard_normal((T, n))
    for t in range(1, T):
        e[t] += rho * e[t - 1]
    return (e - e.mean(0)) / e.std(0)


@pytest.fixture(scope="module")
def parcellation():
    return load_parcellation("cole_anticevic_parcels", 91282)


def test_default_parcellation_is_718_cole_anticevic_parcels(parcellation):
    names, index = parcellation
    assert len(names) == 718 and index.shape == (91282,)
    assert index.min() >= 0 and index.max() == 717
    assert names[0].startswith("Visual")


def test_parcel_series_is_the_mean_within_parcels(parcellation):
    names, index = parcellation
    rng = np.random.default_rng(0)
    bold = rng.standard_normal((20, 91282)).astype(np.float32)
    series = parcel_series(bold, index, len(names))
    for p in (0, 300, 717):
        ref = bold[:, index == p].mean(1)
        assert np.allclose(series[:, p], (ref - ref.mean()) / ref.std(), atol=1e-4)
    assert np.allclose(np.asarray(averaging_matrix(index).sum(0)), 1.0)


def test_parcel_series_leaves_out_grayordinates_without_data(parcellation):
    names, index = parcellation
    rng = np.random.default_rng(0)
    bold = rng.standard_normal((20, 91282)).astype(np.float32)
    in_zero = np.flatnonzero(index == 0)
    bold[:, in_zero[:3]] = np.nan  # three grayordinates of parcel 0 without data
    bold[:, index == 5] = np.nan  # parcel 5 has none left
    series = parcel_series(bold, index, len(names))
    ref = bold[:, in_zero[3:]].mean(1)
    assert np.allclose(series[:, 0], (ref - ref.mean()) / ref.std(), atol=1e-4)
    assert np.isnan(series[:, 5]).all()
    assert np.isfinite(np.delete(series, 5, axis=1)).all()


def test_dlabel_parcellation_and_clear_errors(tmp_path):
    from vlmbrain.fmri.cifti import write_dlabel

    labels = np.zeros(91282, dtype=int)
    labels[:100], labels[200:260] = 7, 3
    path = tmp_path / "two.dlabel.nii"
    write_dlabel(path, labels, {3: ("B", (1, 0, 0, 1)), 7: ("A", (0, 1, 0, 1))})
    names, index = load_parcellation(str(path), 91282)
    assert names == ["B", "A"] and (index[:100] == 1).all() and (index[100:200] == -1).all()
    with pytest.raises(ValueError, match="59412"):
        load_parcellation(str(path), 59412)
    with pytest.raises(FileNotFoundError, match="neurons.parcellation"):
        load_parcellation(str(tmp_path / "missing.dlabel.nii"))


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, parcellation):
    """Manifest, regressors, atoms, networks and per-subject parcel BOLD with one plant."""
    root = tmp_path_factory.mktemp("neurons")
    rng = np.random.default_rng(1)
    names, index = parcellation
    net_names, masks = write_networks(
        root / "networks.npz", root / "networks.dlabel.nii", "cole_anticevic", MAPPING
    )
    manifest = root / "act" / "manifest.json"
    manifest.parent.mkdir()
    manifest.write_text(
        json.dumps({"streams": {"image": {"n_layers": 2, "n_heads": HEADS, "head_dim": DIM}}})
    )
    N = HEADS * DIM
    regs = {}
    for layer in range(2):
        regs[layer] = ar1(rng, N)
        save_npy(root / "reg" / "image" / f"layer-{layer:02d}.npy", regs[layer].astype(np.float32))
        codes = np.zeros((3, N))
        codes[0, :4], codes[2, 5] = 0.5, -0.2
        save_npz(root / "atoms" / "image" / f"layer-{layer:02d}.npz", codes=codes)
    mixture = regs[1][:, PLANTED].mean(1)
    vision_parcels = parcel_networks(index, masks, len(names)) == 0
    subject_files = []
    for s in range(SUBJECTS):
        Y = ar1(rng, len(names))
        Y[:, vision_parcels] += 0.8 * mixture[:, None]
        path = root / f"sub-{s}" / "parcel_bold.npz"
        save_npz(path, series=Y.astype(np.float32), names=np.array(names))
        subject_files.append(path)
    cohort = 0.5 * ar1(rng, 91282)
    cohort[:, masks[0]] += 0.8 * mixture[:, None]
    save_npy(root / "cohort.npy", cohort.astype(np.float32))
    pd.DataFrame(
        [
            {
                "model": "m",
                "stream": "image",
                "layer": 1,
                "network": "vision",
                "sign": 1,
                "strength": 1.0,
                "n_grayordinates": 100,
                "ans": ",".join(map(str, PLANTED)),
            }
        ]
    ).to_csv(root / "ground_truth.tsv", sep="\t", index=False)
    return root, subject_files, manifest


def test_jobs_recover_the_planted_ans(workspace):
    root, subject_files, manifest = workspace
    outs = []
    for path in subject_files:
        out = path.parent / "m.npz"
        jobs.neurons_subject(parcel_bold=path, activations=manifest.parent,
                             regressors=root / "reg", stats=out)
        outs.append(out)
    with np.load(outs[0]) as data:
        # the Fisher z alone, in half precision (what the group test reads)
        assert data["z__image__01"].shape == (HEADS * DIM, 718)
        assert data["z__image__01"].dtype == np.float16 and "t__image__01" not in data
        assert np.isfinite(data["z__image__01"]).all()
    g = root / "group"
    jobs.neurons_group(
        model="m",
        subjects=outs,
        parcel_bold=subject_files,
        activations=manifest.parent,
        regressors=root / "reg",
        networks=root / "networks.npz",
        parcels=g / "parcels.npz",
        ans=g / "ans.tsv",
        summary=g / "summary.tsv",
        parcellation="cole_anticevic_parcels",
    )
    jobs.neurons_grayordinates(
        model="m",
        cohort=root / "cohort.npy",
        activations=manifest.parent,
        regressors=root / "reg",
        networks=root / "networks.npz",
        counts=g / "gray.npz",
        ans=g / "gray_ans.tsv",
        summary=g / "gray_summary.tsv",
        layers=g / "gray_layers.tsv",
        n_shifts=50,
        chunk_size=20000,
    )
    c = root / "cat"
    jobs.neurons_catalogue(
        models=["m"],
        ans=[g / "ans.tsv"],
        summaries=[g / "summary.tsv"],
        grayordinate_ans=[g / "gray_ans.tsv"],
        grayordinate_summaries=[g / "gray_summary.tsv"],
        atoms=[root / "atoms"],
        networks=root / "networks.npz",
        ground_truth=[root / "ground_truth.tsv"],
        catalogue=c / "neurons.tsv",
        summary=c / "summary.tsv",
        figure=c / "fig.png",
        html=c / "catalogue.html",
        enrichment=[c / "enrich.tsv"],
    )
    cat = read_tsv(c / "neurons.tsv", dtype={"atoms": str, "code_signs": str})
    assert len(cat) == 2 * HEADS * DIM
    planted = cat[(cat["layer"] == 1) & cat["column"].isin(PLANTED)]
    assert (planted["best_network"] == "vision").all() and (planted["best_sign"] == 1).all()
    assert (planted["best_q"] < 0.05).all() and (planted["n_grayordinates_pos"] > 1000).all()
    assert list(planted["head"]) == [0, 1] and list(planted["dim"]) == [1, 2]
    assert cat.loc[cat["column"] == 5, "code_signs"].eq("-").all()
    assert cat.loc[cat["column"] == 0, "atoms"].eq("0").all()
    enrich = read_tsv(c / "enrich.tsv")
    assert enrich.loc[0, "hit_planted"] == 1.0
    assert enrich.loc[0, "hit_other"] < 1.0 and enrich.loc[0, "enrichment"] > 1.0
    assert enrich.loc[0, "hit_planted_grayordinate"] == 1.0
    summary = read_tsv(c / "summary.tsv")
    assert {
        "ans_per_parcel",
        "share_positive_ans",
        "share_negative_ans",
        "n_significant_ans",
        "ans_per_grayordinate",
    } <= set(summary.columns)
    vis = summary[(summary["layer"] == 1) & (summary["network"] == "vision")].iloc[0]
    assert vis["share_positive_ans"] >= len(PLANTED) / (HEADS * DIM)
    assert not summary.duplicated(["model", "stream", "layer", "network"]).any()
    html = (c / "catalogue.html").read_text()
    # the columns, gzip-compressed JSON in base64, hold every AN; nothing else is fetched
    data = re.search(r'<script id="data" [^>]*>(.*?)</script>', html, re.S)
    columns = json.loads(gzip.decompress(base64.b64decode(data.group(1))))
    assert list(columns)[:3] == ["model", "stream", "layer"]
    assert {len(v) for v in columns.values()} == {len(cat)}
    assert "vision" in columns["best_network"]
    assert "http" not in (html[: data.start(1)] + html[data.end(1) :]).split("<body>")[1]
    assert (c / "fig.png").stat().st_size > 1000


def test_neurons_subject_on_torch_gives_the_numpy_maps(workspace, tmp_path):
    """``compute.backend: torch`` (here on the CPU): the same z and t maps (float64 fits)."""
    pytest.importorskip("torch")
    root, subject_files, manifest = workspace
    maps = {}
    for backend in ("numpy", "torch"):
        out = tmp_path / f"{backend}.npz"
        jobs.neurons_subject(parcel_bold=subject_files[0], activations=manifest.parent,
                             regressors=root / "reg", stats=out, backend=backend, device="cpu")
        with np.load(out) as data:
            maps[backend] = {k: data[k] for k in data.files}
    assert maps["torch"].keys() == maps["numpy"].keys()
    for key, ref in maps["numpy"].items():
        if key != "names":
            np.testing.assert_allclose(maps["torch"][key], ref, rtol=1e-6, atol=1e-6)


def test_group_uses_the_subjects_with_data_in_each_parcel(workspace, tmp_path):
    root, subject_files, manifest = workspace
    gap = 3  # a parcel without data in subjects 0 and 1
    files, outs = [], []
    for s, path in enumerate(subject_files):
        with np.load(path) as data:
            series, names = data["series"].copy(), data["names"]
        if s < 2:
            series[:, gap] = np.nan
        files.append(tmp_path / f"sub-{s}" / "parcel_bold.npz")
        save_npz(files[-1], series=series, names=names)
        outs.append(tmp_path / f"sub-{s}" / "m.npz")
        jobs.neurons_subject(parcel_bold=files[-1], activations=manifest.parent,
                             regressors=root / "reg", stats=outs[-1])
    with np.load(outs[0]) as data:
        z = data["z__image__01"]
        assert np.isnan(z[:, gap]).all()
        assert np.isfinite(np.delete(z, gap, axis=1)).all()
    g = tmp_path / "group"
    jobs.neurons_group(model="m", subjects=outs, parcel_bold=files, activations=manifest.parent,
                       regressors=root / "reg", networks=root / "networks.npz",
                       parcels=g / "parcels.npz", ans=g / "ans.tsv", summary=g / "summary.tsv",
                       parcellation="cole_anticevic_parcels")
    with np.load(g / "parcels.npz") as data:
        n = data["n_subjects"]
        assert n[gap] == SUBJECTS - 2 and (np.delete(n, gap) == SUBJECTS).all()
        t = data["t__image__01"]
        zs = np.stack([np.load(o)["z__image__01"][:, gap] for o in outs[2:]])
        # the stored group t is float16 (relative rounding up to 2**-11)
        np.testing.assert_allclose(t[:, gap], stats.ttest_1samp(zs, 0.0, axis=0).statistic,
                                   rtol=1e-3)
        assert np.isfinite(data["q__image__01"][:, gap]).all()
    assert len(read_tsv(g / "ans.tsv")) == 2 * HEADS * DIM


def test_regressors_of_the_wrong_length_are_refused(workspace, tmp_path):
    root, subject_files, manifest = workspace
    bad = tmp_path / "reg"
    save_npy(bad / "image" / "layer-00.npy", np.zeros((T - 3, HEADS * DIM), np.float32))
    with pytest.raises(ValueError, match="layer-00.npy.*expected"):
        jobs.neurons_subject(parcel_bold=subject_files[0], activations=manifest.parent,
                             regressors=bad, stats=tmp_path / "out.npz")
    assert not (tmp_path / "out.npz").exists()
