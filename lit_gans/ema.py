"""Exponential moving average of a network's weights (the "EMA generator" of ProGAN, StyleGAN and BigGAN)."""

from __future__ import annotations

import copy

import torch
from torch import nn


def ema_copy(module: nn.Module) -> nn.Module:
    """A frozen copy of ``module`` to hold the average (it starts at the module's current weights)."""
    return copy.deepcopy(module).requires_grad_(False)


@torch.no_grad()
def ema_update_(average: nn.Module, module: nn.Module, decay: float) -> None:
    """``theta_ema <- decay * theta_ema + (1 - decay) * theta`` for every parameter, in place; buffers (BatchNorm
    running statistics) are copied, not averaged."""
    if not 0.0 <= decay < 1.0:
        raise ValueError(f"EMA decay must lie in [0, 1), got {decay}")
    for averaged, current in zip(average.parameters(), module.parameters(), strict=True):
        averaged.lerp_(current, 1.0 - decay)
    for averaged, current in zip(average.buffers(), module.buffers(), strict=True):
        averaged.copy_(current)


class ParameterHistory(nn.Module):
    """The running arithmetic mean of a network's parameters over its updates, ``(1/t) sum_{i=1}^t theta[i]``:
    the reference point of historical averaging (Salimans 2016, s.3.3). Held in buffers (saved in checkpoints,
    never seen by an optimizer)."""

    def __init__(self, module: nn.Module) -> None:
        super().__init__()
        self.size = 0
        for p in module.parameters():
            self.register_buffer(f"mean_{self.size}", p.detach().clone())
            self.size += 1
        self.register_buffer("count", torch.ones((), dtype=torch.long))  # theta[1] = the initial weights

    @property
    def means(self) -> list[torch.Tensor]:
        return [getattr(self, f"mean_{i}") for i in range(self.size)]

    @torch.no_grad()
    def update_(self, module: nn.Module) -> None:
        """Fold the module's current parameters in: ``mean <- mean + (theta - mean) / (t + 1)``."""
        self.count += 1
        for mean, current in zip(self.means, module.parameters(), strict=True):
            mean.lerp_(current, 1.0 / float(self.count))


class BiasCorrectedAverage(nn.Module):
    """A zero-initialised exponential moving average of a network's parameters and floating-point buffers,
    ``a_t = a_{t-1} + r (theta_t - a_{t-1})`` with ``a_0 = 0``, read bias-corrected as ``a_t / (1 - (1 - r)^t)``
    (Adam's correction of its zero start): the weighted mean of the history ``theta_1..theta_t`` with weights
    ``r (1 - r)^{t-i}``, normalised to sum to 1. Salimans et al.'s code evaluates its semi-supervised D with the
    uncorrected ``a_t`` at ``r = 1e-4``; both agree once ``(1 - r)^t`` is small, the corrected one is also usable
    in the first ``1 / r`` steps.

    ``module`` is a frozen copy of the network that holds the corrected average itself, kept as
    ``â_t = â_{t-1} + (r / (1 - (1 - r)^t)) (theta_t - â_{t-1})`` (the first update copies ``theta_1``), so it can be
    run as it is; ``count`` is ``t``. Both are saved in checkpoints. Integer and boolean buffers are copied."""

    def __init__(self, module: nn.Module, rate: float) -> None:
        super().__init__()
        if not 0.0 < rate <= 1.0:
            raise ValueError(f"the average's rate must lie in (0, 1], got {rate}")
        self.rate = rate
        self.module = ema_copy(module)
        self.register_buffer("count", torch.zeros((), dtype=torch.long))

    @torch.no_grad()
    def update_(self, module: nn.Module) -> None:
        """Fold ``module``'s current parameters and buffers in (``t <- t + 1``)."""
        self.count += 1
        weight = min(1.0, self.rate / (1.0 - (1.0 - self.rate) ** int(self.count)))
        for averaged, current in zip(self.module.parameters(), module.parameters(), strict=True):
            averaged.lerp_(current, weight)
        for averaged, current in zip(self.module.buffers(), module.buffers(), strict=True):
            if averaged.is_floating_point():
                averaged.lerp_(current, weight)
            else:
                averaged.copy_(current)

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)
