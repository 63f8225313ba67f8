"""Registry: config validation, offline weight errors, seeded random weights, tokenizers."""

import pytest
import torch

from vlmbrain.models.registry import FAMILY_KEYS, build_model, model_settings
from vlmbrain.models.tokenizers import FallbackTokenizer
from vlmbrain.models.weights import WeightsNotFoundError

from tiny import TINY_MODELS


def test_settings_defaults_and_errors():
    assert model_settings("m", {"family": "meter"})["image_size"] == 224
    assert set(FAMILY_KEYS) == {"open_clip", "meter", "hf_vit", "hf_roberta", "hf_bert"}
    with pytest.raises(ValueError, match="models.m.family"):
        model_settings("m", {"family": "llama"})
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['checkpoint'\]"):
        model_settings("m", {"family": "open_clip", "checkpoint": "x"})
    with pytest.raises(ValueError, match="has no field 'hidden_sizes'"):
        build_model("r", {"family": "hf_roberta", "overrides": {"hidden_sizes": 3}})


@pytest.mark.parametrize(
    "cfg,expected",
    [
        ({"family": "open_clip", "pretrained": "openai"}, "open_clip weights ViT-B-16/openai"),
        ({"family": "hf_vit", "pretrained": True}, "config.json and model.safetensors"),
        ({"family": "hf_roberta", "pretrained": True}, "huggingface-cli download roberta-base"),
    ],
)
def test_missing_weights_say_what_and_how(cfg, expected, tmp_path):
    with pytest.raises(WeightsNotFoundError) as err:
        build_model("m", cfg, cache_dir=str(tmp_path), offline=True)
    assert expected in str(err.value) and "random weights" in str(err.value)


@pytest.mark.parametrize("key", ["clip", "vit", "roberta", "meter"])
def test_random_weights_are_seeded(key):
    a = build_model(key, TINY_MODELS[key], seed=3).module.state_dict()
    b = build_model(key, TINY_MODELS[key], seed=3).module.state_dict()
    c = build_model(key, TINY_MODELS[key], seed=4).module.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert any(not torch.equal(a[k], c[k]) for k in a if a[k].is_floating_point())


def test_fallback_tokenizer():
    tok = FallbackTokenizer(vocab_size=100, bos=0, eos=2, pad=1, max_length=6)
    enc = tok(["a dog", "a very long caption about many things"])
    ids, mask = enc["input_ids"], enc["attention_mask"]
    assert ids.shape == (2, 6) and ids.max() < 100
    assert ids[0, 0] == 0 and mask[0].sum() == 4 and ids[0, 3] == 2 and ids[0, 4] == 1
    assert ids[1, -1] == 2 and mask[1].all()
    assert tok(["a dog"])["input_ids"].tolist() == tok(["a dog"])["input_ids"].tolist()
