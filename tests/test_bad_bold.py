"""Bad BOLD is refused, naming the file and the fault, or excluded explicitly: never a
silent wrong result.

NaN or infinite values stop the job when the file is read (``data.nonfinite: error``), or
with ``data.nonfinite: exclude`` leave those grayordinates out for the subject; a
grayordinate constant within a run is always left out. Excluded means NaN statistics for
that subject there (never 0) and group tests on the subjects with data, counted in
``n_subjects``.
"""

import logging

import nibabel as nib
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from vlmbrain.attribution.banded import banded_ridge_loro
from vlmbrain.attribution.significance import unique_group_maps
from vlmbrain.encoding import jobs as encoding_jobs
from vlmbrain.fmri.bold import load_subject_bold, mask_brain_models, read_bold
from vlmbrain.io import save_npz, write_tsv
from vlmbrain.stats import sign_flip_test
from vlmbrain.stimuli.table import build_stimulus_table

RUNS = ["A", "B", "C"]
N_T, K = 30, 3  # TRs per run, atoms
NAN_SUBJECT, NAN_COLUMN, NAN_RUN, NAN_TR = 1, 7, "B", 4
FLAT_SUBJECT, FLAT_COLUMN, FLAT_RUN = 2, 11, "A"


def _table(run):
    seg = pd.DataFrame({"run": [run, run], "clip": ["c", "val"], "start": [2, 22],
                        "end": [21, 27], "validation": [False, True]})
    cap = pd.DataFrame({"onset": [0.0], "duration": [float(N_T)], "text": ["hello"]})
    return build_stimulus_table(run, N_T, 1.0, seg, cap, video="v.mp4")


def _write_nifti(path, data, bm):
    """Write T x V data on the mask's voxels as a 4D NIfTI image (TR 1 s)."""
    volume = np.zeros((*bm.volume_shape, data.shape[0]), np.float32)
    ijk = bm.voxel
    volume[ijk[:, 0], ijk[:, 1], ijk[:, 2], :] = data.T
    img = nib.Nifti1Image(volume, np.eye(4))
    img.header.set_zooms((2.0, 2.0, 2.0, 1.0))
    nib.save(img, path)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """Three subjects x three runs of NIfTI BOLD on a 24-voxel mask, driven by K atoms.

    Subject 1 has one NaN (run B, TR 4, grayordinate 7); subject 2's grayordinate 11 is
    constant over run A.
    """
    root = tmp_path_factory.mktemp("bad_bold")
    rng = np.random.default_rng(0)
    mask = np.zeros((4, 5, 6), np.uint8)
    mask[1:3, 1:4, 1:5] = 1
    nib.save(nib.Nifti1Image(mask, np.eye(4)), root / "mask.nii.gz")
    bm = mask_brain_models(root / "mask.nii.gz")
    V = len(bm)
    tables = []
    for run in RUNS:
        write_tsv(root / f"{run}.tsv", _table(run))
        tables.append(str(root / f"{run}.tsv"))
    kept = _table("A")["condition"].eq("movie").to_numpy()
    atoms = rng.standard_normal((len(RUNS) * kept.sum(), K)).astype(np.float32)
    save_npz(root / "atoms" / "image" / "layer-00.npz", atoms=atoms, codes=np.eye(K))
    beta = rng.standard_normal((K, V))
    bold = {}
    for s in range(3):
        paths = []
        b = beta + 0.5 * rng.standard_normal((K, V))
        for i, run in enumerate(RUNS):
            data = rng.standard_normal((N_T, V)).astype(np.float32)
            data[kept] += (atoms[i * kept.sum() : (i + 1) * kept.sum()] @ b).astype(np.float32)
            data += 100.0
            if s == NAN_SUBJECT and run == NAN_RUN:
                data[NAN_TR, NAN_COLUMN] = np.nan
            if s == FLAT_SUBJECT and run == FLAT_RUN:
                data[:, FLAT_COLUMN] = 100.0
            path = root / f"sub-{s}_{run}.nii.gz"
            _write_nifti(path, data, bm)
            paths.append(str(path))
        bold[s] = paths
    return {"root": root, "mask": str(root / "mask.nii.gz"), "tables": tables, "bold": bold,
            "bm": bm, "V": V}


def test_nan_bold_stops_when_read_naming_file_count_and_positions(workspace, tmp_path):
    ws = workspace
    out = tmp_path / "encoding" / "sub-1"
    with pytest.raises(ValueError) as err:
        encoding_jobs.encoding(bold=ws["bold"][NAN_SUBJECT], tables=ws["tables"],
                               atoms=ws["root"] / "atoms", encoding=out, tr=1.0,
                               ridge_alphas=[1.0, 100.0], mask=[ws["mask"]])
    message = str(err.value)
    assert message.startswith(ws["bold"][NAN_SUBJECT][1])  # the run B file
    assert f"1 non-finite BOLD values (NaN or infinite) in 1 of {ws['V']} grayordinates" in message
    assert f"({NAN_TR}, {NAN_COLUMN})" in message and "data.nonfinite: exclude" in message
    assert not out.exists() and not list(out.parent.glob("*"))  # nothing half-written

    # many bad values: the count, the first five (TR, grayordinate) positions, infinities too
    data = np.ones((6, ws["V"]), np.float32) + np.arange(6)[:, None]
    bad = [(0, 3), (1, 0), (2, 3), (2, 5), (3, 9), (5, 20)]
    for (t, v), value in zip(bad, [np.nan, np.inf, np.nan, -np.inf, np.nan, np.nan]):
        data[t, v] = value
    path = tmp_path / "many.nii.gz"
    _write_nifti(path, data, ws["bm"])
    with pytest.raises(ValueError, match=r"many\.nii\.gz: 6 non-finite BOLD values .* in 5 of "
                       r"24 grayordinates; first at \(TR, grayordinate\), 0-based: \(0, 3\), "
                       r"\(1, 0\), \(2, 3\), \(2, 5\), \(3, 9\) \.\.\."):
        read_bold(path, mask=ws["mask"])
    values, _, _ = read_bold(path, mask=ws["mask"], nonfinite="exclude")
    assert np.isnan(values[1, 0]) and np.isnan(values[3, 9])  # infinities become no data
    with pytest.raises(ValueError, match="data.nonfinite must be one of"):
        read_bold(path, mask=ws["mask"], nonfinite="zero")


class _Records(logging.Handler):
    def __init__(self):
        super().__init__()
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


@pytest.fixture(scope="module")
def encoded(workspace):
    """Every subject encoded (NaN subject with ``nonfinite="exclude"``), noise ceilings and
    the group maps, with the vlmbrain log captured."""
    ws, root = workspace, workspace["root"]
    records = _Records()
    logger = logging.getLogger("vlmbrain")
    logger.addHandler(records)
    logger.setLevel(logging.INFO)
    try:
        dirs, ceilings = [], []
        for s in range(3):
            # the constant grayordinate is excluded whatever data.nonfinite says
            mode = "exclude" if s == NAN_SUBJECT else "error"
            out = root / "encoding" / f"sub-{s}" / "m"
            encoding_jobs.encoding(bold=ws["bold"][s], tables=ws["tables"], atoms=root / "atoms",
                                   encoding=out, tr=1.0, ridge_alphas=[1.0, 100.0],
                                   mask=[ws["mask"]], nonfinite=mode)
            dirs.append(out)
            ceiling = root / "encoding" / f"sub-{s}" / "noise_ceiling.npz"
            encoding_jobs.noise_ceiling(bold=ws["bold"][s], tables=ws["tables"], ceiling=ceiling,
                                        tr=1.0, mask=[ws["mask"]], nonfinite=mode)
            ceilings.append(np.load(ceiling)["ceiling"])
        # the ordinary t (compared with scipy below; the moderated one keeps the same
        # per-grayordinate subjects and degrees of freedom, plus its prior's)
        encoding_jobs.group(encoding=dirs, geometry=ws["bold"][0][0], group=root / "group" / "m",
                            q=0.05, mask=[ws["mask"]], moderated=False)
    finally:
        logger.removeHandler(records)
    subjects = []
    for d in dirs:
        with np.load(d / "image" / "layer-00.npz") as z:
            subjects.append({k: z[k] for k in z.files})
    with np.load(root / "group" / "m" / "image" / "layer-00.npz") as z:
        group = {k: z[k] for k in z.files}
    return {"subjects": subjects, "ceilings": ceilings, "group": group, "log": records.messages}


def _check_excluded(encoded, subject, column, V):
    fit = encoded["subjects"][subject]
    others = np.arange(V) != column
    assert np.isnan(fit["beta"][:, column]).all()  # NaN, never 0
    assert np.isfinite(fit["beta"][:, others]).all()
    for key in ("r", "alpha"):
        assert np.isnan(fit[key][column]) and np.isfinite(fit[key][others]).all(), key
    assert np.isnan(encoded["ceilings"][subject][column])
    assert np.isfinite(encoded["ceilings"][subject][others]).all()
    g = encoded["group"]
    expected = np.full(V, 3)
    expected[[NAN_COLUMN, FLAT_COLUMN]] = 2
    np.testing.assert_array_equal(g["n_subjects"], expected)
    # the group test at the column uses the two subjects that have data there
    rest = [s for s in range(3) if s != subject]
    betas = np.stack([encoded["subjects"][s]["beta"][:, column] for s in rest])
    ref = stats.ttest_1samp(betas, 0.0, axis=0)
    # the group t is stored in float16 (relative rounding up to 2**-11)
    np.testing.assert_allclose(g["t"][:, column], ref.statistic, rtol=1e-3)
    assert np.isfinite(g["q"][:, column]).all()
    r = [encoded["subjects"][s]["r"][column] for s in rest]
    assert g["mean_r"][column] == pytest.approx(np.mean(r), rel=1e-5)
    # elsewhere all three subjects enter
    all3 = np.stack([f["beta"][:, 0] for f in encoded["subjects"]])
    np.testing.assert_allclose(g["t"][:, 0], stats.ttest_1samp(all3, 0.0, axis=0).statistic,
                               rtol=1e-3)


def test_nan_bold_excluded_gives_nan_statistics_and_fewer_subjects(workspace, encoded):
    _check_excluded(encoded, NAN_SUBJECT, NAN_COLUMN, workspace["V"])
    log = "\n".join(encoded["log"])
    assert f"sub-{NAN_SUBJECT}_{NAN_RUN}.nii.gz: 1 grayordinates with non-finite values" in log
    assert f"1 of {workspace['V']} grayordinates excluded for this subject (1 with non-finite" in log


def test_constant_grayordinate_is_excluded_and_counted(workspace, encoded):
    _check_excluded(encoded, FLAT_SUBJECT, FLAT_COLUMN, workspace["V"])
    log = "\n".join(encoded["log"])
    assert f"sub-{FLAT_SUBJECT}_{FLAT_RUN}.nii.gz: 0 grayordinates with non-finite values" in log
    assert "1 constant over the run's 26 kept TRs" in log
    assert "(0 with non-finite values, 1 constant within a run)" in log


def test_a_subject_with_no_grayordinate_left_is_refused(workspace, tmp_path):
    ws = workspace
    flat = tmp_path / "flat.nii.gz"
    _write_nifti(flat, np.full((N_T, ws["V"]), 3.0, np.float32), ws["bm"])
    with pytest.raises(ValueError, match=r"every one of the 24 grayordinates .* 24 constant"):
        load_subject_bold([str(flat)], [_table("A")], 1.0, mask=ws["mask"])


def test_attribution_leaves_out_targets_and_subjects_without_data():
    rng = np.random.default_rng(3)
    runs = np.repeat(np.arange(3), 40)
    X = rng.standard_normal((120, 4))
    Y = X @ rng.standard_normal((4, 6)) + rng.standard_normal((120, 6))
    full = banded_ridge_loro([X], Y, runs, np.zeros((1, 1)), [1.0, 10.0])
    Y[:, 2] = np.nan
    Y[:40, 4] = 5.0  # constant on a held-out run: R^2 undefined there
    part = banded_ridge_loro([X], Y, runs, np.zeros((1, 1)), [1.0, 10.0])
    assert np.isnan(part["r2"][2]) and np.isnan(part["r2_folds"][0, 4])
    keep = [0, 1, 3, 5]
    np.testing.assert_allclose(part["r2"][keep], full["r2"][keep], rtol=1e-5)

    unique = rng.standard_normal((5, 8)) * 0.01 + 0.02
    unique[1, 3] = np.nan
    unique[:4, 6] = np.nan  # one subject: untestable
    res = unique_group_maps(unique, unique, unique, n_flips=64, moderated=False)
    assert res["n_subjects"].tolist() == [5, 5, 5, 4, 5, 5, 1, 5]
    assert np.isnan(res["t"][6]) and not res["significant"][6] and np.isnan(res["q"][6])
    t, _ = sign_flip_test(np.sqrt(unique[[0, 2, 3, 4], 3:4]), n_flips=64)
    assert res["t"][3] == pytest.approx(t[0], rel=1e-5)
    assert res["mean_unique"][3] == pytest.approx(np.nanmean(unique[:, 3]), rel=1e-5)


def test_encoding_job_on_torch_gives_the_numpy_maps_and_nan_where_excluded(workspace, tmp_path):
    """``compute.backend: torch`` (on the CPU here) through the encoding job, on the subject
    with an excluded grayordinate: the same maps, NaN at the same places."""
    pytest.importorskip("torch")
    ws = workspace
    maps = {}
    for backend in ("numpy", "torch"):
        out = tmp_path / backend
        encoding_jobs.encoding(bold=ws["bold"][NAN_SUBJECT], tables=ws["tables"],
                               atoms=ws["root"] / "atoms", encoding=out, tr=1.0,
                               ridge_alphas=[1.0, 100.0], mask=[ws["mask"]], nonfinite="exclude",
                               backend=backend, device="cpu")
        with np.load(out / "image" / "layer-00.npz") as z:
            maps[backend] = {k: z[k] for k in z.files}
    assert np.isnan(maps["torch"]["beta"][:, NAN_COLUMN]).all()
    for key, ref in maps["numpy"].items():
        # betas are stored in float16: equal values may round one unit (2**-10) apart
        tol = dict(rtol=2e-3, atol=1e-4) if ref.dtype == np.float16 else dict(rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(maps["torch"][key].astype(np.float64), ref, **tol, err_msg=key)
