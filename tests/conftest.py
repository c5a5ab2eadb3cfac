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


@pytest.fixture(scope="session")
def tiny_dcgan_checkpoint(tmp_path_factory):
    """A tiny DCGAN (z 8, 4 base features) after 3 batches on 1-channel 16x16 Shapes, saved: a checkpoint for the
    commands that use a trained G (latent, inpaint)."""
    from datamodules import Shapes
    from lit_gans import DCGAN
    from tests.helpers import tiny_trainer

    root = tmp_path_factory.mktemp("tiny_dcgan")
    torch.manual_seed(0)
    model = DCGAN(data_shape=(1, 16, 16), z_dim=8, g_features=4, d_features=4)
    data = Shapes(image_size=16, channels=1, num_train=48, num_val=16, batch_size=16)
    trainer = tiny_trainer(root, max_steps=6, limit_val_batches=0)  # 6 optimizer steps = 3 batches
    trainer.fit(model, data)
    trainer.save_checkpoint(root / "dcgan.ckpt")
    return root / "dcgan.ckpt"
