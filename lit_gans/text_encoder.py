"""The text encoder of the text-to-image models, trained in-project (``python cli.py text-encoder``).

StackGAN conditions on a frozen, pre-trained caption embedding (Reed et al. 2016's char-CNN-RNN, trained to match
images). Here a caption encoder (``rnn``: a bidirectional GRU over words; ``bow``: a bag of words, the ablation)
and an image encoder are trained together with ``losses.symmetric_contrastive_loss`` on a captioned datamodule,
then saved; the text-to-image models load the text half frozen, and the metrics use both halves (R-precision).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lit_gans.errors import LitGansError
from lit_gans.losses import symmetric_contrastive_loss
from lit_gans.networks.text import TEXT_ENCODERS, MatchingImageEncoder, TextEncoderKind
from lit_gans.saved_files import load_tagged, save_tagged
from lit_gans.text import Vocabulary

FORMAT = "lit_gans_text_encoder"


class TextImageMatcher(nn.Module):
    """A caption encoder and an image encoder into one ``embedding_dim``-space. ``embed_text`` and ``embed_image``
    return unit-direction embeddings scaled by ``sqrt(embedding_dim)`` (entries of order 1)."""

    def __init__(
        self,
        vocabulary: list[str],
        kind: TextEncoderKind = "rnn",
        embedding_dim: int = 128,
        channels: int = 3,
        word_dim: int = 64,
        hidden_dim: int = 128,
        image_width: int = 32,
    ) -> None:
        super().__init__()
        if kind not in TEXT_ENCODERS:
            raise LitGansError(f"text encoder kind must be one of {', '.join(TEXT_ENCODERS)}, got {kind!r}")
        self.vocabulary = Vocabulary(vocabulary)
        self.config = {
            "vocabulary": self.vocabulary.words,
            "kind": kind,
            "embedding_dim": embedding_dim,
            "channels": channels,
            "word_dim": word_dim,
            "hidden_dim": hidden_dim,
            "image_width": image_width,
        }
        self.embedding_dim = embedding_dim
        self.text = TEXT_ENCODERS[kind](len(self.vocabulary), embedding_dim, word_dim, hidden_dim)
        self.image = MatchingImageEncoder(channels, embedding_dim, image_width)

    def embed_text(self, tokens: Tensor) -> Tensor:
        return F.normalize(self.text(tokens), dim=1) * math.sqrt(self.embedding_dim)  # [N, E]

    def embed_image(self, images: Tensor) -> Tensor:
        return F.normalize(self.image(images), dim=1) * math.sqrt(self.embedding_dim)  # [N, E]


def fit_matcher(
    matcher: TextImageMatcher, batches: Iterable, steps: int, lr: float = 2e-3, temperature: float = 0.1
) -> int:
    """Train ``matcher`` on up to ``steps`` batches ``(images, tokens, ...)`` with Adam (a one-cycle schedule to
    ``lr``); returns the steps taken. The matcher is left frozen, in eval mode."""
    optimizer = torch.optim.Adam(matcher.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=max(steps, 1))
    matcher.train().requires_grad_(True)
    step = 0
    for batch in batches:
        if step >= steps:
            break
        images, tokens = batch[0], batch[1]
        text, image = matcher.text(tokens), matcher.image(images)
        loss = symmetric_contrastive_loss(text, image, temperature, same_caption(tokens))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        step += 1
    matcher.eval().requires_grad_(False)
    return step


def same_caption(tokens: Tensor) -> Tensor:
    """``[B, B]`` bool: captions ``i`` and ``j`` have the same words (each matches the other's image)."""
    return (tokens[:, None, :] == tokens[None, :, :]).all(-1)


def train_text_encoder(
    datamodule,
    kind: TextEncoderKind = "rnn",
    epochs: int = 1,
    lr: float = 2e-3,
    embedding_dim: int = 128,
    temperature: float = 0.1,
    seed: int = 0,
    max_steps: int | None = None,
) -> tuple[TextImageMatcher, dict[str, Any]]:
    """Train a ``TextImageMatcher`` on ``datamodule``'s (image, caption) pairs for ``epochs`` passes (or
    ``max_steps`` batches); returns it (eval mode) and its info, with the retrieval accuracy on the validation
    split (``retrieval_accuracy``)."""
    vocabulary = getattr(datamodule, "vocabulary", None)
    if vocabulary is None:
        raise LitGansError(
            f"{type(datamodule).__name__} has no captions: pass a captioned datamodule, e.g. ShapesCaptions"
        )
    torch.manual_seed(seed)
    datamodule.setup("fit")
    matcher = TextImageMatcher(vocabulary, kind, embedding_dim, channels=datamodule.data_shape[0])
    loader = datamodule.train_dataloader()
    total = epochs * len(loader) if max_steps is None else min(max_steps, epochs * len(loader))

    def batches():
        for epoch in range(epochs):
            if hasattr(loader.sampler, "set_epoch"):
                loader.sampler.set_epoch(epoch)
            yield from loader

    started = time.process_time()
    step = fit_matcher(matcher, batches(), total, lr, temperature)
    info = {
        "steps": step,
        "cpu_seconds": round(time.process_time() - started, 1),
        "trained_on": f"{type(datamodule).__name__}({len(datamodule.train_set)} pairs)",
        "retrieval": retrieval_accuracy(matcher, datamodule.val_set),
    }
    return matcher, info


@torch.no_grad()
def retrieval_accuracy(matcher: TextImageMatcher, dataset, pool: int = 100) -> dict[str, float]:
    """Caption -> image among ``pool``: the dataset's items in consecutive groups of ``pool`` (image, caption) pairs;
    for each caption the most similar image of its group is retrieved. ``top1``: it is the caption's own image
    (chance ``1 / pool``); ``consistent`` (datasets with attributes): it agrees with the caption on every
    attribute the caption states (a caption that leaves attributes out fits several images)."""
    items = [dataset[i] for i in range(len(dataset) - len(dataset) % pool)]
    if not items:
        raise LitGansError(f"retrieval needs at least {pool} validation pairs, got {len(dataset)}")
    images, tokens = torch.stack([item[0] for item in items]), torch.stack([item[1] for item in items])
    text, image = embed_in_batches(matcher, images, tokens)
    groups = len(items) // pool
    similarity = torch.einsum("gie,gje->gij", text.view(groups, pool, -1), image.view(groups, pool, -1))
    retrieved = similarity.argmax(2)  # [groups, pool]: the image each caption retrieves
    own = torch.arange(pool).expand(groups, pool)
    result = {"pool": pool, "top1": (retrieved == own).float().mean().item()}
    if len(items[0]) >= 4:  # (image, tokens, attributes, stated)
        attributes = torch.stack([item[2] for item in items]).view(groups, pool, -1)
        stated = torch.stack([item[3] for item in items]).view(groups, pool, -1)
        got = torch.gather(attributes, 1, retrieved[:, :, None].expand_as(attributes))
        result["consistent"] = ((got == attributes) | ~stated).all(2).float().mean().item()
    return result


def embed_in_batches(matcher: TextImageMatcher, images: Tensor, tokens: Tensor, batch: int = 500):
    text = torch.cat([matcher.embed_text(tokens[i : i + batch]) for i in range(0, len(tokens), batch)])
    image = torch.cat([matcher.embed_image(images[i : i + batch]) for i in range(0, len(images), batch)])
    return text, image


def save_text_encoder(matcher: TextImageMatcher, info: dict[str, Any], path: str | Path) -> Path:
    return save_tagged(path, FORMAT, {"config": matcher.config, **info}, matcher.state_dict())


def load_text_encoder(path: str | Path) -> tuple[TextImageMatcher, dict[str, Any]]:
    info, state = load_tagged(
        path, FORMAT, "text encoder file", "cli.py text-encoder --data ShapesCaptions --output FILE"
    )
    matcher = TextImageMatcher(**info["config"])
    matcher.load_state_dict(state)
    return matcher.eval().requires_grad_(False), info
