"""Configuration validation: defaults, unknown keys, wrong types, missing files."""

import copy
from pathlib import Path

import pytest
import yaml

from vlmbrain.config import ConfigError, check_config, runs, subjects

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "workflow/schemas/config.schema.yaml"


@pytest.fixture()
def default():
    return yaml.safe_load((ROOT / "config/config.yaml").read_text())


def test_default_config_is_valid_and_filled(default):
    config = check_config(default, SCHEMA)
    assert config["sdl"]["n_atoms"] == 8  # T/K kept near HCP's (config/README.md)
    assert subjects(config)[0] == "sim01" and len(subjects(config)) == 6
    assert runs(config) == ["run1", "run2", "run3"]
    # defaults from the schema fill keys the file leaves out
    del default["group"]
    assert check_config(default, SCHEMA)["group"]["fdr_q"] == 0.05


def test_unknown_key_is_named(default):
    default["sdl"]["n_atom"] = 10
    with pytest.raises(ConfigError, match=r"sdl\.n_atom: unknown key"):
        check_config(default, SCHEMA)


def test_unknown_top_level_key_is_named(default):
    default["modles"] = {}
    with pytest.raises(ConfigError, match=r"modles: unknown key"):
        check_config(default, SCHEMA)


def test_wrong_type_is_named(default):
    default["group"]["fdr_q"] = "five percent"
    with pytest.raises(ConfigError, match=r"group\.fdr_q: 'five percent' is not of type"):
        check_config(default, SCHEMA)


def test_coupling_must_name_a_configured_model(default):
    default["simulation"]["couplings"][0]["model"] = "blip"
    with pytest.raises(ConfigError, match=r"simulation\.couplings\[0\]\.model"):
        check_config(default, SCHEMA)


def real_config(tmp_path, default):
    config = copy.deepcopy(default)
    seg = tmp_path / "segments.tsv"
    seg.write_text("run\tclip\tstart\tend\tvalidation\nA\tc1\t2\t5\tfalse\nB\tc1\t2\t5\tfalse\n")
    for run in "AB":
        (tmp_path / f"{run}.mp4").write_bytes(b"")
        (tmp_path / f"{run}.tsv").write_text("onset\tduration\ttext\n")
        for sub in ("s1", "s2"):
            (tmp_path / f"{sub}_{run}.dtseries.nii").write_bytes(b"")
    config["data"] = {
        "source": "custom",
        "runs": ["A", "B"],
        "subjects": ["s1", "s2"],
        "bold": str(tmp_path / "{subject}_{run}.dtseries.nii"),
        "video": str(tmp_path / "{run}.mp4"),
        "captions": str(tmp_path / "{run}.tsv"),
        "segments": str(seg),
    }
    return config


def test_real_data_config_passes_when_files_exist(tmp_path, default):
    check_config(real_config(tmp_path, default), SCHEMA)


def test_missing_input_file_is_named_with_key_and_path(tmp_path, default):
    config = real_config(tmp_path, default)
    missing = tmp_path / "s2_B.dtseries.nii"
    missing.unlink()
    with pytest.raises(ConfigError, match=rf"data\.bold: file not found: {missing}"):
        check_config(config, SCHEMA)


def test_missing_checkpoint_is_named(tmp_path, default):
    config = real_config(tmp_path, default)
    config["models"]["meter"]["checkpoint"] = str(tmp_path / "meter.ckpt")
    with pytest.raises(ConfigError, match=r"models\.meter\.checkpoint: file not found"):
        check_config(config, SCHEMA)


def test_hcp7t_preset_validates_schema(tmp_path):
    preset = yaml.safe_load((ROOT / "config/hcp7t.yaml").read_text())
    from vlmbrain.config import load_schema, validate

    validate(preset, load_schema(SCHEMA))
    assert [r.split("_")[1] for r in preset["data"]["runs"]] == ["MOVIE1", "MOVIE2", "MOVIE3", "MOVIE4"]


def test_pure_noise_preset_plants_nothing_and_writes_apart(default):
    """config/pure_noise.yaml merged over the default (as --configfile does) is valid,
    plants nothing and writes nothing into the default run's folders."""
    from snakemake.utils import update_config

    from vlmbrain.config import load_schema, validate

    preset = yaml.safe_load((ROOT / "config/pure_noise.yaml").read_text())
    merged = copy.deepcopy(default)
    update_config(merged, preset)
    validate(merged, load_schema(SCHEMA))
    assert merged["simulation"]["couplings"] == []
    paths = [merged["results"]] + [merged["data"][k] for k in ("bold", "video", "captions", "segments")]
    assert all(p.startswith("results/pure_noise/") or p == "results/pure_noise" for p in paths)


def test_captions_come_from_exactly_one_place(tmp_path, default):
    config = real_config(tmp_path, default)
    del config["data"]["captions"]
    with pytest.raises(ConfigError, match=r"data\.captions: no captions; give a captions table"):
        check_config(copy.deepcopy(config), SCHEMA)
    model = tmp_path / "captioner"
    model.mkdir()
    config["captioning"] = {"enabled": True, "model": str(model)}
    checked = check_config(copy.deepcopy(config), SCHEMA)
    assert checked["data"]["captions"] is None  # generated, never read from data.captions
    both = copy.deepcopy(config)
    both["data"]["captions"] = str(tmp_path / "{run}.tsv")
    with pytest.raises(ConfigError, match=r"data\.captions: captioning\.enabled generates"):
        check_config(both, SCHEMA)
    nameless = copy.deepcopy(config)
    nameless["captioning"]["model"] = None
    with pytest.raises(ConfigError, match=r"captioning\.model: captioning\.enabled is true"):
        check_config(nameless, SCHEMA)
    absent = copy.deepcopy(config)
    absent["captioning"]["model"] = str(tmp_path / "nowhere")
    with pytest.raises(ConfigError, match=rf"captioning\.model: folder not found: {tmp_path}/nowhere"):
        check_config(absent, SCHEMA)


def test_captioning_refused_on_the_simulation(default):
    default["captioning"] = {"enabled": True, "model": "Salesforce/blip-image-captioning-base"}
    with pytest.raises(ConfigError, match=r"captioning\.enabled: the simulation writes its own"):
        check_config(default, SCHEMA)
