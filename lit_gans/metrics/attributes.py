"""Text-image consistency for captioned data with known attributes (``ShapesCaptions``): an attribute classifier
(a head per attribute: shape, colour, size, row, column) reads generated images, and each is scored on the
attributes its caption states.

    python cli.py classifier --data ShapesCaptions --output classifiers/shapes_captions.pt

``caption_consistency`` gives the accuracy per stated attribute and the all-correct rate (every stated attribute
right); real images with their captions are its upper bound, generated images scored against shuffled captions its
chance level. ``r_precision`` (Xu et al. 2018) asks the text encoder's image half instead: is the image's own caption
the most similar among ``pool``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lit_gans.errors import LitGansError
from lit_gans.metrics.classifier import conv_body, fit_one_cycle
from lit_gans.metrics.real_stats import describe_data
from lit_gans.saved_files import load_tagged, save_tagged

FORMAT = "lit_gans_attribute_classifier"


class AttributeClassifier(nn.Module):
    """``[N, C, H, W] -> {attribute: logits [N, K_attribute]}``: the small classifier's conv body, pooled to 4 x 4
    so that position survives, and one linear head per attribute."""

    def __init__(self, channels: int, heads: dict[str, int], width: int = 32, feature_dim: int = 128) -> None:
        super().__init__()
        self.body = conv_body(channels, width, feature_dim, pooled_size=4)
        self.heads = nn.ModuleDict({name: nn.Linear(feature_dim, k) for name, k in heads.items()})

    def forward(self, images: Tensor) -> dict[str, Tensor]:
        features = self.body(images)
        return {name: head(features) for name, head in self.heads.items()}

    @torch.no_grad()
    def predict(self, images: Tensor, batch: int = 500) -> Tensor:
        """``[N, A]`` predicted attribute indices, in the heads' order."""
        chunks = []
        for i in range(0, len(images), batch):
            logits = self(images[i : i + batch])
            chunks.append(torch.stack([logits[name].argmax(1) for name in self.heads], dim=1))
        return torch.cat(chunks)


def train_attribute_classifier(
    datamodule, epochs: int = 3, lr: float = 1e-3, width: int = 32, seed: int = 0
) -> tuple[AttributeClassifier, dict[str, Any]]:
    """Train on the (image, tokens, attributes, stated) items of ``datamodule`` (its ``attribute_classes`` name the
    heads); returns the model and its info, with each head's accuracy on the validation split."""
    heads = getattr(datamodule, "attribute_classes", None)
    if heads is None:
        raise LitGansError(f"{type(datamodule).__name__} has no attribute labels (e.g. ShapesCaptions has)")
    torch.manual_seed(seed)
    datamodule.setup("fit")
    model = AttributeClassifier(datamodule.data_shape[0], dict(heads), width)

    def loss_of(net: AttributeClassifier, batch) -> Tensor:  # batch: (images, tokens, attributes [N, A], stated)
        logits = net(batch[0])
        return sum(F.cross_entropy(logits[name], batch[2][:, i]) for i, name in enumerate(net.heads))

    fit_one_cycle(model, datamodule.train_dataloader(), epochs, lr, loss_of)
    model.eval().requires_grad_(False)
    images, _, attributes, _ = dataset_tensors(datamodule.val_set)
    correct = (model.predict(images) == attributes).float().mean(0)
    info = {
        "data_shape": list(datamodule.data_shape),
        "heads": dict(heads),
        "width": width,
        "feature_dim": 128,
        "trained_on": describe_data(datamodule),
        "epochs": epochs,
        "val_accuracy": {name: round(correct[i].item(), 4) for i, name in enumerate(model.heads)},
    }
    return model, info


def dataset_tensors(dataset, limit: int | None = None) -> tuple[Tensor, ...]:
    """The first ``limit`` items of a captioned dataset, stacked: ``(images, tokens[, attributes, stated])``."""
    n = len(dataset) if limit is None else min(limit, len(dataset))
    if hasattr(dataset, "get_batch"):
        return dataset.get_batch(torch.arange(n))
    items = [dataset[i] for i in range(n)]
    return tuple(torch.stack([item[k] for item in items]) for k in range(len(items[0])))


def caption_consistency(
    classifier: AttributeClassifier, images: Tensor, attributes: Tensor, stated: Tensor
) -> dict[str, float]:
    """For ``images [N, C, H, W]`` drawn from captions that state ``stated [N, A]`` of ``attributes [N, A]``: each
    attribute's accuracy over the images whose caption states it, and ``all_correct``, the share of images with
    every stated attribute right."""
    right = classifier.predict(images) == attributes.to(images.device)  # [N, A]
    stated = stated.to(images.device)
    scores = {
        f"{name}_accuracy": (right[:, i] & stated[:, i]).sum().item() / max(stated[:, i].sum().item(), 1)
        for i, name in enumerate(classifier.heads)
    }
    scores["all_correct"] = (right | ~stated).all(1).float().mean().item()
    return scores


@torch.no_grad()
def r_precision(matcher, images: Tensor, tokens: Tensor, pool: int = 100) -> float:
    """Image -> caption among ``pool``: the images in consecutive groups of ``pool``, each with its own caption and
    the group's other ``pool - 1``; the share of images whose own caption is the most similar (chance ``1 / pool``)."""
    n = len(images) - len(images) % pool
    if n == 0:
        raise LitGansError(f"R-precision needs at least {pool} images, got {len(images)}")
    image = torch.cat([matcher.embed_image(images[i : i + 500]) for i in range(0, n, 500)]).view(n // pool, pool, -1)
    text = torch.cat([matcher.embed_text(tokens[i : i + 500]) for i in range(0, n, 500)]).view(n // pool, pool, -1)
    retrieved = torch.einsum("gie,gje->gij", image, text).argmax(2)  # [groups, pool]: each image's best caption
    return (retrieved == torch.arange(pool, device=retrieved.device)).float().mean().item()


def save_attribute_classifier(model: AttributeClassifier, info: dict[str, Any], path: str | Path) -> Path:
    return save_tagged(path, FORMAT, info, model.state_dict())


def load_attribute_classifier(path: str | Path) -> tuple[AttributeClassifier, dict[str, Any]]:
    command = "cli.py classifier --data ShapesCaptions --output FILE"
    info, state = load_tagged(path, FORMAT, "attribute classifier", command)
    model = AttributeClassifier(info["data_shape"][0], info["heads"], info["width"], info["feature_dim"])
    model.load_state_dict(state)
    return model.eval().requires_grad_(False), info
