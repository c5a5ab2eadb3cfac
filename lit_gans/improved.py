"""``NonSaturatingGAN``: the base of the models on Goodfellow's non-saturating objective (GAN, DCGAN, CGAN, ACGAN,
InfoGAN, SGAN), with the techniques of Salimans et al. 2016, "Improved Techniques for Training GANs", as options
any of them can switch on:

    real_label < 1          one-sided label smoothing (s.3.4): D's real targets become ``real_label`` (0.9)
    feature_matching        G minimises ``||E f(x) - E f(G(z))||^2`` on D's last hidden layer ``f`` (s.3.1)
    historical_averaging    ``w * ||theta - (1/t) sum_i theta[i]||^2`` added to each player's cost (s.3.3)
    minibatch_kernels > 0   minibatch discrimination in D (s.3.2): a network option (``layers.MinibatchDiscrimination``)
    virtual_batch_norm      virtual batch norm in G (s.3.5): a network option (``layers.VirtualBatchNorm``)

The first three live here (losses and a hook on each update); the last two are layers the models put in their nets.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import torch
from torch import Tensor

from lit_gans.base import GANModule
from lit_gans.ema import ParameterHistory
from lit_gans.errors import LitGansError
from lit_gans.losses import feature_matching_loss, non_saturating_d_loss, non_saturating_g_loss
from lit_gans.regularizers import historical_averaging_penalty


class NonSaturatingGAN(GANModule):
    """``GANModule`` plus the Improved-GAN options of the non-saturating objective (see the module docstring).

    Args:
        real_label: D's target for real samples, in (0, 1]; below 1 it is one-sided label smoothing (s.3.4: 0.9
            in the paper; fakes keep target 0); 1 (default): no smoothing.
        feature_matching: G minimises ``||E f(x) - E f(G(z))||^2`` (s.3.1), matching the batch mean of D's last
            hidden layer ``f`` on real and generated samples, instead of ``-log D(G(z))``; off by default.
        feature_matching_reduction: ``sum`` (the paper's squared norm) or ``mean`` (over the features, the
            authors' code): a constant factor, which matters only to an optimizer that is not scale-invariant.
        historical_averaging: ``w``, the weight of the penalty ``w ||theta - (1/t) sum_i theta[i]||^2`` (s.3.3)
            added to each player's cost, pulling its parameters towards their running mean; 0 (default): off.
        **kwargs: go to ``GANModule`` (z_dim, lr_g, lr_d, betas_g, betas_d, n_critic, num_fixed_samples,
            fixed_noise_seed, ema_decay, nonfinite, compile_networks, channels_last).
    """

    registry_base: ClassVar[bool] = True  # a base to build on: the CLI does not offer it as a model

    def __init__(
        self,
        real_label: float = 1.0,
        feature_matching: bool = False,
        feature_matching_reduction: Literal["sum", "mean"] = "sum",
        historical_averaging: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not 0.0 < real_label <= 1.0:
            raise LitGansError(f"real_label must lie in (0, 1] (1: no label smoothing), got {real_label}")
        if historical_averaging < 0:
            raise LitGansError(f"historical_averaging is a penalty weight (>= 0), got {historical_averaging}")
        self.real_label = real_label
        if feature_matching_reduction not in ("sum", "mean"):
            raise LitGansError(
                f"feature_matching_reduction must be 'sum' or 'mean', got {feature_matching_reduction!r}"
            )
        self.feature_matching = feature_matching
        self.feature_matching_reduction = feature_matching_reduction
        self.historical_averaging = historical_averaging

    def configure_model(self) -> None:
        """Adds the players' running parameter means (historical averaging) once the nets exist, from their
        initial weights ``theta[1]``."""
        super().configure_model()
        if self.historical_averaging > 0 and not hasattr(self, "history_d"):
            self.history_g = ParameterHistory(self.generator)
            self.history_d = ParameterHistory(self.discriminator)

    # ----------------------------------------------------------------------------------------------------------
    # The objective's pieces, for the models' d_step / g_step
    # ----------------------------------------------------------------------------------------------------------
    def adversarial_d_loss(self, real_logits: Tensor, fake_logits: Tensor) -> Tensor:
        # -t log D(x) - (1 - t) log(1 - D(x)) - log(1 - D(G(z)))  [+ historical averaging]
        loss = non_saturating_d_loss(real_logits, fake_logits, real_target=self.real_label)
        if self.historical_averaging > 0:
            penalty = historical_averaging_penalty(self.discriminator_parameters(), self.history_d.means)
            loss = loss + self.historical_averaging * penalty
        return loss

    def adversarial_g_loss(
        self, fake_logits: Tensor, fake_features: Tensor, real_features: Tensor | None = None
    ) -> Tensor:
        """``-log D(G(z))``, or ``||E f(x) - E f(G(z))||^2`` under feature matching (``real_features`` needed only
        then), plus the historical-averaging penalty when it is on."""
        if self.feature_matching:
            if real_features is None:
                raise LitGansError("feature matching needs D's features of a real batch")
            loss = feature_matching_loss(real_features.detach(), fake_features, self.feature_matching_reduction)
        else:
            loss = non_saturating_g_loss(fake_logits)
        if self.historical_averaging > 0:
            penalty = historical_averaging_penalty(self.generator_parameters(), self.history_g.means)
            loss = loss + self.historical_averaging * penalty
        return loss

    def after_d_step(self) -> None:
        if self.historical_averaging > 0:
            self.history_d.update_(self.discriminator)

    def after_g_step(self) -> None:
        if self.historical_averaging > 0:
            self.history_g.update_(self.generator)


def uniform_labels(n: int, num_classes: int, generator: torch.Generator | None, device: torch.device) -> Tensor:
    """``n`` class labels drawn uniformly from ``{0, ..., K-1}``, ``[n]`` long."""
    gen_device = generator.device if generator is not None else device
    return torch.randint(num_classes, (n,), generator=generator, device=gen_device).to(device)
