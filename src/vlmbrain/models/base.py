"""The interface every model family implements for AN extraction."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from vlmbrain.models.capture import Tokens

# Which inputs a stream needs: one frame, one caption, or both together.
IMAGE, TEXT, JOINT = "image", "text", "joint"


@dataclass
class StreamInfo:
    """Shape of one stream: layers, heads and head dimension (N = heads x dim)."""

    n_layers: int
    n_heads: int
    head_dim: int

    @property
    def n_ans(self):
        """Number of ANs per layer."""
        return self.n_heads * self.head_dim


@dataclass
class ANModel:
    """A built model ready for AN capture.

    Attributes
    ----------
    key, family : str
        Config key and family.
    module : torch.nn.Module
        The network (eval mode).
    streams : dict
        Stream name -> :class:`StreamInfo`.
    inputs : dict
        Stream name -> ``"image"``, ``"text"`` or ``"joint"`` (frame and caption together).
    architecture : dict
        Hyperparameters as built (JSON-serialisable), for the manifest.
    weights : dict
        ``{"kind": "pretrained" | "hub" | "path" | "random", ...}`` (see docs/design.md).
    tokenizer : dict
        Description of the tokenizer used (name, kind, fallback or not).
    """

    key: str
    family: str
    module: torch.nn.Module
    streams: dict
    inputs: dict
    architecture: dict
    weights: dict
    tokenizer: dict = field(default_factory=dict)

    @property
    def random_weights(self):
        """True when the model has seeded random weights."""
        return self.weights.get("kind") == "random"

    @property
    def device(self):
        """Device of the model's parameters."""
        return next(self.module.parameters()).device

    def to(self, device):
        """Move the network to ``device``; return self."""
        self.module.to(device)
        return self

    def sites(self, fusion_attention="cross"):
        """Attention sites of every stream (list of AttentionSite)."""
        raise NotImplementedError

    def run(self, images=None, texts=None, capture=None):
        """One forward pass of the towers that the given inputs feed.

        Parameters
        ----------
        images : list of ndarray, optional
            RGB uint8 frames (H x W x 3).
        texts : list of str, optional
            Captions (same length as ``images`` for joint streams).
        capture : ANCapture, optional
            Its ``tokens`` are set for the batch before the forward pass.
        """
        raise NotImplementedError

    def stream_manifest(self):
        """``{stream: {"n_layers", "n_heads", "head_dim"}}``."""
        return {name: asdict(info) for name, info in self.streams.items()}


def set_tokens(capture, **tokens):
    """Give ``capture`` the token sets of the coming batch (no-op without capture)."""
    if capture is not None:
        capture.tokens = {k: v if isinstance(v, Tokens) else Tokens(*v) for k, v in tokens.items()}


def frames_to_batch(frames):
    """Stack RGB uint8 frames into a B x 3 x H x W uint8 tensor."""
    arr = np.stack([np.asarray(f, dtype=np.uint8) for f in frames])
    if arr.ndim != 4 or arr.shape[-1] != 3:
        raise ValueError(f"frames must be H x W x 3 RGB arrays, got a stack of shape {arr.shape}")
    return torch.from_numpy(arr).permute(0, 3, 1, 2).contiguous()


def pick_device(device="auto"):
    """Resolve ``auto | cpu | cuda | mps`` to an available torch device."""
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("extraction.device is 'cuda' but no CUDA device is available; use auto or cpu.")
    if device == "mps" and not torch.backends.mps.is_available():
        raise RuntimeError("extraction.device is 'mps' but MPS is not available; use auto or cpu.")
    return torch.device(device)
