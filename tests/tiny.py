"""The tiny end-to-end configuration of the tests (``tests/config/tiny.yaml``).

``TINY_MODELS`` are its small versions of the four default architectures (same code as
full size, random weights; vocabularies keep their real size so that the real tokenizers
apply), for the model tests.
"""

from pathlib import Path

import yaml

TINY = Path(__file__).resolve().parent / "config" / "tiny.yaml"
TINY_MODELS = yaml.safe_load(TINY.read_text())["models"]
