"""HCP 7T rehearsal: a synthetic data set laid out exactly like the HCP 7T movie release,
and the config overlay that runs ``config/hcp7t.yaml`` on it end to end.

Usage (from the repository root)::

    .venv/bin/python -m bench.hcp_rehearsal OUT_DIR [--subjects 2] [--scale 1.0]
        [--tiny-models | --tiny]
    .venv/bin/snakemake --cores all --configfile config/hcp7t.yaml OUT_DIR/rehearsal.yaml

``OUT_DIR`` receives, for each subject (six-digit ids, as HCP's) and each run of the preset
(``tfMRI_MOVIE1_7T_AP``, ``tfMRI_MOVIE2_7T_PA``, ``tfMRI_MOVIE3_7T_PA``,
``tfMRI_MOVIE4_7T_AP``),
``{subject}/MNINonLinear/Results/{run}/{run}_Atlas_MSMAll_hp2000_clean.dtseries.nii``:
CIFTI-2 dense time series on the real 91,282 grayordinates (the brain models of HCP's
``91282_Greyordinates`` template, :func:`vlmbrain.fmri.cifti.template_brain_models`), TR
1 s, with the release's TR counts (921, 918, 915 and 901; fewer with ``--scale``). It also holds
the four clip videos under the release's names (``Post_Fix_Movie_Stimuli/7T_MOVIE1_CC1_v2.mp4``
...), each as long as its run, in the release's aspect ratio (1024 x 720), made by the
simulation's synthetic movie (:func:`vlmbrain.stimuli.movie.plan_run`) on the clip segments
of ``config/hcp7t_segments.tsv``: rest, the run's clips, rest, the validation clip (the same
footage in every run) and rest. There are no captions (the release has none): the overlay
generates them with ``captioning.enabled`` and a tiny random-weight captioning model saved
in ``captioner/`` (transformers' format).

The BOLD carries a planted stimulus-locked signal: each photograph of the synthetic movie
has its own response in each network of ``networks.mapping`` (vision, language, attention,
default mode), convolved with the canonical HRF and added, with a gain per subject and a
loading per grayordinate, to the grayordinates of that network, over AR(1) noise with slow
drift (:func:`vlmbrain.simulation.bold.noise`) and a baseline of about 10,000 per
grayordinate (percent signal change, as HCP's). The validation clip shows the same scenes
in every run, so its repeats share the response and the noise ceiling is positive in the
networks and about 0 elsewhere.

``--scale S`` shrinks every clip to S times its length (names and layout kept; the rest
periods keep the release's 20 s, :func:`scaled_segments`); the clip segments then no longer
match ``config/hcp7t_segments.tsv``, so a scaled copy is
written to ``OUT_DIR/segments.tsv`` and the overlay points ``data.segments`` at it (at
scale 1 the overlay keeps the preset's own table). ``--tiny-models`` puts the tests' tiny
versions of the four architectures (``models`` of ``tests/config/tiny.yaml``: same code,
a few layers and heads) in the overlay and keeps every other setting of the preset (64
atoms, the neurons' and attribution's settings); ``--tiny`` also takes the tests' small
settings (``sdl``, ``neurons``, ``attribution``). Without either, the four architectures
keep their full size, with random weights (no weights are downloaded or needed).

``OUT_DIR/rehearsal.yaml`` is the overlay: paths (subjects, BOLD, videos, segments, a
``results`` folder under ``OUT_DIR``), ``data.captions: null`` with the captioning model,
the models' weights (random), ``extraction.device: cpu``; nothing else of the preset
changes. ``OUT_DIR/rehearsal.json`` records how the data set was made (the options above
and the run lengths); ``tests/test_hcp_rehearsal.py`` reads it to check a finished
rehearsal (``VLMBRAIN_REHEARSAL``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
HCP7T = ROOT / "config" / "hcp7t.yaml"
DEFAULTS = ROOT / "config" / "config.yaml"
TINY = ROOT / "tests" / "config" / "tiny.yaml"
# TRs of each run in the release (TR 1 s): the dtseries' lengths.
RELEASE_TRS = {
    "tfMRI_MOVIE1_7T_AP": 921,
    "tfMRI_MOVIE2_7T_PA": 918,
    "tfMRI_MOVIE3_7T_PA": 915,
    "tfMRI_MOVIE4_7T_AP": 901,
}
# HCP 7T subject ids (the first of the release's 184), as folder names
SUBJECT_IDS = ["100610", "102311", "102816", "104416", "105923", "108323", "109123", "111312"]
BOLD = "{subject}/MNINonLinear/Results/{run}/{run}_Atlas_MSMAll_hp2000_clean.dtseries.nii"
STIMULI = "Post_Fix_Movie_Stimuli"
ASPECT = 720 / 1024  # height / width of the release's videos
# The keys of the tests' tiny configuration that each size option puts in the overlay.
SIZES = {
    "full": (),
    "tiny-models": ("models",),
    "tiny": ("models", "sdl", "neurons", "attribution"),
}
# Words of the random-weight captioner (every caption is made of these).
CAPTION_WORDS = ["a", "man", "woman", "dog", "cat", "runs", "walks", "on", "the", "grass",
                 "street", "red", "car", "sky", "looks", "at", "city", "water"]
# Percent signal change of one unit of noise s.d. (and of planted response), relative to the
# baseline.
PERCENT = 1.0


def preset():
    """``config/hcp7t.yaml`` as a dict."""
    return yaml.safe_load(HCP7T.read_text())


def scaled_segments(segments, lengths, scale):
    """The clip segments and run lengths with every clip shrunk to ``scale`` times its
    length; the rest periods keep their length in the release (20 s).

    The rest before each clip lets the HRF return to baseline, as in the release: without
    it the short repeats of a reduced validation clip would carry the tail of whichever
    clip precedes it in each run, and the noise ceiling would measure that.

    Parameters
    ----------
    segments : DataFrame
        The preset's segments (``vlmbrain.stimuli.table.read_segments``), in run order.
    lengths : dict
        ``{run: TRs}``.
    scale : float
        In (0, 1]; 1 returns them unchanged.

    Returns
    -------
    segments : DataFrame
        Same rows and columns, ``start`` and ``end`` moved; every repeat of the validation
        clip of the same length (the shortest, scaled).
    lengths : dict

    Raises
    ------
    ValueError
        When the scale leaves a clip without a TR or a validation repeat too short.
    """
    from vlmbrain.encoding.noise import MIN_REPEAT_TRS

    if not 0 < scale <= 1:
        raise ValueError(f"--scale {scale}: give a number in (0, 1]")
    val = segments["validation"].to_numpy()
    size = (segments["end"] - segments["start"] + 1).to_numpy()
    new_size = np.round(size * scale).astype(int)
    new_size[val] = int(round(size[val].min() * scale))
    if (new_size < 1).any() or new_size[val].min() < MIN_REPEAT_TRS:
        raise ValueError(
            f"--scale {scale}: leaves a clip without a TR or a validation repeat shorter than "
            f"{MIN_REPEAT_TRS} TRs; use a larger scale (0.04 or more)"
        )
    out, new_lengths = segments.copy(), {}
    for run, rows in segments.groupby("run", sort=False):
        t = 0
        for i, prev_end in zip(rows.index, [-1, *rows["end"].to_numpy()[:-1]], strict=True):
            t += int(rows.at[i, "start"]) - prev_end - 1  # the rest before the clip
            out.loc[i, ["start", "end"]] = [t, t + new_size[segments.index.get_loc(i)] - 1]
            t += new_size[segments.index.get_loc(i)]
        new_lengths[run] = int(t + lengths[run] - rows["end"].iloc[-1] - 1)
    return out, new_lengths


def run_layouts(segments):
    """``{run: [(clip, clip_id, start, end), ...]}`` for :func:`vlmbrain.stimuli.movie.plan_run`
    (clips numbered in each run; ``"validation"`` for the repeated clip)."""
    layouts = {}
    for run, rows in segments.groupby("run", sort=False):
        layouts[run] = [
            ("validation" if r.validation else i, r.clip, int(r.start), int(r.end))
            for i, r in enumerate(rows.itertuples())
        ]
    return layouts


def plan_movie(segments, lengths, seed, fps, width):
    """Plan every run's movie: ``{run: plan_run(...)}`` with frames ``width`` wide."""
    from vlmbrain.stimuli.movie import plan_run

    sim = yaml.safe_load(DEFAULTS.read_text())["simulation"]
    return {
        run: plan_run(run, layout, lengths[run], seed=seed, tr=1.0, fps=fps, frame_size=width,
                      scene_seconds=tuple(sim["scene_seconds"]),
                      caption_seconds=tuple(sim["caption_seconds"]), run_index=i)
        for i, (run, layout) in enumerate(run_layouts(segments).items())
    }


def frame_height(width):
    """The even frame height of the release's aspect ratio for ``width``."""
    return max(2, 2 * int(round(width * ASPECT / 2)))


def write_videos(plans, names, folder, fps, width):
    """Write each run's video under its release name (square frames squeezed to 1024:720)."""
    from vlmbrain.stimuli.video import write_video

    size = (width, frame_height(width))
    for run, plan in plans.items():
        frames = (np.asarray(Image.fromarray(f).resize(size, Image.BILINEAR)) for f in plan["frames"]())
        write_video(folder / names[run], frames, fps=fps)


def scene_features(plans, networks, seed):
    """Per run, the stimulus feature of each network per TR: each photograph's own response
    (seeded, one per network) while it is on screen at the TR's onset, 0 during rest.

    Returns
    -------
    dict
        ``{run: ndarray (TRs, networks) float}``.
    """
    from vlmbrain.stimuli.movie import SCENES, scene_at

    rng = np.random.default_rng([seed, 2000])
    response = dict(zip(SCENES, rng.standard_normal((len(SCENES), len(networks))), strict=True))
    features = {}
    for run, plan in plans.items():
        f = np.zeros((plan["n_trs"], len(networks)))
        for t in range(plan["n_trs"]):
            scene, _ = scene_at(plan["clips"], float(t))
            if scene is not None:
                f[t] = response[scene["name"]]
        features[run] = f
    return features


def planted_signals(features, hrf="spm"):
    """The HRF-convolved features, z-scored within each run: ``{run: (TRs, networks)}``."""
    from vlmbrain.encoding.temporal import hrf_kernel

    kernel = hrf_kernel(hrf, 1.0)
    out = {}
    for run, f in features.items():
        s = np.stack([np.convolve(col, kernel)[: len(col)] for col in f.T], 1)
        sd = s.std(0)
        out[run] = (s - s.mean(0)) / np.where(sd > 0, sd, 1.0)
    return out


def write_bold(root, subjects, signals, masks, seed, noise, strength=2.0):
    """Write every subject's runs: baseline x (1 + PERCENT/100 x (noise + planted signal)).

    Parameters
    ----------
    root : Path
    subjects : list of str
    signals : dict
        :func:`planted_signals`.
    masks : ndarray of bool (networks, V)
    seed : int
    noise : dict
        ``sigma``, ``ar1``, ``drift``, ``subject_variability`` (the simulation's keys).
    strength : float
        Standard deviation of the planted response (before the subject's gain and the
        grayordinate's loading, in [0.5, 1.5]) in units of the noise's.
    """
    from vlmbrain.fmri.cifti import template_brain_models, write_dtseries
    from vlmbrain.simulation.bold import noise as bold_noise

    bm = template_brain_models()
    n_vox = len(bm)
    base_rng = np.random.default_rng([seed, 3000])
    baseline = base_rng.uniform(8000, 12000, n_vox).astype(np.float32)
    loading = base_rng.uniform(0.5, 1.5, masks.shape).astype(np.float32) * masks
    var = float(noise["subject_variability"])
    for i, subject in enumerate(subjects):
        rng = np.random.default_rng([seed, 1 + i])
        gain = (strength * np.exp(var * rng.standard_normal(masks.shape[0]))).astype(np.float32)
        for run, s in signals.items():
            Y = bold_noise(rng, s.shape[0], n_vox, noise["sigma"], noise["ar1"], noise["drift"])
            Y += (s.astype(np.float32) * gain) @ loading
            Y *= np.float32(PERCENT / 100.0) * baseline
            Y += baseline
            write_dtseries(root / BOLD.format(subject=subject, run=run), Y, 1.0, bm)
            print(f"  {subject} {run}: {Y.shape[0]} TRs x {n_vox:,} grayordinates", flush=True)


def save_captioner(folder, words=CAPTION_WORDS, seed=0, initializer_range=0.5):
    """Save a tiny random-weight image-captioning model (ViT encoder, GPT-2 decoder) with
    its image processor and a word-level tokenizer, as ``save_pretrained`` writes them.

    Random weights would often end a caption at once; the special tokens are suppressed so
    that every caption has words. Weights drawn with transformers' usual standard deviation
    (0.02) caption every frame alike; 0.5 makes the captions depend on the frame.

    Parameters
    ----------
    folder : str or Path
    words : list of str
        The vocabulary (besides the special tokens).
    seed : int
    initializer_range : float
        Standard deviation of the random weights.
    """
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import (
        GPT2Config,
        PreTrainedTokenizerFast,
        ViTConfig,
        ViTImageProcessor,
        VisionEncoderDecoderConfig,
        VisionEncoderDecoderModel,
    )

    folder = Path(folder)
    vocab = ["<pad>", "<s>", "</s>", "<unk>", *words]
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(vocab)}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", bos_token="<s>", eos_token="</s>", unk_token="<unk>"
    )
    fast.save_pretrained(folder)
    ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(folder)
    enc = ViTConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
                    image_size=32, patch_size=16, initializer_range=initializer_range)
    dec = GPT2Config(vocab_size=len(vocab), n_embd=32, n_layer=1, n_head=2, n_positions=64,
                     bos_token_id=1, eos_token_id=2, pad_token_id=0,
                     initializer_range=initializer_range)
    config = VisionEncoderDecoderConfig.from_encoder_decoder_configs(enc, dec)
    config.decoder_start_token_id, config.pad_token_id, config.eos_token_id = 1, 0, 2
    torch.manual_seed(seed)
    model = VisionEncoderDecoderModel(config=config)
    model.generation_config.suppress_tokens = [0, 1, 2, 3]
    model.save_pretrained(folder)
    return folder


def check_size(size):
    """``size`` itself when it is a key of ``SIZES``; else a ValueError naming them."""
    if size not in SIZES:
        raise ValueError(f"size {size!r}: give one of {', '.join(SIZES)}")
    return size


def overlay(out, subjects, names, segments_path, size="full"):
    """The config overlay (a dict) that runs ``config/hcp7t.yaml`` on the rehearsal data."""
    config = preset()
    runs = config["data"]["runs"]
    data = {
        "subjects_file": str(out / "subjects.txt"),
        "bold": str(out / BOLD),
        "video": {run: str(out / STIMULI / names[run]) for run in runs},
        "captions": None,
        "segments": str(segments_path),
    }
    models = {  # the preset's models with random weights (nothing to download)
        "clip": {"pretrained": None},
        "meter": {"checkpoint": None},
        "vit": {"pretrained": False},
        "roberta": {"pretrained": False},
    }
    result = {
        "results": str(out / "results"),
        "data": data,
        "captioning": {"enabled": True, "model": str(out / "captioner"), "max_new_tokens": 8},
        "models": models,
        "extraction": {"device": "cpu"},
    }
    if SIZES[check_size(size)]:
        small = yaml.safe_load(TINY.read_text())
        result.update({k: small[k] for k in SIZES[size]})
    if set(models) != set(config["models"]):
        raise ValueError(f"{HCP7T}: models {sorted(config['models'])} are not {sorted(models)}; "
                         "update bench.hcp_rehearsal.overlay")
    return result


def write_rehearsal(out, n_subjects=2, scale=1.0, size="full", seed=0, fps=4, width=256,
                    strength=2.0):
    """Write the rehearsal data set and its overlay in ``out``; the overlay's path.

    Parameters
    ----------
    out : str or Path
        Folder (created).
    n_subjects : int
        At least 2 (the group statistics need them), at most 8.
    scale : float
        Clip lengths as a fraction of the release's, in (0, 1] (:func:`scaled_segments`).
    size : {"full", "tiny-models", "tiny"}
        The preset's full-size models; the tests' tiny models; the tiny models and the
        tests' small settings (``SIZES``).
    seed : int
        Seeds the movie, the planted responses and the noise.
    fps, width : int
        Frame rate and width (pixels) of the videos.
    strength : float
        Planted response in units of the noise (:func:`write_bold`).
    """
    from vlmbrain.networks.templates import network_masks
    from vlmbrain.stimuli.table import read_segments

    out = Path(out).resolve()
    check_size(size)
    if not 2 <= n_subjects <= len(SUBJECT_IDS):
        raise ValueError(f"--subjects {n_subjects}: give 2 to {len(SUBJECT_IDS)}")
    config = preset()
    runs = config["data"]["runs"]
    if set(runs) != set(RELEASE_TRS):
        raise ValueError(f"{HCP7T}: data.runs {runs} are not the release's {list(RELEASE_TRS)}")
    names = {run: Path(config["data"]["video"][run]).name for run in runs}
    preset_segments = ROOT / config["data"]["segments"]
    segments, lengths = scaled_segments(read_segments(preset_segments), RELEASE_TRS, scale)
    out.mkdir(parents=True, exist_ok=True)
    if scale == 1:
        segments_path = preset_segments
    else:
        segments_path = out / "segments.tsv"
        from vlmbrain.io import write_tsv

        write_tsv(segments_path, segments.assign(validation=segments["validation"].map(
            {True: "true", False: "false"})))
    subjects = SUBJECT_IDS[:n_subjects]
    (out / "subjects.txt").write_text("\n".join(subjects) + "\n")
    defaults = yaml.safe_load(DEFAULTS.read_text())
    t0 = time.perf_counter()
    print(f"movie: {', '.join(f'{r} {n} s' for r, n in lengths.items())}", flush=True)
    plans = plan_movie(segments, lengths, seed, fps, width)
    (out / STIMULI).mkdir(exist_ok=True)
    write_videos(plans, names, out / STIMULI, fps, width)
    networks = defaults["networks"]
    names_net, masks = network_masks(networks["template"], networks["mapping"])
    signals = planted_signals(scene_features(plans, names_net, seed))
    print(f"BOLD: {n_subjects} subjects, planted in {', '.join(names_net)}", flush=True)
    write_bold(out, subjects, signals, masks, seed, defaults["simulation"]["noise"], strength)
    save_captioner(out / "captioner", seed=seed)
    path = out / "rehearsal.yaml"
    path.write_text(yaml.safe_dump(overlay(out, subjects, names, segments_path, size), sort_keys=False))
    record = {"subjects": subjects, "scale": scale, "size": size, "seed": seed, "fps": fps,
              "width": width, "strength": strength, "run_trs": lengths}
    (out / "rehearsal.json").write_text(json.dumps(record, indent=1) + "\n")
    print(f"wrote {out} in {time.perf_counter() - t0:.0f} s", flush=True)
    return path


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m bench.hcp_rehearsal",
                                 description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path, help="folder for the data set and its overlay")
    ap.add_argument("--subjects", type=int, default=2, help="number of subjects (2 to 8)")
    ap.add_argument("--scale", type=float, default=1.0,
                    help="clip lengths as a fraction of the release's (0.04 to 1; rest kept)")
    sizes = ap.add_mutually_exclusive_group()
    sizes.add_argument("--tiny-models", dest="size", action="store_const", const="tiny-models",
                       help="the tests' tiny models (tests/config/tiny.yaml); every other "
                            "setting of the preset kept")
    sizes.add_argument("--tiny", dest="size", action="store_const", const="tiny",
                       help="the tests' tiny models and small settings (tests/config/tiny.yaml)")
    ap.set_defaults(size="full")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--fps", type=int, default=4, help="frame rate of the videos")
    ap.add_argument("--width", type=int, default=256, help="frame width of the videos (pixels)")
    ap.add_argument("--strength", type=float, default=2.0,
                    help="planted response in units of the noise's standard deviation")
    args = ap.parse_args(argv)
    try:
        path = write_rehearsal(args.out, args.subjects, args.scale, args.size, args.seed,
                               args.fps, args.width, args.strength)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print("run it with:\n  snakemake --cores all --configfile config/hcp7t.yaml "
          f"{path}\n  snakemake --configfile config/hcp7t.yaml {path} --report "
          f"{path.parent / 'results' / 'report.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
