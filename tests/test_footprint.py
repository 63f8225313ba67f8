"""The disk footprint of the tiny run: compact forms, and nothing kept that no rule reads
and no user opens (docs/design.md, "Storage"; sizes in bench/README.md, "Disk footprint").

Uses the session's tiny run (``tiny_run``) and its report (``tiny_report``); no new run.
"""

import zipfile

import numpy as np
import pytest
from PIL import Image

# float16 where the statistics allow (docs/design.md, "Storage"): per file kind, its arrays
HALF = {
    "encoding": {"beta"},
    "neurons_subject": {"z"},
    "attribution_subject": {"unique", "shared", "r2_joint", "r2_stream", "reference"},
    "group": {"t", "q"},
}
REPORT_LIMIT = 10_000_000  # bytes: the default run's target (about 8 MB: bench/README.md)


def _kind(path, results):
    """Which of ``HALF``'s file kinds ``path`` (under ``results``) is, or None."""
    parts = path.relative_to(results).parts
    if len(parts) < 3:
        return None
    top, parent, name = parts[0], parts[-2], parts[-1]
    if top == "encoding" and name.startswith("layer-"):
        return "encoding"
    if top == "neurons" and parent.startswith("sub-") and name != "parcel_bold.npz":
        return "neurons_subject"
    if top == "attribution" and parent.startswith("sub-"):
        return "attribution_subject"
    if top == "group" and name.startswith("layer-"):
        return "group"
    return None


def _array_kind(key):
    """``z__image__01`` -> ``z``; ``image.layer-01.unique`` -> ``unique``;
    ``reference.image+text`` -> ``reference``."""
    if key.startswith("reference."):
        return "reference"
    return key.split("__")[0] if "__" in key else key.split(".")[-1]


@pytest.mark.slow
def test_every_npz_is_compressed_without_float64(tiny_run):
    files = sorted((tiny_run / "results").rglob("*.npz"))
    assert len(files) > 50
    for path in files:
        with zipfile.ZipFile(path) as archive:
            stored = [i.filename for i in archive.infolist()
                      if i.compress_type != zipfile.ZIP_DEFLATED]
        assert not stored, f"{path}: stored uncompressed: {stored}"
        with np.load(path) as data:
            wide = [k for k in data.files if data[k].dtype == np.float64 and data[k].size > 1]
        assert not wide, f"{path}: float64 arrays {wide}"


@pytest.mark.slow
def test_per_subject_and_displayed_maps_are_half_precision(tiny_run):
    results = tiny_run / "results"
    found = {kind: 0 for kind in HALF}
    for path in sorted(results.rglob("*.npz")):
        kind = _kind(path, results)
        if kind is None:
            continue
        found[kind] += 1
        with np.load(path) as data:
            floats = {k: data[k].dtype for k in data.files if data[k].dtype.kind == "f"}
        half = {k for k, dtype in floats.items() if dtype == np.float16}
        expected = {k for k in floats if _array_kind(k) in HALF[kind]}
        assert half == expected, f"{path}: float16 {sorted(half)}, expected {sorted(expected)}"
        assert expected, f"{path}: no float16 map"
    assert all(found.values()), found


@pytest.mark.slow
def test_subject_files_hold_only_what_later_rules_read(tiny_run):
    """A subject's encoding file: betas, r and the ridge penalty (no GLM t); its neuron
    file: the Fisher z per layer (no t); each no larger than those arrays."""
    results = tiny_run / "results"
    layers = sorted((results / "encoding").glob("sub-*/*/*/layer-*.npz"))
    assert layers
    for path in layers:
        with np.load(path) as data:
            assert set(data.files) == {"beta", "r", "alpha"}, path
            k, v = data["beta"].shape
        assert path.stat().st_size <= k * v * 2 + 2 * v * 4 + 2000, path
    for path in sorted((results / "neurons").glob("sub-*/*.npz")):
        if path.stem == "parcel_bold":
            continue
        with np.load(path) as data:
            assert {key.split("__")[0] for key in data.files} == {"names", "z"}, path


@pytest.mark.slow
def test_temporary_files_are_gone_and_figures_are_palette_pngs(tiny_run):
    results = tiny_run / "results"
    assert not (results / "neurons" / "cohort_bold.npy").exists()
    assert not list(results.rglob("*.tmp*")), "a temporary file was left behind"
    figures = sorted((results / "figures").rglob("*.png"))
    assert len(figures) > 10
    for path in figures:
        with Image.open(path) as image:
            assert image.mode == "P", f"{path}: {image.mode}, not a 256-colour palette PNG"


@pytest.mark.slow
def test_report_is_one_small_file(tiny_report):
    assert tiny_report.stat().st_size < REPORT_LIMIT
