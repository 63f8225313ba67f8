"""Models (CLIP, METER, ViT, RoBERTa, BERT) and artificial-neuron extraction."""

from vlmbrain.models.extract import extract_activations, load_activations, load_layer, run_extraction
from vlmbrain.models.registry import FAMILIES, build_model

__all__ = [
    "FAMILIES",
    "build_model",
    "extract_activations",
    "load_activations",
    "load_layer",
    "run_extraction",
]
