"""WGAN-div: Wu, Huang, Thoma, Acharya & Van Gool 2018, "Wasserstein Divergence for GANs" (arXiv:1712.01026).

The Wasserstein divergence replaces WGAN-GP's penalty towards norm 1 by a penalty on the gradient's p-th power,
with no Lipschitz constraint (defaults k = 2, p = 6, Adam 2e-4, n_critic 5):

    critic: descend  E[D(G(z))] - E[D(x)] + k E[||grad D(x')||^p],   x' = x + alpha (G(z) - x), alpha ~ U[0, 1]
    G:      descend  -E[D(G(z))]

As in the authors' code (musikisomorphie/wgan-div, ``wgan_div.py``): the penalty at interpolates with one ``alpha``
per sample, and Adam's betas (0, 0.9). The paper's text reads ``x'`` from the real and generated samples and names
betas (0.5, 0.999): ``penalty_points="real_and_fake"`` and ``betas_*`` give that reading.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from torch import Tensor

from lit_gans.base import GANModule, uncompiled
from lit_gans.errors import LitGansError
from lit_gans.losses import wasserstein_d_loss, wasserstein_g_loss
from lit_gans.networks import CriticNorm, critic_options, generator_and_discriminator
from lit_gans.regularizers import wgan_div_penalty


class WGANDiv(GANModule):
    """Wasserstein-divergence GAN.

    Args:
        data_shape: ``(C, H, W)`` (DCGAN nets) or ``(D,)`` (MLPs); linked from the data.
        g_features: ``ngf``, channels of G's last hidden layer in the DCGAN net (doubling towards its input);
            images only (64 as in DCGAN).
        d_features: ``ndf``, channels of the critic's first conv layer (doubling per stride-2 layer); images only.
        g_hidden: widths of G's hidden layers in the MLP, input to output; flat data ``(D,)`` only.
        d_hidden: widths of the critic's hidden layers in the MLP; flat data ``(D,)`` only.
        d_norm: the conv critic: ``none`` (biased convs, He init, no normalisation: the WGAN-GP authors' MNIST
            critic) or ``layer`` (layer norm behind biased convs: their 64x64 critic). Never BatchNorm, which couples
            the samples the per-sample penalty treats one by one.
        k: the weight of the divergence penalty ``k E[||grad D(x')||^p]`` in the critic's loss (Wu et al. 2018's
            ``k``, default 2 as in the paper).
        p: the power of the gradient norm in that penalty (Wu et al. 2018's ``p``, default 6 as in the paper).
        penalty_points: where the penalty's gradient is taken: ``interpolates`` (the authors' code) or
            ``real_and_fake`` (the real and the generated samples, half each).
        lr_g: G's Adam learning rate ``alpha`` (2e-4).
        lr_d: the critic's Adam learning rate ``alpha`` (2e-4).
        betas_g: G's Adam ``(beta1, beta2)``: ``(0, 0.9)`` as in the authors' code; the paper's text names
            ``(0.5, 0.999)``.
        betas_d: the critic's Adam ``(beta1, beta2)`` (``(0, 0.9)``, as ``betas_g``).
        n_critic: critic steps per G step (5).
        **kwargs: go to ``GANModule``: num_fixed_samples, fixed_noise_seed, ema_decay, nonfinite,
            compile_networks, channels_last.
    """

    offline_preset: ClassVar[str] = "configs/wgan_div_shapes.yaml"  # `fit --model WGANDiv` with no data

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
        penalty_points: Literal["interpolates", "real_and_fake"] = "interpolates",
        lr_g: float = 2e-4,
        lr_d: float = 2e-4,
        betas_g: tuple[float, float] = (0.0, 0.9),
        betas_d: tuple[float, float] = (0.0, 0.9),
        n_critic: int = 5,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            z_dim=z_dim, lr_g=lr_g, lr_d=lr_d, betas_g=betas_g, betas_d=betas_d, n_critic=n_critic, **kwargs
        )
        self.save_hyperparameters()
        if penalty_points not in ("interpolates", "real_and_fake"):
            raise LitGansError(f"penalty_points must be 'interpolates' or 'real_and_fake', got {penalty_points!r}")
        self.k, self.p, self.penalty_points = k, p, penalty_points
        self.generator, self.discriminator = generator_and_discriminator(
            data_shape, z_dim, g_features, d_features, g_hidden, d_hidden, **critic_options(d_norm)
        )

    def d_step(self, batch: tuple[Tensor, Tensor]) -> dict[str, Tensor]:
        real = batch[0]
        fake = self.draw_fake(len(real)).detach()
        critic_loss = wasserstein_d_loss(self.discriminator(real), self.discriminator(fake))
        penalty = wgan_div_penalty(uncompiled(self.discriminator), real, fake, self.k, self.p, self.penalty_points)
        return {"loss": critic_loss + penalty, "wasserstein": -critic_loss.detach(), "div_penalty": penalty}

    def g_step(self, batch: tuple[Tensor, Tensor]) -> dict[str, Tensor]:
        return {"loss": wasserstein_g_loss(self.discriminator(self.draw_fake(len(batch[0]))))}
