"""Capture artificial neurons with forward hooks on attention modules.

One forward pass of a batch captures every layer of every stream: a hook on each
:class:`~vlmbrain.models.attention.AttentionSite` takes the chosen tensor (``context``,
``query``, ``key`` or ``value``; B x N_tokens x H*d) and pools it over tokens at once, so
only B x H*d per layer is kept.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

TENSORS = ("context", "query", "key", "value")
POOLINGS = ("mean", "cls")


@dataclass
class Tokens:
    """Which tokens of one token set count for pooling.

    Attributes
    ----------
    mask : Tensor or None
        B x N, 1 for real tokens and 0 for padding; None when nothing is padded.
    cls_index : Tensor or None
        B, index of the summary token for ``cls`` pooling (0 when None).
    """

    mask: torch.Tensor | None = None
    cls_index: torch.Tensor | None = None


def pool_tokens(x, tokens, pooling):
    """Pool a B x N x C tensor over tokens.

    Parameters
    ----------
    x : Tensor
        B x N x C.
    tokens : Tokens
        Padding mask and summary-token index of the batch.
    pooling : {"mean", "cls"}
        ``mean`` over non-padding tokens, or the summary token.

    Returns
    -------
    Tensor
        B x C, float32.
    """
    x = x.float()
    if pooling == "cls":
        if tokens.cls_index is None:
            return x[:, 0]
        return x[torch.arange(x.shape[0], device=x.device), tokens.cls_index.to(x.device)]
    if pooling != "mean":
        raise ValueError(f"unknown pooling {pooling!r}; use one of {POOLINGS}")
    if tokens.mask is None:
        return x.mean(dim=1)
    w = tokens.mask.to(device=x.device, dtype=x.dtype)
    return torch.einsum("bn,bnc->bc", w, x) / w.sum(dim=1, keepdim=True).clamp_min(1.0)


class ANCapture:
    """Forward hooks that pool one attention tensor per site.

    Parameters
    ----------
    sites : list of AttentionSite
        Layers to capture.
    tensor : {"context", "query", "key", "value"}
        The per-head tensor whose dimensions are the ANs.
    pooling : {"mean", "cls"}
        Token pooling per stimulus.

    Notes
    -----
    Use as a context manager; before each forward pass the model sets
    :attr:`tokens` (token-set name -> :class:`Tokens`). After it, :meth:`pop` returns
    ``{(stream, layer): B x N tensor}`` for the sites that ran.
    """

    def __init__(self, sites, tensor="context", pooling="mean"):
        if tensor not in TENSORS:
            raise ValueError(f"unknown AN tensor {tensor!r}; use one of {TENSORS}")
        if pooling not in POOLINGS:
            raise ValueError(f"unknown pooling {pooling!r}; use one of {POOLINGS}")
        self.sites = list(sites)
        self.tensor = tensor
        self.pooling = pooling
        self.tokens = {}
        self._out = {}
        self._handles = []

    def __enter__(self):
        for site in self.sites:
            self._handles.append(self._register(site))
        return self

    def __exit__(self, *exc):
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
        return False

    def _register(self, site):
        key = (site.stream, site.layer)
        token_set = site.query_tokens if self.tensor in ("context", "query") else site.kv_tokens

        def store(x):
            self._out[key] = pool_tokens(x, self.tokens.get(token_set, Tokens()), self.pooling)

        if self.tensor == "context":
            return site.output.register_forward_pre_hook(lambda _m, args: store(args[0]))
        module = getattr(site, self.tensor)
        return module.register_forward_hook(lambda _m, _args, out: store(out))

    def pop(self):
        """Pooled ANs of the last forward pass, ``{(stream, layer): B x N}``; then clear."""
        out, self._out = self._out, {}
        return out
