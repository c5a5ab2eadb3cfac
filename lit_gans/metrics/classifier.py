"""A small dataset classifier, the download-free feature extractor for FID/IS on MNIST, Shapes or any labelled
image datamodule (``python cli.py classifier --data MNIST ... --output classifiers/mnist.pt``).

Its penultimate layer gives the FID/KID features and its softmax the IS class distribution, as Inception does for
ImageNet-like data. (The same classifier also judges generated digits against their requested class.)
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from lightning.pytorch import LightningDataModule
from torch import Tensor, nn

from lit_gans.errors import LitGansError
from lit_gans.metrics.real_stats import describe_data
from lit_gans.saved_files import load_tagged, save_tagged

FORMAT = "lit_gans_classifier"


def conv_body(channels: int, width: int, feature_dim: int, pooled_size: int = 1) -> nn.Sequential:
    """``[N, C, H, W] -> [N, feature_dim]``: three conv-BN-ReLU blocks (two max-pooled), average pooling to
    ``pooled_size x pooled_size`` (1: global, position-blind; more keeps where things are), a linear layer and
    ReLU."""

    def block(c_in: int, c_out: int) -> list[nn.Module]:
        return [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]

    return nn.Sequential(
        *block(channels, width),
        nn.MaxPool2d(2),
        *block(width, 2 * width),
        nn.MaxPool2d(2),
        *block(2 * width, 4 * width),
        nn.AdaptiveAvgPool2d(pooled_size),
        nn.Flatten(),
        nn.Linear(4 * width * pooled_size**2, feature_dim),
        nn.ReLU(inplace=True),
    )


class SmallConvClassifier(nn.Module):
    """Three conv blocks, global average pooling and a ``feature_dim`` layer: ``[N, C, H, W] -> features
    [N, feature_dim], logits [N, num_classes]``."""

    def __init__(self, channels: int, num_classes: int, width: int = 32, feature_dim: int = 128) -> None:
        super().__init__()
        self.body = conv_body(channels, width, feature_dim)
        self.dropout = nn.Dropout(0.3)
        self.head = nn.Linear(feature_dim, num_classes)

    def features_and_logits(self, images: Tensor) -> tuple[Tensor, Tensor]:
        features = self.body(images)
        return features, self.head(self.dropout(features))

    def forward(self, images: Tensor) -> Tensor:
        return self.features_and_logits(images)[1]


def dataset_labels(dataset) -> Tensor:
    labels = getattr(dataset, "labels", None)
    if labels is None:
        labels = torch.as_tensor([dataset[i][1] for i in range(len(dataset))])
    return torch.as_tensor(labels).long()


@torch.no_grad()
def accuracy(model: nn.Module, loader) -> float:
    model.eval()
    correct = total = 0
    for images, labels in loader:
        correct += (model(images).argmax(1) == labels).sum().item()
        total += len(labels)
    return correct / max(total, 1)


def fit_one_cycle(
    model: nn.Module, loader, epochs: int, lr: float, batch_loss: Callable[[nn.Module, Any], Tensor]
) -> None:
    """Minimise ``batch_loss(model, batch)`` over ``epochs`` passes of ``loader`` with Adam under a one-cycle
    schedule peaking at ``lr`` (the in-project classifiers' training)."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=epochs * len(loader))
    for epoch in range(epochs):
        model.train()
        if hasattr(loader.sampler, "set_epoch"):
            loader.sampler.set_epoch(epoch)
        for batch in loader:
            loss = batch_loss(model, batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()


def train_classifier(
    datamodule: LightningDataModule, epochs: int = 3, lr: float = 1e-3, width: int = 32, seed: int = 0
) -> tuple[SmallConvClassifier, dict[str, Any]]:
    """Train on ``datamodule``'s training split (labels = its classes); returns the model and its info, with the
    accuracy on the datamodule's validation split."""
    data_shape = tuple(getattr(datamodule, "data_shape", ()))
    if len(data_shape) != 3:
        raise LitGansError(f"the classifier needs an image datamodule (C, H, W); {type(datamodule).__name__} is not")
    torch.manual_seed(seed)
    datamodule.setup("fit")
    num_classes = int(dataset_labels(datamodule.train_set).max()) + 1
    if num_classes < 2:
        raise LitGansError(f"{type(datamodule).__name__} has a single class: nothing for a classifier to learn")
    model = SmallConvClassifier(data_shape[0], num_classes, width)
    fit_one_cycle(
        model, datamodule.train_dataloader(), epochs, lr, lambda net, batch: F.cross_entropy(net(batch[0]), batch[1])
    )
    model.eval()
    info = {
        "data_shape": list(data_shape),
        "num_classes": num_classes,
        "width": width,
        "feature_dim": model.head.in_features,
        "trained_on": describe_data(datamodule),
        "epochs": epochs,
        "val_accuracy": accuracy(model, datamodule.val_dataloader()),
    }
    return model, info


def save_classifier(model: SmallConvClassifier, info: dict[str, Any], path: str | Path) -> Path:
    return save_tagged(path, FORMAT, info, model.state_dict())


def load_classifier(path: str | Path) -> tuple[SmallConvClassifier, dict[str, Any]]:
    info, state = load_tagged(path, FORMAT, "classifier file", "cli.py classifier --data NAME ... --output FILE")
    model = SmallConvClassifier(info["data_shape"][0], info["num_classes"], info["width"], info["feature_dim"])
    model.load_state_dict(state)
    return model.eval().requires_grad_(False), info
