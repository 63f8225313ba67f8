"""NIfTI data end to end: 4D runs with a brain mask, a network atlas and a parcellation in
the mask's space (``tests/nifti_data.py``), through encoding, findings and the report; the
surface figures are skipped with the reason logged. Also what the configuration check
demands of NIfTI data, and how an atlas on another grid is refused."""

import copy
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import yaml

from vlmbrain.config import ConfigError, check_config
from vlmbrain.fmri.bold import labels_on_mask, mask_brain_models
from vlmbrain.io import read_tsv
from vlmbrain.networks.templates import load_networks, network_masks, write_networks

from conftest import snakemake
from nifti_data import GRID, NETWORKS, SUBJECTS, write_nifti_dataset

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "workflow/schemas/config.schema.yaml"


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("nifti_data")
    return root, write_nifti_dataset(root)


def _config(path):
    """The data set's configuration (the schema's defaults fill the rest)."""
    return yaml.safe_load(Path(path).read_text())


def test_nifti_config_passes(dataset):
    check_config(_config(dataset[1]), SCHEMA)


@pytest.mark.parametrize(
    "change,message",
    [
        (lambda c: c["data"].pop("mask"), r"data\.mask: NIfTI runs"),
        (lambda c: c["networks"].update(template="cole_anticevic"), r"networks\.template: .* 91,282"),
        (lambda c: c["networks"].pop("labels"), r"networks\.labels: the NIfTI atlas needs"),
        (lambda c: c["neurons"].pop("parcellation"), r"neurons\.parcellation: 'cole_anticevic_parcels' lies on CIFTI"),
        (lambda c: c["networks"].update(template="/nowhere/atlas.nii.gz"),
         r"networks\.template: file not found: /nowhere/atlas\.nii\.gz"),
    ],
)
def test_nifti_config_names_what_is_missing(dataset, change, message):
    config = _config(dataset[1])
    change(config)
    with pytest.raises(ConfigError, match=message):
        check_config(config, SCHEMA)


def test_cifti_data_refuse_a_mask_and_an_atlas(dataset):
    config = _config(dataset[1])
    config["data"]["bold"] = str(dataset[0] / "bold" / "sub-{subject}_{run}.dtseries.nii")
    with pytest.raises(ConfigError) as err:
        check_config(copy.deepcopy(config), SCHEMA)
    assert "data.mask: set, but data.bold" in str(err.value)
    assert "a NIfTI atlas is only for NIfTI runs" in str(err.value)
    assert "neurons.parcellation: " in str(err.value) and "is a NIfTI image" in str(err.value)


def test_atlas_on_another_grid_is_refused(dataset, tmp_path):
    root = dataset[0]
    values = labels_on_mask(root / "networks.nii.gz", root / "mask.nii.gz", "networks.template")
    assert values.shape == (len(mask_brain_models(root / "mask.nii.gz")),)
    assert set(np.unique(values)) == set(NETWORKS)
    atlas = nib.load(root / "networks.nii.gz")
    moved = atlas.affine.copy()
    moved[0, 3] += 2.0
    for name, img in [("cropped", nib.Nifti1Image(np.asarray(atlas.dataobj)[:-1], atlas.affine)),
                      ("moved", nib.Nifti1Image(np.asarray(atlas.dataobj), moved))]:
        nib.save(img, tmp_path / f"{name}.nii.gz")
        with pytest.raises(ValueError, match=rf"networks\.template: .*{name}\.nii\.gz .*resample_to_img"):
            labels_on_mask(tmp_path / f"{name}.nii.gz", root / "mask.nii.gz", "networks.template")


def test_networks_from_a_nifti_atlas(dataset, tmp_path):
    root = dataset[0]
    mask, atlas, table = root / "mask.nii.gz", root / "networks.nii.gz", root / "networks.tsv"
    mapping = {"vision": ["Visual"], "rest": ["Language", "Default"]}
    names, masks = write_networks(tmp_path / "n.npz", tmp_path / "n.dlabel.nii", str(atlas), mapping,
                                  labels=str(table), mask=str(mask))
    values = labels_on_mask(atlas, mask, "networks.template")
    assert names == ["vision", "rest"]
    np.testing.assert_array_equal(masks[0], values == 1)
    np.testing.assert_array_equal(masks[1], np.isin(values, [2, 4]))
    dlabel = nib.load(tmp_path / "n.dlabel.nii")
    np.testing.assert_array_equal(dlabel.header.get_axis(1).voxel, mask_brain_models(mask).voxel)
    np.testing.assert_array_equal(np.asarray(dlabel.dataobj)[0], np.where(masks[0], 1, np.where(masks[1], 2, 0)))
    with pytest.raises(ValueError, match=r"networks\.mapping\.vision: \['Visual1'\] not in"):
        network_masks(str(atlas), {"vision": ["Visual1"]}, labels=str(table), mask=str(mask))
    short = tmp_path / "short.tsv"
    short.write_text("index\tname\n1\tVisual\n2\tLanguage\n")
    with pytest.raises(ValueError, match=r"networks\.labels: .*short\.tsv does not name the labels \[3, 4, 5\]"):
        network_masks(str(atlas), mapping, labels=str(short), mask=str(mask))


@pytest.mark.slow
def test_nifti_run_end_to_end(dataset, tmp_path):
    root, config_file = dataset
    out = snakemake(tmp_path, "--cores", "2", "--replace-workflow-config", base=None,
                    configfiles=[config_file])
    assert "Surface figures skipped: the data are NIfTI volumes" in out.stderr + out.stdout
    res = tmp_path / "results"
    bm = mask_brain_models(root / "mask.nii.gz")
    atlas = labels_on_mask(root / "networks.nii.gz", root / "mask.nii.gz", "networks.template")
    # networks: the atlas's labels at the mask's voxels, as CIFTI on those voxels
    names, masks = load_networks(res / "networks" / "networks.npz")
    assert names == ["vision", "language", "attention", "default"]
    for name, label, m in zip(names, ["Visual", "Language", "Attention", "Default"], masks):
        index = {v: k for k, v in NETWORKS.items()}[label]
        np.testing.assert_array_equal(m, atlas == index)
    dlabel = nib.load(res / "networks" / "networks.dlabel.nii")
    assert len(dlabel.header.get_axis(1)) == len(bm) < np.prod(GRID)
    # encoding, group and attribution maps on the mask's voxels
    for path in [res / "group" / "clip" / "maps" / "image_summary.dscalar.nii",
                 res / "attribution" / "maps" / "clip_unique.dscalar.nii",
                 res / "depth" / "clip_preferred_layer.dlabel.nii"]:
        axis = nib.load(path).header.get_axis(1)
        np.testing.assert_array_equal(axis.voxel, bm.voxel)
    # findings: every network and layer; the vision network's repeated, stimulus-driven
    # response gives it the highest noise ceiling of every subject
    prediction = read_tsv(res / "tables" / "prediction.tsv")
    assert set(prediction["network"]) == set(names)
    assert np.isfinite(prediction["mean_r"]).all()
    ceiling = read_tsv(res / "tables" / "noise_ceiling.tsv")
    assert sorted(ceiling["subject"].astype(str).unique()) == sorted(SUBJECTS)
    best = ceiling.loc[ceiling.groupby("subject")["mean_ceiling"].idxmax(), "network"]
    assert (best == "vision").all(), ceiling
    neurons = read_tsv(res / "tables" / "neurons.tsv")
    assert len(neurons) > 0
    # surface figures skipped, the rest of the figures and pages written, the reason given
    assert not list((res / "figures").glob("brain/*.png"))
    assert (res / "figures" / "prediction.png").is_file()
    assert "surface figure skipped: the data are NIfTI volumes" in (
        res / "logs" / "depth" / "clip.log").read_text()
    provenance = (res / "report" / "provenance.html").read_text()
    assert "Surface figures skipped" in provenance and "mask.nii.gz" in provenance
    # the report builds from these outputs
    report = tmp_path / "report.html"
    snakemake(tmp_path, "--cores", "1", "--replace-workflow-config", "--report", str(report),
              base=None, configfiles=[config_file])
    assert report.stat().st_size > 0
