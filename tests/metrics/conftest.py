"""Extractors the metric tests share, built locally: Inception with constructed weights, a Shapes classifier."""

from __future__ import annotations

import pytest
import torch

from datamodules import Shapes
from lit_gans.metrics.classifier import save_classifier, train_classifier


@pytest.fixture(scope="session")
def inception_weights(tmp_path_factory) -> str:
    """A weights file with the FID Inception's exact keys and shapes and random values: built by constructing
    torch-fidelity's network once with its weight loading switched off."""
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    folder = tmp_path_factory.mktemp("inception")
    empty = folder / "empty.pth"
    torch.save({}, empty)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(FeatureExtractorInceptionV3, "load_state_dict", lambda self, state_dict, strict=True: None)
        torch.manual_seed(0)
        net = FeatureExtractorInceptionV3("constructed", ["2048"], feature_extractor_weights_path=str(empty))
    path = folder / "constructed-inception.pth"
    torch.save(net.state_dict(), path)
    return str(path)


@pytest.fixture(scope="session")
def shapes_classifier(tmp_path_factory) -> str:
    """A small classifier trained for one epoch on 1,200 Shapes images (3 classes), 16x16."""
    data = Shapes(image_size=16, num_train=1200, num_val=300, batch_size=64)
    model, info = train_classifier(data, epochs=2, lr=3e-3, width=8)
    return str(save_classifier(model, info, tmp_path_factory.mktemp("classifier") / "shapes.pt"))
