"""METER (Dou et al., CVPR 2022), rebuilt from the paper and its public code, and its loader.

Architecture of METER-CLIP16-RoBERTa (module names are those of the official code, so
that the official checkpoints load key for key):

- ``vit_model``: CLIP ViT-B/16 visual tower without its last block (11 of 12 blocks),
  ``ln_post`` applied to every token, no projection; it also keeps CLIP's unused text
  positional embedding and ``ln_final``, as the official model does.
- ``text_transformer``: RoBERTa-base (transformers ``RobertaModel``, with pooler).
- ``cross_modal_image_transform`` / ``cross_modal_text_transform``: linear maps into the
  co-attention width; ``token_type_embeddings`` (0: text, 1: image) added after them.
- ``cross_modal_image_layers`` / ``cross_modal_text_layers``: 6 co-attention layers per
  stream (BERT self-attention, cross-attention to the other stream's previous output,
  feed-forward), updated in parallel; ``cross_modal_*_pooler`` on the first token.

Streams: ``image`` (the 11 visual blocks), ``text`` (the 12 RoBERTa layers),
``fusion_image`` and ``fusion_text`` (the 6 co-attention layers of each side).
"""

from __future__ import annotations

import logging
import math
from collections import OrderedDict

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from vlmbrain.models.attention import (
    AttentionSite,
    PackedMultiheadAttention,
    hf_site,
    packed_site,
    scaled_dot_product,
)
from vlmbrain.models.base import JOINT, ANModel, StreamInfo, frames_to_batch, set_tokens
from vlmbrain.models.tokenizers import text_tokenizer
from vlmbrain.models.weights import (
    CheckpointError,
    not_found,
    path_weights,
    random_weights,
    read_weights,
    seeded,
    tensor_shapes,
)

log = logging.getLogger("vlmbrain")

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)

# METER-CLIP16-RoBERTa (meter/config.py: clip16, text_roberta, num_top_layer = 6).
DEFAULTS = {
    "patch_size": 16,
    "vision_width": 768,
    "vision_layers": 12,  # CLIP's count; METER keeps all but the last block
    "vision_heads": 12,
    "clip_context_length": 77,
    "clip_text_width": 512,
    "hidden_size": 768,
    "num_heads": 12,
    "mlp_ratio": 4,
    "num_top_layer": 6,
    "text_hidden_size": 768,
    "text_layers": 12,
    "text_heads": 12,
    "text_intermediate_size": 3072,
    "vocab_size": 50265,
    "max_position_embeddings": 514,
}

# Keys of official checkpoints that are not part of the encoder: pre-training and
# downstream task heads, and a buffer older transformers versions saved.
TASK_HEAD_PREFIXES = (
    "mlm_score.",
    "itm_score.",
    "vqa_classifier.",
    "nlvr2_classifier.",
    "snli_classifier.",
    "rank_output.",
)
BUFFER_KEYS = ("text_transformer.embeddings.position_ids",)
POSITION_KEY = "vit_model.visual.positional_embedding"


class QuickGELU(nn.Module):
    """CLIP's GELU approximation x * sigmoid(1.702 x)."""

    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


class ResidualAttentionBlock(nn.Module):
    """CLIP's pre-norm transformer block (``attn``, ``ln_1``, ``mlp``, ``ln_2``)."""

    def __init__(self, width, heads):
        super().__init__()
        self.attn = PackedMultiheadAttention(width, heads, batch_first=True)
        self.ln_1 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(
            OrderedDict(
                [
                    ("c_fc", nn.Linear(width, width * 4)),
                    ("gelu", QuickGELU()),
                    ("c_proj", nn.Linear(width * 4, width)),
                ]
            )
        )
        self.ln_2 = nn.LayerNorm(width)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))[0]
        return x + self.mlp(self.ln_2(x))


class _Transformer(nn.Module):
    def __init__(self, width, n_blocks, heads):
        super().__init__()
        self.width = width
        self.resblocks = nn.Sequential(*[ResidualAttentionBlock(width, heads) for _ in range(n_blocks)])

    def forward(self, x):
        return self.resblocks(x)


class VisualTransformer(nn.Module):
    """CLIP's visual ViT as METER uses it: all tokens out, after ``ln_post``."""

    def __init__(self, image_size, patch_size, width, n_blocks, heads):
        super().__init__()
        self.patch_size = patch_size
        self.conv1 = nn.Conv2d(3, width, kernel_size=patch_size, stride=patch_size, bias=False)
        scale = width**-0.5
        grid = image_size // patch_size
        self.class_embedding = nn.Parameter(scale * torch.randn(width))
        self.positional_embedding = nn.Parameter(scale * torch.randn(grid * grid + 1, width))
        self.ln_pre = nn.LayerNorm(width)
        self.transformer = _Transformer(width, n_blocks, heads)
        self.ln_post = nn.LayerNorm(width)

    def forward(self, x):
        x = self.conv1(x).flatten(2).transpose(1, 2)
        cls = self.class_embedding.to(x.dtype).expand(x.shape[0], 1, -1)
        x = torch.cat([cls, x], dim=1) + self.positional_embedding.to(x.dtype)
        x = self.transformer(self.ln_pre(x))
        return self.ln_post(x)


class CLIPVisionForMETER(nn.Module):
    """``vit_model``: the visual tower plus CLIP's leftover text parameters (unused)."""

    def __init__(self, image_size, patch_size, width, layers, heads, context_length, text_width):
        super().__init__()
        self.visual = VisualTransformer(image_size, patch_size, width, layers - 1, heads)
        self.positional_embedding = nn.Parameter(torch.empty(context_length, text_width))
        self.ln_final = nn.LayerNorm(text_width)
        self._init_clip()

    def _init_clip(self):
        nn.init.normal_(self.positional_embedding, std=0.01)
        width = self.visual.transformer.width
        n = len(self.visual.transformer.resblocks)
        proj_std = width**-0.5 * (2 * (n + 1)) ** -0.5
        for block in self.visual.transformer.resblocks:
            nn.init.normal_(block.attn.in_proj_weight, std=width**-0.5)
            nn.init.normal_(block.attn.out_proj.weight, std=proj_std)
            nn.init.normal_(block.mlp.c_fc.weight, std=(2 * width) ** -0.5)
            nn.init.normal_(block.mlp.c_proj.weight, std=proj_std)

    def forward(self, images):
        return self.visual(images)


class BertSelfAttention(nn.Module):
    """BERT attention projections (``query``, ``key``, ``value``); returns the context."""

    def __init__(self, hidden, heads):
        super().__init__()
        self.num_heads = heads
        self.query = nn.Linear(hidden, hidden)
        self.key = nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, hidden)

    def forward(self, hidden, mask, encoder_hidden=None, encoder_mask=None):
        source = hidden if encoder_hidden is None else encoder_hidden
        mask = mask if encoder_hidden is None else encoder_mask
        q, k, v = self.query(hidden), self.key(source), self.value(source)
        return scaled_dot_product(q, k, v, self.num_heads, mask)


class BertSelfOutput(nn.Module):
    """Output projection, residual and LayerNorm of a BERT attention block."""

    def __init__(self, hidden, eps, in_features=None):
        super().__init__()
        self.dense = nn.Linear(in_features or hidden, hidden)
        self.LayerNorm = nn.LayerNorm(hidden, eps=eps)

    def forward(self, context, residual):
        return self.LayerNorm(self.dense(context) + residual)


class BertAttention(nn.Module):
    """``self`` (projections) and ``output`` (projection + LayerNorm), as in BERT."""

    def __init__(self, hidden, heads, eps):
        super().__init__()
        self.self = BertSelfAttention(hidden, heads)
        self.output = BertSelfOutput(hidden, eps)

    def forward(self, hidden, mask, encoder_hidden=None, encoder_mask=None):
        return self.output(self.self(hidden, mask, encoder_hidden, encoder_mask), hidden)


class _Intermediate(nn.Module):
    def __init__(self, hidden, inner):
        super().__init__()
        self.dense = nn.Linear(hidden, inner)

    def forward(self, x):
        return F.gelu(self.dense(x))


class CoAttentionLayer(nn.Module):
    """METER's ``BertCrossLayer``: self-attention, cross-attention, feed-forward."""

    def __init__(self, hidden, heads, inner, eps=1e-12):
        super().__init__()
        self.attention = BertAttention(hidden, heads, eps)
        self.crossattention = BertAttention(hidden, heads, eps)
        self.intermediate = _Intermediate(hidden, inner)
        self.output = BertSelfOutput(hidden, eps, in_features=inner)

    def forward(self, x, other, mask, other_mask):
        x = self.attention(x, mask)
        x = self.crossattention(x, mask, other, other_mask)
        return self.output(self.intermediate(x), x)


class Pooler(nn.Module):
    """tanh(dense(first token)), METER's ``heads.Pooler``."""

    def __init__(self, hidden):
        super().__init__()
        self.dense = nn.Linear(hidden, hidden)

    def forward(self, x):
        return torch.tanh(self.dense(x[:, 0]))


class METER(nn.Module):
    """METER-CLIP-RoBERTa encoder (see the module docstring).

    Parameters
    ----------
    image_size : int
        Input resolution (224, or 288 as in the official pre-training).
    **arch
        Hyperparameters overriding :data:`DEFAULTS`.
    """

    def __init__(self, image_size=224, **arch):
        super().__init__()
        from transformers import RobertaConfig, RobertaModel

        unknown = set(arch) - set(DEFAULTS)
        if unknown:
            raise ValueError(f"unknown METER hyperparameters {sorted(unknown)}; known: {sorted(DEFAULTS)}")
        a = {**DEFAULTS, **arch}
        self.arch = {"image_size": int(image_size), **a}
        hidden = a["hidden_size"]
        self.vit_model = CLIPVisionForMETER(
            image_size,
            a["patch_size"],
            a["vision_width"],
            a["vision_layers"],
            a["vision_heads"],
            a["clip_context_length"],
            a["clip_text_width"],
        )
        text_config = RobertaConfig(
            vocab_size=a["vocab_size"],
            hidden_size=a["text_hidden_size"],
            num_hidden_layers=a["text_layers"],
            num_attention_heads=a["text_heads"],
            intermediate_size=a["text_intermediate_size"],
            max_position_embeddings=a["max_position_embeddings"],
            type_vocab_size=1,
            layer_norm_eps=1e-5,
            bos_token_id=0,
            eos_token_id=2,
            pad_token_id=1,
        )
        self.text_config = text_config
        self.text_transformer = RobertaModel(text_config, add_pooling_layer=True)
        self.cross_modal_text_transform = nn.Linear(a["text_hidden_size"], hidden)
        self.cross_modal_image_transform = nn.Linear(a["vision_width"], hidden)
        self.token_type_embeddings = nn.Embedding(2, hidden)
        inner = hidden * a["mlp_ratio"]
        n_top = a["num_top_layer"]
        self.cross_modal_image_layers = nn.ModuleList(
            [CoAttentionLayer(hidden, a["num_heads"], inner) for _ in range(n_top)]
        )
        self.cross_modal_text_layers = nn.ModuleList(
            [CoAttentionLayer(hidden, a["num_heads"], inner) for _ in range(n_top)]
        )
        self.cross_modal_image_pooler = Pooler(hidden)
        self.cross_modal_text_pooler = Pooler(hidden)
        for name, child in self.named_children():
            if name.startswith(("cross_modal", "token_type")):
                child.apply(_init_weights)

    def forward(self, images, input_ids, text_mask):
        """Run both encoders and the co-attention layers.

        Returns
        -------
        text_feats, image_feats : Tensor
            Outputs of the last co-attention layers (B x N_text x C, B x N_image x C).
        """
        text = self.text_transformer(input_ids=input_ids, attention_mask=text_mask).last_hidden_state
        text = self.cross_modal_text_transform(text)
        image = self.cross_modal_image_transform(self.vit_model(images))
        text = text + self.token_type_embeddings(torch.zeros_like(input_ids))
        image = image + self.token_type_embeddings(
            torch.ones(image.shape[:2], dtype=torch.long, device=image.device)
        )
        t_mask = text_mask.bool()[:, None, None, :]
        i_mask = None
        x, y = text, image
        for text_layer, image_layer in zip(self.cross_modal_text_layers, self.cross_modal_image_layers):
            x, y = text_layer(x, y, t_mask, i_mask), image_layer(y, x, i_mask, t_mask)
        return x, y


def _init_weights(module):
    """METER's ``objectives.init_weights``: N(0, 0.02) weights, zero biases, unit LayerNorm."""
    if isinstance(module, (nn.Linear, nn.Embedding)):
        module.weight.data.normal_(mean=0.0, std=0.02)
    elif isinstance(module, nn.LayerNorm):
        module.bias.data.zero_()
        module.weight.data.fill_(1.0)
    if isinstance(module, nn.Linear) and module.bias is not None:
        module.bias.data.zero_()


def interpolate_position_embedding(pos, n_tokens):
    """Resize a CLIP ViT positional embedding ((1 + g^2) x C) to ``n_tokens`` rows.

    The class-token row is kept; the g x g grid is resized bicubically, as in METER's
    ``adapt_position_encoding`` (e.g. 325 rows at 288 pixels to 197 at 224).
    """
    squeeze = pos.dim() == 3
    pos = pos[0] if squeeze else pos
    grid_before = int(round(math.sqrt(pos.shape[0] - 1)))
    grid_after = int(round(math.sqrt(n_tokens - 1)))
    if grid_before**2 + 1 != pos.shape[0] or grid_after**2 + 1 != n_tokens:
        raise ValueError(f"position embeddings of {pos.shape[0]} and {n_tokens} rows are not square grids")
    grid = pos[1:].reshape(grid_before, grid_before, -1).permute(2, 0, 1)[None].float()
    grid = F.interpolate(grid, size=(grid_after, grid_after), mode="bicubic", align_corners=False)
    grid = grid[0].permute(1, 2, 0).reshape(grid_after * grid_after, -1).to(pos.dtype)
    out = torch.cat([pos[:1], grid], dim=0)
    return out[None] if squeeze else out


# Top-level modules of METER: every key of a METER state dict starts with one of them.
METER_PREFIXES = (
    "vit_model.",
    "text_transformer.",
    "cross_modal_",
    "token_type_embeddings.",
)
SHOWN_KEYS = 5  # keys of each kind named in a mismatch message (all of them go to the log)


def meter_state_dict(ckpt, path):
    """The METER state dict of a loaded checkpoint file.

    An official (Lightning) checkpoint keeps it under ``state_dict``; a bare METER state
    dict (every value a tensor, METER's module names) is taken as it is.

    Raises
    ------
    CheckpointError
        Naming ``path``, when it is not a METER checkpoint: not a mapping, a
        ``state_dict`` that is not a mapping of tensors, a mapping without ``state_dict``
        that is not a METER state dict, or no key with a METER module name.
    """
    fix = (
        "Give an official METER checkpoint (e.g. meter_clip16_288_roberta_pretrain.ckpt, "
        "links in github.com/zdou0830/METER), or its state dict saved alone."
    )
    if not isinstance(ckpt, dict):
        raise CheckpointError(
            f"{path}: not a METER checkpoint: it holds a {type(ckpt).__name__}, not a mapping "
            f"with a state_dict. {fix}"
        )
    if "state_dict" in ckpt:
        state = ckpt["state_dict"]
        if not isinstance(state, dict) or tensor_shapes(state) is None:
            raise CheckpointError(
                f"{path}: not a METER checkpoint: its state_dict is a "
                f"{type(state).__name__}, not a mapping of tensors. {fix}"
            )
    else:
        state = ckpt
        if tensor_shapes(state) is None or not _meter_keys(state):
            raise CheckpointError(
                f"{path}: not a METER checkpoint: a mapping without state_dict whose "
                f"{len(ckpt)} keys ({_first(ckpt)}) are not METER weights (names starting "
                f"with {', '.join(METER_PREFIXES)}). {fix}"
            )
    if not _meter_keys(state):
        raise CheckpointError(
            f"{path}: not a METER checkpoint: none of the {len(state)} keys of its state dict "
            f"({_first(state)}) names a METER module ({', '.join(METER_PREFIXES)}). {fix}"
        )
    return state


def _meter_keys(state):
    return [k for k in state if str(k).startswith(METER_PREFIXES)]


def _first(mapping, n=SHOWN_KEYS):
    keys = [str(k) for k in list(mapping)[:n]]
    return "first: " + ", ".join(keys) + (" ..." if len(mapping) > n else "") if keys else "none"


def read_meter_checkpoint(path, mmap=False):
    """The state dict of a METER checkpoint file, read safely (:func:`read_weights`:
    ``weights_only=True``, or safetensors) and checked to be METER's
    (:func:`meter_state_dict`)."""
    return meter_state_dict(read_weights(path, mmap=mmap), path)


def _interpolatable(before, after):
    """Whether a position embedding of ``before`` rows can be resized to ``after`` rows
    (both square grids plus the class token)."""
    g0, g1 = round(math.sqrt(before - 1)), round(math.sqrt(after - 1))
    return g0 * g0 + 1 == before and g1 * g1 + 1 == after


def checkpoint_mismatch(expected, found):
    """Keys and shapes of a checkpoint against the model's.

    Parameters
    ----------
    expected, found : dict
        ``{key: shape}`` of the model and of the checkpoint's state dict.

    Returns
    -------
    dict
        ``ignored`` (task heads and old buffers, not used), ``missing``, ``unexpected``
        and ``shapes`` (descriptions of shape mismatches), each sorted; ``interpolate``
        (the position embedding's rows before and after, or None). The checkpoint fits
        when ``missing``, ``unexpected`` and ``shapes`` are empty.
    """
    ignored = sorted(k for k in found if k.startswith(TASK_HEAD_PREFIXES) or k in BUFFER_KEYS)
    used = {k: tuple(v) for k, v in found.items() if k not in set(ignored)}
    interpolate = None
    if POSITION_KEY in used and POSITION_KEY in expected:
        shape, target = used[POSITION_KEY], tuple(expected[POSITION_KEY])
        before, after = shape[-2] if len(shape) >= 2 else 0, target[0]
        if (before != after and len(shape) in (2, 3) and shape[-1] == target[-1]
                and _interpolatable(before, after)):
            interpolate = (before, after)
            used[POSITION_KEY] = tuple(expected[POSITION_KEY])
    return {
        "ignored": ignored,
        "missing": sorted(set(expected) - set(used)),
        "unexpected": sorted(set(used) - set(expected)),
        "shapes": sorted(
            f"{k}: checkpoint {used[k]}, model {tuple(expected[k])}"
            for k in set(used) & set(expected)
            if used[k] != tuple(expected[k])
        ),
        "interpolate": interpolate,
    }


def mismatch_message(path, mismatch, key=None):
    """The error of a checkpoint that does not fit: the file, the counts and the first
    few keys of each kind (the caller logs the full lists, :func:`log_mismatch`)."""
    parts, counts = [], []
    for title, keys in (("missing", mismatch["missing"]), ("unexpected", mismatch["unexpected"]),
                        ("shape mismatch", mismatch["shapes"])):
        if keys:
            counts.append(f"{len(keys)} {title}")
            more = f" and {len(keys) - SHOWN_KEYS} more" if len(keys) > SHOWN_KEYS else ""
            parts.append(f"{title}: {'; '.join(keys[:SHOWN_KEYS])}{more}")
    where = f"models.{key}.overrides and models.{key}.image_size" if key else (
        "models.*.overrides and image_size")
    return (
        f"{path}: METER checkpoint does not match the rebuilt architecture "
        f"({', '.join(counts)} key(s); {'. '.join(parts)}). Check {where} against the "
        "checkpoint; the full lists are in this job's log."
    )


def log_mismatch(path, mismatch):
    """Log every key of a mismatch (the error message shows the first few)."""
    for title in ("missing", "unexpected", "shapes"):
        for k in mismatch[title]:
            log.error("%s: %s key: %s", path, "shape mismatch" if title == "shapes" else title, k)


def model_shapes(model):
    """``{key: shape}`` of a model's state dict."""
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


def meter_shapes(image_size=224, **arch):
    """``{key: shape}`` of the METER state dict of an architecture, built on the meta
    device (no weights are allocated or initialised)."""
    with torch.device("meta"):
        return model_shapes(METER(image_size=image_size, **arch))


def map_checkpoint(model, state_dict, path="<checkpoint>", key=None):
    """Match an official METER state dict to ``model``, strictly.

    Parameters
    ----------
    model : METER
        The rebuilt model.
    state_dict : dict
        The checkpoint's ``state_dict``.
    path : str
        The checkpoint file, for the messages.
    key : str, optional
        The model's config key, for the messages.

    Returns
    -------
    dict, dict
        The state dict to load and a report: ``ignored`` (task heads and old buffers),
        ``interpolated`` (position-embedding resize, or None).

    Raises
    ------
    CheckpointError
        Naming the file, with the counts of missing, unexpected and mis-shaped keys and
        the first few of each (every key is logged).
    """
    expected = model_shapes(model)
    mismatch = checkpoint_mismatch(expected, tensor_shapes(state_dict) or {})
    if mismatch["missing"] or mismatch["unexpected"] or mismatch["shapes"]:
        log_mismatch(path, mismatch)
        raise CheckpointError(mismatch_message(path, mismatch, key))
    ignored = set(mismatch["ignored"])
    mapped = {k: v for k, v in state_dict.items() if k not in ignored}
    interpolated = None
    if mismatch["interpolate"]:
        before, after = mismatch["interpolate"]
        mapped[POSITION_KEY] = interpolate_position_embedding(mapped[POSITION_KEY], after).reshape(
            expected[POSITION_KEY]
        )
        interpolated = f"{POSITION_KEY}: {before} -> {after} tokens (bicubic)"
    return mapped, {"ignored": mismatch["ignored"], "interpolated": interpolated}


def load_meter_checkpoint(model, path, key=None):
    """Load a METER checkpoint strictly: an official one (Lightning ``state_dict`` with
    METER's prefixes), a bare METER state dict, or a ``.safetensors`` file of one.

    The file is read with ``torch.load(weights_only=True)`` (or safetensors), never in
    full: a file that holds other objects is refused (:func:`read_weights`).

    Returns
    -------
    dict
        Report from :func:`map_checkpoint`.

    Raises
    ------
    CheckpointError
        Naming the file: unreadable or unsafe, not a METER checkpoint, or not this
        architecture's (counts and the first keys; the full lists in the log).
    """
    state_dict = read_meter_checkpoint(path)
    mapped, report = map_checkpoint(model, state_dict, path=path, key=key)
    model.load_state_dict(mapped, strict=True)
    for name in report["ignored"]:
        log.info("METER checkpoint key not used (task head or buffer): %s", name)
    if report["interpolated"]:
        log.info("interpolated %s", report["interpolated"])
    return report


def save_meter_checkpoint(model, path, extra=None):
    """Write ``model`` in the official checkpoint layout (Lightning ``state_dict``).

    ``extra`` adds keys (e.g. task heads) to the state dict.
    """
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    state.update(extra or {})
    torch.save({"epoch": 0, "global_step": 0, "state_dict": state}, path)


class METERModel(ANModel):
    """METER with its four streams; one joint forward pass per batch of (frame, caption)."""

    def __init__(self, *, text_tok, image_size, **kwargs):
        super().__init__(**kwargs)
        self.text_tok = text_tok
        self.image_size = image_size

    def sites(self, fusion_attention="cross"):
        """Sites of the visual blocks, RoBERTa layers and co-attention layers."""
        m = self.module
        out = [
            packed_site(b.attn, "image", i, "image")
            for i, b in enumerate(m.vit_model.visual.transformer.resblocks)
        ]
        heads = self.streams["text"].n_heads
        out += [
            hf_site(layer.attention, "text", i, heads, "text")
            for i, layer in enumerate(m.text_transformer.encoder.layer)
        ]
        if fusion_attention not in ("cross", "self"):
            raise ValueError(f"an.fusion_attention must be cross or self, not {fusion_attention!r}")
        for stream, layers, own, other in (
            ("fusion_image", m.cross_modal_image_layers, "image", "text"),
            ("fusion_text", m.cross_modal_text_layers, "text", "image"),
        ):
            for i, layer in enumerate(layers):
                block = layer.crossattention if fusion_attention == "cross" else layer.attention
                kv = other if fusion_attention == "cross" else own
                a = block.self
                out.append(
                    AttentionSite(
                        stream,
                        i,
                        a.num_heads,
                        a.query.out_features // a.num_heads,
                        a.query,
                        a.key,
                        a.value,
                        block.output.dense,
                        own,
                        kv,
                    )
                )
        return out

    def preprocess(self, frames):
        """METER's CLIP transform: bicubic resize, centre crop, CLIP normalisation."""
        from torchvision.transforms.v2 import functional as TF

        x = frames_to_batch(frames)
        x = TF.resize(x, [self.image_size], interpolation=TF.InterpolationMode.BICUBIC, antialias=True)
        x = TF.center_crop(x, [self.image_size, self.image_size])
        x = x.float().div_(255.0)
        return TF.normalize(x, list(CLIP_MEAN), list(CLIP_STD))

    def run(self, images=None, texts=None, capture=None):
        """Joint forward pass of frames and captions (both required)."""
        if images is None or texts is None or len(images) != len(texts):
            raise ValueError("METER needs one frame and one caption per stimulus")
        device = self.device
        enc = self.text_tok(list(texts))
        ids, mask = enc["input_ids"].to(device), enc["attention_mask"].to(device)
        set_tokens(capture, image=(None, None), text=(mask, None))
        self.module(self.preprocess(images).to(device), ids, mask)


def meter_architecture(key, cfg):
    """The METER hyperparameters of a model entry (:data:`DEFAULTS` with its
    ``overrides``), checked without building anything.

    Raises
    ------
    ValueError
        Naming ``models.<key>.overrides`` and the unknown names.
    """
    overrides = dict(cfg.get("overrides") or {})
    unknown = sorted(set(overrides) - set(DEFAULTS))
    if unknown:
        raise ValueError(
            f"models.{key}.overrides: unknown METER hyperparameter(s) {unknown}; known: "
            f"{sorted(DEFAULTS)}."
        )
    return {**DEFAULTS, **overrides}


def meter_streams(arch):
    """``{stream: n_layers}`` of a METER architecture (CLIP's visual blocks but the last,
    the RoBERTa layers, the co-attention layers of each side)."""
    return {
        "image": int(arch["vision_layers"]) - 1,
        "text": int(arch["text_layers"]),
        "fusion_image": int(arch["num_top_layer"]),
        "fusion_text": int(arch["num_top_layer"]),
    }


def meter_checkpoint_problems(key, cfg):
    """What is wrong with a METER model's checkpoint, from its keys and shapes alone: the
    file is read memory-mapped and weights-only (:func:`read_meter_checkpoint`) and
    compared with the architecture built on the meta device (:func:`meter_shapes`).

    Returns
    -------
    list of str
        One message (naming the file) per fault; the full key lists of a mismatch are
        logged.
    """
    checkpoint = cfg.get("checkpoint")
    if not checkpoint:
        return []
    try:
        meter_architecture(key, cfg)
        state = read_meter_checkpoint(checkpoint, mmap=True)
    except (OSError, ValueError) as err:
        return [str(err)]
    expected = meter_shapes(int(cfg.get("image_size", 224)), **(cfg.get("overrides") or {}))
    mismatch = checkpoint_mismatch(expected, tensor_shapes(state))
    if mismatch["missing"] or mismatch["unexpected"] or mismatch["shapes"]:
        log_mismatch(checkpoint, mismatch)
        return [mismatch_message(checkpoint, mismatch, key)]
    return []


def build_meter(key, cfg, seed=0, cache_dir=None, offline=True):
    """Build METER: ``checkpoint`` (path or null), ``image_size``, ``max_text_len``,
    ``tokenizer`` (hub id of the RoBERTa vocabulary) and ``overrides`` (see :data:`DEFAULTS`).
    """
    from pathlib import Path

    image_size = int(cfg.get("image_size", 224))
    checkpoint = cfg.get("checkpoint")
    meter_architecture(key, cfg)
    seeded(seed)
    model = METER(image_size=image_size, **(cfg.get("overrides") or {}))
    if checkpoint:
        if not Path(checkpoint).is_file():
            raise not_found(
                key,
                "METER checkpoint",
                f"the file {checkpoint}",
                "Download an official checkpoint (e.g. meter_clip16_288_roberta_pretrain.ckpt, "
                "links in github.com/zdou0830/METER) and set models."
                f"{key}.checkpoint to its path.",
            )
        report = load_meter_checkpoint(model, checkpoint, key=key)
        weights = {**path_weights(checkpoint), "ignored_keys": report["ignored"]}
        if report["interpolated"]:
            weights["interpolated"] = report["interpolated"]
    else:
        weights = random_weights(seed)
    model.eval()
    a = model.arch
    tc = model.text_config
    tok, tok_entry = text_tokenizer(
        cfg.get("tokenizer", "roberta-base"),
        random=not checkpoint,
        vocab_size=tc.vocab_size,
        specials=(tc.bos_token_id, tc.eos_token_id, tc.pad_token_id),
        max_length=int(cfg.get("max_text_len", 50)),
        cache_dir=cache_dir,
        offline=offline,
    )
    n_layers = meter_streams(a)
    fusion = (a["num_heads"], a["hidden_size"] // a["num_heads"])
    streams = {
        "image": StreamInfo(
            n_layers["image"], a["vision_heads"], a["vision_width"] // a["vision_heads"]
        ),
        "text": StreamInfo(
            n_layers["text"], a["text_heads"], a["text_hidden_size"] // a["text_heads"]
        ),
        "fusion_image": StreamInfo(n_layers["fusion_image"], *fusion),
        "fusion_text": StreamInfo(n_layers["fusion_text"], *fusion),
    }
    return METERModel(
        key=key,
        family="meter",
        module=model,
        streams=streams,
        inputs=dict.fromkeys(streams, JOINT),
        architecture={k: (v.item() if isinstance(v, np.generic) else v) for k, v in a.items()},
        weights=weights,
        tokenizer=tok_entry,
        text_tok=tok,
        image_size=image_size,
    )
