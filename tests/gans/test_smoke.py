"""Every model trains a few steps on tiny data, saves, reloads from the checkpoint and samples."""

from __future__ import annotations

import pytest
import torch
from torch.testing import assert_close

import lit_gans
from datamodules import Shapes, ShapesCaptions, ShapesPaired, ShapesUnpaired, SuperResolution, Toy
from lit_gans import GANModule
from lit_gans.commands.registry import all_subclasses
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
# the conditional and latent-code models, MLP and conv variants; SGAN also on semi-supervised batches
_tiny_mlp = dict(z_dim=4, g_hidden=(16,), d_hidden=(16,))
_tiny_conv = dict(z_dim=4, g_features=4, d_features=4)
for _cls in (lit_gans.CGAN, lit_gans.ACGAN, lit_gans.SGAN):
    CASES[f"{_cls.__name__}-mlp"] = (
        _cls,
        dict(num_classes=3, network="mlp", **_tiny_mlp),
        lambda: Shapes(image_size=16, channels=1, num_train=64, num_val=16, batch_size=16),
    )
    CASES[f"{_cls.__name__}-conv"] = (
        _cls,
        dict(num_classes=3, network="conv", **_tiny_conv),
        lambda: Shapes(image_size=28, channels=1, num_train=64, num_val=16, batch_size=16),
    )
CASES["SGAN-semi-supervised"] = (
    lit_gans.SGAN,
    dict(num_classes=3, network="conv", **_tiny_conv),
    lambda: Shapes(image_size=28, channels=1, num_train=64, num_val=16, batch_size=16, labels_per_class=2),
)
# the authors' MNIST nets (noise, weight norm, data-dependent init), U(0, 1) noise, D's parameter average, their Adam
CASES["SGAN-improved-gan"] = (
    lit_gans.SGAN,
    dict(
        num_classes=3,
        network="improved_gan",
        z_dim=4,
        g_hidden=(16,),
        d_hidden=(16, 8),
        lambda_unsupervised=0.5,
        noise_prior="uniform01",
        d_average_rate=0.01,
        adam_eps_in_sqrt=True,
        feature_matching_reduction="mean",
    ),
    lambda: Shapes(image_size=16, channels=1, num_train=64, num_val=16, batch_size=16, labels_per_class=2),
)
CASES["InfoGAN-conv"] = (
    lit_gans.InfoGAN,
    dict(num_categories=3, num_continuous=2, q_hidden=8, **_tiny_conv),
    lambda: Shapes(image_size=28, channels=1, num_train=64, num_val=16, batch_size=16),
)
CASES["InfoGAN-paper-nets-uniform-z"] = (
    lit_gans.InfoGAN,
    dict(num_categories=3, num_continuous=1, q_hidden=8, network="infogan", noise_prior="uniform", **_tiny_conv),
    lambda: Shapes(image_size=16, channels=1, num_train=64, num_val=16, batch_size=16),
)
CASES["InfoGAN-mlp-mse"] = (
    lit_gans.InfoGAN,
    dict(num_categories=4, num_continuous=1, continuous_loss="mse", network="mlp", **_tiny_mlp),
    lambda: Toy("ring", 128, 32, batch_size=32),
)
# every Improved-GAN option at once (Salimans 2016)
_improved = dict(real_label=0.9, feature_matching=True, historical_averaging=1e-3, minibatch_kernels=4)
CASES["GAN-improved-ring"] = (
    lit_gans.GAN,
    dict(virtual_batch_norm=True, **_improved, **_tiny_mlp),
    lambda: Toy("ring", 128, 32, batch_size=32),
)
CASES["DCGAN-improved-28"] = (
    lit_gans.DCGAN,
    dict(virtual_batch_norm=True, **_improved, **_tiny_conv),
    lambda: Shapes(image_size=28, channels=1, num_train=64, num_val=16, batch_size=16),
)
CASES["CGAN-improved-mlp"] = (
    lit_gans.CGAN,
    dict(num_classes=3, network="mlp", **_improved, **_tiny_mlp),
    lambda: Shapes(image_size=16, channels=1, num_train=64, num_val=16, batch_size=16),
)


# image-to-image: tiny nets on the offline paired and unpaired tasks
CASES["Pix2Pix-16"] = (
    lit_gans.Pix2Pix,
    dict(g_features=4, d_features=4, d_layers=1),
    lambda: ShapesPaired(image_size=16, num_train=32, num_val=8, batch_size=8),
)
# growing and multi-scale: every level at 16 px (4, 8, 16); ProGAN's schedule short enough to fade in
CASES["ProGAN-16"] = (
    lit_gans.ProGAN,
    dict(z_dim=8, fmap_base=32, fmap_max=8, stabilise_kimg=0.016, fade_kimg=0.016),
    lambda: Shapes(image_size=16, channels=3, num_train=64, num_val=16, batch_size=8),
)
CASES["MSGGAN-16"] = (
    lit_gans.MSGGAN,
    dict(z_dim=8, fmap_base=32, fmap_max=8),
    lambda: Shapes(image_size=16, channels=3, num_train=64, num_val=16, batch_size=8),
)
# inpainting: random holes (fresh each step) on any image data, a batch whose first element is the images
CASES["ContextEncoder-16"] = (
    lit_gans.gans.ContextEncoder,
    dict(mask="random:0.5", overlap=1, g_features=4, d_features=4, bottleneck=8),
    lambda: Shapes(image_size=16, channels=3, num_train=32, num_val=8, batch_size=8),
)
# super-resolution: 4 px -> 16 px pairs from Shapes, the content network trained on its labels before the first step
CASES["SRGAN-16"] = (
    lit_gans.SRGAN,
    dict(features=4, blocks=1, upsample_features=8, d_features=4, d_dense_features=8),
    lambda: SuperResolution(
        Shapes(image_size=16, channels=3, num_train=32, num_val=8, batch_size=8), scale=4, batch_size=8
    ),
)
CASES["CycleGAN-16"] = (
    lit_gans.CycleGAN,
    dict(g_features=4, d_features=4, n_blocks=1, d_layers=1, pool_size=4),
    lambda: ShapesUnpaired(image_size=16, num_train=32, num_val=8, batch_size=8),
)
# text to image: Stage I on captioned shapes, its text encoder trained for 5 batches before the first step (Stage II
# on a Stage I checkpoint: tests/gans/test_stackgan.py)
CASES["StackGAN-16"] = (
    lit_gans.StackGAN,
    dict(
        z_dim=8,
        condition_dim=8,
        g_features=4,
        d_features=4,
        text_encoder_steps=5,
        vocabulary=ShapesCaptions().vocabulary,
    ),
    lambda: ShapesCaptions(image_size=16, num_train=32, num_val=8, batch_size=8),
)

# the auto-encoders: conv nets on grey images, MLPs on points (Gaussian decoder, learned sigma); VAE-GAN with the
# authors' equilibrium rule and the decoder's EMA
CASES["VAE-conv-28"] = (
    lit_gans.VAE,
    dict(z_dim=4, features=4),
    lambda: Shapes(image_size=28, channels=1, num_train=64, num_val=16, batch_size=16),
)
CASES["VAE-mlp-ring"] = (
    lit_gans.VAE,
    dict(z_dim=2, network="mlp", hidden=(16,), likelihood="gaussian", learn_std=True),
    lambda: Toy("ring", 128, 32, batch_size=32),
)
CASES["VAEGAN-conv-28"] = (
    lit_gans.VAEGAN,
    dict(z_dim=4, e_features=4, g_features=4, d_features=4, margin=0.4, ema_decay=0.9),
    lambda: Shapes(image_size=28, channels=1, num_train=64, num_val=16, batch_size=16),
)
CASES["VAEGAN-mlp-ring"] = (
    lit_gans.VAEGAN,
    dict(z_dim=2, network="mlp", hidden=(16,)),
    lambda: Toy("ring", 128, 32, batch_size=32),
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

    if model.latent_input:
        latent = model.sample_latent(6, generator=torch.Generator().manual_seed(1))
        conditions = model.draw_conditions(6, generator=torch.Generator().manual_seed(2))  # labels, codes, or none
    else:  # image-to-image: input images play the latent's part
        latent, conditions = next(iter(data.val_dataloader()))[0][:6], {}
    torch.manual_seed(3)  # the same noise (Pix2Pix's dropout) for both
    samples = reloaded.sample_from(latent, **conditions)
    torch.manual_seed(3)
    assert_close(samples, model.sample_from(latent, **conditions))  # the weights came back (and any history)
    assert_close(reloaded.state_dict(), model.state_dict())
    assert samples.shape == (6, *data.data_shape)
    assert torch.isfinite(samples).all()
    if samples.ndim == 4:
        assert samples.min() >= -1 and samples.max() <= 1
    if model.latent_input:
        assert reloaded.sample(5).shape == (5, *data.data_shape)
    elif model.bidirectional:
        assert_close(reloaded.translate(latent, inverse=True), model.translate(latent, inverse=True))
