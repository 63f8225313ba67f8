"""The attribution and depth stages in the tiny end-to-end run (session fixture ``tiny_run``)."""

import shutil
import subprocess

import nibabel as nib
import numpy as np
import pytest

from vlmbrain.attribution.cells import ARCHITECTURE_COLUMNS, COLUMNS
from vlmbrain.io import read_tsv

pytestmark = pytest.mark.slow


def test_attribution_tables_cover_every_cell(tiny_run):
    res = tiny_run / "results"
    table = read_tsv(res / "tables/attribution.tsv")
    assert list(table.columns) == COLUMNS
    features = read_tsv(res / "attribution/features.tsv")
    layers = features[features["model"] != "reference"]
    assert len(table) == len(layers) * table["network"].nunique()
    refs = dict(zip(table["stream"], table["reference"]))
    assert refs["image"] == "text" and refs["text"] == "image"
    assert refs["fusion_image"] == "image+text"
    assert table["q"].between(0, 1).all() and (table["q"] >= table["p"] - 1e-12).all()
    arch = read_tsv(res / "tables/architecture_unique.tsv")
    assert list(arch.columns) == ARCHITECTURE_COLUMNS
    assert len(arch) == len(layers.drop_duplicates(["model", "stream"]))


def test_unique_maps_open_as_cifti(tiny_run):
    res = tiny_run / "results"
    table = read_tsv(res / "tables/attribution.tsv")
    for model, sub in table.groupby("model"):
        path = res / f"attribution/maps/{model}_unique.dscalar.nii"
        img = nib.load(path)
        assert img.shape == (len(sub.drop_duplicates(["stream", "layer"])), 91282)
        assert np.isfinite(img.get_fdata()).all()
        if shutil.which("wb_command"):
            info = subprocess.run(["wb_command", "-file-information", str(path)],
                                  capture_output=True, text=True)
            assert info.returncode == 0 and "Dense Scalar" in info.stdout
    for model in table["model"].unique():
        assert (res / f"figures/attribution_{model}.png").stat().st_size > 10_000


def test_recovery_reads_the_attribution(tiny_run):
    res = tiny_run / "results"
    recovery = read_tsv(res / "simulation/recovery.tsv")
    assert {"detected_unique", "unique_share"} <= set(recovery.columns)
    planted = recovery[recovery["planted"].astype(bool)]
    assert planted["unique_share"].between(0, 1).all()
    assert recovery.loc[~recovery["planted"].astype(bool), "unique_share"].isna().all()
    # unique detection implies marginal detection of that sign
    assert not (recovery["detected_unique"] & ~recovery["detected"]).any()
    page = (res / "report/recovery.html").read_text()
    assert "unique_false" in page


def test_preferred_layer_maps(tiny_run):
    res = tiny_run / "results"
    for path in sorted((res / "depth").glob("*_preferred_layer.dlabel.nii")):
        img = nib.load(path)
        model = path.name.split("_")[0]
        table = read_tsv(res / f"depth/{model}_preferred_layer.tsv")
        assert img.shape[0] == table["stream"].nunique() and img.shape[1] == 91282
        assert (res / f"figures/brain/{model}_depth.png").exists()
