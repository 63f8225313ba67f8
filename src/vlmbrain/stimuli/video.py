"""Video reading and writing with PyAV (FFmpeg's own codecs, shipped in the wheel)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

from vlmbrain.io import atomic_path

REST_GREY = 128
TIME_TOLERANCE = 1e-3  # seconds: timestamps closer than this are the same time


def video_info(path):
    """Duration (s), frame rate, width and height of a video file.

    Raises
    ------
    FileNotFoundError, ValueError
        Naming the file, when it is missing or has no readable video stream.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: video file not found; check data.video in the config.")
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            rate = float(stream.average_rate or stream.guessed_rate or 0)
            if stream.duration is not None and stream.time_base is not None:
                duration = float(stream.duration * stream.time_base)
            elif container.duration is not None:
                duration = container.duration / av.time_base
            else:
                duration = stream.frames / rate
            return {
                "duration": duration,
                "fps": rate,
                "width": stream.codec_context.width,
                "height": stream.codec_context.height,
                "frames": stream.frames,
            }
    except (av.error.FFmpegError, IndexError) as err:
        raise ValueError(f"{path}: not a readable video file ({err}).") from err


def check_image(path, what):
    """Refuse an image (a frame folder's) that does not decode; ``what`` names its role."""
    try:
        with Image.open(path) as image:
            image.load()
    except (OSError, ValueError, SyntaxError) as err:
        raise ValueError(
            f"{path}: {what} cannot be decoded ({err}); replace the image with a complete copy."
        ) from err


def write_video(path, frames, fps, codec="mpeg4", quality=2):
    """Write RGB uint8 frames (H x W x 3) to a video file, atomically.

    Parameters
    ----------
    path : str or Path
        Output file (``.mp4``).
    frames : iterable of ndarray
        Frames of equal, even size.
    fps : int
        Frame rate.
    codec : str
        FFmpeg encoder; ``mpeg4`` is built into every FFmpeg.
    quality : int
        Fixed quantiser (1 best, 31 worst) for ``mpeg4``.
    """
    with atomic_path(path) as tmp:
        with av.open(str(tmp), mode="w", format="mp4") as container:
            stream = container.add_stream(codec, rate=Fraction(int(fps), 1))
            stream.pix_fmt = "yuv420p"
            # Fixed quantiser: near-lossless, reproducible frames.
            stream.codec_context.options = {"qscale": str(int(quality))}
            first = True
            for frame in frames:
                frame = np.ascontiguousarray(frame, dtype=np.uint8)
                if first:
                    stream.height, stream.width = frame.shape[:2]
                    first = False
                vf = av.VideoFrame.from_ndarray(frame, format="rgb24")
                for packet in stream.encode(vf):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)


def _frame_times(frame, stream):
    """Start and end (s) of a decoded frame: its presentation time plus its duration (or
    one frame period at the stream's rate when the container gives none)."""
    start = float(frame.pts * stream.time_base) if frame.pts is not None else float(frame.time)
    duration = getattr(frame, "duration", None)
    if duration:
        length = float(duration * stream.time_base)
    else:
        rate = stream.average_rate or stream.guessed_rate
        length = 1.0 / float(rate) if rate else 0.0
    return start, start + length


def truncation_message(path, last_end, needed, why):
    """The error for a video whose frames stop before the time the stimulus needs."""
    decodable = (
        f"its last decodable frame ends at {last_end:.3f} s" if last_end is not None
        else "no frame of it can be decoded"
    )
    return (
        f"{path}: the video is truncated: {decodable}, but {why} needs frames until "
        f"{needed:.3f} s (its header promises more than its data hold). Replace the file "
        "with a complete copy (re-download or re-encode it); the frames are never padded."
    )


def last_decodable_time(path):
    """End (s) of the last frame of a video that decodes, or None when none does.

    Reads the packets' index (no decoding) to find the keyframes, then decodes from the
    last keyframe that yields frames: cheap even for a long video.
    """
    keyframes = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        try:
            for packet in container.demux(stream):
                if packet.pts is not None and packet.is_keyframe:
                    keyframes.append(int(packet.pts))
        except av.error.FFmpegError:
            pass  # the data stop here
    for pts in sorted(set(keyframes), reverse=True):
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            container.seek(pts, stream=stream, backward=True)
            last = None
            try:
                for frame in container.decode(stream):
                    last = _frame_times(frame, stream)[1]
            except av.error.FFmpegError:
                pass
            if last is not None:
                return last
    return None


def check_video_covers(path, until, why="the stimulus table"):
    """Refuse a video whose decodable frames stop before ``until`` seconds.

    A file truncated after its header (frames missing at the end) still reports the
    header's duration; this seeks to ``until`` and decodes the few frames from the
    keyframe before it, so it is cheap whatever the video's length.

    Parameters
    ----------
    path : str or Path
        Video file.
    until : float
        Time (s) up to which frames are needed (the end of the last movie TR).
    why : str
        What needs them, for the message.

    Raises
    ------
    ValueError
        Naming the file, the end of its last decodable frame and ``until``.
    """
    target = max(float(until) - TIME_TOLERANCE, 0.0)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        try:
            container.seek(int(target / stream.time_base), stream=stream, backward=True)
            for frame in container.decode(stream):
                start, end = _frame_times(frame, stream)
                if end >= target:
                    return
        except av.error.FFmpegError:
            pass  # decoding stopped before the target
    raise ValueError(truncation_message(path, last_decodable_time(path), float(until), why))


def decode_at(path, times):
    """Decode the frames shown at the given times of a video.

    The frame shown at time t is the last frame whose presentation time is <= t.

    Parameters
    ----------
    path : str or Path
        Video file.
    times : array-like of float
        Times in seconds, in any order.

    Returns
    -------
    list of ndarray
        RGB uint8 frames (H x W x 3), in the order of ``times``.

    Raises
    ------
    ValueError
        When a time lies after the end of the last decodable frame (a truncated video):
        frames are never padded.
    """
    times = np.asarray(times, dtype=float)
    order = np.argsort(times, kind="stable")
    out = [None] * len(times)
    k = 0
    previous, last_end = None, None
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        try:
            for frame in container.decode(stream):
                t, end = _frame_times(frame, stream)
                # Every target before this frame's time shows the previous frame.
                while k < len(order) and times[order[k]] < t - 1e-6 and previous is not None:
                    out[order[k]] = previous
                    k += 1
                if k >= len(order):
                    break
                previous, last_end = frame.to_ndarray(format="rgb24"), end
        except av.error.FFmpegError:
            pass  # the data stop here: the targets left are checked below
        while k < len(order) and previous is not None:
            # targets within the last frame show it; later ones have no frame
            if times[order[k]] > last_end + TIME_TOLERANCE:
                raise ValueError(truncation_message(
                    path, last_end, float(times[order[-1]]), "a requested frame"))
            out[order[k]] = previous
            k += 1
    if any(o is None for o in out):
        raise ValueError(f"{path}: no decodable frame for some requested times.")
    return out


def iter_frames(table, frames_per_tr=1, tr=None):
    """Yield the frame of each row of a stimulus table.

    Parameters
    ----------
    table : DataFrame
        Stimulus table rows (see :mod:`vlmbrain.stimuli.table`), any number of runs.
    frames_per_tr : int
        Number of frames averaged per TR, spread evenly over the TR (1: the midpoint).
    tr : float, optional
        Repetition time; inferred from the table's onsets when omitted.

    Yields
    ------
    ndarray
        RGB uint8 frame (H x W x 3) per row, in row order; rest rows give a mid-grey
        frame of the run's frame size.
    """
    if tr is None:
        onsets = table["onset"].to_numpy(dtype=float)
        steps = np.diff(onsets)
        tr = float(np.median(steps[steps > 0])) if (steps > 0).any() else 1.0
    for source, rows in _consecutive_groups(table):
        movie = (rows["condition"] == "movie").to_numpy()
        if not np.isnan(rows["frame_time"].to_numpy(dtype=float)).all():
            mids = rows["frame_time"].to_numpy(dtype=float)
            offsets = (np.arange(frames_per_tr) + 0.5) / frames_per_tr - 0.5
            times = (mids[:, None] + offsets[None, :] * tr)[movie].ravel()
            decoded = decode_at(source, times) if len(times) else []
            shape = decoded[0].shape if decoded else video_shape(source)
            grey = np.full(shape, REST_GREY, dtype=np.uint8)
            j = 0
            for is_movie in movie:
                if not is_movie:
                    yield grey
                    continue
                group = decoded[j * frames_per_tr : (j + 1) * frames_per_tr]
                j += 1
                yield group[0] if frames_per_tr == 1 else _average(group)
        else:
            for is_movie, image in zip(movie, rows["frame_source"]):
                frame = np.asarray(Image.open(image).convert("RGB"))
                yield frame if is_movie else np.full_like(frame, REST_GREY)


def video_shape(path):
    """Frame shape (H, W, 3) of a video."""
    info = video_info(path)
    return (info["height"], info["width"], 3)


def _average(frames):
    return np.mean(np.stack(frames).astype(np.float32), axis=0).round().astype(np.uint8)


def _consecutive_groups(table):
    """Split rows into consecutive groups sharing a video file (image rows: one group)."""
    times = table["frame_time"].to_numpy(dtype=float)
    sources = table["frame_source"].to_numpy()
    key = [s if not np.isnan(t) else "<images>" for s, t in zip(sources, times)]
    start = 0
    for i in range(1, len(key) + 1):
        if i == len(key) or key[i] != key[start]:
            rows = table.iloc[start:i]
            yield (key[start], rows)
            start = i
