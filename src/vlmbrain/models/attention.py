"""Attention modules with hook points, and where each model's artificial neurons live.

Every attention layer whose ANs are extracted is described by an :class:`AttentionSite`:
the modules that output the query, key and value projections (B x N x H*d) and the
output projection, whose *input* is the context softmax(QK^T/sqrt d)V (B x N x H*d,
column ``h * d + j``). Hooks on these modules capture any of the four tensors without
tracing the model's graph.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class AttentionSite:
    """One attention layer of one stream.

    Attributes
    ----------
    stream, layer : str, int
        Stream name and 0-based layer index.
    n_heads, head_dim : int
        Heads and dimensions per head (N ANs = n_heads * head_dim).
    query, key, value : nn.Module
        Modules whose forward output is the projected Q, K, V (batch first).
    output : nn.Module
        Output projection; its forward input is the context.
    query_tokens, kv_tokens : str
        Names of the token sets (masks) of the query side and of the key/value side
        (equal for self-attention; different for cross-attention).
    """

    stream: str
    layer: int
    n_heads: int
    head_dim: int
    query: nn.Module
    key: nn.Module
    value: nn.Module
    output: nn.Module
    query_tokens: str
    kv_tokens: str


class PackedMultiheadAttention(nn.Module):
    """Drop-in replacement for :class:`torch.nn.MultiheadAttention` with hook points.

    Same parameters and state-dict keys (``in_proj_weight``, ``in_proj_bias``,
    ``out_proj.weight``, ``out_proj.bias``) and the same call signature, but the output
    projection is called as a module (so a forward pre-hook on ``out_proj`` sees the
    context) and Q, K, V pass through identity modules ``q``, ``k``, ``v``.

    Parameters
    ----------
    embed_dim, num_heads : int
        Width and number of heads.
    batch_first : bool
        Layout of inputs and outputs, as in :class:`torch.nn.MultiheadAttention`.
    """

    def __init__(self, embed_dim, num_heads, batch_first=True):
        super().__init__()
        if embed_dim % num_heads:
            raise ValueError(f"width {embed_dim} is not divisible by {num_heads} heads")
        self.embed_dim = embed_dim
        self.num_heads = num_heads
        self.head_dim = embed_dim // num_heads
        self.batch_first = batch_first
        self.in_proj_weight = nn.Parameter(torch.empty(3 * embed_dim, embed_dim))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * embed_dim))
        self.out_proj = nn.Linear(embed_dim, embed_dim)
        self.q, self.k, self.v = nn.Identity(), nn.Identity(), nn.Identity()
        nn.init.xavier_uniform_(self.in_proj_weight)
        nn.init.zeros_(self.out_proj.bias)

    @classmethod
    def from_torch(cls, mha):
        """Wrap the parameters of a :class:`torch.nn.MultiheadAttention` (shared, not copied)."""
        if not mha._qkv_same_embed_dim or mha.in_proj_bias is None or mha.bias_k is not None:
            raise ValueError("only packed, biased nn.MultiheadAttention without bias_kv is supported")
        new = cls(mha.embed_dim, mha.num_heads, batch_first=mha.batch_first)
        new.in_proj_weight = mha.in_proj_weight
        new.in_proj_bias = mha.in_proj_bias
        new.out_proj = mha.out_proj
        return new

    def forward(
        self,
        query,
        key=None,
        value=None,
        key_padding_mask=None,
        need_weights=False,
        attn_mask=None,
        **_,
    ):
        """Attention output (and ``None`` for the weights), as nn.MultiheadAttention."""
        self_attention = key is None or (key is query and value is query)
        key = query if key is None else key
        value = key if value is None else value
        if not self.batch_first:
            query, key, value = (t.transpose(0, 1) for t in (query, key, value))
        w, b, c = self.in_proj_weight, self.in_proj_bias, self.embed_dim
        if self_attention:
            q, k, v = F.linear(query, w, b).chunk(3, dim=-1)
        else:
            q = F.linear(query, w[:c], b[:c])
            k = F.linear(key, w[c : 2 * c], b[c : 2 * c])
            v = F.linear(value, w[2 * c :], b[2 * c :])
        q, k, v = self.q(q), self.k(k), self.v(v)
        mask = additive_mask(attn_mask, key_padding_mask, q.dtype)
        context = scaled_dot_product(q, k, v, self.num_heads, mask)
        out = self.out_proj(context)
        if not self.batch_first:
            out = out.transpose(0, 1)
        return out, None


def scaled_dot_product(q, k, v, n_heads, mask=None):
    """Multi-head softmax(QK^T / sqrt d) V on batch-first (B x N x H*d) tensors.

    Parameters
    ----------
    q, k, v : Tensor
        Projected queries (B x Nq x C), keys and values (B x Nk x C).
    n_heads : int
        Number of heads; C = n_heads * d.
    mask : Tensor, optional
        Additive float mask or boolean mask (True: attend), broadcastable to
        B x H x Nq x Nk.

    Returns
    -------
    Tensor
        Context, B x Nq x C, column ``h * d + j``.
    """
    bsz, nq, c = q.shape
    d = c // n_heads
    q, k, v = (t.reshape(bsz, t.shape[1], n_heads, d).transpose(1, 2) for t in (q, k, v))
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    return out.transpose(1, 2).reshape(bsz, nq, c)


def additive_mask(attn_mask, key_padding_mask, dtype):
    """Combine nn.MultiheadAttention-style masks into one additive mask (or None).

    ``attn_mask`` is Nq x Nk (bool: True = blocked; float: added) and
    ``key_padding_mask`` B x Nk (bool: True = padding; float: added).
    """
    mask = None
    if attn_mask is not None:
        mask = _to_additive(attn_mask, dtype)
        if mask.dim() == 2:
            mask = mask[None, None]
    if key_padding_mask is not None:
        pad = _to_additive(key_padding_mask, dtype)[:, None, None, :]
        mask = pad if mask is None else mask + pad
    return mask


def _to_additive(mask, dtype):
    if mask.dtype == torch.bool:
        return torch.zeros(mask.shape, dtype=dtype, device=mask.device).masked_fill(
            mask, float("-inf")
        )
    return mask.to(dtype)


def replace_torch_attention(module):
    """Swap every nn.MultiheadAttention inside ``module`` for :class:`PackedMultiheadAttention`.

    Parameters are shared, so outputs and state-dict keys are unchanged.

    Returns
    -------
    int
        Number of modules replaced.
    """
    n = 0
    for parent in list(module.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, nn.MultiheadAttention):
                setattr(parent, name, PackedMultiheadAttention.from_torch(child))
                n += 1
    return n


def packed_site(attn, stream, layer, query_tokens, kv_tokens=None):
    """The :class:`AttentionSite` of a :class:`PackedMultiheadAttention`."""
    return AttentionSite(
        stream=stream,
        layer=layer,
        n_heads=attn.num_heads,
        head_dim=attn.head_dim,
        query=attn.q,
        key=attn.k,
        value=attn.v,
        output=attn.out_proj,
        query_tokens=query_tokens,
        kv_tokens=kv_tokens or query_tokens,
    )


def hf_site(attention, stream, layer, n_heads, tokens):
    """The :class:`AttentionSite` of a transformers self-attention block.

    Accepts the layouts of transformers' BERT, RoBERTa and ViT attention blocks
    (``self.query``/``output.dense``, ``attention.query``/``output.dense`` or
    ``q_proj``/``o_proj``).
    """
    if hasattr(attention, "q_proj"):
        q, k, v, o = attention.q_proj, attention.k_proj, attention.v_proj, attention.o_proj
    else:
        inner = getattr(attention, "self", None) or getattr(attention, "attention", None)
        if inner is None or not hasattr(inner, "query"):
            raise TypeError(f"unknown attention layout {type(attention).__name__}")
        q, k, v, o = inner.query, inner.key, inner.value, attention.output.dense
    width = q.out_features
    return AttentionSite(stream, layer, n_heads, width // n_heads, q, k, v, o, tokens, tokens)
