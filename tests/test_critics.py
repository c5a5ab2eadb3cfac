"""Every discriminator in the collection can see the scale of an image, and the penalised critics start with input
gradients of order 1.

A bias-free first convolution, LeakyReLU (positively homogeneous) and a per-sample normalisation make
``D(a x) = D(x)`` for every ``a > 0``: such a critic cannot tell a grey image from a black one, and its input gradient
grows as ``1 / ||x||`` at G's low-contrast first outputs, where gradient penalties then dominate the critic's loss.
BatchNorm is blind the same way to a scale that a whole batch shares (a batch of fakes).
"""

from __future__ import annotations

import pytest
import torch
from torch import Tensor

import lit_gans
from datamodules import Shapes
from lit_gans.gans.msggan import image_pyramid
from lit_gans.regularizers import input_gradient_norm
from tests.gans.test_smoke import CASES

# every model with a discriminator on images (the VAE has none: it is not a two-player game)
IMAGE_CASES = {
    name: case for name, case in CASES.items() if len(case[2]().data_shape) == 3 and case[0] is not lit_gans.VAE
}


def critic_scores(model: lit_gans.GANModule, images: Tensor) -> list[Tensor]:
    """Every discriminator's scores of ``images`` (as the judged output, with the model's conditions fixed),
    flattened to ``[N, ...]``."""
    n = len(images)
    labels = torch.arange(n) % 3
    D = model.discriminator
    if isinstance(model, lit_gans.CycleGAN):
        return [D["D_X"](images).reshape(len(images), -1), D["D_Y"](images).reshape(len(images), -1)]
    if isinstance(model, lit_gans.Pix2Pix):
        condition = torch.linspace(-1, 1, images.numel()).view_as(images)  # a fixed input, the judged output scaled
        return [model.D(condition, images).reshape(len(images), -1)]
    if isinstance(model, lit_gans.CGAN):
        return [D(images, labels).reshape(len(images), -1)]
    if isinstance(model, lit_gans.MSGGAN):  # every scale of the images, average-pooled
        return [model.critic(image_pyramid(images, model.num_levels)).reshape(len(images), -1)]
    if isinstance(model, lit_gans.StackGAN):  # a fixed condition mu
        mu = torch.linspace(-1, 1, n * D.condition_dim).view(n, -1)
        return [D(images, mu).reshape(n, -1)]
    if isinstance(model, (lit_gans.ACGAN, lit_gans.InfoGAN)):
        source, auxiliary = D(images)
        return [source.reshape(len(images), -1), auxiliary.reshape(len(images), -1)]
    return [D(images).reshape(len(images), -1)]


def perturb_parameters_(model: torch.nn.Module, std: float = 0.1) -> None:
    """Generic weights, as any training step leaves them: biases and norm parameters off their initial values
    (zero-initialised biases make even a scale-aware net scale-blind at step 0)."""
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(std * torch.randn(parameter.shape, generator=generator))


@pytest.mark.parametrize("case", list(IMAGE_CASES))
def test_discriminator_sees_the_scale_of_its_input(case):
    cls, arguments, make_data = IMAGE_CASES[case]
    data = make_data()
    data.setup("fit")
    torch.manual_seed(0)
    model = cls(data_shape=data.data_shape, **arguments)
    model.configure_model()
    perturb_parameters_(model)
    batch = next(iter(data.train_dataloader()))
    judged = 1 if isinstance(model, lit_gans.SRGAN) else 0  # SRGAN's D judges the high-resolution side of (lr, hr)
    images = batch[judged][:8]  # [N, C, H, W]
    model.train()  # BatchNorm with the batch's own statistics, as D sees every batch in training
    for scores, doubled in zip(critic_scores(model, images), critic_scores(model, 2 * images), strict=True):
        spread = scores.std(0).mean()  # how much D's scores differ between the samples of the batch
        change = (doubled - scores).abs().mean()
        # a scale-blind D changes by eps-level amounts (measured: at most 0.3% of the spread, on the old DCGAN,
        # objective-family, ACGAN, SGAN and InfoGAN conv critics); the scale-aware ones by 5.7% (DCGAN at 32 px)
        # to 190%
        assert change > 0.02 * spread, f"{case}: |D(2x) - D(x)| = {change:.3g} against a spread of {spread:.3g}"


PENALISED = [lit_gans.WGANGP, lit_gans.WGANDiv, lit_gans.DRAGAN]


@pytest.mark.parametrize("d_norm", ["none", "layer"])
@pytest.mark.parametrize("cls", PENALISED)
def test_penalised_critic_input_gradient_is_of_order_one_at_initialisation(cls, d_norm):
    torch.manual_seed(0)
    data = Shapes(image_size=28, channels=1, num_train=64, num_val=16, batch_size=64)
    data.setup("fit")
    model = cls(data_shape=data.data_shape, d_norm=d_norm)  # the MNIST-sized nets (64 features)
    real = next(iter(data.train_dataloader()))[0]
    with torch.no_grad():
        fake = model.generator(model.sample_latent(64))  # G's first outputs: grey, low contrast
    real_norm = input_gradient_norm(model.discriminator, real).mean()
    fake_norm = input_gradient_norm(model.discriminator, fake).mean()
    # the old scale-blind layer-norm critic: 1.3 on real, 4.9 on fake at 64 features (penalty ~15 against a
    # Wasserstein term below 1); order 1 means within a factor 4 of 1, and within a factor 2 of each other
    for norm in (real_norm, fake_norm):
        assert 0.25 < norm < 4, f"||grad D|| = {real_norm:.3g} on real, {fake_norm:.3g} on fake"
    assert 0.5 < fake_norm / real_norm < 2, f"||grad D|| = {real_norm:.3g} on real, {fake_norm:.3g} on fake"
