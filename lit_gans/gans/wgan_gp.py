"""WGAN-GP: Gulrajani, Ahmed, Arjovsky, Dumoulin & Courville 2017, "Improved Training of Wasserstein GANs"
(arXiv:1704.00028).

Algorithm 1 (defaults lambda = 10, n_critic = 5, Adam alpha = 1e-4, beta1 = 0, beta2 = 0.9):

    critic: descend  E[D(G(z))] - E[D(x)] + lambda E[(||grad D(x_hat)||_2 - 1)^2],
                     x_hat = eps x + (1 - eps) G(z), eps ~ U[0, 1] per sample
    G:      descend  -E[D(G(z))]

No BatchNorm in the critic (section 4: the penalty is per sample, BatchNorm couples the samples of a batch): the
conv critic uses layer normalization, as the paper suggests.
"""

from __future__ import annotations

from typing import Any, ClassVar

from torch import Tensor

from lit_gans.base import GANModule, uncompiled
from lit_gans.losses import wasserstein_d_loss, wasserstein_g_loss
from lit_gans.networks import CriticNorm, critic_options, generator_and_discriminator
from lit_gans.regularizers import gradient_penalty


class WGANGP(GANModule):
    """Wasserstein GAN with gradient penalty.

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
        lambda_gp: ``lambda``, the weight of the gradient penalty ``E[(||grad D(x_hat)||_2 - 1)^2]`` in the
            critic's loss (10 in the paper).
        lr_g: G's Adam learning rate ``alpha`` (1e-4 in Algorithm 1).
        lr_d: the critic's Adam learning rate ``alpha`` (1e-4).
        betas_g: G's Adam ``(beta1, beta2)`` (``(0, 0.9)`` in Algorithm 1).
        betas_d: the critic's Adam ``(beta1, beta2)`` (``(0, 0.9)``).
        n_critic: critic steps per G step (``n_critic = 5`` in Algorithm 1).
        **kwargs: go to ``GANModule``: num_fixed_samples, fixed_noise_seed, ema_decay, nonfinite,
            compile_networks, channels_last.
    """

    offline_preset: ClassVar[str] = "configs/wgan_gp_shapes.yaml"  # `fit --model WGANGP` with no data

    def __init__(
        self,
        data_shape: tuple[int, ...] = (1, 28, 28),
        z_dim: int = 100,
        g_features: int = 64,
        d_features: int = 64,
        g_hidden: tuple[int, ...] = (256, 256, 256),
        d_hidden: tuple[int, ...] = (256, 256, 256),
        d_norm: CriticNorm = "none",
        lambda_gp: float = 10.0,
        lr_g: float = 1e-4,
        lr_d: float = 1e-4,
        betas_g: tuple[float, float] = (0.0, 0.9),
        betas_d: tuple[float, float] = (0.0, 0.9),
        n_critic: int = 5,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            z_dim=z_dim, lr_g=lr_g, lr_d=lr_d, betas_g=betas_g, betas_d=betas_d, n_critic=n_critic, **kwargs
        )
        self.save_hyperparameters()
        self.lambda_gp = lambda_gp
        self.generator, self.discriminator = generator_and_discriminator(
            data_shape, z_dim, g_features, d_features, g_hidden, d_hidden, **critic_options(d_norm)
        )

    def d_step(self, batch: tuple[Tensor, Tensor]) -> dict[str, Tensor]:
        real = batch[0]
        fake = self.draw_fake(len(real)).detach()
        critic_loss = wasserstein_d_loss(self.discriminator(real), self.discriminator(fake))
        penalty = gradient_penalty(uncompiled(self.discriminator), real, fake)
        return {"loss": critic_loss + self.lambda_gp * penalty, "wasserstein": -critic_loss.detach(), "gp": penalty}

    def g_step(self, batch: tuple[Tensor, Tensor]) -> dict[str, Tensor]:
        return {"loss": wasserstein_g_loss(self.discriminator(self.draw_fake(len(batch[0]))))}
