"""The layer files of a model's folders (atoms, encoding): ``{stream}/layer-LL.npz``."""

from __future__ import annotations

from pathlib import Path


def layer_files(root, suffix=".npz"):
    """Every ``{stream}/layer-LL{suffix}`` under ``root`` as sorted (stream, layer, path)."""
    out = []
    for path in sorted(Path(root).glob(f"*/layer-*{suffix}")):
        out.append((path.parent.name, int(path.name[len("layer-") : -len(suffix)]), path))
    return out
