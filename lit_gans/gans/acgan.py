"""ACGAN: Odena, Olah & Shlens 2017, "Conditional Image Synthesis with Auxiliary Classifier GANs" (arXiv:1610.09585).

G draws ``X_fake = G(c, z)`` for a class ``c``; D sees only the image and answers twice, ``P(S | X)`` (real or
fake) and ``P(C | X)`` (which class), from one body with two heads. With

    L_S = E[log P(S=real | X_real)] + E[log P(S=fake | X_fake)]
    L_C = E[log P(C=c | X_real)]    + E[log P(C=c | X_fake)]

D maximises ``L_S + L_C`` and G maximises ``L_C - L_S`` (eq. 2-3; with ``d_class_loss_on_fakes=False`` D's ``L_C``
keeps only its real part). Here G's ``-L_S`` is the non-saturating
``-log P(S=real | X_fake)``, and the Improved-GAN options of ``NonSaturatingGAN`` apply to the source head.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch.nn.functional as F
from torch import Tensor

from lit_gans.errors import LitGansError
from lit_gans.gans.cgan import ClassConditionalSampling
from lit_gans.improved import NonSaturatingGAN, uniform_labels
from lit_gans.losses import discriminator_accuracy
from lit_gans.networks.conditional import AuxiliaryHeadDiscriminator, LabelConditionedGenerator, Network, base_networks


class ACGAN(ClassConditionalSampling, NonSaturatingGAN):
    """Auxiliary-classifier GAN.

    Args:
        data_shape: ``(C, H, W)`` or ``(D,)``, linked from the datamodule by the CLI.
        num_classes: ``K`` (10 for MNIST, 3 for Shapes).
        network: ``conv`` (DCGAN nets) or ``mlp``.
        embed_dim: size of G's label embedding, concatenated to ``z``.
        lambda_class: weight of the class terms ``L_C`` in both players' objectives (1 in the paper).
        d_class_loss_on_fakes: D fits its class head to the fakes' requested classes too (the paper's ``L_C``).
            ``False`` fits it to the real labels alone while G still carries ``L_C`` on its fakes: D and G then cannot
            agree on a private code (G drawing a 7 for class 2 and D learning "a fake 7 is a 2"), which the paper's
            form allows because the class term is cooperative on fakes. Measured on MNIST in benchmarks/README.md.
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

    # `python cli.py fit --model ACGAN` with no data: the shapes as the classes (no download)
    offline_preset: ClassVar[str] = "configs/acgan_shapes.yaml"

    def __init__(
        self,
        data_shape: tuple[int, ...] = (1, 28, 28),
        num_classes: int = 10,
        network: Network = "conv",
        z_dim: int = 100,
        embed_dim: int = 10,
        lambda_class: float = 1.0,
        d_class_loss_on_fakes: bool = True,
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
        self.num_classes, self.lambda_class = num_classes, lambda_class
        self.d_class_loss_on_fakes = d_class_loss_on_fakes
        g_net, d_net = base_networks(
            network, data_shape, z_dim + embed_dim, g_hidden, d_hidden, g_features, d_features, minibatch_kernels
        )
        self.generator = LabelConditionedGenerator(g_net, z_dim, num_classes, embed_dim)
        self.discriminator = AuxiliaryHeadDiscriminator(d_net, num_classes)

    def d_step(self, batch: tuple[Tensor, Tensor]) -> dict[str, Tensor]:
        real, labels = batch[0], batch[1]
        fake_labels = uniform_labels(len(real), self.num_classes, None, self.device)
        fake = self.generator(self.sample_latent(len(real)), fake_labels).detach()
        real_source, real_class = self.discriminator(real)
        fake_source, fake_class = self.discriminator(fake)
        class_loss = F.cross_entropy(real_class, labels)  # -L_C, its real part
        if self.d_class_loss_on_fakes:
            class_loss = class_loss + F.cross_entropy(fake_class, fake_labels)
        out = {
            "loss": self.adversarial_d_loss(real_source, fake_source) + self.lambda_class * class_loss,  # -L_S - L_C
            "class_loss": class_loss,
            "class_accuracy_real": (real_class.argmax(1) == labels).float().mean(),
        }
        if self.diagnosing:  # a diagnostic: computed for the logged updates only
            out["accuracy"] = discriminator_accuracy(real_source, fake_source)
        return out

    def g_step(self, batch: tuple[Tensor, Tensor]) -> dict[str, Tensor]:
        real, D = batch[0], self.discriminator
        fake_labels = uniform_labels(len(real), self.num_classes, None, self.device)
        fake_features = D.features(self.generator(self.sample_latent(len(real)), fake_labels))
        real_features = D.features(real) if self.feature_matching else None
        fake_class = D.auxiliary(fake_features)
        class_loss = F.cross_entropy(fake_class, fake_labels)  # -E[log P(C=c | X_fake)]
        adversarial = self.adversarial_g_loss(D.head(fake_features), fake_features, real_features)
        return {
            "loss": adversarial + self.lambda_class * class_loss,  # -log P(S=real | X_fake) - L_C(fake)
            "class_loss": class_loss,
            "class_accuracy_fake": (fake_class.argmax(1) == fake_labels).float().mean(),
        }
