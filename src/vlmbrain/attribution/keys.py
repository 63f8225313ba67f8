"""Names of the arrays in the attribution's per-subject and group files."""

from __future__ import annotations

from vlmbrain.io import layer_name

__all__ = ["MAPS", "map_key", "mapped_layers", "reference_set_key"]

MAPS = ("unique", "shared", "r2_joint", "r2_stream")


def map_key(stream, layer, kind):
    """Key of one per-layer map in a subject's attribution file: ``{stream}.layer-LL.{kind}``."""
    return f"{stream}.{layer_name(layer)}.{kind}"


def reference_set_key(names):
    """Key of the held-out R^2 of a set of references: ``reference.{a}+{b}``."""
    return "reference." + "+".join(names)


def mapped_layers(keys):
    """``(stream, layer)`` of the per-layer maps among a subject file's keys (sorted)."""
    out = set()
    for key in keys:
        parts = key.split(".")
        if len(parts) == 3 and parts[1].startswith("layer-") and parts[2] in MAPS:
            out.add((parts[0], int(parts[1][len("layer-"):])))
    return sorted(out)
