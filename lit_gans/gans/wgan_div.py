"""WGAN-div: Wu, Huang, Thoma, Acharya & Van Gool 2018, "Wasserstein Divergence for GANs" (arXiv:1712.01026).

The Wasserstein divergence replaces WGAN-GP's penalty towards norm 1 by a penalty on the gradient's p-th power,
with no Lipschitz constraint (defaults k = 2, p = 6, Adam 2e-4, betas (0.5, 0.999), n_critic 5):

    critic: descend  E[D(G(z))] - E[D(x)] + k E[||grad D(x')||^p],   x' from the real and the generated samples
    G:      descend  -E[D(G(z))]
"""

from __future__ import annotations

from typing import Any

from torch import Tensor

from lit_gans.base import GANModule
from lit_gans.losses import wasserstein_d_loss, wasserstein_g_loss
from lit_gans.networks import CriticNorm, critic_options, generator_and_discriminator
from lit_gans.regularizers import wgan_div_penalty


class WGANDiv(GANModule):
    """Wasserstein-divergence GAN.

    Args:
        data_shape: ``(C, H, W)`` (DCGAN nets) or ``(D,)`` (MLPs); linked from the data.
        g_features, d_features: channels of the conv nets; g_hidden, d_hidden: widths of the MLPs.
        d_norm: the conv critic: ``none`` (biased convs, He init, no normalisation: the WGAN-GP authors' MNIST
            critic) or ``layer`` (layer norm behind biased convs: their 64x64 critic). Never BatchNorm, which couples
            the samples the per-sample penalty treats one by one.
        k, p: weight and power of the divergence penalty.
        **kwargs: go to ``GANModule``: num_fixed_samples, fixed_noise_seed, ema_decay, nonfinite.
    """

    def __init__(
        self,
        data_shape: tuple[int, ...] = (1, 28, 28),
        z_dim: int = 100,
        g_features: int = 64,
        d_features: int = 64,
        g_hidden: tuple[int, ...] = (256, 256, 256),
        d_hidden: tuple[int, ...] = (256, 256, 256),
        d_norm: CriticNorm = "none",
        k: float = 2.0,
        p: float = 6.0,
        lr_g: float = 2e-4,
        lr_d: float = 2e-4,
        betas_g: tuple[float, float] = (0.5, 0.999),
        betas_d: tuple[float, float] = (0.5, 0.999),
        n_critic: int = 5,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            z_dim=z_dim, lr_g=lr_g, lr_d=lr_d, betas_g=betas_g, betas_d=betas_d, n_critic=n_critic, **kwargs
        )
        self.save_hyperparameters()
        self.k, self.p = k, p
        self.generator, self.discriminator = generator_and_discriminator(
            data_shape, z_dim, g_features, d_features, g_hidden, d_hidden, **critic_options(d_norm)
        )

    def d_step(self, batch: tuple[Tensor, Tensor]) -> dict[str, Tensor]:
        real = batch[0]
        fake = self.draw_fake(len(real)).detach()
        critic_loss = wasserstein_d_loss(self.discriminator(real), self.discriminator(fake))
        penalty = wgan_div_penalty(self.discriminator, real, fake, self.k, self.p)
        return {"loss": critic_loss + penalty, "wasserstein": -critic_loss.detach(), "div_penalty": penalty}

    def g_step(self, batch: tuple[Tensor, Tensor]) -> dict[str, Tensor]:
        return {"loss": wasserstein_g_loss(self.discriminator(self.draw_fake(len(batch[0]))))}
