"""WGAN: Arjovsky, Chintala & Bottou 2017, "Wasserstein GAN" (arXiv:1701.07875).

Algorithm 1 (defaults alpha = 5e-5, c = 0.01, n_critic = 5, RMSprop):

    critic: descend  E[f(G(z))] - E[f(x)]        then clip every weight w <- clip(w, -c, c)
    G:      descend  -E[f(G(z))]                  once every n_critic critic steps

The critic ``f`` has no sigmoid; clipping keeps it (roughly) K-Lipschitz, so ``E[f(x)] - E[f(G(z))]`` estimates the
Earth-Mover distance up to K (logged as ``train/d/wasserstein``).

The authors' code (martinarjovsky/WassersteinGAN, ``main.py``) also warms the critic up, an option here: 100 critic
steps before each of the first 25 G steps and before every 500th, so that G trains against a critic near its optimum.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import Tensor

from lit_gans.base import GANModule
from lit_gans.errors import LitGansError
from lit_gans.losses import wasserstein_d_loss, wasserstein_g_loss
from lit_gans.networks import generator_and_discriminator
from lit_gans.regularizers import clip_weights_


class WGAN(GANModule):
    """Wasserstein GAN with weight clipping.

    Args:
        data_shape: ``(C, H, W)`` (DCGAN nets) or ``(D,)`` (MLPs, for toy points); linked from the data by the CLI.
        g_features: ``ngf``, channels of G's last hidden layer in the DCGAN net (doubling towards its input);
            images only (64 as in DCGAN).
        d_features: ``ndf``, channels of the critic's first conv layer (doubling per stride-2 layer); images only.
        g_hidden: widths of G's hidden layers in the MLP, input to output; flat data ``(D,)`` only.
        d_hidden: widths of the critic's hidden layers in the MLP; flat data ``(D,)`` only.
        clip_value: ``c``, the clipping parameter: every critic weight is clipped to ``[-c, c]`` after each
            critic step (0.01 in Algorithm 1).
        lr_g: G's RMSprop learning rate ``alpha`` (5e-5 in Algorithm 1); RMSprop has no betas.
        lr_d: the critic's RMSprop learning rate ``alpha`` (5e-5).
        n_critic: critic steps per G step (``n_critic = 5`` in Algorithm 1).
        critic_warmup: the authors' schedule: ``warmup_critic_steps`` critic steps before G steps 0-24 and every
            500th (``n_critic`` otherwise); off by default (the paper's Algorithm 1).
        warmup_critic_steps: the critic steps of a warm-up G step (100 in the authors' code).
        **kwargs: go to ``GANModule``: num_fixed_samples, fixed_noise_seed, ema_decay, nonfinite,
            compile_networks, channels_last.
    """

    offline_preset: ClassVar[str] = "configs/wgan_shapes.yaml"  # `fit --model WGAN` with no data

    def __init__(
        self,
        data_shape: tuple[int, ...] = (1, 28, 28),
        z_dim: int = 100,
        g_features: int = 64,
        d_features: int = 64,
        g_hidden: tuple[int, ...] = (256, 256, 256),
        d_hidden: tuple[int, ...] = (256, 256, 256),
        clip_value: float = 0.01,
        lr_g: float = 5e-5,
        lr_d: float = 5e-5,
        n_critic: int = 5,
        critic_warmup: bool = False,
        warmup_critic_steps: int = 100,
        **kwargs: Any,
    ) -> None:
        no_betas = (0.0, 0.0)  # RMSprop has none
        super().__init__(
            z_dim=z_dim, lr_g=lr_g, lr_d=lr_d, betas_g=no_betas, betas_d=no_betas, n_critic=n_critic, **kwargs
        )
        self.save_hyperparameters()
        if warmup_critic_steps < 1:
            raise LitGansError(f"warmup_critic_steps must be at least 1, got {warmup_critic_steps}")
        self.clip_value = clip_value
        self.critic_warmup, self.warmup_critic_steps = critic_warmup, warmup_critic_steps
        self.generator, self.discriminator = generator_and_discriminator(
            data_shape, z_dim, g_features, d_features, g_hidden, d_hidden
        )

    def make_optimizer(self, params, lr: float, betas: tuple[float, float]) -> torch.optim.Optimizer:
        return torch.optim.RMSprop(params, lr=lr)

    def critic_steps(self) -> int:
        # Diters = 100 if gen_iterations < 25 or gen_iterations % 500 == 0 else n_critic (the authors' main.py)
        if self.critic_warmup and (self.g_steps < 25 or self.g_steps % 500 == 0):
            return self.warmup_critic_steps
        return self.n_critic

    def d_step(self, batch: tuple[Tensor, Tensor]) -> dict[str, Tensor]:
        real = batch[0]
        fake = self.draw_fake(len(real)).detach()
        critic_loss = wasserstein_d_loss(self.discriminator(real), self.discriminator(fake))
        return {"loss": critic_loss, "wasserstein": -critic_loss.detach()}  # E[f(x)] - E[f(G(z))]

    def after_d_step(self) -> None:
        clip_weights_(self.discriminator, self.clip_value)

    def g_step(self, batch: tuple[Tensor, Tensor]) -> dict[str, Tensor]:
        return {"loss": wasserstein_g_loss(self.discriminator(self.draw_fake(len(batch[0]))))}
