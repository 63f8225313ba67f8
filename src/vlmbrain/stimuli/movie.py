"""The synthetic movie of the embedded simulation.

Frames are real photographs shipped with scikit-image, panned and cropped, with scene
cuts; each run follows the HCP layout (rest, clips separated by rest, the same
validation clip at the end of every run, rest). Captions are timed like narration:
their own durations, not locked to the scene cuts, each describing the scene on screen
when it starts (from a small grammar that names what is shown), and some are off-screen
remarks that name nothing, so that the image and text streams are not collinear.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
from PIL import Image

# Photographs shipped inside scikit-image (no download) and what they show.
SCENES = {
    "astronaut": (["an astronaut", "a woman in a spacesuit"], ["smiles at the camera", "poses beside a flag"]),
    "chelsea": (["a cat", "a tabby cat"], ["looks around the room", "sits still and watches"]),
    "coffee": (["a cup of coffee", "a coffee cup on a saucer"], ["stands on the table", "steams gently"]),
    "rocket": (["a rocket", "a rocket on the launch pad"], ["waits for lift-off", "towers over the field"]),
    "camera": (["a cameraman", "a man with a camera"], ["films the park", "stands on the grass"]),
    "coins": (["old coins", "a row of coins"], ["lie on the table", "shine under the light"]),
    "hubble_deep_field": (["distant galaxies", "the night sky"], ["glow in the dark", "fill the view"]),
    "immunohistochemistry": (["stained cells", "tissue under a microscope"], ["appear in brown and blue", "fill the slide"]),
    "moon": (["the moon", "the surface of the moon"], ["shows its craters", "lies grey and still"]),
    "brick": (["a brick wall", "old bricks"], ["stretches across the view", "stands in the sun"]),
    "clock": (["a clock", "an old wall clock"], ["ticks on the wall", "shows the time"]),
    "retina": (["the back of an eye", "a retina"], ["shows its blood vessels", "glows orange"]),
    "colorwheel": (["a colour wheel", "a circle of colours"], ["spins slowly", "shows every hue"]),
    "gravel": (["gravel", "small stones"], ["cover the ground", "lie on the path"]),
}
OPENINGS = ["", "Now ", "Here ", "Look: ", "Then "]
REMARKS = [
    "The music grows louder.",
    "Nobody says a word.",
    "A voice speaks in the distance.",
    "Time passes slowly.",
    "Everything is quiet for a moment.",
    "Someone laughs nearby.",
]
REST_VALUE = 0  # black screen with no clip during rest


@functools.lru_cache(maxsize=None)
def photograph(name):
    """A scikit-image sample photograph as RGB uint8."""
    import skimage.data

    image = np.asarray(getattr(skimage.data, name)())
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    return np.ascontiguousarray(image[:, :, :3]).astype(np.uint8)


def run_layout(clips_per_run, clip_trs, rest_trs, validation_trs):
    """Clip segments of one run in TRs: list of (clip index or 'validation', start, end).

    The run is rest, clip, rest, clip, ..., rest, validation clip, rest (HCP layout).
    """
    segments, t = [], rest_trs
    for c in range(clips_per_run):
        segments.append((c, t, t + clip_trs - 1))
        t += clip_trs + rest_trs
    if validation_trs:
        segments.append(("validation", t, t + validation_trs - 1))
        t += validation_trs + rest_trs
    return segments, t


def plan_scenes(rng, duration, scene_seconds):
    """Scenes of one clip: list of dicts (name, start, end, crop path, noun phrase, verb)."""
    names = list(SCENES)
    scenes, t, previous = [], 0.0, None
    while t < duration - 1e-9:
        length = float(rng.uniform(*scene_seconds))
        name = str(rng.choice([n for n in names if n != previous]))
        nouns, verbs = SCENES[name]
        zoom0, zoom1 = rng.uniform(0.45, 0.9, size=2)
        scenes.append(
            {
                "name": name,
                "start": t,
                "end": min(t + length, duration),
                "zoom": (float(zoom0), float(zoom1)),
                "centre0": rng.uniform(0.3, 0.7, size=2),
                "centre1": rng.uniform(0.3, 0.7, size=2),
                "noun": str(rng.choice(nouns)),
                "verb": str(rng.choice(verbs)),
            }
        )
        previous = name
        t += length
    return scenes


def render_frame(scene, u, size):
    """The frame of a scene at relative time u in [0, 1]: a panning, zooming crop."""
    image = photograph(scene["name"])
    h, w = image.shape[:2]
    zoom = scene["zoom"][0] + (scene["zoom"][1] - scene["zoom"][0]) * u
    centre = scene["centre0"] + (scene["centre1"] - scene["centre0"]) * u
    side = max(8, int(min(h, w) * zoom))
    cy = int(np.clip(centre[0] * h, side / 2, h - side / 2))
    cx = int(np.clip(centre[1] * w, side / 2, w - side / 2))
    crop = image[cy - side // 2 : cy - side // 2 + side, cx - side // 2 : cx - side // 2 + side]
    return np.asarray(Image.fromarray(crop).resize((size, size), Image.BILINEAR))


def narrate(rng, scenes, duration, caption_seconds, remark_rate=0.2):
    """Narration captions of one clip: onset and duration (s, from clip start) and text."""
    rows, t = [], float(rng.uniform(0.0, 1.0))
    while t < duration - 0.5:
        length = float(min(rng.uniform(*caption_seconds), duration - t))
        shown = next(s for s in scenes if s["start"] <= t < s["end"] or s is scenes[-1])
        if rng.random() < remark_rate:
            text = str(rng.choice(REMARKS))
        else:
            opening = str(rng.choice(OPENINGS))
            noun = shown["noun"] if opening else shown["noun"][0].upper() + shown["noun"][1:]
            text = f"{opening}{noun} {shown['verb']}."
        rows.append((t, length, text))
        t += length + float(rng.uniform(0.0, 1.0))
    return rows


def make_run(run, seed, tr, fps, frame_size, clips_per_run, clip_trs, rest_trs,
             validation_trs, scene_seconds, caption_seconds, run_index):
    """Plan one run of the synthetic movie in the simulation's layout (:func:`run_layout`).

    Returns
    -------
    dict
        As :func:`plan_run`.
    """
    layout, n_trs = run_layout(clips_per_run, clip_trs, rest_trs, validation_trs)
    named = [(clip, "validation" if clip == "validation" else f"{run}_clip{clip + 1}", start, end)
             for clip, start, end in layout]
    return plan_run(run, named, n_trs, seed=seed, tr=tr, fps=fps, frame_size=frame_size,
                    scene_seconds=scene_seconds, caption_seconds=caption_seconds,
                    run_index=run_index)


def plan_run(run, layout, n_trs, *, seed, tr, fps, frame_size, scene_seconds, caption_seconds,
             run_index):
    """Plan one run of a synthetic movie with the given clip segments.

    Parameters
    ----------
    run : str
        Run identifier.
    layout : list of tuple
        ``(clip, clip_id, start, end)`` per clip: ``clip`` the clip's index in the run
        (seeds its scenes) or ``"validation"`` (the same scenes in every run), ``clip_id``
        its name in the segments table, ``start`` and ``end`` 0-based TRs, end inclusive.
        Every other TR is rest (a black screen).
    n_trs : int
        TRs of the run.
    seed, tr, fps, frame_size, scene_seconds, caption_seconds
        As the ``simulation`` keys of the same names (``tr``: ``data.tr``).
    run_index : int
        0-based run number (seeds the run's clips).

    Returns
    -------
    dict
        ``n_trs``, ``segments`` (DataFrame: run, clip, start, end, validation),
        ``captions`` (DataFrame: onset, duration, text), ``clips`` (per clip its onset
        and duration in seconds and its scenes, see :func:`plan_scenes`), ``frames`` (a
        callable that yields the run's video frames at ``fps``).
    """
    clips, captions, segments = [], [], []
    for clip, clip_id, start, end in layout:
        # The validation clip is the same in every run: its random stream ignores the run.
        key = [seed, 1000] if clip == "validation" else [seed, run_index, clip]
        rng = np.random.default_rng(key)
        duration = (end - start + 1) * tr
        scenes = plan_scenes(rng, duration, scene_seconds)
        clips.append((start * tr, duration, scenes))
        captions += [(start * tr + o, d, x) for o, d, x in narrate(rng, scenes, duration, caption_seconds)]
        segments.append((run, clip_id, start, end, clip == "validation"))

    def frames():
        n_frames = int(round(n_trs * tr * fps))
        black = np.full((frame_size, frame_size, 3), REST_VALUE, dtype=np.uint8)
        for i in range(n_frames):
            scene, u = scene_at(clips, i / fps)
            yield black if scene is None else render_frame(scene, u, frame_size)

    return {
        "n_trs": n_trs,
        "segments": pd.DataFrame(segments, columns=["run", "clip", "start", "end", "validation"]),
        "captions": pd.DataFrame(captions, columns=["onset", "duration", "text"]),
        "clips": clips,
        "frames": frames,
    }


def scene_at(clips, t):
    """The scene on screen at time ``t`` (s) and its relative time in [0, 1], or
    ``(None, 0.0)`` during rest; ``clips`` as :func:`plan_run` returns them."""
    for onset, duration, scenes in clips:
        if onset <= t < onset + duration:
            local = t - onset
            scene = next(s for s in scenes if s["start"] <= local < s["end"] or s is scenes[-1])
            u = (local - scene["start"]) / max(scene["end"] - scene["start"], 1e-6)
            return scene, float(np.clip(u, 0, 1))
    return None, 0.0


def make_movie(sim, tr):
    """Plan every run of the synthetic movie from the ``simulation`` config section.

    Returns
    -------
    dict
        ``{run: make_run(...) output}`` for runs ``run1 ... runN``.
    """
    return {
        f"run{i + 1}": make_run(
            f"run{i + 1}",
            seed=sim["seed"],
            tr=tr,
            fps=sim["fps"],
            frame_size=sim["frame_size"],
            clips_per_run=sim["clips_per_run"],
            clip_trs=sim["clip_trs"],
            rest_trs=sim["rest_trs"],
            validation_trs=sim["validation_trs"],
            scene_seconds=tuple(sim["scene_seconds"]),
            caption_seconds=tuple(sim["caption_seconds"]),
            run_index=i,
        )
        for i in range(sim["runs"])
    }


def write_movie(sim, tr, video_template, captions_template, segments_path):
    """Write the synthetic movie: one video and one captions table per run, and segments."""
    from vlmbrain.io import write_tsv
    from vlmbrain.stimuli.video import write_video

    movie = make_movie(sim, tr)
    for run, plan in movie.items():
        write_video(video_template.format(run=run), plan["frames"](), fps=sim["fps"])
        write_tsv(captions_template.format(run=run), plan["captions"].round(3))
    write_tsv(segments_path, pd.concat([p["segments"] for p in movie.values()], ignore_index=True))
    return movie
