"""SNGAN: Miyato, Kataoka, Koyama & Yoshida 2018, "Spectral Normalization for Generative Adversarial Networks"
(arXiv:1802.05957).

Every layer of D is divided by its largest singular value (one power iteration per step), which bounds D's Lipschitz
constant without a penalty; trained with the hinge loss (defaults Adam 2e-4, betas (0, 0.9), n_dis = 5, the
paper's setting for the hinge loss):

    D: descend  E[relu(1 - D(x))] + E[relu(1 + D(G(z)))]        with W_SN = W / sigma(W) in every layer of D
    G: descend  -E[D(G(z))]
"""

from __future__ import annotations

from typing import Any, ClassVar

from torch import Tensor

from lit_gans.base import GANModule
from lit_gans.losses import discriminator_accuracy, hinge_d_loss, hinge_g_loss
from lit_gans.networks import generator_and_discriminator


class SNGAN(GANModule):
    """Spectrally normalised D, hinge loss.

    Args:
        data_shape: ``(C, H, W)`` (DCGAN nets, D without BatchNorm) or ``(D,)`` (MLPs); linked from the data.
        g_features: ``ngf``, channels of G's last hidden layer in the DCGAN net (doubling towards its input);
            images only (64 as in DCGAN).
        d_features: ``ndf``, channels of D's first conv layer (doubling per stride-2 layer); images only.
        g_hidden: widths of G's hidden layers in the MLP, input to output; flat data ``(D,)`` only.
        d_hidden: widths of D's hidden layers in the MLP; flat data ``(D,)`` only.
        lr_g: G's Adam learning rate ``alpha`` (2e-4 in the paper's hinge-loss setting).
        lr_d: D's Adam learning rate ``alpha`` (2e-4).
        betas_g: G's Adam ``(beta1, beta2)`` (``(0, 0.9)`` in the paper's hinge-loss setting).
        betas_d: D's Adam ``(beta1, beta2)`` (``(0, 0.9)``).
        n_critic: ``n_dis``, D steps per G step (5 in the paper's hinge-loss setting).
        **kwargs: go to ``GANModule``: num_fixed_samples, fixed_noise_seed, ema_decay, nonfinite,
            compile_networks, channels_last.
    """

    offline_preset: ClassVar[str] = "configs/sngan_shapes.yaml"  # `fit --model SNGAN` with no data

    def __init__(
        self,
        data_shape: tuple[int, ...] = (1, 28, 28),
        z_dim: int = 128,
        g_features: int = 64,
        d_features: int = 64,
        g_hidden: tuple[int, ...] = (256, 256, 256),
        d_hidden: tuple[int, ...] = (256, 256, 256),
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
        self.generator, self.discriminator = generator_and_discriminator(
            data_shape, z_dim, g_features, d_features, g_hidden, d_hidden, d_norm="none", spectral_norm_d=True
        )

    def d_step(self, batch: tuple[Tensor, Tensor]) -> dict[str, Tensor]:
        real = batch[0]
        real_scores, fake_scores = self.discriminator(real), self.discriminator(self.draw_fake(len(real)).detach())
        out = {
            "loss": hinge_d_loss(real_scores, fake_scores),
        }
        if self.diagnosing:  # a diagnostic: computed for the logged updates only
            out["accuracy"] = discriminator_accuracy(real_scores, fake_scores)
        return out

    def g_step(self, batch: tuple[Tensor, Tensor]) -> dict[str, Tensor]:
        return {"loss": hinge_g_loss(self.discriminator(self.draw_fake(len(batch[0]))))}
