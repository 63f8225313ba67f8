"""METER rebuild: official checkpoint layout, strict loading, position interpolation."""

import numpy as np
import pytest
import torch

from vlmbrain.models.meter import (
    METER,
    interpolate_position_embedding,
    load_meter_checkpoint,
    save_meter_checkpoint,
)
from vlmbrain.models.registry import build_model
from vlmbrain.models.weights import WeightsNotFoundError

from tiny import TINY_MODELS

ARCH = TINY_MODELS["meter"]["overrides"]


def _meter(image_size, seed):
    torch.manual_seed(seed)
    return METER(image_size=image_size, **ARCH).eval()


def test_official_key_layout():
    keys = set(_meter(32, 0).state_dict())
    for key in [
        "vit_model.visual.conv1.weight",
        "vit_model.visual.class_embedding",
        "vit_model.visual.positional_embedding",
        "vit_model.visual.transformer.resblocks.1.attn.in_proj_weight",
        "vit_model.visual.transformer.resblocks.1.mlp.c_fc.weight",
        "vit_model.visual.ln_post.weight",
        "vit_model.positional_embedding",
        "vit_model.ln_final.weight",
        "text_transformer.embeddings.word_embeddings.weight",
        "text_transformer.encoder.layer.1.attention.self.query.weight",
        "text_transformer.pooler.dense.weight",
        "cross_modal_text_transform.weight",
        "cross_modal_image_transform.weight",
        "token_type_embeddings.weight",
        "cross_modal_image_layers.1.crossattention.self.key.weight",
        "cross_modal_text_layers.0.attention.output.LayerNorm.bias",
        "cross_modal_text_layers.0.intermediate.dense.weight",
        "cross_modal_text_layers.0.output.dense.weight",
        "cross_modal_image_pooler.dense.weight",
    ]:
        assert key in keys, key
    # CLIP ViT without its last block: vision_layers=3 keeps 2 blocks.
    assert "vit_model.visual.transformer.resblocks.2.attn.in_proj_weight" not in keys


def test_checkpoint_roundtrip_nothing_missing(tmp_path):
    source = _meter(32, 1)
    path = tmp_path / "meter.ckpt"
    heads = {"itm_score.fc.weight": torch.randn(2, 64), "mlm_score.bias": torch.zeros(10)}
    save_meter_checkpoint(source, path, extra=heads)
    target = _meter(32, 2)
    report = load_meter_checkpoint(target, path)
    assert report["interpolated"] is None
    assert report["ignored"] == sorted(heads)
    for key, value in source.state_dict().items():
        torch.testing.assert_close(target.state_dict()[key], value)


def test_checkpoint_position_interpolation(tmp_path):
    source = _meter(48, 1)  # 3 x 3 grid, as a 288-pixel checkpoint is 18 x 18
    path = tmp_path / "meter288.ckpt"
    save_meter_checkpoint(source, path)
    target = _meter(32, 2)  # 2 x 2 grid
    report = load_meter_checkpoint(target, path)
    assert "10 -> 5" in report["interpolated"]
    pos = target.state_dict()["vit_model.visual.positional_embedding"]
    ref = source.state_dict()["vit_model.visual.positional_embedding"]
    torch.testing.assert_close(pos[0], ref[0])
    torch.testing.assert_close(pos, interpolate_position_embedding(ref, 5))
    # Interpolating a grid to itself is the identity.
    torch.testing.assert_close(interpolate_position_embedding(ref, 10), ref, atol=1e-5, rtol=1e-5)


def test_missing_checkpoint_and_vocabulary_errors(tmp_path):
    cfg = {**TINY_MODELS["meter"], "checkpoint": str(tmp_path / "nope.ckpt")}
    with pytest.raises(WeightsNotFoundError, match="nope.ckpt"):
        build_model("meter", cfg)
    # A real checkpoint without RoBERTa's vocabulary available offline: say which files.
    path = tmp_path / "meter.ckpt"
    save_meter_checkpoint(_meter(32, 1), path)
    cfg = {**TINY_MODELS["meter"], "checkpoint": str(path), "tokenizer": str(tmp_path / "vocab")}
    with pytest.raises(WeightsNotFoundError, match="vocab.json"):
        build_model("meter", cfg, cache_dir=str(tmp_path / "cache"))


def _run(model, frames, texts, stream):
    from vlmbrain.models.capture import ANCapture

    with torch.inference_mode(), ANCapture(model.sites("cross")) as cap:
        model.run(images=frames, texts=texts, capture=cap)
        out = cap.pop()
    return torch.stack([out[(stream, layer)] for layer in range(model.streams[stream].n_layers)])


def test_fusion_sees_both_modalities():
    model = build_model("meter", TINY_MODELS["meter"], seed=0)
    rng = np.random.default_rng(0)
    frame_a, frame_b = (rng.integers(0, 255, (40, 40, 3), dtype=np.uint8) for _ in range(2))
    base = {s: _run(model, [frame_a], ["a dog on grass"], s) for s in model.streams}
    new_caption = {s: _run(model, [frame_a], ["a red car at night"], s) for s in model.streams}
    new_frame = {s: _run(model, [frame_b], ["a dog on grass"], s) for s in model.streams}
    for stream in ("fusion_image", "fusion_text"):
        assert not torch.allclose(base[stream], new_caption[stream], atol=1e-4)
        assert not torch.allclose(base[stream], new_frame[stream], atol=1e-4)
    torch.testing.assert_close(base["image"], new_caption["image"])
    torch.testing.assert_close(base["text"], new_frame["text"])
    # Padding does not change a caption's text or fusion ANs.
    batched = {
        s: _run(model, [frame_a, frame_b], ["a dog on grass", "a much longer caption about a dog"], s)
        for s in model.streams
    }
    for stream in model.streams:
        torch.testing.assert_close(batched[stream][:, :1], base[stream], atol=1e-5, rtol=1e-4)
