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
