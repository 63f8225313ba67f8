"""Unimodal baselines through transformers: ViT (``image``), RoBERTa and BERT (``text``)."""

from __future__ import annotations

import logging
from pathlib import Path

from vlmbrain.models.attention import hf_site
from vlmbrain.models.base import IMAGE, TEXT, ANModel, StreamInfo, set_tokens
from vlmbrain.models.tokenizers import text_tokenizer
from vlmbrain.models.weights import checked_keys, not_found, path_weights, random_weights, seeded

log = logging.getLogger("vlmbrain")

# Heads of published checkpoints that the encoders leave out (``add_pooling_layer=False``;
# RoBERTa's and BERT's pre-training heads, a classifier): their keys are logged and
# recorded in the manifest, never loaded. Any other key the checkpoint lacks or adds stops
# the build.
UNUSED_HEADS = ("pooler.", "lm_head.", "cls.", "classifier.")

# Architecture of the named checkpoints, used when their config is not available offline
# and the weights are random (transformers' own config classes, these values).
BASE_CONFIGS = {
    "vit": {},  # ViTConfig() defaults are ViT-B/16 at 224 pixels
    "roberta": {
        "vocab_size": 50265,
        "max_position_embeddings": 514,
        "type_vocab_size": 1,
        "layer_norm_eps": 1e-5,
        "bos_token_id": 0,
        "eos_token_id": 2,
        "pad_token_id": 1,
    },
    "bert": {},  # BertConfig() defaults are bert-base-uncased
}


def _config(kind, key, name, pretrained, overrides, cache_dir, offline):
    from transformers import AutoConfig, BertConfig, RobertaConfig, ViTConfig

    classes = {"vit": ViTConfig, "roberta": RobertaConfig, "bert": BertConfig}
    try:
        config = AutoConfig.from_pretrained(name, cache_dir=cache_dir, local_files_only=offline)
        source = "hub"
    except OSError as err:
        if pretrained:
            raise not_found(
                key,
                f"weights of {name!r}",
                f"config.json and model.safetensors of {name!r} in the Hugging Face cache "
                f"{cache_dir or '(default)'} or in the folder {name!r}",
                f"Download them once with `huggingface-cli download {name}` (with "
                f"extraction.cache_dir as --cache-dir), or set models.{key}.name to a local folder.",
            ) from err
        config = classes[kind](**BASE_CONFIGS[kind])
        source = f"transformers {classes[kind].__name__} defaults ({name!r} not cached)"
    for k, v in (overrides or {}).items():
        if not hasattr(config, k):
            raise ValueError(f"models.{key}.overrides: {type(config).__name__} has no field {k!r}")
        setattr(config, k, v)
    if overrides and pretrained:
        raise ValueError(f"models.{key}: overrides apply to random weights only (pretrained is true).")
    return config, source


STREAM_OF = {"vit": "image", "roberta": "text", "bert": "text"}


def hf_streams(kind, key, cfg, cache_dir=None, offline=True):
    """``{stream: n_layers}`` of a transformers model entry from its config alone (the
    cached ``config.json``, or transformers' defaults for random weights, with the
    overrides), checked as :func:`_build` checks it.

    Raises
    ------
    ValueError, WeightsNotFoundError
        Naming ``models.<key>``: an unknown override, overrides with pretrained weights,
        pretrained weights whose config is not available.
    """
    config, _ = _config(kind, key, cfg["name"], bool(cfg.get("pretrained", False)),
                        cfg.get("overrides"), cache_dir, offline)
    return {STREAM_OF[kind]: int(config.num_hidden_layers)}


def _build(kind, key, cfg, seed, cache_dir, offline):
    from transformers import BertModel, RobertaModel, ViTModel

    classes = {"vit": ViTModel, "roberta": RobertaModel, "bert": BertModel}
    name = cfg["name"]
    pretrained = bool(cfg.get("pretrained", False))
    config, source = _config(kind, key, name, pretrained, cfg.get("overrides"), cache_dir, offline)
    seeded(seed)
    if pretrained:
        model, info = classes[kind].from_pretrained(
            name, cache_dir=cache_dir, local_files_only=offline, add_pooling_layer=False,
            output_loading_info=True,
        )
        weights = _hub_weights(name, cache_dir)
        ignored = checked_keys(
            key, weights["path"], info["missing_keys"], info["unexpected_keys"],
            [m[0] if isinstance(m, tuple) else m for m in info["mismatched_keys"]],
            ignorable=UNUSED_HEADS,
        )
        for k in ignored:
            log.info("%s: checkpoint key not used (head outside the encoder): %s", key, k)
        weights["ignored_keys"] = ignored
    else:
        model = classes[kind](config, add_pooling_layer=False)
        weights = random_weights(seed)
    model.eval()
    arch = {"name": name, "config_source": source, **_arch_fields(config)}
    return model, config, weights, arch


def _arch_fields(config):
    keys = [
        "hidden_size",
        "num_hidden_layers",
        "num_attention_heads",
        "intermediate_size",
        "image_size",
        "patch_size",
        "vocab_size",
        "max_position_embeddings",
    ]
    return {k: getattr(config, k) for k in keys if hasattr(config, k)}


def _hub_weights(name, cache_dir):
    """Manifest entry of the weights of ``name``: a local folder, or the hub cache's snapshot
    of a hub id (its folder, revision, and every weight file with its sha256)."""
    if Path(name).exists():
        return path_weights(name)
    from transformers.utils import cached_file

    folder = Path(cached_file(name, "config.json", cache_dir=cache_dir, local_files_only=True)).parent
    return path_weights(folder, kind="hub", tag=name, revision=folder.name)


def _layers(model):
    for path in ("encoder.layer", "layers", "encoder.layers"):
        obj = model
        try:
            for part in path.split("."):
                obj = getattr(obj, part)
        except AttributeError:
            continue
        return list(obj)
    raise TypeError(f"cannot find the layers of {type(model).__name__}")


class HFModel(ANModel):
    """A transformers encoder with one stream (``image`` for ViT, ``text`` otherwise)."""

    def __init__(self, *, stream, processor=None, text_tok=None, **kwargs):
        super().__init__(**kwargs)
        self.stream = stream
        self.processor = processor
        self.text_tok = text_tok

    def sites(self, fusion_attention="cross"):
        """One site per encoder layer."""
        heads = self.streams[self.stream].n_heads
        return [
            hf_site(layer.attention, self.stream, i, heads, self.stream)
            for i, layer in enumerate(_layers(self.module))
        ]

    def run(self, images=None, texts=None, capture=None):
        """Forward the frames (ViT) or the captions (RoBERTa, BERT)."""
        device = self.device
        if self.stream == "image" and images is not None:
            pixels = self.processor(images=list(images), return_tensors="pt")
            set_tokens(capture, image=(None, None))
            self.module(pixel_values=pixels["pixel_values"].to(device))
        if self.stream == "text" and texts is not None:
            enc = self.text_tok(list(texts))
            set_tokens(capture, text=(enc["attention_mask"].to(device), None))
            self.module(
                input_ids=enc["input_ids"].to(device),
                attention_mask=enc["attention_mask"].to(device),
            )


def build_hf_vit(key, cfg, seed=0, cache_dir=None, offline=True):
    """Build a transformers ViT (``name``: hub id or folder; ``pretrained``; ``overrides``)."""
    from transformers import ViTImageProcessor

    model, config, weights, arch = _build("vit", key, cfg, seed, cache_dir, offline)
    try:
        processor = ViTImageProcessor.from_pretrained(
            cfg["name"], cache_dir=cache_dir, local_files_only=offline
        )
        if processor.size.get("height") != config.image_size:
            raise OSError("processor size differs from the model's image size")
    except OSError:
        side = config.image_size
        processor = ViTImageProcessor(size={"height": side, "width": side})
    heads = config.num_attention_heads
    return HFModel(
        key=key,
        family="hf_vit",
        module=model,
        streams={"image": StreamInfo(config.num_hidden_layers, heads, config.hidden_size // heads)},
        inputs={"image": IMAGE},
        architecture=arch,
        weights=weights,
        tokenizer={},
        stream="image",
        processor=processor,
    )


def _build_text(kind, family, key, cfg, seed, cache_dir, offline):
    model, config, weights, arch = _build(kind, key, cfg, seed, cache_dir, offline)
    bos = config.bos_token_id if config.bos_token_id is not None else 1
    eos = config.eos_token_id if config.eos_token_id is not None else 2
    pad = config.pad_token_id if config.pad_token_id is not None else 0
    limit = config.max_position_embeddings - (pad + 1 if kind == "roberta" else 0)
    tok, tok_entry = text_tokenizer(
        cfg.get("tokenizer") or cfg["name"],
        random=weights["kind"] == "random",
        vocab_size=config.vocab_size,
        specials=(bos, eos, pad),
        max_length=min(int(cfg.get("max_text_len", 128)), limit),
        cache_dir=cache_dir,
        offline=offline,
    )
    heads = config.num_attention_heads
    return HFModel(
        key=key,
        family=family,
        module=model,
        streams={"text": StreamInfo(config.num_hidden_layers, heads, config.hidden_size // heads)},
        inputs={"text": TEXT},
        architecture=arch,
        weights=weights,
        tokenizer=tok_entry,
        stream="text",
        text_tok=tok,
    )


def build_hf_roberta(key, cfg, seed=0, cache_dir=None, offline=True):
    """Build a transformers RoBERTa (``name``, ``pretrained``, ``overrides``, ``max_text_len``)."""
    return _build_text("roberta", "hf_roberta", key, cfg, seed, cache_dir, offline)


def build_hf_bert(key, cfg, seed=0, cache_dir=None, offline=True):
    """Build a transformers BERT (``name``, ``pretrained``, ``overrides``, ``max_text_len``)."""
    return _build_text("bert", "hf_bert", key, cfg, seed, cache_dir, offline)
