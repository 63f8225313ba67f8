"""Light helpers for the workflow (importable without torch)."""

from __future__ import annotations

import os


def local_weight_files(model_cfg):
    """Local files or folders holding a model's weights (METER checkpoint, open_clip
    checkpoint path, transformers folder), so that replacing them reruns extraction."""
    candidates = [model_cfg.get("checkpoint"), model_cfg.get("pretrained")]
    if model_cfg.get("pretrained") is True:
        candidates.append(model_cfg.get("name"))
    return [str(p) for p in candidates if isinstance(p, str) and os.path.exists(p)]
