"""Optional captioning: a tiny randomly initialised captioning model saved locally, from
the library to the workflow (the captions rule feeding the stimulus tables)."""

import re

import numpy as np
import pytest
import yaml

from conftest import snakemake
from vlmbrain.io import read_tsv
from vlmbrain.stimuli.captioning import Captioner, caption_run, merge_captions
from vlmbrain.stimuli.table import caption_per_tr, read_captions, read_stimulus_table


WORDS = ["a", "dog", "cat", "runs", "on", "grass", "red", "car"]


@pytest.fixture(scope="module")
def tiny_captioner(tmp_path_factory):
    from bench.hcp_rehearsal import save_captioner

    # transformers' usual initialisation: nearly the same caption for every frame
    folder = save_captioner(tmp_path_factory.mktemp("captioner"), words=WORDS, initializer_range=0.02)
    return str(folder)


def test_caption_run_writes_table(tiny_captioner, tmp_path):
    from vlmbrain.stimuli.video import write_video

    rng = np.random.default_rng(0)
    video = tmp_path / "run1.mp4"
    frames = [np.full((32, 32, 3), v, np.uint8) for v in [0] * 8 + [255] * 8] + [
        rng.integers(0, 255, (32, 32, 3), dtype=np.uint8) for _ in range(8)
    ]
    write_video(video, frames, fps=4)  # 6 s
    out = tmp_path / "captions.tsv"
    table = caption_run(out, tiny_captioner, video=str(video), interval=1.0, max_new_tokens=5)
    again = read_tsv(out)
    assert list(again.columns) == ["onset", "duration", "text"]
    assert again["duration"].sum() == pytest.approx(6.0) and again["onset"].iloc[0] == 0
    assert table["text"].tolist() == caption_run(tmp_path / "b.tsv", tiny_captioner, video=str(video),
                                                 interval=1.0, max_new_tokens=5)["text"].tolist()
    assert all(set(t.split()) <= set(WORDS) for t in table["text"])


def test_captions_cover_a_run_that_is_not_a_whole_number_of_intervals(tiny_captioner, tmp_path):
    """HCP 7T's runs last 921, 918, 915 and 901 s: with 2-s captions the last second of an
    odd-length run is captioned too (as the stimulus table's last TR needs)."""
    from vlmbrain.stimuli.video import write_video

    video = tmp_path / "run.mp4"
    write_video(video, [np.full((32, 32, 3), 10 * i, np.uint8) for i in range(14)], fps=2)  # 7 s
    table = caption_run(tmp_path / "captions.tsv", tiny_captioner, video=str(video), interval=2.0,
                        max_new_tokens=3)
    assert table["duration"].sum() == pytest.approx(7.0)
    assert (table["onset"] + table["duration"]).max() == pytest.approx(7.0)
    assert caption_per_tr(table, 7, 1.0)[-1] != ""


def test_merge_captions():
    table = merge_captions(np.array([0.0, 2.0, 4.0, 6.0]), ["a", "a", "b", "a"], 2.0)
    assert table.to_dict("list") == {"onset": [0.0, 4.0, 6.0], "duration": [4.0, 2.0, 2.0], "text": ["a", "b", "a"]}


def test_missing_model_says_how(tmp_path):
    with pytest.raises(FileNotFoundError, match="huggingface-cli download"):
        Captioner(str(tmp_path / "none"))


def custom_data(root, model, runs=("A", "B"), n_trs=20):
    """A custom data set without captions tables: a video and clip segments per run (a
    clip, then the validation clip repeated in every run), and the BOLD files the config
    names (noise with real headers, which validate_inputs reads; the captioning runs below
    stop at the stimulus tables); the config overlay that captions it."""
    from vlmbrain.stimuli.video import write_video

    rng = np.random.default_rng(1)
    movie = root / "movie"
    movie.mkdir(parents=True)
    for i, run in enumerate(runs):
        scenes = [rng.integers(0, 255, (32, 32, 3), dtype=np.uint8) for _ in range(5)]
        # 2 fps: each scene lasts 4 s
        write_video(movie / f"{run}.mp4", [s for s in scenes for _ in range(8)][: 2 * n_trs], fps=2)
    rows = ["run\tclip\tstart\tend\tvalidation"]
    for run in runs:
        rows += [f"{run}\tclip_{run}\t2\t11\tfalse", f"{run}\trepeat\t13\t18\ttrue"]
    (movie / "segments.tsv").write_text("\n".join(rows) + "\n")
    from vlmbrain.fmri.cifti import template_brain_models, write_dtseries

    n_grayordinates = len(template_brain_models())
    for sub in ("s1", "s2"):
        for run in runs:
            path = root / "bold" / f"sub-{sub}_{run}.dtseries.nii"
            path.parent.mkdir(exist_ok=True)
            # real headers (validate_inputs reads them before anything runs); noise data
            write_dtseries(path, rng.standard_normal((n_trs, n_grayordinates)), tr=1.0)
    overlay = {
        "data": {
            "source": "custom",
            "runs": list(runs),
            "subjects": ["s1", "s2"],
            "bold": str(root / "bold" / "sub-{subject}_{run}.dtseries.nii"),
            "video": str(movie / "{run}.mp4"),
            "segments": str(movie / "segments.tsv"),
        },
        "captioning": {"enabled": True, "model": model, "interval": 2.0,
                       "max_new_tokens": 4, "batch_size": 4},
        "extraction": {"device": "cpu"},
    }
    path = root / "captioning.yaml"
    path.write_text(yaml.safe_dump(overlay))
    return path


def test_dry_run_with_captioning_plans_captions_before_stimulus_tables(tiny_captioner, tmp_path):
    overlay = custom_data(tmp_path / "data", tiny_captioner)
    out = snakemake(tmp_path, "-n", configfiles=[overlay])
    plan = out.stdout
    counts = dict(re.findall(r"^(\w+)\s+(\d+)$", plan, flags=re.M))
    assert counts["captions"] == "2" and counts["stimulus_tables"] == "1", plan[-3000:]
    # the stimulus tables read the generated captions, not data.captions
    job = plan[plan.index("rule stimulus_tables:"):]
    job = job[: job.index("\n\n")]
    assert "results/stimuli/captions/A.tsv" in job and "results/stimuli/captions/B.tsv" in job
    assert counts["noise_ceiling"] == "2" and counts["all"] == "1"


@pytest.mark.slow
def test_captioning_workflow_feeds_the_stimulus_tables(tiny_captioner, tmp_path):
    overlay = custom_data(tmp_path / "data", tiny_captioner)
    snakemake(tmp_path, "--cores", "2", "results/stimuli/A.tsv", "results/stimuli/B.tsv",
              configfiles=[overlay])
    res = tmp_path / "results"
    for run in ("A", "B"):
        captions = read_captions(res / "stimuli" / "captions" / f"{run}.tsv")
        assert captions["duration"].sum() == pytest.approx(20.0)  # 10 frames, 2 s each
        assert captions["text"].str.len().gt(0).all()
        table = read_stimulus_table(res / "stimuli" / f"{run}.tsv")
        assert len(table) == 20 and table["validation"].sum() == 6
        expected = np.array(caption_per_tr(captions, 20, 1.0), dtype=object)
        movie = (table["condition"] == "movie").to_numpy()
        assert (table["caption"].to_numpy()[movie] == expected[movie]).all()
        assert (table["caption"].to_numpy()[~movie] == "").all()
        assert (res / "logs" / "captions" / f"{run}.log").is_file()
        assert (res / "benchmarks" / "captions" / f"{run}.tsv").is_file()
