"""Models (CLIP, METER, ViT, RoBERTa, BERT) and artificial-neuron extraction.

Submodules: ``registry`` (build a model from config), ``clip``, ``meter``, ``hf`` (the
families), ``attention`` and ``capture`` (hook points and AN capture), ``extract``
(extraction and readers), ``files`` (light helpers for the workflow, no torch import).
"""
