"""Model registry: build any configured model by its ``family``.

``config["models"][key]`` names a family and that family's keys; new models (any
open_clip architecture and pretrained pair, any transformers ViT, RoBERTa or BERT
checkpoint, METER checkpoints) need only a config entry.
"""

from __future__ import annotations

from vlmbrain.models.clip import (
    build_open_clip,
    open_clip_config,
    open_clip_streams,
    open_clip_weight_problems,
)
from vlmbrain.models.hf import build_hf_bert, build_hf_roberta, build_hf_vit, hf_streams
from vlmbrain.models.meter import (
    build_meter,
    meter_architecture,
    meter_checkpoint_problems,
    meter_streams,
)
from vlmbrain.models.weights import hub_environment

FAMILIES = {
    "open_clip": build_open_clip,
    "meter": build_meter,
    "hf_vit": build_hf_vit,
    "hf_roberta": build_hf_roberta,
    "hf_bert": build_hf_bert,
}

# Keys each family accepts (besides ``family``) and their defaults.
FAMILY_KEYS = {
    "open_clip": {"architecture": "ViT-B-16", "pretrained": None, "overrides": {}},
    "meter": {
        "checkpoint": None,
        "image_size": 224,
        "max_text_len": 50,
        "tokenizer": "roberta-base",
        "overrides": {},
    },
    "hf_vit": {"name": "google/vit-base-patch16-224-in21k", "pretrained": False, "overrides": {}},
    "hf_roberta": {
        "name": "roberta-base",
        "pretrained": False,
        "tokenizer": None,
        "max_text_len": 128,
        "overrides": {},
    },
    "hf_bert": {
        "name": "bert-base-uncased",
        "pretrained": False,
        "tokenizer": None,
        "max_text_len": 128,
        "overrides": {},
    },
}


def model_settings(key, cfg):
    """The model's config entry with its family's defaults filled in.

    Raises
    ------
    ValueError
        For an unknown family or key, naming ``models.<key>``.
    """
    family = cfg.get("family")
    if family not in FAMILIES:
        raise ValueError(f"models.{key}.family: {family!r} is not one of {sorted(FAMILIES)}")
    allowed = FAMILY_KEYS[family]
    unknown = sorted(set(cfg) - set(allowed) - {"family"})
    if unknown:
        raise ValueError(
            f"models.{key}: unknown key(s) {unknown} for family {family}; allowed: {sorted(allowed)}"
        )
    return {"family": family, **allowed, **cfg}


def build_model(key, cfg, seed=0, cache_dir=None, offline=True):
    """Build the model ``key`` of the config.

    Parameters
    ----------
    key : str
        Config key (``clip``, ``meter``, ``vit``, ``roberta``, ...).
    cfg : dict
        ``config["models"][key]``.
    seed : int
        Seed of random weights (``extraction.seed``).
    cache_dir : str, optional
        Weights cache (``extraction.cache_dir``).
    offline : bool
        Use local files only (``extraction.offline``).

    Returns
    -------
    ANModel
        In eval mode, on the CPU.
    """
    settings = model_settings(key, cfg)
    with hub_environment(cache_dir, offline):
        return FAMILIES[settings["family"]](key, settings, seed=seed, cache_dir=cache_dir, offline=offline)


def model_streams(key, cfg, cache_dir=None, offline=True):
    """``{stream: n_layers}`` of a configured model from its config alone (nothing is
    built and no weights are read): the layers the activations job will extract.

    Raises
    ------
    ValueError, OSError
        Naming ``models.<key>``: an unknown family, key, architecture or override.
    """
    settings = model_settings(key, cfg)
    family = settings["family"]
    with hub_environment(cache_dir, offline):
        if family == "open_clip":
            _, model_cfg, _ = open_clip_config(key, settings)
            try:
                return open_clip_streams(model_cfg)
            except ValueError as err:
                raise ValueError(f"models.{key}.architecture: {err}") from err
        if family == "meter":
            return meter_streams(meter_architecture(key, settings))
        return hf_streams(family.removeprefix("hf_"), key, settings, cache_dir, offline)


def model_problems(key, cfg, cache_dir=None, offline=True):
    """Every fault of a configured model that its config and the headers of its weights
    show, without building it: family and keys, architecture and override names,
    pretrained tags and local weight files (read weights-only, memory-mapped), METER
    checkpoint keys and shapes.

    Returns
    -------
    problems : list of str
        One message per fault, naming ``models.<key>`` or the file.
    streams : dict or None
        ``{stream: n_layers}`` (:func:`model_streams`), None when the architecture is
        not known.
    """
    problems, streams = [], None
    try:
        settings = model_settings(key, cfg)
        streams = model_streams(key, settings, cache_dir, offline)
    except (ValueError, OSError) as err:
        return [str(err)], None
    with hub_environment(cache_dir, offline):
        if settings["family"] == "open_clip":
            problems += open_clip_weight_problems(key, settings, cache_dir, offline)
        elif settings["family"] == "meter":
            problems += meter_checkpoint_problems(key, settings)
    return problems, streams
