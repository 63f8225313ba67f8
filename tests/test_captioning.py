"""Optional captioning rule: a tiny randomly initialised captioning model, end to end."""

import numpy as np
import pytest

from vlmbrain.io import read_tsv
from vlmbrain.stimuli.captioning import Captioner, caption_run, merge_captions


@pytest.fixture(scope="module")
def tiny_captioner(tmp_path_factory):
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import (
        GPT2Config,
        PreTrainedTokenizerFast,
        ViTConfig,
        ViTImageProcessor,
        VisionEncoderDecoderConfig,
        VisionEncoderDecoderModel,
    )

    folder = tmp_path_factory.mktemp("captioner")
    words = ["<pad>", "<s>", "</s>", "<unk>", "a", "dog", "cat", "runs", "on", "grass", "red", "car"]
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="<pad>", bos_token="<s>", eos_token="</s>", unk_token="<unk>"
    )
    fast.save_pretrained(folder)
    ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(folder)
    enc = ViTConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
                    image_size=32, patch_size=16)
    dec = GPT2Config(vocab_size=len(words), n_embd=32, n_layer=1, n_head=2, n_positions=64,
                     bos_token_id=1, eos_token_id=2, pad_token_id=0)
    config = VisionEncoderDecoderConfig.from_encoder_decoder_configs(enc, dec)
    config.decoder_start_token_id, config.pad_token_id, config.eos_token_id = 1, 0, 2
    torch.manual_seed(0)
    VisionEncoderDecoderModel(config=config).save_pretrained(folder)
    return str(folder)


def test_caption_run_writes_table(tiny_captioner, tmp_path):
    from vlmbrain.stimuli.video import write_video

    rng = np.random.default_rng(0)
    video = tmp_path / "run1.mp4"
    frames = [np.full((32, 32, 3), v, np.uint8) for v in [0] * 8 + [255] * 8] + [
        rng.integers(0, 255, (32, 32, 3), dtype=np.uint8) for _ in range(8)
    ]
    write_video(video, frames, fps=4)  # 6 s
    out = tmp_path / "captions.tsv"
    table = caption_run(out, tiny_captioner, video=str(video), interval=1.0, max_new_tokens=5)
    again = read_tsv(out)
    assert list(again.columns) == ["onset", "duration", "text"]
    assert again["duration"].sum() == pytest.approx(6.0) and again["onset"].iloc[0] == 0
    assert table["text"].tolist() == caption_run(tmp_path / "b.tsv", tiny_captioner, video=str(video),
                                                 interval=1.0, max_new_tokens=5)["text"].tolist()
    assert all(set(t.split()) <= {"a", "dog", "cat", "runs", "on", "grass", "red", "car"} for t in table["text"])


def test_merge_captions():
    table = merge_captions(np.array([0.0, 2.0, 4.0, 6.0]), ["a", "a", "b", "a"], 2.0)
    assert table.to_dict("list") == {"onset": [0.0, 4.0, 6.0], "duration": [4.0, 2.0, 2.0], "text": ["a", "b", "a"]}


def test_missing_model_says_how(tmp_path):
    with pytest.raises(FileNotFoundError, match="huggingface-cli download"):
        Captioner(str(tmp_path / "none"))
