"""Captions from the frames with an image-captioning model from transformers.

Optional (``captioning.enabled``): for data without a captions table, one frame every
``captioning.interval`` seconds is captioned (greedy decoding, so reproducible) and runs of
identical captions are merged into one row of a BIDS-style table (``onset``, ``duration``,
``text``; seconds).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from vlmbrain.io import write_tsv

log = logging.getLogger("vlmbrain")


class Captioner:
    """An image-to-text model (any ``AutoModelForImageTextToText`` checkpoint, e.g. BLIP
    or a ViT-GPT2 vision-encoder-decoder) with its image processor and tokenizer.

    Parameters
    ----------
    name : str
        Hub id or local folder.
    max_new_tokens : int
        Longest caption in tokens.
    cache_dir : str, optional
        Hugging Face cache folder.
    offline : bool
        Use local files only.
    device : str or torch.device
        Where the model runs (``cpu``, ``cuda``, ``mps``).
    """

    def __init__(self, name, max_new_tokens=20, cache_dir=None, offline=True, device="cpu"):
        from transformers import AutoImageProcessor, AutoModelForImageTextToText, AutoTokenizer

        kw = {"cache_dir": cache_dir, "local_files_only": offline}
        try:
            self.processor = AutoImageProcessor.from_pretrained(name, **kw)
            self.tokenizer = AutoTokenizer.from_pretrained(name, **kw)
            self.model = AutoModelForImageTextToText.from_pretrained(name, **kw).eval()
        except OSError as err:
            raise FileNotFoundError(
                f"captioning.model: {name!r} not found (expected its config.json, weights, "
                f"preprocessor_config.json and tokenizer files in the folder {name!r} or in the "
                f"Hugging Face cache {cache_dir or '(default)'}). Download it once with "
                f"`huggingface-cli download {name}`, or set captioning.model to a local folder."
            ) from err
        self.device = torch.device(device)
        self.model.to(self.device)
        self.name = name
        self.max_new_tokens = int(max_new_tokens)

    def __call__(self, frames, batch_size=8):
        """Captions of RGB uint8 frames (list of H x W x 3 arrays)."""
        out = []
        for i in tqdm(range(0, len(frames), batch_size), desc="captioning", mininterval=5):
            pixels = self.processor(images=list(frames[i : i + batch_size]), return_tensors="pt")
            with torch.inference_mode():
                ids = self.model.generate(
                    pixel_values=pixels["pixel_values"].to(self.device, self.model.dtype),
                    max_new_tokens=self.max_new_tokens,
                    do_sample=False,
                    num_beams=1,
                )
            out += [t.strip() for t in self.tokenizer.batch_decode(ids, skip_special_tokens=True)]
        return out


def merge_captions(times, texts, durations):
    """Captions table from one caption per sample time, merging identical neighbours.

    Parameters
    ----------
    times : array
        Sample onsets (s), increasing.
    texts : list of str
        Caption of each sample.
    durations : float or array
        Seconds each sample covers (one number for all, or one per sample).

    Returns
    -------
    DataFrame
        ``onset``, ``duration``, ``text``.
    """
    spans = np.broadcast_to(np.asarray(durations, float), np.shape(times))
    rows = []
    for t, span, text in zip(times, spans, texts):
        if rows and rows[-1]["text"] == text and np.isclose(rows[-1]["onset"] + rows[-1]["duration"], t):
            rows[-1]["duration"] += float(span)
        else:
            rows.append({"onset": float(t), "duration": float(span), "text": text})
    return pd.DataFrame(rows, columns=["onset", "duration", "text"])


def sample_frames(video=None, frames_dir=None, interval=2.0, tr=1.0):
    """Frames to caption, one per ``interval`` seconds, their onsets and the seconds each
    covers: ``interval``, except the last, which ends with the video (or the last frame of
    the folder) rather than leave the end of a run uncaptioned (HCP 7T's 921-s run with
    2-s captions: its last second).

    Parameters
    ----------
    video : str, optional
        Video file (frames at the middle of each interval).
    frames_dir : str, optional
        Folder with one image per TR (alternative to ``video``).
    interval, tr : float
        Seconds per caption and per TR.

    Returns
    -------
    times : ndarray
        Onsets (s).
    spans : ndarray
        Seconds each frame's caption covers.
    frames : list of ndarray
        RGB uint8 frames.
    """
    from PIL import Image

    from vlmbrain.stimuli.table import list_frames
    from vlmbrain.stimuli.video import decode_at, video_info

    if (video is None) == (frames_dir is None):
        raise ValueError("give exactly one of video or frames_dir")
    if video is not None:
        duration = video_info(video)["duration"]
        times = np.arange(int(np.ceil(duration / interval - 1e-6))) * interval
        spans = np.minimum(interval, duration - times)
        return times, spans, decode_at(video, times + spans / 2)
    files = list_frames(frames_dir)
    step = max(1, int(round(interval / tr)))
    picked = files[::step]
    times = np.arange(len(picked)) * step * tr
    spans = np.minimum(step * tr, len(files) * tr - times)
    return times, spans, [np.asarray(Image.open(f).convert("RGB")) for f in picked]


def caption_run(out_path, model, video=None, frames_dir=None, interval=2.0, tr=1.0,
                max_new_tokens=20, batch_size=8, cache_dir=None, offline=True, device="cpu",
                threads=None):
    """Caption one run's frames and write its captions table (the ``captions`` rule).

    The table is checked exactly as a user's captions table is
    (:func:`vlmbrain.stimuli.table.check_captions`) before it is written.

    Parameters
    ----------
    out_path : str or Path
        Output TSV (``onset``, ``duration``, ``text``).
    model : str
        Hub id or local folder of the captioning model.
    video, frames_dir : str, optional
        The run's video, or its folder of one image per TR (exactly one).
    interval, tr : float
        Seconds per caption and per TR.
    max_new_tokens, batch_size : int
    cache_dir : str, optional
    offline : bool
    device : str or torch.device
        ``"auto"`` picks CUDA, then MPS, then the CPU
        (:func:`vlmbrain.models.base.pick_device`).
    threads : int, optional
        Torch CPU threads (the job's threads).

    Returns
    -------
    DataFrame
        The table written to ``out_path``.
    """
    from vlmbrain.models.base import pick_device
    from vlmbrain.stimuli.table import check_captions

    if threads:
        torch.set_num_threads(max(1, int(threads)))
    device = pick_device(device)
    source = video or frames_dir
    captioner = Captioner(model, max_new_tokens, cache_dir=cache_dir, offline=offline,
                          device=device)
    times, spans, frames = sample_frames(video, frames_dir, interval, tr)
    if not frames:
        raise ValueError(f"{source}: no frame to caption (an empty video or frame folder)")
    log.info("captioning %d frames of %s with %s on %s", len(frames), source, model,
             captioner.device)
    texts = captioner(frames, batch_size)
    empty = sum(not t for t in texts)
    if empty:
        log.warning("%s: %d of %d captions are empty (the model produced no words)",
                    source, empty, len(texts))
    table = check_captions(
        merge_captions(times, texts, spans), f"captions of {source} generated by {model}"
    )
    write_tsv(Path(out_path), table)
    return table
