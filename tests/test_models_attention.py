"""Attention hook points and AN capture against hand-computed attention."""

import numpy as np
import pytest
import torch
from torch import nn

from vlmbrain.models.attention import PackedMultiheadAttention, replace_torch_attention
from vlmbrain.models.capture import ANCapture, Tokens, pool_tokens
from vlmbrain.models.registry import build_model

from tiny import TINY_MODELS


@pytest.mark.parametrize("batch_first", [True, False])
def test_packed_attention_equals_torch(batch_first):
    torch.manual_seed(0)
    mha = nn.MultiheadAttention(16, 4, batch_first=batch_first).eval()
    nn.init.normal_(mha.in_proj_bias)
    x = torch.randn(3, 5, 16) if batch_first else torch.randn(5, 3, 16)
    causal = torch.ones(5, 5, dtype=torch.bool).triu(1)
    pad = torch.tensor([[False] * 5, [False] * 3 + [True] * 2, [False] * 4 + [True]])
    ref = mha(x, x, x, need_weights=False, attn_mask=causal, key_padding_mask=pad)[0]
    packed = PackedMultiheadAttention.from_torch(mha)
    out = packed(x, x, x, need_weights=False, attn_mask=causal, key_padding_mask=pad)[0]
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)
    assert set(packed.state_dict()) == set(mha.state_dict())


def test_replace_keeps_open_clip_outputs():
    import open_clip

    cfg = TINY_MODELS["clip"]["overrides"]
    torch.manual_seed(0)
    model = open_clip.create_model("ViT-B-16", pretrained=None, **cfg).eval()
    image = torch.randn(2, 3, 32, 32)
    text = open_clip.get_tokenizer("ViT-B-16")(["a dog", "two cats on a mat"])
    with torch.no_grad():
        ref_i, ref_t = model.encode_image(image), model.encode_text(text)
        assert replace_torch_attention(model) == 4
        torch.testing.assert_close(model.encode_image(image), ref_i, atol=1e-5, rtol=1e-4)
        torch.testing.assert_close(model.encode_text(text), ref_t, atol=1e-5, rtol=1e-4)


def test_pool_tokens_ignores_padding():
    x = torch.randn(2, 4, 3)
    mask = torch.tensor([[1, 1, 0, 0], [1, 1, 1, 1]])
    out = pool_tokens(x, Tokens(mask, None), "mean")
    torch.testing.assert_close(out[0], x[0, :2].mean(0))
    torch.testing.assert_close(out[1], x[1].mean(0))
    cls = pool_tokens(x, Tokens(None, torch.tensor([1, 3])), "cls")
    torch.testing.assert_close(cls, torch.stack([x[0, 1], x[1, 3]]))


def _hand_context(q, k, v, heads, key_mask=None):
    b, n, c = q.shape
    d = c // heads
    qh, kh, vh = (t.reshape(b, t.shape[1], heads, d).permute(0, 2, 1, 3).double() for t in (q, k, v))
    scores = qh @ kh.transpose(-1, -2) / np.sqrt(d)
    if key_mask is not None:
        scores = scores.masked_fill(~key_mask.bool()[:, None, None, :], float("-inf"))
    ctx = torch.softmax(scores, dim=-1) @ vh
    return ctx.permute(0, 2, 1, 3).reshape(b, n, c)


def _run(model, stream, frames, texts, cap):
    """Run ``model`` on the inputs ``stream`` takes (frames, captions or both)."""
    kind = model.inputs[stream]
    model.run(images=None if kind == "text" else frames, texts=None if kind == "image" else texts,
              capture=cap)


@pytest.mark.parametrize(
    "key,stream,layer",
    [("clip", "image", 1), ("roberta", "text", 1), ("meter", "fusion_text", 1), ("vit", "image", 0)],
)
def test_context_equals_hand_computation(key, stream, layer):
    model = build_model(key, TINY_MODELS[key], seed=1)
    sites = model.sites("cross")
    site = next(s for s in sites if s.stream == stream and s.layer == layer)
    raw = {}
    handles = [
        getattr(site, name).register_forward_hook(lambda m, a, o, name=name: raw.__setitem__(name, o.clone()))
        for name in ("query", "key", "value")
    ]
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 255, (40, 50, 3), dtype=np.uint8) for _ in range(2)]
    texts = ["a red car", "a dog runs across the long wet grass"]
    with torch.inference_mode(), ANCapture(sites, "context", "mean") as cap:
        _run(model, stream, frames, texts, cap)
        got = cap.pop()[(stream, layer)]
        q_mask = cap.tokens[site.query_tokens].mask
        kv_mask = cap.tokens[site.kv_tokens].mask
    for h in handles:
        h.remove()
    ctx = _hand_context(raw["query"], raw["key"], raw["value"], site.n_heads, kv_mask)
    expected = pool_tokens(ctx, Tokens(q_mask, None), "mean")
    assert got.shape == (2, site.n_heads * site.head_dim)
    torch.testing.assert_close(got.double(), expected.double(), atol=1e-4, rtol=1e-4)
    # q/k/v captures are the projections, pooled over their own tokens.
    with torch.inference_mode(), ANCapture(sites, "key", "mean") as cap:
        _run(model, stream, frames, texts, cap)
        k_pooled = cap.pop()[(stream, layer)]
    torch.testing.assert_close(k_pooled.double(), pool_tokens(raw["key"], Tokens(kv_mask, None), "mean").double(), atol=1e-5, rtol=1e-5)
