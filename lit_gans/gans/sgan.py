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

The authors' MNIST code (openai/improved-gan, ``mnist_svhn_cifar10/train_mnist_feature_matching.py``), which
``configs/sgan_mnist.yaml`` follows, differs from the equations above in what these options restore:

    network="improved_gan"    its nets (``lit_gans.networks.improved_gan``): an MLP D with Gaussian noise on every
                              layer and weight norm, data-dependently initialised on the first training batch
    lambda_unsupervised=0.5   its ``loss_unl`` is half of L_unsupervised
    noise_prior="uniform01"   z ~ U(0, 1)
    d_average_rate=1e-4       D evaluated with a running average of its parameters
    feature_matching_reduction="mean"   G's loss is the mean over D's features of the squared difference, not the sum
    adam_eps_in_sqrt=True     its Adam divides by sqrt(v_hat + 1e-8), which damps G's small gradients
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar, Literal

import torch
import torch.nn.functional as F
from torch import Tensor

from lit_gans.base import eval_mode
from lit_gans.ema import BiasCorrectedAverage
from lit_gans.errors import LitGansError
from lit_gans.improved import NonSaturatingGAN
from lit_gans.layers import WeightNormLinear, data_dependent_init_
from lit_gans.losses import discriminator_accuracy, real_logit_from_class_logits
from lit_gans.networks.conditional import base_networks
from lit_gans.networks.improved_gan import ImprovedGANDiscriminator, ImprovedGANGenerator
from lit_gans.optim import AdamEpsInSqrt

SGANNetwork = Literal["conv", "mlp", "improved_gan"]
NoisePrior = Literal["normal", "uniform01"]
# the hidden sizes each network takes when g_hidden / d_hidden are not given (the conv nets ignore them)
DEFAULT_HIDDEN = {
    "mlp": ((256, 512, 1024), (512, 256)),
    "improved_gan": ((500, 500), (1000, 500, 250, 250, 250)),
}


class SGAN(NonSaturatingGAN):
    """Semi-supervised GAN: a ``K``-class discriminator trained on few labels, many unlabelled images and G's fakes.

    Args:
        data_shape: ``(C, H, W)`` or ``(D,)``, linked from the datamodule by the CLI.
        num_classes: ``K`` (10 for MNIST, 3 for Shapes).
        lambda_unsupervised: weight of the real-vs-generated term in D's loss (0: a supervised classifier only);
            1 is the paper's equation, 0.5 the authors' code.
        feature_matching: G's objective (True, the paper's); False gives the non-saturating ``-log D(G(z))``.
        network: ``conv`` (DCGAN nets), ``mlp``, or ``improved_gan`` (the authors' MNIST MLPs with noise and weight
            norm).
        g_hidden: widths of G's hidden layers (``mlp`` and ``improved_gan``; the conv nets ignore it); default:
            the network's own, (256, 512, 1024) for ``mlp``, (500, 500) for ``improved_gan``.
        d_hidden: widths of D's hidden layers (``mlp`` and ``improved_gan``); default: the network's own,
            (512, 256) for ``mlp``, (1000, 500, 250, 250, 250) for ``improved_gan``.
        d_input_noise: ``improved_gan`` only: the std of the Gaussian noise added to D's input (mapped to
            [0, 1]) in training; default 0.3, the authors'.
        d_hidden_noise: ``improved_gan`` only: the std of the Gaussian noise added after each of D's hidden
            layers in training; default 0.5, the authors'.
        noise_prior: ``z ~ N(0, I)`` (``normal``) or ``U(0, 1)`` (``uniform01``, the authors' code).
        d_average_rate: ``r`` of the running average of D's parameters that ``classify`` and ``val/accuracy`` use
            (0: off, D itself). The authors evaluate with ``a <- a + r (theta - a)`` from ``a = 0`` at ``r = 1e-4``;
            here that average is bias-corrected (``a_t / (1 - (1 - r)^t)``, ``ema.BiasCorrectedAverage``), which
            equals theirs once ``t >> 1 / r`` and is also meaningful before. ``val/accuracy_current`` then logs D's.
        g_features: ``ngf``, channels of G's last hidden conv layer, doubling towards its input (``conv``
            only; 64).
        d_features: ``ndf``, channels of D's first conv layer, doubling per stride-2 layer (``conv`` only; 64).
        lr_g: G's Adam learning rate ``alpha`` (2e-4; the authors' MNIST code, ``configs/sgan_mnist.yaml``,
            uses 0.003 for both players).
        lr_d: D's Adam learning rate ``alpha`` (2e-4).
        betas_g: G's Adam ``(beta1, beta2)`` (``(0.5, 0.999)``: beta1 0.5, the authors').
        betas_d: D's Adam ``(beta1, beta2)`` (``(0.5, 0.999)``).
        minibatch_kernels: ``B``, the number of minibatch-discrimination kernels in D (Salimans et al. 2016,
            s.3.2): each appends to D's features one that measures how close a sample is to the rest of its
            batch; 0 (default): off; not with ``network="improved_gan"``.
        adam_eps_in_sqrt: both players' Adam as the authors' code writes it, ``m_hat / sqrt(v_hat + 1e-8)``
            (``optim.AdamEpsInSqrt``), instead of torch's ``m_hat / (sqrt(v_hat) + 1e-8)``: steps on gradients
            below 1e-4 shrink in proportion (most of G's, under the mean-square feature matching).
        **kwargs: go to ``NonSaturatingGAN`` (real_label, feature_matching_reduction, historical_averaging) and on
            to ``GANModule`` (num_fixed_samples, fixed_noise_seed, ema_decay, nonfinite, compile_networks,
            channels_last).
    """

    # `python cli.py fit --model SGAN` with no data: the shapes as the classes (no download)
    offline_preset: ClassVar[str] = "configs/sgan_shapes.yaml"

    def __init__(
        self,
        data_shape: tuple[int, ...] = (1, 28, 28),
        num_classes: int = 10,
        lambda_unsupervised: float = 1.0,
        network: SGANNetwork = "conv",
        z_dim: int = 100,
        g_hidden: tuple[int, ...] | None = None,
        d_hidden: tuple[int, ...] | None = None,
        d_input_noise: float | None = None,
        d_hidden_noise: float | None = None,
        noise_prior: NoisePrior = "normal",
        d_average_rate: float = 0.0,
        g_features: int = 64,
        d_features: int = 64,
        lr_g: float = 2e-4,
        lr_d: float = 2e-4,
        betas_g: tuple[float, float] = (0.5, 0.999),
        betas_d: tuple[float, float] = (0.5, 0.999),
        n_critic: int = 1,
        feature_matching: bool = True,
        minibatch_kernels: int = 0,
        adam_eps_in_sqrt: bool = False,
        **kwargs: Any,
    ) -> None:
        if noise_prior not in ("normal", "uniform01"):
            raise LitGansError(f"noise_prior must be 'normal' or 'uniform01', got {noise_prior!r}")
        self.noise_prior = noise_prior  # before the base's init, which draws the fixed latents with sample_latent
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
        if not 0.0 <= d_average_rate <= 1.0:
            raise LitGansError(f"d_average_rate must lie in [0, 1] (0: off), got {d_average_rate}")
        self.num_classes, self.lambda_unsupervised = num_classes, lambda_unsupervised
        self.d_average_rate = d_average_rate
        self.adam_eps_in_sqrt = adam_eps_in_sqrt
        default_g_hidden, default_d_hidden = DEFAULT_HIDDEN.get(network, DEFAULT_HIDDEN["mlp"])
        g_hidden = default_g_hidden if g_hidden is None else g_hidden
        d_hidden = default_d_hidden if d_hidden is None else d_hidden
        if network == "improved_gan":
            if minibatch_kernels:
                raise LitGansError("network='improved_gan' has no minibatch discrimination (the authors' MNIST D)")
            self.generator = ImprovedGANGenerator(z_dim, data_shape, g_hidden)
            self.discriminator = ImprovedGANDiscriminator(
                data_shape,
                d_hidden,
                num_classes,
                input_noise=0.3 if d_input_noise is None else d_input_noise,
                hidden_noise=0.5 if d_hidden_noise is None else d_hidden_noise,
            )
        else:
            if d_input_noise is not None or d_hidden_noise is not None:
                raise LitGansError(f"d_input_noise and d_hidden_noise apply to network='improved_gan', not {network!r}")
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

    def configure_model(self) -> None:
        """Adds ``discriminator_average`` (when ``d_average_rate > 0``) once D exists, before Lightning restores a
        checkpoint, so checkpoints and resumed runs keep it."""
        super().configure_model()
        if self.d_average_rate > 0 and not hasattr(self, "discriminator_average"):
            self.discriminator_average = BiasCorrectedAverage(self.discriminator, self.d_average_rate)

    def make_optimizer(self, params: Iterator[torch.nn.Parameter], lr: float, betas: tuple[float, float]):
        if self.adam_eps_in_sqrt:
            return AdamEpsInSqrt(params, lr=lr, betas=betas)
        return super().make_optimizer(params, lr, betas)

    def sample_latent(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """``z``, ``[n, z_dim]``: N(0, I) or U(0, 1) by ``noise_prior``."""
        if self.noise_prior == "normal":
            return super().sample_latent(n, generator)
        device = generator.device if generator is not None else self.device
        return torch.rand(n, self.z_dim, generator=generator, device=device).to(self.device)

    @property
    def classifier(self) -> torch.nn.Module:
        """The D that ``classify`` uses: the parameter average when ``d_average_rate > 0``, else D."""
        return self.discriminator_average.module if hasattr(self, "discriminator_average") else self.discriminator

    def initialize_discriminator(self, x: Tensor) -> None:
        """Data-dependent initialisation of D's weight-normalised layers on the real batch ``x`` (noise on, as in
        the authors' code), once: at the first D step of a run that did not start from a checkpoint. Every DDP
        rank does it at the same step on its own batch, with the statistics all-reduced, so all agree."""
        layers = [m for m in self.discriminator.modules() if isinstance(m, WeightNormLinear)]
        if layers and not all(bool(layer.initialized) for layer in layers):
            data_dependent_init_(self.discriminator, x)

    @staticmethod
    def split_batch(batch: tuple[Tensor, ...]) -> tuple[Tensor, Tensor, Tensor]:
        """``(unlabelled x, labelled x, labels)`` from a semi-supervised ``(x, x_l, y_l)`` or a labelled ``(x, y)``."""
        if len(batch) == 3:
            return batch[0], batch[1], batch[2]
        return batch[0], batch[0], batch[1]

    @torch.no_grad()
    def classify(self, x: Tensor, current: bool = False) -> Tensor:
        """D's class for each image, ``[N]`` (eval mode: no noise), from the parameter average when it is on
        (``current``: from D itself)."""
        net = self.discriminator if current else self.classifier
        with eval_mode(net):
            return net(x.to(self.device)).argmax(1)

    def d_step(self, batch: tuple[Tensor, ...]) -> dict[str, Tensor]:
        unlabelled, labelled, labels = self.split_batch(batch)
        self.initialize_discriminator(unlabelled)
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
            logs["unsupervised"] = unsupervised
            if self.diagnosing:  # a diagnostic: computed for the logged updates only
                logs["accuracy"] = discriminator_accuracy(real_logits, fake_logits)
        return {"loss": loss, **logs}

    def g_step(self, batch: tuple[Tensor, ...]) -> dict[str, Tensor]:
        unlabelled, D = self.split_batch(batch)[0], self.discriminator
        fake_features = D.features(self.draw_fake(len(unlabelled)))
        real_features = D.features(unlabelled) if self.feature_matching else None
        fake_logits = real_logit_from_class_logits(D.head(fake_features))
        return {"loss": self.adversarial_g_loss(fake_logits, fake_features, real_features)}

    def after_d_step(self) -> None:
        super().after_d_step()
        if hasattr(self, "discriminator_average"):
            self.discriminator_average.update_(self.discriminator)

    def validation_step(self, batch: tuple[Tensor, ...], batch_idx: int) -> None:
        x, labels = batch[0], batch[1]
        accuracy = (self.classify(x) == labels).float().mean()
        self.log("val/accuracy", accuracy, batch_size=len(x), sync_dist=True)
        if hasattr(self, "discriminator_average"):
            current = (self.classify(x, current=True) == labels).float().mean()
            self.log("val/accuracy_current", current, batch_size=len(x), sync_dist=True)
