"""Memory and run time from the data (``vlmbrain.resources``): sizes read from real files,
requests that grow with the data, small for the tiny configuration and large enough for
the HCP cohort, and the workflow's heavy rules asking through these functions."""

from __future__ import annotations

from types import SimpleNamespace

import nibabel as nib
import numpy as np
import pytest

from conftest import snakemake
from vlmbrain import resources as res
from vlmbrain.fmri.cifti import write_dtseries

V = 91282
HCP_SUBJECT_MB = 3600 * V * 4 / 2**20  # four 7T movie runs, 3,600 TRs, float32
TINY_SUBJECT_MB = 3 * (40 + 6 + 8 + 8) * V * 4 / 2**20  # tests/config/tiny.yaml, generous


def test_bold_mb_reads_cifti_and_compressed_nifti(tmp_path):
    cifti = tmp_path / "run1.dtseries.nii"
    write_dtseries(cifti, np.zeros((7, V), np.float32), tr=1.0)
    # the file size: the values and the header (its brain models, under 1 MB)
    assert 0 < res.bold_mb([cifti]) - 7 * V * 4 / 2**20 < 1
    nifti = tmp_path / "run1.nii.gz"
    nib.save(nib.Nifti1Image(np.zeros((10, 10, 10, 20), np.float32), np.eye(4)), nifti)
    assert nifti.stat().st_size < 20_000  # zeros compress to almost nothing
    assert res.bold_mb(str(nifti)) == pytest.approx(10 * 10 * 10 * 20 * 4 / 2**20)
    assert res.bold_mb([cifti, nifti]) == pytest.approx(
        res.bold_mb(cifti) + res.bold_mb(nifti)
    )
    assert res.bold_mb([tmp_path / "missing.dtseries.nii"]) == 0


def test_data_of_each_kind(tmp_path):
    runs = []
    for subject in range(3):
        for run in range(2):
            path = tmp_path / f"s{subject}_r{run}.bin"
            path.write_bytes(b"\0" * 2**20)
            runs.append(str(path))
    # one subject's runs; every subject's runs, of which one subject is held at a time
    assert res.data_mb("bold", SimpleNamespace(bold=runs[:2])) == pytest.approx(2)
    cohort = SimpleNamespace(bold=runs, tables=["run1.tsv", "run2.tsv"])
    assert res.data_mb("subject_bold", cohort) == pytest.approx(2)
    assert res.data_mb("all_bold", cohort) == pytest.approx(6)
    # one map: the largest array of the first subject's files; of one or every subject
    folders, files = [], []
    for subject in range(4):
        folder = tmp_path / f"enc{subject}" / "image"
        folder.mkdir(parents=True)
        big, small = np.zeros(2**18, np.float32), np.zeros(2**16, np.float32)  # 1, 0.25 MB
        np.savez(folder / "layer-01.npz", t=big, r=small)
        np.savez(folder / "layer-02.npz", t=small)
        folders.append(str(folder.parent))
        files.append(folder / "layer-01.npz")
    assert res.largest_array_mb(folders[0]) == pytest.approx(1, rel=0.01)
    assert res.data_mb("map", SimpleNamespace(encoding=folders)) == pytest.approx(1, rel=0.01)
    assert res.data_mb("maps", SimpleNamespace(subjects=files[:3])) == pytest.approx(3, rel=0.01)
    # everything read: every file of every subject
    assert res.data_mb("all_maps", SimpleNamespace(encoding=folders)) == pytest.approx(
        4 * 1.5, rel=0.01
    )
    with pytest.raises(ValueError, match="unknown kind of data"):
        res.data_mb("layers", SimpleNamespace())
    assert {rule[0] for rule in res.RULES.values()} | {rule[2] for rule in res.RULES.values()} <= {
        "bold", "subject_bold", "all_bold", "cohort", "map", "maps", "all_maps"
    }


def test_requests_grow_with_the_data_and_keep_the_margin():
    for rule in res.RULES:
        small, large = res.memory_mb(rule, 10), res.memory_mb(rule, 10_000)
        assert small < large and small % 100 == 0
        assert small >= res.MARGIN * res.BASE_MB
        assert res.runtime_minutes(rule, 10) <= res.runtime_minutes(rule, 10_000)
    copies = res.RULES["encoding"][1]
    need = res.BASE_MB + copies * 1000
    assert res.MARGIN * need <= res.memory_mb("encoding", 1000) < res.MARGIN * need + 100


def test_tiny_asks_little_and_hcp_enough():
    """The tiny configuration's subjects ask for about 2 GB, not the 16 GB of a fixed
    request; an HCP subject's encoding asks for more than four copies of its BOLD."""
    assert res.memory_mb("encoding", TINY_SUBJECT_MB) <= 2500
    assert res.runtime_minutes("encoding", TINY_SUBJECT_MB) <= 30
    hcp = res.memory_mb("encoding", HCP_SUBJECT_MB)
    assert hcp >= 4 * HCP_SUBJECT_MB and 8000 <= hcp <= 16000
    assert 180 <= res.runtime_minutes("encoding", HCP_SUBJECT_MB) <= 360


def test_heavy_rules_ask_through_the_library(tmp_path):
    """In a dry run, every heavy rule's mem_mb and runtime wait for its inputs
    (``<TBD>``: a function of ``input``), and the rule resources call ``RULES``' entries."""
    out = snakemake(tmp_path, "--dry-run", "--forceall")
    text = out.stdout + out.stderr
    blocks = text.split("\nrule ")
    seen = set()
    for block in blocks[1:]:
        rule = block.split(":", 1)[0]
        if rule in res.RULES:
            resources = next(l for l in block.splitlines() if "resources:" in l)
            assert "mem_mb=<TBD>" in resources and "runtime=<TBD>" in resources, block
            seen.add(rule)
    assert seen == set(res.RULES)


@pytest.mark.parametrize("scale", ["hcp", "tiny"])
def test_each_job_fits_in_what_its_rule_asks(scale):
    """A job's own estimate of its need (``vlmbrain.memory``, checked before it loads
    anything) never exceeds the ``mem_mb`` its rule asks for from the same inputs: else
    the job refuses to start at that scale. HCP: four runs of the release (3,655 TRs, about
    3,232 modelled), 64 atoms, ViT-B widths; tiny: ``tests/config/tiny.yaml``."""
    from vlmbrain import memory

    if scale == "hcp":
        n_trs, kept, atoms, width, n_layers, n_feats = [921, 918, 915, 901], [808] * 4, 64, 768, 25, 83
    else:
        n_trs, kept, atoms, width, n_layers, n_feats = [62] * 3, [40] * 3, 8, 32, 3, 17
    sizes = {"n_trs": n_trs, "kept": kept, "V": V}
    T = sum(kept)
    bold = sum(n_trs) * V * 4 / 2**20  # float32 CIFTI (bold_mb: the file sizes)
    features = {f"layer{i}": (T, 16) for i in range(n_feats)} | {"image": (T, 64), "text": (T, 64)}
    parts = {
        "encoding": (memory.encoding_parts(sizes, [(T, atoms)], 20000, 6), bold),
        "attribution_subject": (memory.attribution_parts(sizes, features, n_layers, 20000, 5, 3), bold),
        "noise_ceiling": (memory.noise_ceiling_parts(sizes), bold),
        "neurons_parcel_bold": (memory.parcel_bold_parts(sizes, 718), bold),
        "neurons_cohort_bold": (memory.cohort_bold_parts(sizes), bold),
        "neurons_grayordinates": (memory.grayordinates_parts(T, V, [width] * 12, 8192), T * V * 4 / 2**20),
    }
    for rule, (estimate, data) in parts.items():
        assert rule in res.RULES
        assert memory.estimate_mb(estimate) <= res.memory_mb(rule, data), rule
