"""Every key of the config schema is documented in config/README.md."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def schema_keys(schema, prefix=""):
    """Dotted names of every leaf property of the schema (sections are not leaves)."""
    keys = []
    for name, sub in (schema.get("properties") or {}).items():
        dotted = f"{prefix}{name}"
        keys += schema_keys(sub, dotted + ".") if sub.get("properties") else [dotted]
    return keys


def test_every_schema_key_is_documented():
    schema = yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text())
    readme = (ROOT / "config/README.md").read_text()
    missing = [k for k in schema_keys(schema) if f"`{k}`" not in readme]
    assert not missing, f"config/README.md does not document {missing}"


def test_default_config_uses_only_documented_sections():
    config = yaml.safe_load((ROOT / "config/config.yaml").read_text())
    readme = (ROOT / "config/README.md").read_text()
    for section in config:
        assert f"`{section}" in readme, section
