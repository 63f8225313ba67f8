"""Tokenizers for the text towers, with an offline fallback for random-weight runs.

RoBERTa's and BERT's vocabularies come with their weights (the hub snapshot). A run
with random weights and no vocabulary available uses :class:`FallbackTokenizer`: CLIP's
byte-level BPE, which ships inside open_clip, with its ids shifted past the model's
special tokens and folded into the model's vocabulary. Token identities mean nothing
to random weights, so this changes no conclusion; the manifest records it.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch

log = logging.getLogger("vlmbrain")

# Files of a tokenizer saved with ``save_pretrained`` (whichever of them a folder has),
# hashed into the manifest when the tokenizer is read from a local folder.
TOKENIZER_FILES = (
    "tokenizer.json",
    "vocab.json",
    "merges.txt",
    "vocab.txt",
    "tokenizer_config.json",
    "special_tokens_map.json",
)


class FallbackTokenizer:
    """CLIP BPE ids mapped into a BERT-style vocabulary: ``[bos] ids [eos]`` + padding.

    Parameters
    ----------
    vocab_size : int
        Size of the model's vocabulary.
    bos, eos, pad : int
        Special token ids of the model.
    max_length : int
        Longest sequence, special tokens included.
    """

    name = "fallback: open_clip SimpleTokenizer BPE folded into the model vocabulary"

    def __init__(self, vocab_size, bos, eos, pad, max_length=64):
        from open_clip.tokenizer import SimpleTokenizer

        self.bpe = SimpleTokenizer()
        self.vocab_size, self.bos, self.eos, self.pad = int(vocab_size), bos, eos, pad
        self.max_length = int(max_length)
        self.offset = max(bos, eos, pad) + 1
        if self.offset >= self.vocab_size:
            raise ValueError(f"vocabulary of {vocab_size} is too small for the fallback tokenizer")

    def encode(self, text):
        """Token ids of one text, special tokens included."""
        span = self.vocab_size - self.offset
        ids = [self.offset + (i % span) for i in self.bpe.encode(text)]
        return [self.bos] + ids[: self.max_length - 2] + [self.eos]

    def __call__(self, texts):
        """``{"input_ids", "attention_mask"}`` LongTensors, padded to the longest text."""
        encoded = [self.encode(t) for t in texts]
        width = max(len(e) for e in encoded)
        ids = torch.full((len(encoded), width), self.pad, dtype=torch.long)
        mask = torch.zeros((len(encoded), width), dtype=torch.long)
        for i, e in enumerate(encoded):
            ids[i, : len(e)] = torch.tensor(e)
            mask[i, : len(e)] = 1
        return {"input_ids": ids, "attention_mask": mask}


class HFTokenizer:
    """A transformers tokenizer returning padded ``input_ids`` and ``attention_mask``."""

    def __init__(self, tokenizer, max_length):
        self.tokenizer = tokenizer
        self.max_length = int(max_length)
        self.name = getattr(tokenizer, "name_or_path", type(tokenizer).__name__)

    def __call__(self, texts):
        """``{"input_ids", "attention_mask"}`` LongTensors, padded to the longest text."""
        enc = self.tokenizer(
            list(texts),
            padding=True,
            truncation=True,
            max_length=self.max_length,
            return_tensors="pt",
        )
        return {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}


def text_tokenizer(name, *, random, vocab_size, specials, max_length, cache_dir=None, offline=True):
    """The tokenizer of a transformers text model, or the fallback for random weights.

    Parameters
    ----------
    name : str
        Hub id or local folder of the tokenizer (usually the model's).
    random : bool
        The model has random weights (the fallback is then allowed).
    vocab_size : int
        The model's vocabulary size.
    specials : tuple of int
        ``(bos, eos, pad)`` ids for the fallback.
    max_length : int
        Truncation length.
    cache_dir : str, optional
        Hugging Face cache folder.
    offline : bool
        Use only local files.

    Returns
    -------
    tokenizer, dict
        A callable ``texts -> {"input_ids", "attention_mask"}`` and its manifest entry.

    Raises
    ------
    WeightsNotFoundError
        When the vocabulary is missing and the weights are pretrained.
    """
    from transformers import AutoTokenizer

    from vlmbrain.models.weights import not_found, sha256_files

    try:
        tok = AutoTokenizer.from_pretrained(name, cache_dir=cache_dir, local_files_only=offline)
        if len(tok) > vocab_size:
            raise ValueError(f"tokenizer {name} has {len(tok)} tokens, model only {vocab_size}")
        entry = {"kind": "hub", "name": name, "fallback": False}
        if Path(name).is_dir():
            files = sorted(p for p in Path(name).iterdir() if p.name in TOKENIZER_FILES)
            entry.update(kind="path", files=[p.name for p in files], sha256=sha256_files(files))
        return HFTokenizer(tok, max_length), entry
    except (OSError, ValueError) as err:
        if not random:
            raise not_found(
                "text",
                f"tokenizer of {name!r}",
                f"tokenizer files (tokenizer.json or vocab.json + merges.txt) of {name!r} in the "
                f"Hugging Face cache {cache_dir or '(default)'} or in the folder {name!r}",
                "Download them once with `huggingface-cli download "
                f"{name}` (with extraction.cache_dir as --cache-dir) on a machine with internet.",
            ) from err
        log.warning("tokenizer %s not available (%s); using the fallback tokenizer", name, err)
        bos, eos, pad = specials
        fallback = FallbackTokenizer(vocab_size, bos, eos, pad, max_length)
        entry = {"kind": "fallback", "name": fallback.name, "requested": name, "fallback": True}
        return fallback, entry
