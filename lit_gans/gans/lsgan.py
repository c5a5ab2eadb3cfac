"""LSGAN: Mao, Li, Xie, Lau, Wang & Smolley 2017, "Least Squares Generative Adversarial Networks"
(arXiv:1611.04076).

Least-squares losses with the 0-1 coding ``a = 0, b = c = 1`` (equation 2; defaults Adam 2e-4, beta1 0.5):

    D: descend  1/2 E[(D(x) - 1)^2] + 1/2 E[D(G(z))^2]
    G: descend  1/2 E[(D(G(z)) - 1)^2]

Fakes on the right side of the boundary but far from the data still get gradients, unlike with the sigmoid
cross-entropy.
"""

from __future__ import annotations

from typing import Any, ClassVar

from torch import Tensor

from lit_gans.base import GANModule
from lit_gans.losses import discriminator_accuracy, least_squares_d_loss, least_squares_g_loss
from lit_gans.networks import generator_and_discriminator


class LSGAN(GANModule):
    """Least-squares GAN.

    Args:
        data_shape: ``(C, H, W)`` (DCGAN nets) or ``(D,)`` (MLPs, for toy points); linked from the data.
        g_features: ``ngf``, channels of G's last hidden layer in the DCGAN net (doubling towards its input);
            images only (64 as in DCGAN).
        d_features: ``ndf``, channels of D's first conv layer (doubling per stride-2 layer); images only.
        g_hidden: widths of G's hidden layers in the MLP, input to output; flat data ``(D,)`` only.
        d_hidden: widths of D's hidden layers in the MLP; flat data ``(D,)`` only.
        lr_g: G's Adam learning rate ``alpha`` (2e-4).
        lr_d: D's Adam learning rate ``alpha`` (2e-4).
        betas_g: G's Adam ``(beta1, beta2)`` (``(0.5, 0.999)``: beta1 0.5, as in DCGAN).
        betas_d: D's Adam ``(beta1, beta2)`` (``(0.5, 0.999)``: beta1 0.5).
        **kwargs: go to ``GANModule``: num_fixed_samples, fixed_noise_seed, ema_decay, nonfinite,
            compile_networks, channels_last.
    """

    offline_preset: ClassVar[str] = "configs/lsgan_shapes.yaml"  # `fit --model LSGAN` with no data

    def __init__(
        self,
        data_shape: tuple[int, ...] = (1, 28, 28),
        z_dim: int = 100,
        g_features: int = 64,
        d_features: int = 64,
        g_hidden: tuple[int, ...] = (256, 256, 256),
        d_hidden: tuple[int, ...] = (256, 256, 256),
        lr_g: float = 2e-4,
        lr_d: float = 2e-4,
        betas_g: tuple[float, float] = (0.5, 0.999),
        betas_d: tuple[float, float] = (0.5, 0.999),
        n_critic: int = 1,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            z_dim=z_dim, lr_g=lr_g, lr_d=lr_d, betas_g=betas_g, betas_d=betas_d, n_critic=n_critic, **kwargs
        )
        self.save_hyperparameters()
        self.generator, self.discriminator = generator_and_discriminator(
            data_shape, z_dim, g_features, d_features, g_hidden, d_hidden
        )

    def d_step(self, batch: tuple[Tensor, Tensor]) -> dict[str, Tensor]:
        real = batch[0]
        real_scores, fake_scores = self.discriminator(real), self.discriminator(self.draw_fake(len(real)).detach())
        out = {
            "loss": least_squares_d_loss(real_scores, fake_scores),
        }
        if self.diagnosing:  # a diagnostic: computed for the logged updates only
            out["accuracy"] = discriminator_accuracy(real_scores, fake_scores, threshold=0.5)  # targets 1 and 0
        return out

    def g_step(self, batch: tuple[Tensor, Tensor]) -> dict[str, Tensor]:
        return {"loss": least_squares_g_loss(self.discriminator(self.draw_fake(len(batch[0]))))}
