"""Pix2Pix: Isola, Zhu, Zhou & Efros 2017, "Image-to-Image Translation with Conditional Adversarial Networks"
(arXiv:1611.07004).

A conditional GAN whose D sees the input ``x`` beside the image ``y`` it judges, patch by patch (70x70 PatchGAN);
G is a U-Net whose only noise ``z`` is dropout. The objective (eq. 4) is

    G* = arg min_G max_D  L_cGAN(G, D) + lambda L_L1(G),   lambda = 100
    L_cGAN = E[log D(x, y)] + E[log(1 - D(x, G(x, z)))],   L_L1 = E|y - G(x, z)|_1

    D: descend  1/2 (-log D(x, y) - log(1 - D(x, G(x))))     (the paper halves D's objective)
    G: descend  -log D(x, G(x)) + lambda |y - G(x)|_1          (non-saturating, as in the paper's s.3.3)

Adam 2e-4, betas (0.5, 0.999), batch 1 to 10 in the paper; the authors' code holds the learning rate for
``n_epochs`` epochs, then decays it linearly to 0 over ``n_epochs_decay`` (100 + 100). ``lambda_gan = 0`` is the
paper's "L1 alone" ablation (D is still trained, and logged, but G ignores it). Batches are ``(x, y)``: input and
target, ``[N, C, S, S]``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import Tensor

from lit_gans.errors import LitGansError
from lit_gans.losses import discriminator_accuracy, l1_distance, non_saturating_d_loss, non_saturating_g_loss
from lit_gans.networks.patchgan import PatchGANDiscriminator
from lit_gans.networks.unet import Norm2d, UNetGenerator
from lit_gans.translation import TranslationGAN


class Pix2Pix(TranslationGAN):
    """Pix2Pix: U-Net G, conditional PatchGAN D, cGAN + L1.

    Args:
        data_shape: ``(C, S, S)`` of both domains, linked from the datamodule; ``S`` (the image size) a power of two
            >= 8 (the U-Net halves it down to 1x1: 8 levels at 256, the paper's).
        g_features: channels of the U-Net's first encoder layer, ``C64`` in the paper (64); layer ``i`` has
            ``g_features * 2^i``, capped at ``8 * g_features``.
        d_features: channels of the PatchGAN's first layer, ``C64`` in the paper (64), doubling per layer up to
            ``8 * d_features``.
        d_layers: PatchGAN depth: 3 gives the 70x70 patches of the paper, 2 gives 34x34, 1 gives 16x16.
        dropout: G's dropout (the noise, 0.5), where the authors' code has it: decoder layers 2 to ``log2(S) - 4``
            (three at 256, none below 64: see ``UNetGenerator``).
        norm: ``batch`` (the paper: statistics of the current batch, at test time too) or ``instance``.
        lambda_l1: weight of the L1 term (100).
        lambda_gan: weight of the cGAN term in G's loss (1; 0 for the L1-only ablation).
        n_epochs: epochs at the initial learning rate (100 in the authors' code).
        n_epochs_decay: epochs of linear decay of the learning rate to 0 after the first ``n_epochs``; training
            stops at their end (100).
        lr_g: G's Adam learning rate (2e-4 in the paper).
        lr_d: D's Adam learning rate (2e-4).
        betas_g: G's Adam ``(beta1, beta2)`` (``(0.5, 0.999)`` in the paper).
        betas_d: D's Adam ``(beta1, beta2)`` (``(0.5, 0.999)``).
        **kwargs: go to ``GANModule``: ema_decay, nonfinite, compile_networks, channels_last.
    """

    offline_preset: ClassVar[str] = "configs/pix2pix_shapes.yaml"

    def __init__(
        self,
        data_shape: tuple[int, int, int] = (3, 256, 256),
        g_features: int = 64,
        d_features: int = 64,
        d_layers: int = 3,
        dropout: float = 0.5,
        norm: Norm2d = "batch",
        lambda_l1: float = 100.0,
        lambda_gan: float = 1.0,
        n_epochs: int = 100,
        n_epochs_decay: int = 100,
        lr_g: float = 2e-4,
        lr_d: float = 2e-4,
        betas_g: tuple[float, float] = (0.5, 0.999),
        betas_d: tuple[float, float] = (0.5, 0.999),
        **kwargs: Any,
    ) -> None:
        super().__init__(
            n_epochs=n_epochs,
            n_epochs_decay=n_epochs_decay,
            lr_g=lr_g,
            lr_d=lr_d,
            betas_g=betas_g,
            betas_d=betas_d,
            **kwargs,
        )
        self.save_hyperparameters()
        if len(data_shape) != 3 or data_shape[1] != data_shape[2]:
            raise LitGansError(f"Pix2Pix needs square images (C, S, S), got data_shape={tuple(data_shape)}")
        channels, image_size, _ = data_shape
        self.lambda_l1, self.lambda_gan = lambda_l1, lambda_gan
        self.generator = UNetGenerator(image_size, channels, channels, g_features, dropout, norm)
        self.discriminator = PatchGANDiscriminator(2 * channels, d_features, d_layers, norm)  # D(x, y): concat

    def D(self, x: Tensor, y: Tensor) -> Tensor:
        return self.discriminator(torch.cat([x, y], dim=1))  # [N, 1, H', W'] logits, one per patch

    def d_step(self, batch: tuple[Tensor, Tensor]) -> dict[str, Tensor]:
        x, y = batch[0], batch[1]
        real, fake = self.D(x, y), self.D(x, self.generator(x).detach())
        out = {"loss": 0.5 * non_saturating_d_loss(real, fake)}
        if self.diagnosing:  # a diagnostic: computed for the logged updates only
            out["accuracy"] = discriminator_accuracy(real, fake)
        return out

    def g_step(self, batch: tuple[Tensor, Tensor]) -> dict[str, Tensor]:
        x, y = batch[0], batch[1]
        fake = self.generator(x)
        gan, l1 = non_saturating_g_loss(self.D(x, fake)), l1_distance(fake, y)
        return {"loss": self.lambda_gan * gan + self.lambda_l1 * l1, "gan": gan, "l1": l1}
