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
