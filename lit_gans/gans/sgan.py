"""SGAN, the semi-supervised GAN: Salimans et al. 2016, "Improved Techniques for Training GANs" (s.5), and Odena
2016, "Semi-Supervised Learning with Generative Adversarial Networks" (arXiv:1606.01583).

D is a classifier over the ``K`` real classes plus "generated". With the generated class's logit fixed at 0
(Salimans, s.5) D's logits ``l_1..l_K`` give both answers: ``P(y = k | x, real) = softmax(l)_k`` and
``D(x) = Z(x) / (Z(x) + 1)``, ``Z(x) = sum_k exp(l_k(x))``, so the real/fake logit is ``logsumexp_k l_k``.

    L_supervised   = -E_{(x, y) ~ labelled}[log p(y | x, y < K + 1)]
    L_unsupervised = -E_{x ~ data}[log D(x)] - E_{z}[log(1 - D(G(z)))]
    D: descend  L_supervised + lambda_unsupervised * L_unsupervised
    G: descend  ||E f(x) - E f(G(z))||^2       (feature matching, the paper's choice for semi-supervised learning)

Training batches come from a datamodule built with ``labels_per_class`` (``datamodules.SemiSupervised``):
``(x, x_labelled, y_labelled)``, every image of the split used unlabelled, each paired with one of the few labelled
examples. A plain ``(x, y)`` batch counts as fully labelled. Validation logs ``val/accuracy`` of D's class.
``lambda_unsupervised = 0`` trains D as a plain classifier on the labelled examples alone (the baseline).
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor

from lit_gans.errors import LitGansError
from lit_gans.improved import NonSaturatingGAN
from lit_gans.losses import discriminator_accuracy, real_logit_from_class_logits
from lit_gans.networks.conditional import Network, base_networks


class SGAN(NonSaturatingGAN):
    """Semi-supervised GAN: a ``K``-class discriminator trained on few labels, many unlabelled images and G's fakes.

    Args:
        data_shape: ``(C, H, W)`` or ``(D,)``, linked from the datamodule by the CLI.
        num_classes: ``K`` (10 for MNIST, 3 for Shapes).
        lambda_unsupervised: weight of the real-vs-generated term in D's loss (0: a supervised classifier only).
        feature_matching: G's objective (True, the paper's); False gives the non-saturating ``-log D(G(z))``.
        network: ``conv`` (DCGAN nets) or ``mlp``; g_hidden, d_hidden, g_features, d_features: their sizes.
        minibatch_kernels: minibatch discrimination in D (an Improved-GAN option; 0: off).
        **kwargs: go to ``NonSaturatingGAN`` (real_label, historical_averaging) and on to ``GANModule``
            (num_fixed_samples, fixed_noise_seed, ema_decay, nonfinite).
    """

    # `python cli.py fit --model SGAN` with no data: the shapes as the classes (no download)
    offline_preset: ClassVar[str] = "configs/sgan_shapes.yaml"

    def __init__(
        self,
        data_shape: tuple[int, ...] = (1, 28, 28),
        num_classes: int = 10,
        lambda_unsupervised: float = 1.0,
        network: Network = "conv",
        z_dim: int = 100,
        g_hidden: tuple[int, ...] = (256, 512, 1024),
        d_hidden: tuple[int, ...] = (512, 256),
        g_features: int = 64,
        d_features: int = 64,
        lr_g: float = 2e-4,
        lr_d: float = 2e-4,
        betas_g: tuple[float, float] = (0.5, 0.999),
        betas_d: tuple[float, float] = (0.5, 0.999),
        n_critic: int = 1,
        feature_matching: bool = True,
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
            feature_matching=feature_matching,
            **kwargs,
        )
        self.save_hyperparameters()
        if num_classes < 2:
            raise LitGansError(f"num_classes must be at least 2, got {num_classes}")
        self.num_classes, self.lambda_unsupervised = num_classes, lambda_unsupervised
        self.generator, self.discriminator = base_networks(
            network,
            data_shape,
            z_dim,
            g_hidden,
            d_hidden,
            g_features,
            d_features,
            minibatch_kernels,
            d_outputs=num_classes,
            d_norm="layer",  # per sample: D is also a classifier, which BatchNorm's batch statistics would make
            # depend on whether its batch was labelled, unlabelled or generated (Salimans used weight norm)
        )

    @staticmethod
    def split_batch(batch: tuple[Tensor, ...]) -> tuple[Tensor, Tensor, Tensor]:
        """``(unlabelled x, labelled x, labels)`` from a semi-supervised ``(x, x_l, y_l)`` or a labelled ``(x, y)``."""
        if len(batch) == 3:
            return batch[0], batch[1], batch[2]
        return batch[0], batch[0], batch[1]

    @torch.no_grad()
    def classify(self, x: Tensor) -> Tensor:
        """D's class for each image, ``[N]`` (eval mode)."""
        was_training = self.discriminator.training
        self.discriminator.eval()
        try:
            return self.discriminator(x.to(self.device)).argmax(1)
        finally:
            self.discriminator.train(was_training)

    def d_step(self, batch: tuple[Tensor, ...]) -> dict[str, Tensor]:
        unlabelled, labelled, labels = self.split_batch(batch)
        D = self.discriminator
        class_logits = D(labelled)
        supervised = F.cross_entropy(class_logits, labels)
        logs = {"supervised": supervised, "train_accuracy": (class_logits.argmax(1) == labels).float().mean()}
        loss = supervised
        if self.lambda_unsupervised > 0:
            real_logits = real_logit_from_class_logits(D(unlabelled))  # logsumexp_k l_k(x)
            fake_logits = real_logit_from_class_logits(D(self.draw_fake(len(unlabelled)).detach()))
            unsupervised = self.adversarial_d_loss(real_logits, fake_logits)
            loss = loss + self.lambda_unsupervised * unsupervised
            logs.update(unsupervised=unsupervised, accuracy=discriminator_accuracy(real_logits, fake_logits))
        return {"loss": loss, **logs}

    def g_step(self, batch: tuple[Tensor, ...]) -> dict[str, Tensor]:
        unlabelled, D = self.split_batch(batch)[0], self.discriminator
        fake_features = D.features(self.draw_fake(len(unlabelled)))
        real_features = D.features(unlabelled) if self.feature_matching else None
        fake_logits = real_logit_from_class_logits(D.head(fake_features))
        return {"loss": self.adversarial_g_loss(fake_logits, fake_features, real_features)}

    def validation_step(self, batch: tuple[Tensor, ...], batch_idx: int) -> None:
        x, labels = batch[0], batch[1]
        accuracy = (self.classify(x) == labels).float().mean()
        self.log("val/accuracy", accuracy, batch_size=len(x), sync_dist=True)
