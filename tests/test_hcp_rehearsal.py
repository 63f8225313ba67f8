"""The HCP 7T rehearsal (``bench/hcp_rehearsal.py``): ``config/hcp7t.yaml``, with only its
paths, the weights and (for speed) the model sizes overridden, runs end to end on data laid
out like the release, captions generated from the frames; and what the preset inherits from
``config/config.yaml`` when given with ``--configfile``."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from conftest import ROOT, snakemake
from vlmbrain.encoding.noise import read_noise_ceiling
from vlmbrain.fmri.cifti import N_GRAYORDINATES, dtseries_dims
from vlmbrain.io import read_tsv
from vlmbrain.networks.templates import load_networks
from vlmbrain.stimuli.table import read_captions, read_segments, read_stimulus_table
from vlmbrain.stimuli.video import video_info

from bench.hcp_rehearsal import BOLD, RELEASE_TRS, STIMULI, overlay, scaled_segments

HCP7T = ROOT / "config/hcp7t.yaml"
SCALE = 0.08  # clips of 5 to 21 TRs, validation 7 TRs (rest kept: runs of 161 to 180 TRs)


def test_preset_over_the_defaults_keeps_real_data_settings():
    """``--configfile config/hcp7t.yaml`` is merged over config/config.yaml, the
    simulation's settings: the preset must restore what real data need."""
    from snakemake.utils import update_config

    merged = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    update_config(merged, yaml.safe_load(HCP7T.read_text()))
    assert merged["sdl"]["n_atoms"] == 64
    assert merged["data"]["source"] == "hcp7t" and merged["simulation"]["couplings"] == []


@pytest.mark.parametrize("size", ["full", "tiny-models", "tiny"])
def test_overlay_changes_only_paths_weights_and_sizes(size, tmp_path):
    """The rehearsal's overlay over the preset: random weights, and the tests' tiny models
    (and, with ``tiny``, their small settings) only where the size asks for them."""
    from snakemake.utils import update_config

    def merged(*layers):
        config = yaml.safe_load((ROOT / "config/config.yaml").read_text())
        for layer in layers:
            update_config(config, layer)
        return config

    names = {run: f"{run}.mp4" for run in RELEASE_TRS}
    layer = overlay(tmp_path, ["100610", "102311"], names, tmp_path / "segments.tsv", size)
    preset, tiny = yaml.safe_load(HCP7T.read_text()), yaml.safe_load((ROOT / "tests/config/tiny.yaml").read_text())
    config, base = merged(preset, layer), merged(preset)
    assert set(layer) <= {"results", "data", "captioning", "models", "extraction", "sdl", "neurons", "attribution"}
    assert config["models"]["clip"]["pretrained"] is None and config["models"]["vit"]["pretrained"] is False
    assert config["data"]["captions"] is None and config["captioning"]["enabled"]
    width = config["models"]["clip"].get("overrides", {}).get("vision_cfg", {}).get("width")
    assert width == (None if size == "full" else tiny["models"]["clip"]["overrides"]["vision_cfg"]["width"])
    small = size == "tiny"
    for key in ("sdl", "neurons", "attribution"):
        assert config[key] == (merged(tiny)[key] if small else base[key]), key
    assert config["sdl"]["n_atoms"] == (tiny["sdl"]["n_atoms"] if small else 64)
    with pytest.raises(ValueError, match="size 'small': give one of full, tiny-models, tiny"):
        overlay(tmp_path, ["100610"], names, tmp_path / "segments.tsv", "small")


def test_scaled_segments_keep_the_release_layout():
    segments = read_segments(ROOT / "config/hcp7t_segments.tsv")
    same, lengths = scaled_segments(segments, RELEASE_TRS, 1.0)
    pd.testing.assert_frame_equal(same, segments)
    assert lengths == RELEASE_TRS
    small, lengths = scaled_segments(segments, RELEASE_TRS, SCALE)
    assert small[["run", "clip", "validation"]].equals(segments[["run", "clip", "validation"]])
    repeats = (small["end"] - small["start"] + 1)[small["validation"]]
    assert repeats.nunique() == 1 and repeats.iloc[0] == round(84 * SCALE)

    def rests(table, n_trs):
        ends = [-1, *table["end"]]
        return [s - e - 1 for s, e in zip([*table["start"], n_trs], ends, strict=True)]

    for run, rows in small.groupby("run"):
        release = segments[segments["run"] == run]
        assert rests(rows, lengths[run]) == rests(release, RELEASE_TRS[run])  # 20 s (19 last)
        clips = rows["end"] - rows["start"] + 1
        assert lengths[run] == RELEASE_TRS[run] - (release["end"] - release["start"] + 1).sum() + clips.sum()
    with pytest.raises(ValueError, match=r"--scale 0.01: .*use a larger scale"):
        scaled_segments(segments, RELEASE_TRS, 0.01)


@pytest.fixture(scope="module")
def rehearsal(tmp_path_factory):
    """The rehearsal data at SCALE with the tiny models, and the workflow run on them; or,
    with ``VLMBRAIN_REHEARSAL=DIR``, a rehearsal made and run in DIR as the README says
    (any scale and size): the tests then check that one.

    Returns the data folder, its overlay and its record (``rehearsal.json``).
    """
    given = os.environ.get("VLMBRAIN_REHEARSAL")
    if given:
        data = Path(given).resolve()
        missing = [p for p in ("rehearsal.json", "rehearsal.yaml", "results/report.html")
                   if not (data / p).is_file()]
        assert not missing, f"VLMBRAIN_REHEARSAL={given}: no {', '.join(missing)}; make and run it first"
        return (data, yaml.safe_load((data / "rehearsal.yaml").read_text()),
                json.loads((data / "rehearsal.json").read_text()))
    out = tmp_path_factory.mktemp("hcp_rehearsal")
    data = out / "data"
    cmd = [sys.executable, "-m", "bench.hcp_rehearsal", str(data), "--subjects", "2",
           "--scale", str(SCALE), "--tiny", "--fps", "2", "--width", "64"]
    made = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    assert made.returncode == 0, made.stdout[-3000:] + made.stderr[-3000:]
    overlay = data / "rehearsal.yaml"
    snakemake(out, "--cores", "2", configfiles=[HCP7T, overlay], base=None)
    report = data / "results" / "report.html"
    snakemake(out, "--cores", "1", "--report", str(report), configfiles=[HCP7T, overlay], base=None)
    record = json.loads((data / "rehearsal.json").read_text())
    assert record["scale"] == SCALE and record["size"] == "tiny"
    return data, yaml.safe_load(overlay.read_text()), record


@pytest.mark.slow
@pytest.mark.rehearsal
def test_rehearsal_data_look_like_the_release(rehearsal):
    data, overlay, record = rehearsal
    preset = yaml.safe_load(HCP7T.read_text())
    subjects = (data / "subjects.txt").read_text().split()
    assert subjects == record["subjects"] and len(subjects) >= 2
    assert all(re.fullmatch(r"\d{6}", s) for s in subjects)
    segments = read_segments(overlay["data"]["segments"])
    _, lengths = scaled_segments(read_segments(ROOT / "config/hcp7t_segments.tsv"), RELEASE_TRS, record["scale"])
    assert lengths == record["run_trs"]
    for run in preset["data"]["runs"]:
        n_trs = lengths[run]
        for subject in subjects:
            path = data / BOLD.format(subject=subject, run=run)
            assert path.name == f"{run}_Atlas_MSMAll_hp2000_clean.dtseries.nii"
            assert dtseries_dims(path) == (n_trs, N_GRAYORDINATES, 1.0)
        video = data / STIMULI / preset["data"]["video"][run].rsplit("/", 1)[1]
        assert overlay["data"]["video"][run] == str(video)
        assert video_info(video)["duration"] == pytest.approx(n_trs, abs=0.5)
        assert segments[(segments["run"] == run) & segments["validation"]].shape[0] == 1
    assert overlay["data"]["captions"] is None and overlay["captioning"]["enabled"]


@pytest.mark.slow
@pytest.mark.rehearsal
def test_rehearsal_runs_the_preset_end_to_end(rehearsal):
    data, overlay, record = rehearsal
    res = data / "results"
    subjects = (data / "subjects.txt").read_text().split()
    runs = yaml.safe_load(HCP7T.read_text())["data"]["runs"]
    repeat = round(84 * record["scale"])
    _, lengths = scaled_segments(read_segments(ROOT / "config/hcp7t_segments.tsv"), RELEASE_TRS, record["scale"])
    texts = set()
    for run in runs:
        captions = read_captions(res / "stimuli" / "captions" / f"{run}.tsv")
        assert captions["text"].str.len().gt(0).all()
        assert captions["duration"].sum() == pytest.approx(lengths[run], abs=2)
        texts |= set(captions["text"])
        table = read_stimulus_table(res / "stimuli" / f"{run}.tsv")
        assert table["validation"].sum() == repeat  # the repeated clip, found in every run
    assert len(texts) > 4, "the captioner gave (almost) the same caption to every frame"
    names, masks = load_networks(res / "networks" / "networks.npz")
    planted = masks.any(0)
    for subject in subjects:
        ceiling = read_noise_ceiling(res / "encoding" / f"sub-{subject}" / "noise_ceiling.npz")
        assert ceiling["note"] == "" and ceiling["n_repeats"] == 4 and ceiling["n_trs"] == repeat
        assert np.isfinite(ceiling["ceiling"]).all()
        rho = ceiling["reliability"]
        # the planted response repeats with the clip; elsewhere only noise
        assert rho[planted].mean() > rho[~planted].mean() + 0.1, (rho[planted].mean(), rho[~planted].mean())
    per_subject = read_tsv(res / "tables" / "noise_ceiling.tsv", dtype={"subject": str})
    assert set(per_subject["subject"].str.replace("sub-", "")) == set(subjects)
    prediction = read_tsv(res / "tables" / "prediction.tsv")
    assert prediction["noise_ceiling"].notna().all()
    for table in ("prediction", "redundancy", "polarity", "polarity_trend", "architecture",
                  "attribution", "architecture_unique", "neurons"):
        assert len(read_tsv(res / "tables" / f"{table}.tsv")) > 0, table
    for page in ("findings", "provenance"):
        assert (res / "report" / f"{page}.html").stat().st_size > 0
    assert not (res / "simulation").exists()  # real data: nothing simulated


@pytest.mark.slow
@pytest.mark.rehearsal
def test_rehearsal_report_opens_in_chromium(rehearsal, tmp_path):
    from test_report import CHECK, HOOK, _chromium, _embedded, _run

    chromium = _chromium()
    html = (rehearsal[0] / "results" / "report.html").read_text()
    categories = _embedded(html, "categories")
    assert "1. Prediction" in categories and "Provenance" in categories
    images = [k for k, v in _embedded(html, "results").items() if v["mime_type"].startswith("image/")]
    page = tmp_path / "check.html"
    head, body = html.index("<head>") + len("<head>"), html.rindex("</body>")
    page.write_text(html[:head] + HOOK + html[head:body] + CHECK + html[body:])
    run = _run(chromium, tmp_path, "--virtual-time-budget=20000", "--dump-dom", page.as_uri())
    found = re.search(r'<pre id="vlmcheck">(.*?)</pre>', run.stdout, re.S)
    assert found, f"report did not finish loading in chromium: {run.stderr[-2000:]}"
    check = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert images and check["images"] == len(images) == check["loaded"], check
    assert check["failed"] == [] and check["errors"] == [], check
