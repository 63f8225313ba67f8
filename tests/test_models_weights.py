"""Weights in every documented way, each from a checkpoint written here in its real format
(random values, tiny architectures): an open_clip checkpoint file, a transformers folder
(``save_pretrained``), a hub id read offline from a cache laid out as huggingface_hub lays
it out, the official METER ``.ckpt``, and RoBERTa's tokenizer from local files. Each load
fills every parameter of the model from the file (nothing missing, nothing unexpected but
the heads the encoders leave out), and the manifest and the provenance page name every
weight file with its sha256."""

import argparse
import hashlib
import os

import numpy as np
import pandas as pd
import pytest
import torch

from vlmbrain.models.extract import extract_activations
from vlmbrain.models.files import load_activations
from vlmbrain.models.meter import METER, save_meter_checkpoint
from vlmbrain.models.registry import build_model
from vlmbrain.report.provenance import weights_description

from tiny import TINY_MODELS

SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]  # RoBERTa's ids 0, 1, 2, 3, 4
TEXTS = ["a dog runs on the grass", "a red car at night", "two people talk in a kitchen"] * 20


def sha256(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def assert_same_weights(model, source):
    """Every tensor of ``model`` is the one of ``source`` (and no key is left out)."""
    got, want = model.state_dict(), source.state_dict()
    assert set(got) == set(want)
    for key, value in want.items():
        torch.testing.assert_close(got[key], value, rtol=0, atol=0, msg=key)


@pytest.fixture(scope="module")
def roberta_tokenizer(tmp_path_factory):
    """A byte-level BPE vocabulary (300 tokens, RoBERTa's special tokens first) trained
    here, in RoBERTa's files: vocab.json and merges.txt, and tokenizer.json and
    tokenizer_config.json as transformers saves them."""
    from tokenizers import ByteLevelBPETokenizer
    from transformers import RobertaTokenizer

    folder = tmp_path_factory.mktemp("roberta_tokenizer")
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(TEXTS, vocab_size=300, special_tokens=SPECIALS, show_progress=False)
    bpe.save_model(str(folder))
    tok = RobertaTokenizer(vocab=str(folder / "vocab.json"), merges=str(folder / "merges.txt"))
    tok.save_pretrained(str(folder))
    assert [tok.convert_tokens_to_ids(t) for t in SPECIALS] == [0, 1, 2, 3, 4] and len(tok) == 300
    return folder


@pytest.fixture(scope="module")
def roberta_vocab_files(tmp_path_factory, roberta_tokenizer):
    """The tokenizer as roberta-base's download has it without tokenizer.json: vocab.json,
    merges.txt and the model's config.json (which names the tokenizer's class)."""
    import shutil

    folder = tmp_path_factory.mktemp("roberta_vocab")
    for name in ("vocab.json", "merges.txt"):
        shutil.copy(roberta_tokenizer / name, folder / name)
    _tiny_roberta_config().save_pretrained(str(folder))
    return folder


def _tiny_roberta_config():
    from transformers import RobertaConfig

    return RobertaConfig(
        vocab_size=300, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=64, type_vocab_size=1,
        layer_norm_eps=1e-5, bos_token_id=0, eos_token_id=2, pad_token_id=1,
    )


def saved_roberta(folder, tokenizer_folder):
    """A RoBERTa pre-training checkpoint (encoder + masked-LM head) and its tokenizer,
    saved as the hub's roberta-base is; returns the encoder as it was saved."""
    import shutil

    from transformers import RobertaForMaskedLM

    torch.manual_seed(11)
    source = RobertaForMaskedLM(_tiny_roberta_config())
    source.save_pretrained(str(folder))
    for f in tokenizer_folder.iterdir():
        shutil.copy(f, folder / f.name)
    return source.roberta


def saved_vit(folder):
    """A ViT checkpoint (with its pooler, as google/vit-base-patch16-224-in21k) and its
    image processor; returns the model as saved."""
    from transformers import ViTConfig, ViTImageProcessor, ViTModel

    torch.manual_seed(12)
    config = ViTConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                       intermediate_size=64, image_size=32, patch_size=16)
    source = ViTModel(config, add_pooling_layer=True)
    source.save_pretrained(str(folder))
    ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(str(folder))
    return source


def _without(state, prefix):
    return {k: v for k, v in state.items() if not k.startswith(prefix)}


def _manifest(model, tmp_path):
    """Extract two TRs with ``model`` and read back the manifest its folder records."""
    table = pd.DataFrame({"run": ["r1", "r1"], "tr": [0, 1], "onset": [0.0, 1.0],
                          "condition": ["movie", "movie"], "caption": ["a dog", "a red car"]})
    frames = [np.random.default_rng(i).integers(0, 255, (40, 40, 3), dtype=np.uint8) for i in range(2)]
    extract_activations(model, table, iter(frames), tmp_path / "act", batch_size=2)
    return load_activations(tmp_path / "act")


def _assert_provenance(manifest, files):
    """The manifest lists exactly ``files`` with their sha256, and the provenance page says so."""
    recorded = {os.path.realpath(f["file"]): f["sha256"] for f in manifest["weights"]["files"]}
    assert recorded == {os.path.realpath(f): sha256(f) for f in files}
    text = weights_description(manifest)
    for f in manifest["weights"]["files"]:
        assert f"{f['file']} (sha256 {f['sha256']})" in text


# open_clip: ``pretrained`` given as a local checkpoint file


def _clip_source():
    cfg = {**TINY_MODELS["clip"], "pretrained": None}
    return build_model("clip", cfg, seed=21).module


@pytest.mark.parametrize("layout", ["safetensors", "training"])
def test_open_clip_local_checkpoint(layout, tmp_path):
    from safetensors.torch import save_file

    source = _clip_source()
    state = {k: v.detach().clone().contiguous() for k, v in source.state_dict().items()}
    if layout == "safetensors":  # as open_clip_model.safetensors on the hub
        path = tmp_path / "open_clip_model.safetensors"
        save_file(state, str(path))
    else:  # an open_clip training checkpoint (DistributedDataParallel prefixes)
        path = tmp_path / "epoch_2.pt"
        torch.save({"epoch": 2, "name": "tiny", "state_dict": {f"module.{k}": v for k, v in state.items()},
                    "optimizer": {"state": {}, "param_groups": [{"lr": 1e-4, "params": [0]}]}}, path)
    cfg = {**TINY_MODELS["clip"], "pretrained": str(path)}
    model = build_model("clip", cfg, seed=99)  # another seed: every tensor must come from the file
    assert_same_weights(model.module, source)
    assert model.weights["kind"] == "path" and not model.random_weights
    _assert_provenance(_manifest(model, tmp_path), [path])


def test_open_clip_checkpoint_that_does_not_fit_is_refused(tmp_path):
    state = dict(_clip_source().state_dict())
    state["visual.extra.weight"] = torch.zeros(2)
    del state["ln_final.bias"]
    path = tmp_path / "bad.pt"
    torch.save(state, path)
    with pytest.raises(ValueError) as err:
        build_model("clip", {**TINY_MODELS["clip"], "pretrained": str(path)})
    msg = str(err.value)
    assert str(path) in msg and "visual.extra.weight" in msg and "ln_final.bias" in msg


def test_pickled_objects_are_not_read(tmp_path):
    path = tmp_path / "pickled.pt"
    torch.save({"state_dict": dict(_clip_source().state_dict()), "args": argparse.Namespace(lr=1)}, path)
    with pytest.raises(ValueError, match="weights_only=True"):
        build_model("clip", {**TINY_MODELS["clip"], "pretrained": str(path)})


# transformers: a folder written by save_pretrained


def test_vit_folder(tmp_path):
    folder = tmp_path / "vit"
    source = saved_vit(folder)
    model = build_model("vit", {"family": "hf_vit", "name": str(folder), "pretrained": True}, seed=99)
    # nothing missing; the only key not loaded is the pooler, which the encoder leaves out
    assert model.weights["ignored_keys"] == ["pooler.dense.bias", "pooler.dense.weight"]
    torch.testing.assert_close(model.module.state_dict(), _without(source.state_dict(), "pooler."),
                               rtol=0, atol=0)
    _assert_provenance(_manifest(model, tmp_path), [folder / "model.safetensors"])


def test_roberta_folder_with_its_tokenizer(tmp_path, roberta_tokenizer):
    folder = tmp_path / "roberta"
    encoder = saved_roberta(folder, roberta_tokenizer)
    model = build_model("roberta", {"family": "hf_roberta", "name": str(folder), "pretrained": True}, seed=99)
    assert all(k.startswith("lm_head.") for k in model.weights["ignored_keys"])
    torch.testing.assert_close(model.module.state_dict(), encoder.state_dict(), rtol=0, atol=0)
    assert model.tokenizer["kind"] == "path" and not model.tokenizer["fallback"]
    ids = model.text_tok(["a dog runs"])["input_ids"][0].tolist()
    assert ids[0] == 0 and ids[-1] == 2 and max(ids) < 300 and len(ids) < 10  # BPE merges used
    _assert_provenance(_manifest(model, tmp_path), [folder / "model.safetensors"])


def test_folder_of_another_architecture_is_refused(tmp_path):
    from transformers import BertConfig, BertModel

    BertModel(BertConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                         intermediate_size=64, vocab_size=300)).save_pretrained(str(tmp_path / "bert"))
    cfg = {"family": "hf_vit", "name": str(tmp_path / "bert"), "pretrained": True}
    with pytest.raises(ValueError, match="missing key"):
        build_model("vit", cfg)


# a hub id resolved offline from extraction.cache_dir


def hub_cache(cache, repo_id, folder, revision="0123456789abcdef0123456789abcdef01234567"):
    """Lay ``folder``'s files out as huggingface_hub caches a download of ``repo_id``:
    ``models--org--name/blobs/<hash>`` (sha256 for weights, stored in LFS; git's blob sha1
    otherwise), ``snapshots/<revision>/<file>`` links to them and ``refs/main``."""
    repo = cache / ("models--" + repo_id.replace("/", "--"))
    (repo / "blobs").mkdir(parents=True)
    (repo / "snapshots" / revision).mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(revision)
    for f in sorted(folder.iterdir()):
        data = f.read_bytes()
        if f.suffix in (".safetensors", ".bin"):
            blob = hashlib.sha256(data).hexdigest()
        else:
            blob = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
        (repo / "blobs" / blob).write_bytes(data)
        os.symlink(os.path.join("..", "..", "blobs", blob), repo / "snapshots" / revision / f.name)
    return repo / "snapshots" / revision


@pytest.mark.parametrize("family", ["hf_roberta", "hf_vit"])
def test_hub_id_from_the_cache_offline(family, tmp_path, roberta_tokenizer, monkeypatch):
    from huggingface_hub import scan_cache_dir

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    cache = tmp_path / "cache"
    if family == "hf_roberta":
        encoder = saved_roberta(tmp_path / "files", roberta_tokenizer)
        want = encoder.state_dict()
    else:
        want = _without(saved_vit(tmp_path / "files").state_dict(), "pooler.")
    # as many hub repos do, the same weights also in the older format, which is not read
    torch.save({k: torch.zeros_like(v) for k, v in want.items()}, tmp_path / "files" / "pytorch_model.bin")
    snapshot = hub_cache(cache, "tiny-org/tiny-model", tmp_path / "files")
    info = scan_cache_dir(cache)  # huggingface_hub reads the layout as its own
    assert not info.warnings and [r.repo_id for r in info.repos] == ["tiny-org/tiny-model"]
    cfg = {"family": family, "name": "tiny-org/tiny-model", "pretrained": True}
    model = build_model("m", cfg, seed=99, cache_dir=str(cache), offline=True)
    torch.testing.assert_close(model.module.state_dict(), want, rtol=0, atol=0)
    w = model.weights
    assert w["kind"] == "hub" and w["tag"] == "tiny-org/tiny-model" and w["revision"] == snapshot.name
    if family == "hf_roberta":
        assert model.tokenizer["kind"] == "hub" and not model.tokenizer["fallback"]
    manifest = _manifest(model, tmp_path)
    _assert_provenance(manifest, [snapshot / "model.safetensors"])
    assert f"hub id tiny-org/tiny-model, revision {snapshot.name}" in weights_description(manifest)
    # the same id with nothing in the cache: the offline error names it and how to get it
    with pytest.raises(FileNotFoundError, match="huggingface-cli download tiny-org/other"):
        build_model("m", {**cfg, "name": "tiny-org/other"}, cache_dir=str(cache), offline=True)


# the official METER checkpoint, with RoBERTa's tokenizer from local files


@pytest.mark.parametrize("files", ["saved", "vocab_merges"])
def test_meter_checkpoint_with_local_tokenizer(files, tmp_path, roberta_tokenizer, roberta_vocab_files):
    tokenizer = roberta_tokenizer if files == "saved" else roberta_vocab_files
    arch = TINY_MODELS["meter"]["overrides"]
    torch.manual_seed(31)
    source = METER(image_size=32, **arch).eval()
    path = tmp_path / "meter_clip16_288_roberta_pretrain.ckpt"
    heads = {"itm_score.fc.weight": torch.randn(2, 32), "mlm_score.bias": torch.zeros(300)}
    save_meter_checkpoint(source, path, extra=heads)
    cfg = {**TINY_MODELS["meter"], "checkpoint": str(path), "tokenizer": str(tokenizer)}
    model = build_model("meter", cfg, seed=99)
    assert_same_weights(model.module, source)
    assert model.weights["ignored_keys"] == sorted(heads)
    tok = model.tokenizer
    assert tok["kind"] == "path" and not tok["fallback"] and "vocab.json" in tok["files"]
    ids = model.text_tok(["a dog runs"])["input_ids"][0].tolist()
    assert ids[0] == 0 and ids[-1] == 2 and max(ids) < 300
    _assert_provenance(_manifest(model, tmp_path), [path])


def test_meter_checkpoint_with_pickled_objects_is_not_read(tmp_path):
    source = METER(image_size=32, **TINY_MODELS["meter"]["overrides"])
    path = tmp_path / "pickled.ckpt"
    torch.save({"state_dict": source.state_dict(), "hparams": argparse.Namespace(lr=1)}, path)
    cfg = {**TINY_MODELS["meter"], "checkpoint": str(path)}
    with pytest.raises(ValueError, match="weights_only=True"):
        build_model("meter", cfg)
