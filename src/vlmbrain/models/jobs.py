"""The job of the activations rule, named for it."""

from __future__ import annotations

from vlmbrain.models.extract import run_extraction

__all__ = ["activations"]


def activations(*, model, model_config, tables, frames, weights, activations, tensor, pooling,
                fusion_attention, frames_per_tr, device, batch_size, seed, cache_dir=None,
                offline=True, threads=1):
    """Rule ``activations``: one model's ANs for every TR of every run.

    Parameters
    ----------
    model : str
        Model key.
    model_config : dict
        ``models.<model>``: the family and its keys.
    tables : list of str
        Stimulus tables, in run order (they name each TR's frame).
    frames, weights : list of str
        Videos (or frame folders) and local weight files: declared so that the job
        reruns when they change; read through ``tables`` and ``model_config``.
    activations : str
        Output folder ``activations/{model}``.
    tensor, pooling, fusion_attention, frames_per_tr
        ``an.*``.
    device, batch_size, seed, cache_dir, offline
        ``extraction.*``.
    threads : int
        Torch CPU threads.
    """
    run_extraction(
        model,
        model_config,
        {"tensor": tensor, "pooling": pooling, "fusion_attention": fusion_attention,
         "frames_per_tr": frames_per_tr},
        {"device": device, "batch_size": batch_size, "seed": seed, "cache_dir": cache_dir,
         "offline": offline},
        list(tables),
        activations,
        threads=threads,
    )
