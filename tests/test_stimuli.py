"""Stimulus tables, video decoding and the synthetic movie."""

import numpy as np
import pandas as pd
import pytest

from vlmbrain.stimuli.movie import make_movie, write_movie
from vlmbrain.stimuli.table import (
    build_stimulus_table,
    caption_per_tr,
    read_captions,
    read_segments,
    read_stimulus_table,
    write_stimulus_tables,
)
from vlmbrain.stimuli.video import decode_at, iter_frames, write_video

SIM = {
    "seed": 3, "runs": 2, "clips_per_run": 1, "clip_trs": 12, "rest_trs": 3, "validation_trs": 4,
    "scene_seconds": [2.0, 4.0], "caption_seconds": [1.0, 3.0], "frame_size": 32, "fps": 2,
}


def test_caption_with_longest_overlap_wins():
    cap = pd.DataFrame({"onset": [0.0, 1.6, 3.0], "duration": [1.6, 1.0, 0.5], "text": ["a", "b", "c"]})
    # TR 1 (1-2 s): a covers 0.6 s, b 0.4 s; TR 2 (2-3 s): b 0.6 s; TR 3: c; TR 4: nothing
    assert caption_per_tr(cap, 5, 1.0) == ["a", "a", "b", "c", ""]


def test_table_marks_rest_and_aligns_trs():
    seg = pd.DataFrame({"run": ["r"] * 2, "clip": ["x", "v"], "start": [2, 7], "end": [5, 8], "validation": [False, True]})
    cap = pd.DataFrame({"onset": [0.0], "duration": [20.0], "text": ["words"]})
    table = build_stimulus_table("r", 10, 2.0, seg, cap, video="m.mp4")
    assert list(table["condition"]) == ["rest"] * 2 + ["movie"] * 4 + ["rest"] + ["movie"] * 2 + ["rest"]
    assert list(table["validation"][7:9]) == [True, True]
    np.testing.assert_allclose(table["frame_time"], np.arange(10) * 2.0 + 1.0)
    assert (table.loc[table["condition"] == "rest", "caption"] == "").all()
    assert (table.loc[table["condition"] == "movie", "caption"] == "words").all()


def test_segment_beyond_run_is_refused():
    seg = pd.DataFrame({"run": ["r"], "clip": ["x"], "start": [2], "end": [30], "validation": [False]})
    cap = pd.DataFrame({"onset": [0.0], "duration": [1.0], "text": ["w"]})
    with pytest.raises(ValueError, match="ends at TR 30 but the run has only 10 TRs"):
        build_stimulus_table("r", 10, 1.0, seg, cap, video="m.mp4")


def test_bad_tables_name_the_file(tmp_path):
    bad = tmp_path / "caps.tsv"
    bad.write_text("start\ttext\n0\thi\n")
    with pytest.raises(ValueError, match=r"caps\.tsv: the captions table lacks column"):
        read_captions(bad)
    seg = tmp_path / "seg.tsv"
    seg.write_text("run\tclip\tstart\tend\tvalidation\nr\ta\t0\t5\tfalse\nr\tb\t5\t8\tfalse\n")
    with pytest.raises(ValueError, match=r"seg\.tsv: clip segments of run r overlap"):
        read_segments(seg)


def test_video_decodes_the_right_frame_at_each_tr(tmp_path):
    # 4 frames per second, each frame a distinct grey level: frame i shows 6 * i.
    fps, n = 4, 40
    frames = [np.full((16, 16, 3), 6 * i, np.uint8) for i in range(n)]
    write_video(tmp_path / "v.mp4", frames, fps=fps)
    seg = pd.DataFrame({"run": ["r"], "clip": ["x"], "start": [1], "end": [8], "validation": [False]})
    cap = pd.DataFrame({"onset": [0.0], "duration": [1.0], "text": ["w"]})
    table = build_stimulus_table("r", 10, 1.0, seg, cap, video=str(tmp_path / "v.mp4"))
    out = list(iter_frames(table))
    assert len(out) == 10
    for row, frame in zip(table.itertuples(), out):
        if row.condition == "movie":
            expected = 6 * int(np.floor(row.frame_time * fps))  # frame shown at the TR midpoint
            assert abs(float(frame.mean()) - expected) < 3, (row.tr, frame.mean(), expected)
        else:
            assert frame.mean() == 128
    two = list(iter_frames(table, frames_per_tr=2))
    # averaging the frames at 0.25 and 0.75 of TR 3 (3.25 s and 3.75 s: frames 13 and 15)
    assert abs(float(two[3].mean()) - 6 * 14) < 3
    assert len(decode_at(tmp_path / "v.mp4", [9.9])) == 1


def test_synthetic_movie_is_identical_for_the_same_seed(tmp_path):
    a, b = make_movie(SIM, 1.0), make_movie(SIM, 1.0)
    c = make_movie({**SIM, "seed": 4}, 1.0)
    pd.testing.assert_frame_equal(a["run1"]["captions"], b["run1"]["captions"])
    fa, fb = list(a["run1"]["frames"]()), list(b["run1"]["frames"]())
    assert all(np.array_equal(x, y) for x, y in zip(fa, fb))
    assert not a["run1"]["captions"].equals(c["run1"]["captions"])
    # the validation clip is the same in every run
    va = a["run1"]["segments"].query("validation")
    vb = a["run2"]["segments"].query("validation")
    assert (va["start"].item(), va["end"].item()) == (vb["start"].item(), vb["end"].item())
    start = va["start"].item() * SIM["fps"]
    f2 = list(a["run2"]["frames"]())
    assert np.array_equal(fa[start + 1], f2[start + 1])


def test_captions_are_not_locked_to_scene_cuts(tmp_path):
    plan = make_movie({**SIM, "clip_trs": 60, "runs": 2}, 1.0)["run1"]
    onsets = plan["captions"]["onset"].to_numpy()
    assert len(onsets) > 5
    # narration: caption onsets fall at arbitrary times, not on whole seconds of the cuts
    assert np.mean(np.abs(onsets - np.round(onsets)) > 0.05) > 0.5


def test_written_movie_makes_stimulus_tables(tmp_path):
    write_movie(SIM, 1.0, str(tmp_path / "{run}.mp4"), str(tmp_path / "{run}_cap.tsv"), tmp_path / "seg.tsv")
    outs = [tmp_path / "t1.tsv", tmp_path / "t2.tsv"]
    write_stimulus_tables(
        ["run1", "run2"], 1.0, [str(tmp_path / "run1.mp4"), str(tmp_path / "run2.mp4")], False,
        [str(tmp_path / "run1_cap.tsv"), str(tmp_path / "run2_cap.tsv")], tmp_path / "seg.tsv", outs,
    )
    table = read_stimulus_table(outs[0])
    n_trs = 3 * (1 + 2) + 12 + 4
    assert len(table) == n_trs
    assert (table["condition"] == "movie").sum() == 12 + 4
    assert table["validation"].sum() == 4
    frames = list(iter_frames(table))
    assert frames[5].shape == (32, 32, 3)


def test_movie_depends_only_on_its_config_keys():
    """The synthetic_movie rule passes only ``MOVIE_KEYS``: editing couplings or noise
    must not rerun the movie and every model's activations."""
    from vlmbrain.config import MOVIE_KEYS

    full = {**SIM, "couplings": [{"model": "clip"}], "noise": {"sigma": 2.0}}
    a = make_movie({k: full[k] for k in MOVIE_KEYS}, 1.0)
    b = make_movie(full, 1.0)
    pd.testing.assert_frame_equal(a["run1"]["captions"], b["run1"]["captions"])
    pd.testing.assert_frame_equal(a["run2"]["segments"], b["run2"]["segments"])
