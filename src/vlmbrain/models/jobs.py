"""The job of the activations rule, named for it."""

from __future__ import annotations

import logging

import torch

from vlmbrain.models.base import pick_device
from vlmbrain.models.extract import extract_activations, stimulus_sha256

log = logging.getLogger("vlmbrain")

__all__ = ["activations"]


def activations(*, model, model_config, tables, activations, frames=(), weights=(),
                tensor="context", pooling="mean", fusion_attention="cross", frames_per_tr=1,
                device="auto", batch_size=16, seed=0, cache_dir=None, offline=True, threads=1):
    """Rule ``activations``: build one model and extract its ANs for every TR of every run.

    Parameters
    ----------
    model : str
        Model key.
    model_config : dict
        ``models.<model>``: the family and its keys.
    tables : list of str
        Stimulus tables, in run order (they name each TR's frame and caption).
    activations : str
        Output folder ``activations/{model}``.
    frames, weights : list of str
        Videos (or frame folders) and local weight files: declared so that the job
        reruns when they change; read through ``tables`` and ``model_config``.
    tensor, pooling, fusion_attention, frames_per_tr
        ``an.*``.
    device, batch_size, seed, cache_dir, offline
        ``extraction.*``.
    threads : int
        Torch CPU threads.

    Returns
    -------
    dict
        The manifest.
    """
    from vlmbrain.models.registry import build_model, model_settings
    from vlmbrain.stimuli.table import read_stimulus_tables
    from vlmbrain.stimuli.video import iter_frames

    table_paths = list(tables)
    torch.set_num_threads(max(1, int(threads)))
    table = read_stimulus_tables(table_paths)
    log.info("%s: %d TRs (%d movie) from %d tables", model, len(table),
             (table["condition"] == "movie").sum(), len(table_paths))
    built = build_model(model, model_config, seed=seed, cache_dir=cache_dir, offline=offline)
    device = pick_device(device)
    built.to(device)
    log.info("%s: %s, weights %s, device %s", model, built.family, built.weights.get("kind"),
             device)
    frame_iter = iter_frames(table, frames_per_tr=int(frames_per_tr))
    extra = {
        "settings": model_settings(model, model_config),
        "frames_per_tr": int(frames_per_tr),
        "stimulus_tables": [str(p) for p in table_paths],
        "stimulus_sha256": stimulus_sha256(table_paths),
        "device": str(device),
        "batch_size": int(batch_size),
    }
    return extract_activations(
        built,
        table,
        frame_iter,
        activations,
        tensor=tensor,
        pooling=pooling,
        fusion_attention=fusion_attention,
        batch_size=int(batch_size),
        manifest_extra=extra,
    )
