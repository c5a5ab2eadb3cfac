"""Captions as token ids: the word-level ``Vocabulary`` that captioned datamodules, text encoders and the text-to-image
models share (id 0 pads, id 1 stands for a word the vocabulary does not know)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

import torch
from torch import Tensor

from lit_gans.errors import LitGansError

PAD, UNKNOWN = "<pad>", "<unk>"
WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def tokenize(caption: str) -> list[str]:
    """Lower-cased words: ``"A large red circle, top-left." -> [a, large, red, circle, top, left]``."""
    return WORD.findall(caption.lower())


class Vocabulary:
    """Words <-> ids. ``words[0]`` is ``<pad>``, ``words[1]`` ``<unk>``; the rest in the order given."""

    def __init__(self, words: Sequence[str]) -> None:
        words = list(words)
        if words[:2] != [PAD, UNKNOWN]:
            words = [PAD, UNKNOWN] + [w for w in words if w not in (PAD, UNKNOWN)]
        if len(set(words)) != len(words):
            raise LitGansError("a vocabulary lists each word once")
        self.words = words
        self.index = {word: i for i, word in enumerate(words)}

    @classmethod
    def from_captions(cls, captions: Iterable[str], min_count: int = 1) -> Vocabulary:
        """The words that occur at least ``min_count`` times, most frequent first (ties alphabetical)."""
        counts = Counter(word for caption in captions for word in tokenize(caption))
        kept = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
        if not kept:
            raise LitGansError("the captions hold no words: nothing to build a vocabulary from")
        return cls(kept)

    def __len__(self) -> int:
        return len(self.words)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocabulary) and self.words == other.words

    def encode(self, captions: Sequence[str], max_length: int) -> Tensor:
        """``[N, max_length]`` long ids, padded with 0 and cut after ``max_length`` words."""
        ids = torch.zeros(len(captions), max_length, dtype=torch.long)
        for row, caption in enumerate(captions):
            tokens = [self.index.get(word, 1) for word in tokenize(caption)][:max_length]
            ids[row, : len(tokens)] = torch.tensor(tokens, dtype=torch.long)
        return ids

    def decode(self, ids: Tensor) -> list[str]:
        """``[N, L]`` ids -> the captions, pads dropped."""
        return [" ".join(self.words[i] for i in row.tolist() if i != 0) for row in ids]
