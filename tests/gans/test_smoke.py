"""Every model trains a few steps on tiny data, saves, reloads from the checkpoint and samples."""

from __future__ import annotations

import pytest
import torch
from torch.testing import assert_close

import lit_gans
from cli import all_subclasses
from datamodules import Shapes, Toy
from lit_gans import GANModule
from tests.helpers import tiny_trainer

# model class, its tiny arguments, the tiny datamodule it trains on
CASES = {
    "GAN-ring": (
        lit_gans.GAN,
        dict(z_dim=4, g_hidden=(16, 16), d_hidden=(16,)),
        lambda: Toy("ring", 128, 32, batch_size=32),
    ),
    "GAN-gaussian1d": (
        lit_gans.GAN,
        dict(z_dim=2, g_hidden=(8,), d_hidden=(8,)),
        lambda: Toy("gaussian1d", 128, 32, batch_size=32),
    ),
    "GAN-images": (
        lit_gans.GAN,
        dict(z_dim=8, g_hidden=(32,), d_hidden=(32,)),
        lambda: Shapes(image_size=16, channels=1, num_train=64, num_val=16, batch_size=16),
    ),
    "DCGAN-28": (
        lit_gans.DCGAN,
        dict(z_dim=8, g_features=4, d_features=4),
        lambda: Shapes(image_size=28, channels=1, num_train=64, num_val=16, batch_size=16),
    ),
    "DCGAN-32": (
        lit_gans.DCGAN,
        dict(z_dim=8, g_features=4, d_features=4),
        lambda: Shapes(image_size=32, channels=3, num_train=64, num_val=16, batch_size=16),
    ),
    "DCGAN-64": (
        lit_gans.DCGAN,
        dict(z_dim=8, g_features=4, d_features=4),
        lambda: Shapes(image_size=64, channels=3, num_train=32, num_val=8, batch_size=8),
    ),
}
# the objective family: each on 2D points (MLPs) and on 28x28 grey images (DCGAN-style nets)
for _name in ("WGAN", "WGANGP", "WGANDiv", "DRAGAN", "LSGAN", "SNGAN", "SAGAN"):
    CASES[f"{_name}-ring"] = (
        getattr(lit_gans, _name),
        dict(z_dim=4, g_hidden=(16, 16), d_hidden=(16,)),
        lambda: Toy("ring", 128, 32, batch_size=32),
    )
    CASES[f"{_name}-28"] = (
        getattr(lit_gans, _name),
        dict(z_dim=8, g_features=4, d_features=4),
        lambda: Shapes(image_size=28, channels=1, num_train=64, num_val=16, batch_size=16),
    )


def test_every_model_has_a_smoke_case():
    models = {cls for cls in all_subclasses(GANModule) if cls.__module__.startswith("lit_gans.gans")}
    assert models == {cls for cls, _, _ in CASES.values()}


@pytest.mark.parametrize("case", list(CASES))
def test_train_save_reload_sample(tmp_path, case):
    cls, arguments, make_data = CASES[case]
    data = make_data()
    model = cls(data_shape=data.data_shape, **arguments)
    trainer = tiny_trainer(tmp_path, max_steps=3)
    trainer.fit(model, data)
    assert trainer.global_step == 3

    path = tmp_path / "model.ckpt"
    trainer.save_checkpoint(path)
    reloaded = cls.load_from_checkpoint(path, weights_only=True)
    assert (reloaded.d_steps, reloaded.g_steps) == (3, 3 // model.n_critic)

    latent = model.sample_latent(6, generator=torch.Generator().manual_seed(1))
    samples = reloaded.sample_from(latent)
    assert_close(samples, model.sample_from(latent))  # the weights came back
    assert samples.shape == (6, *data.data_shape)
    assert torch.isfinite(samples).all()
    if samples.ndim == 4:
        assert samples.min() >= -1 and samples.max() <= 1
    assert reloaded.sample(5).shape == (5, *data.data_shape)
