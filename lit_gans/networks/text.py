"""Text and image encoders for text-to-image models: captions ``tokens [N, L]`` (0 pads) and images ``[N, C, H, W]``
to embeddings ``[N, E]`` trained to match (Reed et al. 2016's joint embedding; ``lit_gans.text_encoder``)."""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence

TextEncoderKind = Literal["rnn", "bow"]


def caption_lengths(tokens: Tensor) -> Tensor:
    """Words before the padding, at least 1 (an empty caption reads as one pad)."""
    return (tokens != 0).sum(1).clamp(min=1)


class RecurrentTextEncoder(nn.Module):
    """Word embeddings -> a bidirectional GRU over the caption's words -> both directions' last states -> linear:
    ``tokens [N, L] -> [N, output_dim]``."""

    def __init__(self, vocab_size: int, output_dim: int = 128, word_dim: int = 64, hidden_dim: int = 128) -> None:
        super().__init__()
        self.words = nn.Embedding(vocab_size, word_dim, padding_idx=0)
        self.rnn = nn.GRU(word_dim, hidden_dim, batch_first=True, bidirectional=True)
        self.out = nn.Linear(2 * hidden_dim, output_dim)

    def forward(self, tokens: Tensor) -> Tensor:
        lengths = caption_lengths(tokens).cpu()
        packed = pack_padded_sequence(self.words(tokens), lengths, batch_first=True, enforce_sorted=False)
        _, last = self.rnn(packed)  # [2, N, hidden]: the forward pass's last word, the backward pass's first
        return self.out(torch.cat([last[0], last[1]], dim=1))


class BagOfWordsTextEncoder(nn.Module):
    """The ablation: the mean of the caption's word embeddings (order ignored) -> MLP: ``[N, L] -> [N, output_dim]``."""

    def __init__(self, vocab_size: int, output_dim: int = 128, word_dim: int = 64, hidden_dim: int = 128) -> None:
        super().__init__()
        self.words = nn.Embedding(vocab_size, word_dim, padding_idx=0)
        self.out = nn.Sequential(nn.Linear(word_dim, hidden_dim), nn.ReLU(), nn.Linear(hidden_dim, output_dim))

    def forward(self, tokens: Tensor) -> Tensor:
        mask = (tokens != 0).float()[:, :, None]  # [N, L, 1]
        mean = (self.words(tokens) * mask).sum(1) / caption_lengths(tokens)[:, None].float()
        return self.out(mean)


class MatchingImageEncoder(nn.Module):
    """Four stride-2 convolutions (LeakyReLU 0.2), global average pooling and a linear layer:
    ``[N, C, H, W] -> [N, output_dim]``, any ``H, W >= 16``."""

    def __init__(self, channels: int = 3, output_dim: int = 128, width: int = 32) -> None:
        super().__init__()
        layers, c_in = [], channels
        for c_out in (width, 2 * width, 4 * width, 4 * width):
            layers += [nn.Conv2d(c_in, c_out, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True)]
            c_in = c_out
        self.body = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.out = nn.Linear(c_in, output_dim)

    def forward(self, images: Tensor) -> Tensor:
        return self.out(self.body(images))


TEXT_ENCODERS: dict[str, type[nn.Module]] = {"rnn": RecurrentTextEncoder, "bow": BagOfWordsTextEncoder}
