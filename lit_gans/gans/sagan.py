"""SAGAN: Zhang, Goodfellow, Metaxas & Odena 2019, "Self-Attention Generative Adversarial Networks"
(arXiv:1805.08318).

Self-attention blocks in G and D (``lit_gans.layers.SelfAttention``: 1x1 convs with C/8 channels for query and key,
a learned gamma starting at 0), spectral norm in both nets, the hinge loss and the two time-scale update rule
(defaults G 1e-4, D 4e-4, Adam betas (0, 0.9), one D step per G step):

    D: descend  E[relu(1 - D(x))] + E[relu(1 + D(G(z)))]
    G: descend  -E[D(G(z))]

On flat toy data there are no positions to attend over: the MLPs get spectral norm, the hinge loss and TTUR only.
"""

from __future__ import annotations

from typing import Any, ClassVar

from lit_gans.base import GANModule
from lit_gans.gans.sngan import SNGAN
from lit_gans.networks import generator_and_discriminator


class SAGAN(GANModule):
    """Self-attention GAN.

    Args:
        data_shape: ``(C, H, W)`` (DCGAN nets with self-attention at half the image size) or ``(D,)`` (MLPs).
        g_features: ``ngf``, channels of G's last hidden layer in the DCGAN net (doubling towards its input);
            images only (64 as in DCGAN).
        d_features: ``ndf``, channels of D's first conv layer (doubling per stride-2 layer); images only.
        g_hidden: widths of G's hidden layers in the MLP, input to output; flat data ``(D,)`` only.
        d_hidden: widths of D's hidden layers in the MLP; flat data ``(D,)`` only.
        lr_g: G's Adam learning rate (1e-4: the paper's two time-scale update rule gives G the slower one).
        lr_d: D's Adam learning rate (4e-4 in the paper).
        betas_g: G's Adam ``(beta1, beta2)`` (``(0, 0.9)`` in the paper).
        betas_d: D's Adam ``(beta1, beta2)`` (``(0, 0.9)``).
        n_critic: D steps per G step (1 in the paper: TTUR replaces extra D steps).
        **kwargs: go to ``GANModule``: num_fixed_samples, fixed_noise_seed, ema_decay, nonfinite,
            compile_networks, channels_last.
    """

    offline_preset: ClassVar[str] = "configs/sagan_shapes.yaml"  # `fit --model SAGAN` with no data

    def __init__(
        self,
        data_shape: tuple[int, ...] = (1, 28, 28),
        z_dim: int = 128,
        g_features: int = 64,
        d_features: int = 64,
        g_hidden: tuple[int, ...] = (256, 256, 256),
        d_hidden: tuple[int, ...] = (256, 256, 256),
        lr_g: float = 1e-4,
        lr_d: float = 4e-4,
        betas_g: tuple[float, float] = (0.0, 0.9),
        betas_d: tuple[float, float] = (0.0, 0.9),
        n_critic: int = 1,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            z_dim=z_dim, lr_g=lr_g, lr_d=lr_d, betas_g=betas_g, betas_d=betas_d, n_critic=n_critic, **kwargs
        )
        self.save_hyperparameters()
        self.generator, self.discriminator = generator_and_discriminator(
            data_shape,
            z_dim,
            g_features,
            d_features,
            g_hidden,
            d_hidden,
            d_norm="none",
            spectral_norm_g=True,
            spectral_norm_d=True,
            attention=True,
        )

    # the hinge objective is SNGAN's, unchanged
    d_step = SNGAN.d_step
    g_step = SNGAN.g_step
