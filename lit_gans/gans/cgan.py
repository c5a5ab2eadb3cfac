"""CGAN: Mirza & Osindero 2014, "Conditional Generative Adversarial Nets" (arXiv:1411.1784).

Both players see the class label ``y`` (embedded, concatenated to their inputs: ``networks.conditional``):

    D: descend  -log D(x | y) - log(1 - D(G(z | y') | y'))      (x, y) from the data, y' ~ U{0..K-1}
    G: descend  -log D(G(z | y') | y')

``network="mlp"``: the paper's fully connected nets (here the GAN's MLPs with ReLU->LeakyReLU, no maxout);
``network="conv"``: DCGAN nets, with the label as an extra input channel of D. The Improved-GAN options of
``NonSaturatingGAN`` apply. ``sample(n, labels=...)`` takes one class for all or a label per sample.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import Tensor

from lit_gans.errors import LitGansError
from lit_gans.improved import NonSaturatingGAN, uniform_labels
from lit_gans.losses import discriminator_accuracy
from lit_gans.networks.conditional import (
    LabelConditionedDiscriminator,
    LabelConditionedGenerator,
    Network,
    base_networks,
)


class ClassConditionalSampling:
    """What the class-conditional models share about labels: ``generate`` from ``(z, labels)``, ``draw_conditions``
    (``labels=`` one class for all, a label per sample, or none: uniform), and sample grids with one class a row
    (``fixed_conditions``)."""

    num_classes: int
    fixed_latent: Tensor
    device: torch.device
    generator: torch.nn.Module

    def draw_conditions(self, n: int, generator: torch.Generator | None = None, **given: Any) -> dict[str, Tensor]:
        labels = given.pop("labels", None)
        if given:
            raise LitGansError(f"{type(self).__name__} takes labels=..., not {', '.join(sorted(given))}")
        if labels is None:
            return {"labels": uniform_labels(n, self.num_classes, generator, self.device)}
        given_labels = torch.as_tensor(labels, dtype=torch.long, device=self.device)
        labels = given_labels.expand(n) if given_labels.ndim == 0 else given_labels
        if labels.shape != (n,):
            got = f"{len(labels)} labels" if labels.ndim == 1 else f"shape {list(labels.shape)}"
            raise LitGansError(f"labels must be one class or {n} classes (one a sample), got {got}")
        outside = labels[(labels < 0) | (labels >= self.num_classes)]
        if outside.numel():
            raise LitGansError(
                f"labels must be one class or {n} classes, each in 0..{self.num_classes - 1}; got {int(outside[0])}"
            )
        return {"labels": labels}

    def generate(self, latent: Tensor, net: torch.nn.Module | None = None, **conditions: Tensor) -> Tensor:
        """``G(z, y)`` with ``net`` as G; ``labels`` is required."""
        if "labels" not in conditions:
            raise LitGansError(f"{type(self).__name__} generates from (z, labels): pass labels=...")
        return (self.generator if net is None else net)(latent, conditions["labels"])

    def grid_rows(self) -> tuple[int, int]:
        """``(rows, per_row)`` of the class grid: one row per class, as many samples a row as the fixed batch
        allows."""
        per_row = max(1, len(self.fixed_latent) // self.num_classes)
        return self.num_classes, per_row

    def fixed_conditions(self) -> dict[str, Tensor]:
        rows, per_row = self.grid_rows()
        labels = torch.arange(len(self.fixed_latent), device=self.device) // per_row
        return {"labels": labels.clamp(max=rows - 1)}

    def sample_grids(self) -> dict[str, tuple[Tensor, int | None]]:
        rows, per_row = self.grid_rows()
        return {"samples": (self.sample_fixed()[: rows * per_row], per_row)}  # row k: class k


class CGAN(ClassConditionalSampling, NonSaturatingGAN):
    """Conditional GAN.

    Args:
        data_shape: ``(C, H, W)`` or ``(D,)``, linked from the datamodule by the CLI.
        num_classes: ``K``, the number of labels (10 for MNIST, 3 for Shapes).
        network: ``mlp`` (the paper's) or ``conv`` (DCGAN nets; images only).
        embed_dim: size of G's label embedding (and D's, for ``mlp``; ``conv`` embeds to one ``H x W`` channel).
        g_hidden: widths of G's hidden layers in the MLP (``network="mlp"`` only; 256-512-1024).
        d_hidden: widths of D's hidden layers in the MLP (``network="mlp"`` only; 512-256).
        g_features: ``ngf``, channels of G's last hidden conv layer, doubling towards its input
            (``network="conv"`` only; 64).
        d_features: ``ndf``, channels of D's first conv layer, doubling per stride-2 layer
            (``network="conv"`` only; 64).
        lr_g: G's Adam learning rate ``alpha`` (2e-4, DCGAN's).
        lr_d: D's Adam learning rate ``alpha`` (2e-4).
        betas_g: G's Adam ``(beta1, beta2)`` (``(0.5, 0.999)``, DCGAN's).
        betas_d: D's Adam ``(beta1, beta2)`` (``(0.5, 0.999)``).
        num_fixed_samples: size of the fixed latent batch of the sample grids, laid out one class a row (100: 10
            a row for ``K = 10``).
        minibatch_kernels: ``B``, the number of minibatch-discrimination kernels in D (Salimans et al. 2016,
            s.3.2): each appends to D's features one that measures how close a sample is to the rest of its
            batch; 0 (default): off.
        **kwargs: go to ``NonSaturatingGAN`` (real_label, feature_matching, historical_averaging) and on to
            ``GANModule`` (fixed_noise_seed, ema_decay, nonfinite, compile_networks,
            channels_last).
    """

    # `python cli.py fit --model CGAN` with no data: the shapes as the classes (no download)
    offline_preset: ClassVar[str] = "configs/cgan_shapes.yaml"

    def __init__(
        self,
        data_shape: tuple[int, ...] = (1, 28, 28),
        num_classes: int = 10,
        network: Network = "mlp",
        z_dim: int = 100,
        embed_dim: int = 10,
        g_hidden: tuple[int, ...] = (256, 512, 1024),
        d_hidden: tuple[int, ...] = (512, 256),
        g_features: int = 64,
        d_features: int = 64,
        lr_g: float = 2e-4,
        lr_d: float = 2e-4,
        betas_g: tuple[float, float] = (0.5, 0.999),
        betas_d: tuple[float, float] = (0.5, 0.999),
        n_critic: int = 1,
        num_fixed_samples: int = 100,
        minibatch_kernels: int = 0,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            z_dim=z_dim,
            lr_g=lr_g,
            lr_d=lr_d,
            betas_g=betas_g,
            betas_d=betas_d,
            n_critic=n_critic,
            num_fixed_samples=num_fixed_samples,
            **kwargs,
        )
        self.save_hyperparameters()
        if num_classes < 2:
            raise LitGansError(f"num_classes must be at least 2, got {num_classes}")
        self.num_classes = num_classes
        as_channel = network == "conv"  # the label as one more image channel of D; else e(y) joins the flat x
        g_net, d_net = base_networks(
            network,
            data_shape,
            z_dim + embed_dim,
            g_hidden,
            d_hidden,
            g_features,
            d_features,
            minibatch_kernels,
            d_extra_inputs=1 if as_channel else embed_dim,
        )
        self.generator = LabelConditionedGenerator(g_net, z_dim, num_classes, embed_dim)
        self.discriminator = LabelConditionedDiscriminator(d_net, data_shape, num_classes, embed_dim, as_channel)

    def d_step(self, batch: tuple[Tensor, Tensor]) -> dict[str, Tensor]:
        real, labels = batch[0], batch[1]
        fake_labels = uniform_labels(len(real), self.num_classes, None, self.device)
        fake = self.generator(self.sample_latent(len(real)), fake_labels).detach()
        real_logits, fake_logits = self.discriminator(real, labels), self.discriminator(fake, fake_labels)
        out = {
            "loss": self.adversarial_d_loss(real_logits, fake_logits),  # -log D(x|y) - log(1 - D(G(z|y')|y'))
        }
        if self.diagnosing:  # a diagnostic: computed for the logged updates only
            out["accuracy"] = discriminator_accuracy(real_logits, fake_logits)
        return out

    def g_step(self, batch: tuple[Tensor, Tensor]) -> dict[str, Tensor]:
        real, labels, D = batch[0], batch[1], self.discriminator
        fake_labels = uniform_labels(len(real), self.num_classes, None, self.device)
        fake_features = D.features(self.generator(self.sample_latent(len(real)), fake_labels), fake_labels)
        real_features = D.features(real, labels) if self.feature_matching else None
        return {
            "loss": self.adversarial_g_loss(D.head(fake_features), fake_features, real_features)
        }  # -log D(G(z|y')|y')
