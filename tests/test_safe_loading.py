"""Checkpoints are read safely and refused clearly.

Every weights file is read with ``torch.load(weights_only=True)`` or safetensors, never in
full: a file holding any pickled object besides tensors is refused, naming the file, and
what it would have run never runs. A file that is not a METER checkpoint says so; a
checkpoint of another architecture names the file and summarises the mismatch (counts and
the first keys), with every key in the log. The checkpoints are real: ``torch.save`` of a
real METER state dict.
"""

import logging
import pathlib

import pytest
import torch
from safetensors.torch import save_file

from vlmbrain.models.meter import METER, SHOWN_KEYS, load_meter_checkpoint, save_meter_checkpoint
from vlmbrain.models.registry import build_model
from vlmbrain.models.weights import CheckpointError, read_weights

from tiny import TINY_MODELS

ARCH = TINY_MODELS["meter"]["overrides"]


def _meter(seed=0, **arch):
    torch.manual_seed(seed)
    return METER(image_size=32, **{**ARCH, **arch}).eval()


def _state(seed=0, **arch):
    return {k: v.clone() for k, v in _meter(seed, **arch).state_dict().items()}


class Payload:
    """An object whose unpickling touches ``marker``: what a malicious checkpoint could
    run instead (any callable with any arguments)."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.touch, (pathlib.Path(self.marker),))


def test_a_pickled_object_is_refused_and_never_run(tmp_path):
    marker = tmp_path / "payload-ran"
    path = tmp_path / "meter_lightning.ckpt"
    torch.save({"state_dict": _state(), "callbacks": Payload(marker)}, path)
    # the payload is real: loading the file in full would run it
    torch.load(path, weights_only=False)
    assert marker.exists()
    marker.unlink()
    model = _meter(1)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(CheckpointError) as err:
        load_meter_checkpoint(model, path)
    message = str(err.value)
    assert message.startswith(f"{path}: holds pickled Python objects besides tensors (the first")
    assert "is not loaded" in message and "weights_only=True" in message
    assert "Save its weights alone" in message
    assert not marker.exists()  # never unpickled
    for key, value in model.state_dict().items():  # and nothing was loaded
        torch.testing.assert_close(value, before[key])


def test_the_model_build_refuses_it_too(tmp_path):
    """Through the registry (the activations job's path), for METER and for an
    open_clip checkpoint given as a local file."""
    marker = tmp_path / "payload-ran"
    meter = tmp_path / "meter.ckpt"
    torch.save({"state_dict": _state(), "hyper_parameters": Payload(marker)}, meter)
    with pytest.raises(CheckpointError, match=rf"^{meter}: holds pickled Python objects"):
        build_model("meter", {**TINY_MODELS["meter"], "checkpoint": str(meter)})
    clip = tmp_path / "clip.pt"
    torch.save({"visual.proj": torch.zeros(2), "extra": Payload(marker)}, clip)
    cfg = {"family": "open_clip", "architecture": "ViT-B-16", "pretrained": str(clip)}
    with pytest.raises(CheckpointError, match=rf"^{clip}: holds pickled Python objects"):
        build_model("clip", cfg)
    assert not marker.exists()


def test_official_layout_bare_state_dict_and_safetensors_load(tmp_path):
    source = _state(1)
    files = {
        "official": tmp_path / "official.ckpt",  # Lightning: {"state_dict": ...}
        "bare": tmp_path / "bare.pt",  # the state dict alone
        "safetensors": tmp_path / "meter.safetensors",
    }
    save_meter_checkpoint(_meter(1), files["official"])
    torch.save(source, files["bare"])
    save_file({k: v.contiguous() for k, v in source.items()}, str(files["safetensors"]))
    for path in files.values():
        target = _meter(2)
        load_meter_checkpoint(target, path)
        for key, value in source.items():
            torch.testing.assert_close(target.state_dict()[key], value)


@pytest.mark.parametrize(
    "content, fault",
    [
        ("text", "not a PyTorch checkpoint torch can read"),
        ("empty", "not a PyTorch checkpoint torch can read"),
        ("tensor", "not a METER checkpoint: it holds a Tensor, not a mapping with a state_dict"),
        ("list_state", "not a METER checkpoint: its state_dict is a list, not a mapping of tensors"),
        ("nested", "not a METER checkpoint: a mapping without state_dict whose 2 keys (first: "
                   "model, epoch) are not METER weights"),
        ("clip_keys", "not a METER checkpoint: a mapping without state_dict whose 2 keys (first: "
                      "visual.proj, logit_scale) are not METER weights"),
        ("foreign_state", "not a METER checkpoint: none of the 2 keys of its state dict (first: "
                          "visual.proj, logit_scale) names a METER module"),
        ("bad_safetensors", "not a readable safetensors file"),
    ],
)
def test_a_file_that_is_not_a_meter_checkpoint_says_so(tmp_path, content, fault):
    clip = {"visual.proj": torch.zeros(4, 2), "logit_scale": torch.zeros(())}
    path = tmp_path / ("x.safetensors" if content == "bad_safetensors" else "x.ckpt")
    if content in ("text", "bad_safetensors"):
        path.write_text("not weights\n")
    elif content == "empty":
        path.write_bytes(b"")
    else:
        obj = {
            "tensor": torch.zeros(3),
            "list_state": {"state_dict": [torch.zeros(3)]},
            # a dict without state_dict is not taken as the state dict
            "nested": {"model": _state(), "epoch": 3},
            "clip_keys": clip,
            "foreign_state": {"state_dict": clip},
        }[content]
        torch.save(obj, path)
    with pytest.raises(CheckpointError) as err:
        load_meter_checkpoint(_meter(), path)
    assert str(err.value).startswith(f"{path}: {fault}"), str(err.value)


def test_a_mismatch_names_the_file_and_summarises_with_every_key_in_the_log(tmp_path, caplog):
    """A checkpoint of another size: the message gives the counts and the first keys of
    each kind; the log has all of them."""
    state = _state(1, text_layers=3)  # one text layer more: 16 unexpected keys
    del state["cross_modal_text_pooler.dense.bias"]
    state["token_type_embeddings.weight"] = torch.zeros(3, 32)
    path = tmp_path / "other.ckpt"
    torch.save({"state_dict": state}, path)
    with caplog.at_level(logging.ERROR, logger="vlmbrain"):
        with pytest.raises(CheckpointError) as err:
            load_meter_checkpoint(_meter(2), path, key="meter")
    message = str(err.value)
    unexpected = sorted(k for k in state if k.startswith("text_transformer.encoder.layer.2."))
    assert len(unexpected) == 16
    assert message.startswith(
        f"{path}: METER checkpoint does not match the rebuilt architecture "
        "(1 missing, 16 unexpected, 1 shape mismatch key(s); "
    )
    assert "missing: cross_modal_text_pooler.dense.bias." in message
    assert "unexpected: " + "; ".join(unexpected[:SHOWN_KEYS]) + " and 11 more." in message
    assert "token_type_embeddings.weight: checkpoint (3, 32), model (2, 32)" in message
    assert "models.meter.overrides" in message and "full lists are in this job's log" in message
    assert unexpected[-1] not in message  # a summary, not the list
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for key in unexpected:
        assert f"{path}: unexpected key: {key}" in logged
    assert f"{path}: missing key: cross_modal_text_pooler.dense.bias" in logged


def test_read_weights_maps_large_files_and_reads_legacy_ones(tmp_path):
    new, legacy = tmp_path / "new.pt", tmp_path / "legacy.pt"
    torch.save({"a": torch.arange(4.0)}, new)
    torch.save({"a": torch.arange(4.0)}, legacy, _use_new_zipfile_serialization=False)
    for path in (new, legacy):
        torch.testing.assert_close(read_weights(path, mmap=True)["a"], torch.arange(4.0))
