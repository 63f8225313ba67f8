"""AN extraction: output layout, AN ids, rest rows, modality independence, readers."""

import numpy as np
import pandas as pd
import pytest

from vlmbrain.io import read_tsv
from vlmbrain.models.extract import extract_activations
from vlmbrain.models.files import load_activations, load_layer
from vlmbrain.models.jobs import activations
from vlmbrain.models.registry import build_model

from tiny import TINY_MODELS


def _table(captions):
    n = len(captions)
    condition = ["rest" if c is None else "movie" for c in captions]
    return pd.DataFrame(
        {
            "run": ["run1"] * (n // 2) + ["run2"] * (n - n // 2),
            "tr": np.arange(n),
            "onset": np.arange(n, dtype=float),
            "condition": condition,
            "caption": ["" if c is None else c for c in captions],
        }
    )


CAPTIONS = [None, "a dog", "a dog", "", "a cat on a mat", None, "a red car", "a red car"]


def _frames(n, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.integers(0, 255, (36, 44, 3), dtype=np.uint8) for _ in range(n)]


def _extract(key, tmp_path, captions=CAPTIONS, frames=None, name="out", **kw):
    model = build_model(key, TINY_MODELS[key], seed=0)
    frames = _frames(len(captions)) if frames is None else frames
    out = tmp_path / name
    manifest = extract_activations(model, _table(captions), iter(frames), out, batch_size=3, **kw)
    return model, out, manifest


@pytest.mark.parametrize("key", ["clip", "meter", "vit", "roberta"])
def test_layout_and_an_counts(key, tmp_path):
    model, out, manifest = _extract(key, tmp_path)
    assert load_activations(out) == manifest
    assert manifest["random_weights"] and manifest["weights"] == {
        "kind": "random",
        "seed": 0,
        "description": "random weights, seed 0",
    }
    assert manifest["n_trs"] == len(CAPTIONS)
    rest = np.array([c is None for c in CAPTIONS])
    for stream, info in model.streams.items():
        assert manifest["streams"][stream]["n_layers"] == info.n_layers
        ans = read_tsv(out / stream / "ans.tsv")
        assert len(ans) == info.n_layers * info.n_heads * info.head_dim
        first = ans[ans["layer"] == 0]
        np.testing.assert_array_equal(first["column"], first["head"] * info.head_dim + first["dim"])
        for layer in range(info.n_layers):
            x = load_layer(out, stream, layer)
            assert isinstance(x, np.memmap) and x.dtype == np.float32
            assert x.shape == (len(CAPTIONS), info.n_heads * info.head_dim)
            assert not x[rest].any() and np.abs(x[~rest]).sum(axis=1).min() > 0
    if "text" in model.streams:  # same caption, same text ANs
        x = load_layer(out, "text", 0)
        np.testing.assert_array_equal(x[1], x[2])
        assert not np.allclose(x[1], x[4])
    assert not list(tmp_path.glob(".*"))  # no temporary folder left behind


def test_clip_image_ans_ignore_captions_and_rerun_is_identical(tmp_path):
    _, a, _ = _extract("clip", tmp_path, name="a")
    other = [None if c is None else f"{c} in the rain" for c in CAPTIONS]
    _, b, _ = _extract("clip", tmp_path, captions=other, name="b")
    _, c, _ = _extract("clip", tmp_path, name="c")
    for layer in range(2):
        np.testing.assert_array_equal(load_layer(a, "image", layer), load_layer(b, "image", layer))
        np.testing.assert_array_equal(load_layer(a, "text", layer), load_layer(c, "text", layer))
        assert not np.allclose(load_layer(a, "text", layer)[1], load_layer(b, "text", layer)[1])


def test_an_settings_change_outputs(tmp_path):
    _, a, _ = _extract("meter", tmp_path, name="a")
    _, b, m = _extract("meter", tmp_path, name="b", fusion_attention="self", pooling="cls", tensor="value")
    assert m["an"] == {"tensor": "value", "pooling": "cls", "fusion_attention": "self"}
    assert not np.allclose(load_layer(a, "fusion_text", 0), load_layer(b, "fusion_text", 0))


def test_load_layer_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="manifest.json"):
        load_activations(tmp_path)
    _, out, _ = _extract("vit", tmp_path)
    with pytest.raises(FileNotFoundError, match="no stream 'text'"):
        load_layer(out, "text", 0)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "manifest.json").write_text('{"streams": {"image": {"n_layers": 0}}}')
    with pytest.raises(ValueError, match="stream 'image' has no `n_layers` >= 1"):
        load_activations(bad)


def test_activations_job_from_stimulus_tables(tmp_path):
    from vlmbrain.stimuli.video import write_video

    video = tmp_path / "run1.mp4"
    write_video(video, _frames(24), fps=4)
    table = _table([None, "a dog", "a dog", "a cat"] + [None, "a car"])
    table["clip"] = ""
    table["validation"] = False
    table["frame_source"] = str(video)
    table["frame_time"] = table["onset"] + 0.5
    path = tmp_path / "run1.tsv"
    table.to_csv(path, sep="\t", index=False)
    out = tmp_path / "vit"
    manifest = activations(model="vit", model_config=TINY_MODELS["vit"], tables=[path],
                           activations=out, frames_per_tr=2, device="cpu", batch_size=2)
    assert manifest["stimulus_sha256"] and manifest["frames_per_tr"] == 2
    assert manifest["settings"]["family"] == "hf_vit"
    x = load_layer(out, "image", 1)
    assert x.shape == (6, 32) and not x[[0, 4]].any() and (np.abs(x[[1, 2, 3, 5]]).sum(1) > 0).all()
