"""Model registry: build any configured model by its ``family``.

``config["models"][key]`` names a family and that family's keys; new models (any
open_clip architecture and pretrained pair, any transformers ViT, RoBERTa or BERT
checkpoint, METER checkpoints) need only a config entry.
"""

from __future__ import annotations

from vlmbrain.models.clip import build_open_clip
from vlmbrain.models.hf import build_hf_bert, build_hf_roberta, build_hf_vit
from vlmbrain.models.meter import build_meter
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


# Small versions of the four default architectures (same code, random weights), for
# tests, benchmarks and quick end-to-end runs. Vocabularies keep their real size so that
# the real tokenizers apply.
TINY_MODELS = {
    "clip": {
        "family": "open_clip",
        "architecture": "ViT-B-16",
        "pretrained": None,
        "overrides": {
            "embed_dim": 16,
            "vision_cfg": {"image_size": 32, "layers": 2, "width": 32, "patch_size": 16, "head_width": 16},
            "text_cfg": {"context_length": 77, "width": 32, "heads": 2, "layers": 2},
        },
    },
    "meter": {
        "family": "meter",
        "checkpoint": None,
        "image_size": 32,
        "overrides": {
            "vision_width": 32,
            "vision_layers": 3,
            "vision_heads": 2,
            "clip_text_width": 16,
            "hidden_size": 32,
            "num_heads": 2,
            "num_top_layer": 2,
            "text_hidden_size": 32,
            "text_layers": 2,
            "text_heads": 2,
            "text_intermediate_size": 64,
            "max_position_embeddings": 64,
        },
    },
    "vit": {
        "family": "hf_vit",
        "name": "google/vit-base-patch16-224-in21k",
        "pretrained": False,
        "overrides": {
            "hidden_size": 32,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "intermediate_size": 64,
            "image_size": 32,
            "patch_size": 16,
        },
    },
    "roberta": {
        "family": "hf_roberta",
        "name": "roberta-base",
        "pretrained": False,
        "overrides": {
            "hidden_size": 32,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "intermediate_size": 64,
        },
    },
}
