"""Every test starts from the same seed; fixtures several test folders share."""

import pytest
import torch
from lightning.pytorch import seed_everything


@pytest.fixture(autouse=True)
def _seeded():
    seed_everything(0, verbose=False)
    torch.use_deterministic_algorithms(False)
    yield


@pytest.fixture(scope="session")
def shapes_classifier(tmp_path_factory) -> str:
    """A small classifier trained for two epochs on 1,200 Shapes images (3 classes), 16x16: a feature extractor
    for metric tests."""
    from datamodules import Shapes
    from lit_gans.metrics.classifier import save_classifier, train_classifier

    data = Shapes(image_size=16, num_train=1200, num_val=300, batch_size=64)
    model, info = train_classifier(data, epochs=2, lr=3e-3, width=8)
    return str(save_classifier(model, info, tmp_path_factory.mktemp("classifier") / "shapes.pt"))
