"""Bad stimuli are refused, naming the file and the fault: a video truncated after its
header (never padded with its last frame) and overlapping captions (unless
``data.caption_overlap: allow``). Nothing is written when a run fails.
"""

from fractions import Fraction

import av
import numpy as np
import pandas as pd
import pytest

from vlmbrain.io import write_tsv
from vlmbrain.stimuli.table import read_captions, write_stimulus_tables
from vlmbrain.stimuli.video import check_video_covers, decode_at


def _write_faststart_mp4(path, n_frames, fps=4, size=64):
    """An mp4 with its header (moov) before the frames, as streaming files have: cutting
    the file then loses frames at the end while the header still promises all of them."""
    rng = np.random.default_rng(0)
    with av.open(str(path), mode="w", format="mp4", options={"movflags": "faststart"}) as out:
        stream = out.add_stream("mpeg4", rate=Fraction(fps, 1))
        stream.pix_fmt, stream.height, stream.width = "yuv420p", size, size
        stream.codec_context.options = {"qscale": "2"}
        for _ in range(n_frames):
            frame = rng.integers(0, 255, (size, size, 3), dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def _decodable_until(path):
    """End of the last frame that decodes, by decoding everything (the slow reference)."""
    last = None
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        try:
            for frame in container.decode(stream):
                last = float((frame.pts + frame.duration) * stream.time_base)
        except av.error.FFmpegError:
            pass
    return last


def _stimulus_inputs(root, captions):
    seg = root / "segments.tsv"
    write_tsv(seg, pd.DataFrame({"run": ["r"], "clip": ["c"], "start": [1], "end": [8],
                                 "validation": [False]}))
    cap = root / "captions.tsv"
    write_tsv(cap, pd.DataFrame(captions, columns=["onset", "duration", "text"]))
    return seg, cap


def test_truncated_video_is_refused_naming_file_and_times(tmp_path):
    whole = tmp_path / "whole.mp4"
    _write_faststart_mp4(whole, 40)  # 10 s at 4 fps
    data = whole.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    last = _decodable_until(cut)
    assert last is not None and last < 8.0  # frames really are missing
    seg, cap = _stimulus_inputs(tmp_path, [(0.0, 10.0, "a dog runs.")])
    outputs = [str(tmp_path / "tables" / "r.tsv")]

    def tables(video):
        return write_stimulus_tables(runs=["r"], tr=1.0, frames=[str(video)],
                                     frames_are_folders=False, captions=[str(cap)],
                                     segments=str(seg), outputs=outputs)

    with pytest.raises(ValueError) as err:
        tables(cut)
    message = str(err.value)
    assert message.startswith(f"{cut}: the video is truncated")
    assert f"its last decodable frame ends at {last:.3f} s" in message
    assert "needs frames until 9.000 s" in message and "its last movie TR, 8" in message
    assert not (tmp_path / "tables").exists()  # no table is written
    # the frames of the missing part are never padded with the last decoded one
    with pytest.raises(ValueError, match=rf"cut\.mp4: the video is truncated: .* {last:.3f} s"):
        decode_at(cut, [1.5, 8.5])
    # a complete video passes, and needs only a seek: frames up to its end
    table = tables(whole)[0]
    assert len(table) == 10 and (tmp_path / "tables" / "r.tsv").exists()
    check_video_covers(whole, 10.0)
    with pytest.raises(ValueError, match="needs frames until 10.500 s"):
        check_video_covers(whole, 10.5)


def test_overlapping_captions_are_an_error_naming_the_rows(tmp_path):
    rows = [(0.0, 3.0, "a dog runs."), (5.0, 2.0, "a cat sits."), (2.5, 1.0, "it barks."),
            (6.9995, 1.0, "rounded, not overlapping.")]
    seg, cap = _stimulus_inputs(tmp_path, rows)
    with pytest.raises(ValueError) as err:
        read_captions(cap)
    message = str(err.value)
    assert message.startswith(f"{cap}: 1 caption(s) start before an earlier one ends")
    assert "row 3 (onset 2.5 s) starts before row 1 (onset 0 s) ends at 3 s" in message
    assert "data.caption_overlap: allow" in message

    video = tmp_path / "v.mp4"
    _write_faststart_mp4(video, 40)
    outputs = [str(tmp_path / "tables" / "r.tsv")]
    kwargs = dict(runs=["r"], tr=1.0, frames=[str(video)], frames_are_folders=False,
                  captions=[str(cap)], segments=str(seg), outputs=outputs)
    with pytest.raises(ValueError, match=r"captions\.tsv: 1 caption\(s\) .* row 3"):
        write_stimulus_tables(**kwargs)
    assert not (tmp_path / "tables").exists()
    table = write_stimulus_tables(**kwargs, caption_overlap="allow")[0]
    # TR 2 (2-3 s): "a dog runs." covers 1 s, "it barks." 0.5 s; TR 3: only "it barks."
    assert table.loc[2, "caption"] == "a dog runs." and table.loc[3, "caption"] == "it barks."
    with pytest.raises(ValueError, match="data.caption_overlap must be one of"):
        read_captions(cap, overlap="ignore")
