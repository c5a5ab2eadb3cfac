"""Constraints and penalties on the discriminator, as pure functions that work for any input shape."""

from __future__ import annotations

import torch
from torch import nn


@torch.no_grad()
def clip_weights_(module: nn.Module, clip_value: float) -> None:
    """WGAN's Lipschitz constraint (Arjovsky 2017, Algorithm 1): ``w <- clip(w, -c, c)`` for every parameter,
    in place."""
    if clip_value <= 0:
        raise ValueError(f"clip_value must be positive, got {clip_value}")
    for parameter in module.parameters():
        parameter.clamp_(-clip_value, clip_value)
