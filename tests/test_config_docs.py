"""The config schema documents itself, and config/README.md documents the same keys."""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text())
README = (ROOT / "config/README.md").read_text()


def schema_keys(schema, prefix=""):
    """``{dotted key: its schema}`` for every key of the schema, sections included.

    Keys of array items are named ``section.key[].item``; the keys of a model entry
    (``models`` maps any name to one) are named ``models.*.key`` and gathered from every
    family's branch.
    """
    keys = {}
    for name, sub in (schema.get("properties") or {}).items():
        if sub == {}:  # a family branch repeating a key declared once for all families
            continue
        dotted = f"{prefix}{name}"
        keys[dotted] = sub
        keys.update(schema_keys(sub, dotted + "."))
        items = sub.get("items")
        if isinstance(items, dict) and items.get("properties"):
            keys.update(schema_keys(items, dotted + "[]."))
        entry = sub.get("additionalProperties")
        if isinstance(entry, dict) and entry.get("properties"):
            keys.update(schema_keys(entry, dotted + ".*."))
            for branch in entry.get("allOf", []):
                keys.update(schema_keys(branch.get("then", {}), dotted + ".*."))
    return keys


KEYS = schema_keys(SCHEMA)


def documented(key):
    """How config/README.md names ``key``: dotted, or bare for a model family's keys."""
    return key.split(".")[-1] if key.startswith("models.*.") else key


def test_the_walk_finds_every_level():
    assert {"results", "data.bold", "simulation.noise.ar1", "simulation.couplings[].like",
            "models.*.family", "models.*.checkpoint", "neurons.seed"} <= set(KEYS)


@pytest.mark.parametrize("key", sorted(KEYS))
def test_every_schema_key_has_a_description(key):
    assert str(KEYS[key].get("description", "")).strip(), f"schema key {key} has no description"


@pytest.mark.parametrize("key", sorted(KEYS))
def test_every_schema_key_is_in_the_readme(key):
    assert f"`{documented(key)}`" in README, f"config/README.md does not document {key}"


def test_every_readme_key_is_in_the_schema():
    # first cells of the tables of config/README.md that name a dotted key
    named = set(re.findall(r"^\| `([a-z_]+(?:\.[a-z_\[\]]+)+)` \|", README, flags=re.M))
    models_section = README.split("## `models`")[1].split("\n## ")[0]
    family_keys = set(re.findall(r"^\|[^|]*\| `([a-z_]+)` \|", models_section, flags=re.M))
    assert named and family_keys, "no key table found in config/README.md"
    assert named <= set(KEYS), f"config/README.md documents unknown keys {named - set(KEYS)}"
    models = {k.split(".")[-1] for k in KEYS if k.startswith("models.*.")}
    assert family_keys <= models, f"unknown model keys {family_keys - models}"


def test_default_config_uses_only_documented_sections():
    config = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    for section in config:
        assert section in KEYS and f"`{section}" in README, section
