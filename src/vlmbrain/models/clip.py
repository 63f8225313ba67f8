"""CLIP through open_clip: any architecture and pretrained pair; image and text streams."""

from __future__ import annotations

import copy
import inspect
import logging
import pickle
from pathlib import Path

import torch
from PIL import Image

from vlmbrain.models.attention import packed_site, replace_torch_attention
from vlmbrain.models.base import IMAGE, TEXT, ANModel, StreamInfo, set_tokens
from vlmbrain.models.weights import (
    not_found,
    path_weights,
    random_weights,
    read_weights,
    seeded,
)

log = logging.getLogger("vlmbrain")


def safe_load():
    """``weights_only=True`` for open_clip's checkpoint loading, where its
    ``create_model`` takes the argument (recent open_clip; older ones call torch.load
    with torch's default, weights_only=True since torch 2.6)."""
    import open_clip

    params = inspect.signature(open_clip.create_model).parameters
    return {"weights_only": True} if "weights_only" in params else {}


def open_clip_config(key, cfg):
    """The open_clip architecture of a model entry with its overrides merged, checked
    without building anything.

    Returns
    -------
    arch : str
    model_cfg : dict
        The architecture's config with the overrides merged (``vision_cfg``,
        ``text_cfg``, ``embed_dim``, ...).
    kwargs : dict
        The overridden top-level entries, as passed to ``open_clip.create_model``.

    Raises
    ------
    ValueError
        Naming ``models.<key>``: an unknown architecture, overrides with pretrained
        weights, or an override name the architecture does not have.
    """
    import dataclasses

    import open_clip
    from open_clip.model import CLIP, CLIPTextCfg, CLIPVisionCfg

    arch = cfg.get("architecture", "ViT-B-16")
    overrides = dict(cfg.get("overrides") or {})
    model_cfg = open_clip.get_model_config(arch)
    if model_cfg is None:
        raise ValueError(
            f"models.{key}.architecture: unknown open_clip architecture {arch!r}; "
            f"see open_clip.list_models()."
        )
    pretrained = cfg.get("pretrained")
    if overrides and pretrained and not Path(pretrained).is_file():
        raise ValueError(
            f"models.{key}: overrides apply to random weights or a local checkpoint file, not "
            f"to the pretrained tag {pretrained!r}."
        )
    top = set(inspect.signature(CLIP.__init__).parameters) - {"self", "cast_dtype"}
    nested = {
        "vision_cfg": {f.name for f in dataclasses.fields(CLIPVisionCfg)},
        "text_cfg": {f.name for f in dataclasses.fields(CLIPTextCfg)},
    }
    unknown = sorted(set(overrides) - top - set(model_cfg))
    for name, fields in nested.items():
        if isinstance(overrides.get(name), dict):
            unknown += [f"{name}.{k}" for k in sorted(set(overrides[name]) - fields)]
    if unknown:
        raise ValueError(
            f"models.{key}.overrides: {arch} has no {', '.join(unknown)}; overrides name "
            f"top-level keys ({', '.join(sorted(top | set(model_cfg)))}) or fields of "
            "vision_cfg and text_cfg (open_clip's CLIPVisionCfg and CLIPTextCfg)."
        )
    kwargs = {}
    for name, value in overrides.items():
        if isinstance(value, dict) and isinstance(model_cfg.get(name), dict):
            merged = copy.deepcopy(model_cfg[name])
            merged.update(value)
            kwargs[name] = merged
        else:
            kwargs[name] = value
    return arch, {**model_cfg, **kwargs}, kwargs


def open_clip_streams(model_cfg):
    """``{stream: n_layers}`` of an open_clip architecture's config (the transformer
    blocks of the visual and the text tower), as :func:`build_open_clip` builds them."""
    from open_clip.model import CLIPTextCfg, CLIPVisionCfg

    vision = model_cfg["vision_cfg"]
    text = model_cfg["text_cfg"]
    vision_layers = vision.get("layers", CLIPVisionCfg.layers)
    if not isinstance(vision_layers, int) or "timm_model_name" in vision:
        raise ValueError(
            f"the visual tower is not a ViT (layers {vision_layers!r}); only ViT towers have "
            "attention heads to read"
        )
    if "hf_model_name" in text:
        raise ValueError("the text tower is a transformers model; only open_clip's own text tower is supported")
    return {"image": int(vision_layers), "text": int(text.get("layers", CLIPTextCfg.layers))}


def open_clip_weight_problems(key, cfg, cache_dir=None, offline=True):
    """What is wrong with an open_clip model's ``pretrained`` weights, without loading
    them: a local file that is not weights alone (:func:`read_weights`, memory-mapped), a
    tag the architecture does not have, or (offline) a tag not in the cache.

    Returns
    -------
    list of str
    """
    pretrained = cfg.get("pretrained")
    if not pretrained:
        return []
    arch = cfg.get("architecture", "ViT-B-16")
    try:
        if Path(pretrained).exists():
            read_weights(pretrained, mmap=True)
        elif offline:
            _pretrained_file(key, arch, pretrained, cache_dir, offline)  # in the cache
        else:
            _pretrained_cfg(key, arch, pretrained)  # a known tag (downloaded when built)
    except (ValueError, OSError) as err:
        return [str(err)]
    return []


def build_open_clip(key, cfg, seed=0, cache_dir=None, offline=True):
    """Build an open_clip model as an :class:`OpenCLIPModel`.

    Parameters
    ----------
    key : str
        Config key of the model.
    cfg : dict
        ``architecture`` (open_clip name, e.g. ``ViT-B-16``), ``pretrained`` (tag such as
        ``openai``, a local checkpoint path, or null for seeded random weights),
        ``overrides`` (merged into the architecture's ``vision_cfg``/``text_cfg``/
        ``embed_dim``; with random weights, or with a local checkpoint of that
        architecture; not with a tag, whose architecture is fixed).
    seed : int
        Seed of the random initialisation.
    cache_dir : str, optional
        Folder of downloaded weights.
    offline : bool
        Never download.
    """
    import open_clip

    arch, model_cfg, kwargs = open_clip_config(key, cfg)
    pretrained = cfg.get("pretrained")
    seeded(seed)
    if pretrained and Path(pretrained).is_file():
        model = _create_from_file(key, arch, pretrained, kwargs)
        weights = path_weights(pretrained)
    elif pretrained:
        model, weights = _load_pretrained(key, arch, pretrained, cache_dir, offline)
    else:
        model = open_clip.create_model(arch, pretrained=None, **kwargs)
        weights = random_weights(seed)
    model.eval()
    replace_torch_attention(model)
    tokenizer = open_clip.get_tokenizer(arch)
    vision = model.visual
    text_cfg = model_cfg["text_cfg"]
    vision_cfg = model_cfg["vision_cfg"]
    v_width = vision.transformer.width
    v_heads = vision.transformer.resblocks[0].attn.num_heads
    t_heads = model.transformer.resblocks[0].attn.num_heads
    streams = {
        "image": StreamInfo(len(vision.transformer.resblocks), v_heads, v_width // v_heads),
        "text": StreamInfo(
            len(model.transformer.resblocks), t_heads, model.transformer.width // t_heads
        ),
    }
    if model.vocab_size < 49408:
        raise ValueError(
            f"models.{key}: text vocab_size {model.vocab_size} is smaller than open_clip's "
            f"tokenizer (49408); keep the vocabulary when shrinking the model."
        )
    transform = open_clip.image_transform(
        vision.image_size,
        is_train=False,
        mean=vision.preprocess_cfg["mean"],
        std=vision.preprocess_cfg["std"],
        resize_mode=vision.preprocess_cfg.get("resize_mode"),
        interpolation=vision.preprocess_cfg.get("interpolation"),
    )
    return OpenCLIPModel(
        key=key,
        family="open_clip",
        module=model,
        streams=streams,
        inputs={"image": IMAGE, "text": TEXT},
        architecture={"architecture": arch, "vision_cfg": vision_cfg, "text_cfg": text_cfg},
        weights=weights,
        tokenizer={"kind": "open_clip", "name": f"open_clip.get_tokenizer({arch!r})", "fallback": False},
        clip_tokenizer=tokenizer,
        transform=transform,
    )


def _create_from_file(key, arch, path, kwargs=None):
    """open_clip ``arch`` (with ``kwargs`` overriding its config) loaded from a checkpoint
    file strictly (open_clip's ``load_checkpoint``: every key, nothing more, torch.load
    with weights_only=True); a mismatch names the file and every key."""
    import open_clip

    read_weights(path, mmap=True)  # refuses a file holding more than tensors, naming it
    try:
        return open_clip.create_model(arch, pretrained=str(path), **(kwargs or {}), **safe_load())
    except RuntimeError as err:
        if "Error(s) in loading state_dict" not in str(err):
            raise
        raise ValueError(
            f"models.{key}.pretrained: the checkpoint {path} does not fit open_clip {arch} "
            f"(with models.{key}.overrides, if any: give the architecture the file was "
            f"trained with): {err}"
        ) from err
    except pickle.UnpicklingError as err:
        raise ValueError(
            f"models.{key}.pretrained: {path} holds pickled Python objects besides tensors and "
            "is not read (torch.load with weights_only=True). Save its state_dict alone: "
            "torch.save(torch.load(path, weights_only=False)['state_dict'], new_path), from a "
            "source you trust."
        ) from err


def _load_pretrained(key, arch, pretrained, cache_dir, offline):
    """open_clip ``arch`` with the weights of a pretrained tag (from the cache when offline)."""
    path = _pretrained_file(key, arch, pretrained, cache_dir, offline)
    model = _create_from_file(key, arch, path)
    return model, path_weights(path, kind="pretrained", tag=pretrained)


def _pretrained_file(key, arch, pretrained, cache_dir, offline):
    """The checkpoint file of an open_clip pretrained tag (from the cache when offline).

    Raises
    ------
    ValueError, WeightsNotFoundError
        Naming ``models.<key>.pretrained``: an unknown tag, or weights not available.
    """
    cfg = _pretrained_cfg(key, arch, pretrained)
    try:
        path = _cached_or_download(cfg, cache_dir, offline)
    except Exception as err:  # noqa: BLE001 - any download failure becomes one clear error
        source = cfg.get("hf_hub") or cfg.get("url") or "open_clip's pretrained registry"
        raise not_found(
            key,
            f"open_clip weights {arch}/{pretrained}",
            f"the checkpoint from {source} in the cache {cache_dir or '(default HF cache)'}",
            f"Download it once with open_clip.create_model({arch!r}, pretrained={pretrained!r}, "
            f"cache_dir=...) on a machine with internet, or set models.{key}.pretrained to a "
            "local checkpoint path.",
        ) from err
    if not path:
        raise not_found(key, f"open_clip weights {arch}/{pretrained}", str(cfg), "")
    return path


def _pretrained_cfg(key, arch, pretrained):
    """open_clip's entry of a pretrained tag; a ValueError naming the tags when unknown."""
    import open_clip

    cfg = open_clip.get_pretrained_cfg(arch, pretrained)
    if not cfg:
        tags = open_clip.list_pretrained_tags_by_model(arch)
        raise ValueError(
            f"models.{key}.pretrained: {pretrained!r} is neither a file nor a pretrained tag of "
            f"{arch} (tags: {tags})."
        )
    return cfg


def _cached_or_download(cfg, cache_dir, offline):
    """Path of an open_clip pretrained checkpoint: from the local cache only when offline."""
    from open_clip.pretrained import download_pretrained

    if not offline:
        return download_pretrained(cfg, cache_dir=cache_dir)
    from transformers.utils import cached_file

    repo = (cfg.get("hf_hub") or "").strip("/")
    if not repo:
        raise FileNotFoundError("offline and the tag has no Hugging Face Hub source")
    for name in ("open_clip_model.safetensors", "open_clip_pytorch_model.bin"):
        path = cached_file(repo, name, cache_dir=cache_dir, local_files_only=True,
                           _raise_exceptions_for_missing_entries=False)
        if path:
            return path
    raise FileNotFoundError(f"{repo}: no open_clip checkpoint in the cache")


class OpenCLIPModel(ANModel):
    """open_clip CLIP: ``image`` stream (visual tower) and ``text`` stream (text tower).

    Text ANs pool over the tokens up to the end-of-text token; ``cls`` pooling takes the
    end-of-text token, which is CLIP's sentence summary.
    """

    def __init__(self, *, clip_tokenizer, transform, **kwargs):
        super().__init__(**kwargs)
        self.clip_tokenizer = clip_tokenizer
        self.transform = transform

    def sites(self, fusion_attention="cross"):
        """Attention sites of the image and text towers."""
        out = [
            packed_site(b.attn, "image", i, "image")
            for i, b in enumerate(self.module.visual.transformer.resblocks)
        ]
        out += [
            packed_site(b.attn, "text", i, "text")
            for i, b in enumerate(self.module.transformer.resblocks)
        ]
        return out

    def preprocess(self, frames):
        """Frames (RGB uint8) to a normalised B x 3 x S x S tensor (open_clip's transform)."""
        return torch.stack([self.transform(Image.fromarray(f)) for f in frames])

    def run(self, images=None, texts=None, capture=None):
        """Encode images and/or texts (independent towers)."""
        device = self.device
        if images is not None:
            set_tokens(capture, image=(None, None))
            self.module.encode_image(self.preprocess(images).to(device))
        if texts is not None:
            ids = self.clip_tokenizer(list(texts)).to(device)
            eot = ids.argmax(dim=-1)
            mask = torch.arange(ids.shape[1], device=device)[None] <= eot[:, None]
            set_tokens(capture, text=(mask, eot))
            self.module.encode_text(ids)
