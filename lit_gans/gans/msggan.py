"""MSG-GAN: Karnewar & Wang 2020, "MSG-GAN: Multi-Scale Gradients for Generative Adversarial Networks"
(arXiv:1903.06048); the authors' TF code and BMSG-GAN (``akanimax/BMSG-GAN``).

No growing: G is ProGAN's G with a toRGB after every block and returns every scale, ``G(z) = [o_4, ..., o_S]``; D
takes the full-resolution image and, at every lower block, the image of that scale (reals average-pooled from the
full size), so gradients reach every scale of G at once. Losses:

- ``ra_hinge`` (BMSG-GAN's default), relativistic average hinge on the multi-scale scores;
- ``wgan_gp`` (the paper's MSG-ProGAN runs), WGAN-GP with the drift term 0.001 E[D(x)^2] and one interpolation
  factor a sample shared by all its scales.

Adam 0.003 (0, 0.99) for both, one D step per G step, G's EMA 0.999. ``multi_scale=False`` keeps the same networks
but gives D only the full-resolution image (the ablation of the multi-scale links).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import torch
from torch import Tensor, nn

from lit_gans.base import GANModule, eval_mode, uncompiled
from lit_gans.errors import LitGansError
from lit_gans.losses import (
    drift_penalty,
    relativistic_average_hinge_d_loss,
    relativistic_average_hinge_g_loss,
    wasserstein_d_loss,
    wasserstein_g_loss,
)
from lit_gans.networks.progressive import (
    Combine,
    MultiScaleDiscriminator,
    ProgressiveDiscriminator,
    ProgressiveGenerator,
    downsample,
    upsample,
)
from lit_gans.regularizers import multiscale_gradient_penalty

MSGLoss = Literal["ra_hinge", "wgan_gp"]


def image_pyramid(images: Tensor, num_levels: int) -> list[Tensor]:
    """``[x_4, x_8, ..., x_S]``: ``images [N, C, S, S]`` average-pooled to every level's size, 4x4 first."""
    pyramid = [images]
    for _ in range(num_levels - 1):
        pyramid.insert(0, downsample(pyramid[0]))
    return pyramid


class MSGGAN(GANModule):
    """Multi-scale gradients: every scale of G seen by D at once.

    Args:
        data_shape: ``(C, S, S)``, ``S`` a power of two from 8; linked from the data.
        z_dim: latent size (512 in the paper).
        fmap_base: the networks' ``fmap_base`` (as ProGAN's: level ``l`` has ``min(fmap_base / 2^(l+1),
            fmap_max)`` channels; 8192).
        fmap_max: the most channels of any layer (512).
        combine: how D joins an image scale to its features: ``simple`` (concatenate the image), ``lin_cat`` (a 1x1
            conv of the image, concatenated: BMSG-GAN), ``cat_lin`` (a 1x1 conv of the concatenation: the authors' TF
            code, the default).
        loss: ``ra_hinge`` (relativistic average hinge) or ``wgan_gp`` (with the drift term).
        lambda_gp: the gradient penalty's weight (``wgan_gp`` only; 10).
        epsilon_drift: the drift term's weight (``wgan_gp`` only; 0.001).
        group_size: the minibatch stddev layer's group (4).
        multi_scale: False gives D only the full-resolution image through the same blocks (no multi-scale links).
        lr_g: G's Adam learning rate (0.003).
        lr_d: D's Adam learning rate (0.003).
        betas_g: G's Adam betas ((0, 0.99)).
        betas_d: D's Adam betas ((0, 0.99)).
        n_critic: D steps per G step (1).
        ema_decay: decay of G's EMA copy, the one sampled (0.999).
        **kwargs: go to ``GANModule``: num_fixed_samples, fixed_noise_seed, nonfinite, compile_networks,
            channels_last.
    """

    offline_preset: ClassVar[str] = "configs/msggan_shapes.yaml"  # `fit --model MSGGAN` with no data

    def __init__(
        self,
        data_shape: tuple[int, int, int] = (3, 32, 32),
        z_dim: int = 512,
        fmap_base: int = 8192,
        fmap_max: int = 512,
        combine: Combine = "cat_lin",
        loss: MSGLoss = "ra_hinge",
        lambda_gp: float = 10.0,
        epsilon_drift: float = 0.001,
        group_size: int = 4,
        multi_scale: bool = True,
        lr_g: float = 3e-3,
        lr_d: float = 3e-3,
        betas_g: tuple[float, float] = (0.0, 0.99),
        betas_d: tuple[float, float] = (0.0, 0.99),
        n_critic: int = 1,
        ema_decay: float = 0.999,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            z_dim=z_dim,
            lr_g=lr_g,
            lr_d=lr_d,
            betas_g=betas_g,
            betas_d=betas_d,
            n_critic=n_critic,
            ema_decay=ema_decay,
            **kwargs,
        )
        self.save_hyperparameters()
        if loss not in ("ra_hinge", "wgan_gp"):
            raise LitGansError(f"MSGGAN's loss must be 'ra_hinge' or 'wgan_gp', got {loss!r}")
        channels, size, width = data_shape
        if size != width:
            raise LitGansError(f"MSGGAN needs square images, got data_shape={tuple(data_shape)}")
        self.loss, self.multi_scale = loss, multi_scale
        self.lambda_gp, self.epsilon_drift = lambda_gp, epsilon_drift
        self.generator = ProgressiveGenerator(z_dim, channels, size, fmap_base, fmap_max)
        self.num_levels = self.generator.num_levels
        if multi_scale:
            self.discriminator = MultiScaleDiscriminator(channels, size, fmap_base, fmap_max, group_size, combine)
        else:
            self.discriminator = ProgressiveDiscriminator(channels, size, fmap_base, fmap_max, group_size)

    def critic(self, scales: list[Tensor], eager: bool = False) -> Tensor:
        """D's scores ``[N]`` for ``[x_4, ..., x_S]`` (only ``x_S`` without the multi-scale links)."""
        net = uncompiled(self.discriminator) if eager else self.discriminator
        return net(scales) if self.multi_scale else net(scales[-1])

    def draw_fake_scales(self, n: int) -> list[Tensor]:
        return self.generator.all_scales(self.sample_latent(n))

    def d_step(self, batch: tuple[Tensor, ...]) -> dict[str, Tensor]:
        real = image_pyramid(batch[0], self.num_levels)
        fake = [scale.detach() for scale in self.draw_fake_scales(len(batch[0]))]
        real_scores, fake_scores = self.critic(real), self.critic(fake)
        if self.loss == "ra_hinge":
            return {"loss": relativistic_average_hinge_d_loss(real_scores, fake_scores)}
        critic_loss = wasserstein_d_loss(real_scores, fake_scores)
        penalty = multiscale_gradient_penalty(lambda scales: self.critic(scales, eager=True), real, fake)
        drift = drift_penalty(real_scores)
        return {
            "loss": critic_loss + self.lambda_gp * penalty + self.epsilon_drift * drift,
            "wasserstein": -critic_loss.detach(),
            "gp": penalty.detach(),
        }

    def g_step(self, batch: tuple[Tensor, ...]) -> dict[str, Tensor]:
        fake_scores = self.critic(self.draw_fake_scales(len(batch[0])))
        if self.loss == "ra_hinge":
            with torch.no_grad():
                real_scores = self.critic(image_pyramid(batch[0], self.num_levels))
            return {"loss": relativistic_average_hinge_g_loss(real_scores, fake_scores)}
        return {"loss": wasserstein_g_loss(fake_scores)}

    def generate(self, latent: Tensor, net: nn.Module | None = None, **conditions: Tensor) -> Tensor:
        """The full-resolution output in [-1, 1], ``[n, C, S, S]``."""
        return (self.generator if net is None else net)(latent).clamp(-1, 1)

    def sample_grids(self) -> dict[str, tuple[Tensor, int | None]]:
        """The fixed batch at every scale, each upsampled (nearest) to the full size to be seen side by side:
        ``scale_4``, ``scale_8``, ..., and ``samples`` (the full size)."""
        with torch.no_grad(), eval_mode(self.sampling_generator) as net:
            scales = net.all_scales(self.fixed_latent)
        size = scales[-1].shape[-1]
        grids: dict[str, tuple[Tensor, int | None]] = {
            f"scale_{image.shape[-1]}": (upsample(image, size // image.shape[-1]).clamp(-1, 1), None)
            for image in scales[:-1]
        }
        grids["samples"] = (scales[-1].clamp(-1, 1), None)
        return grids
