"""Small building blocks shared by the networks."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm

from lit_gans.errors import LitGansError


class Reshape(nn.Module):
    """``[N, prod(shape)] -> [N, *shape]``."""

    def __init__(self, shape: Sequence[int]) -> None:
        super().__init__()
        self.shape = tuple(shape)

    def forward(self, x: Tensor) -> Tensor:
        return x.view(x.shape[0], *self.shape)

    def extra_repr(self) -> str:
        return f"shape={self.shape}"


def check_shape(x: Tensor, expected: Sequence[int | None], name: str) -> None:
    """Raise a clear error unless ``x.shape`` matches ``expected`` (``None`` matches any size)."""
    expected = tuple(expected)
    if x.ndim != len(expected) or any(e is not None and e != s for e, s in zip(expected, x.shape)):
        wanted = "(" + ", ".join("N" if e is None else str(e) for e in expected) + ")"
        raise LitGansError(f"{name}: expected a tensor of shape {wanted}, got {tuple(x.shape)}")


class SelfAttention(nn.Module):
    """SAGAN's self-attention block (Zhang 2019): ``y = gamma * o + x`` with ``o = v softmax(q^T k)`` over all
    positions, ``q, k`` 1x1 convolutions to ``C/8`` channels, ``v`` a 1x1 convolution to ``C``, and a learned
    ``gamma`` that starts at 0 (the block starts as the identity). ``[N, C, H, W] -> [N, C, H, W]``."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        inner = max(1, channels // 8)
        self.query = nn.Conv2d(channels, inner, 1)
        self.key = nn.Conv2d(channels, inner, 1)
        self.value = nn.Conv2d(channels, channels, 1)
        self.gamma = nn.Parameter(torch.zeros(()))

    def forward(self, x: Tensor) -> Tensor:
        n, c, h, w = x.shape
        q = self.query(x).flatten(2)  # [N, C/8, HW]
        k = self.key(x).flatten(2)  # [N, C/8, HW]
        v = self.value(x).flatten(2)  # [N, C, HW]
        attention = torch.softmax(q.transpose(1, 2) @ k, dim=-1)  # [N, HW (query), HW (key)]
        o = (v @ attention.transpose(1, 2)).view(n, c, h, w)  # o_i = sum_j attention_ij v_j
        return self.gamma * o + x


SPECTRAL_NORM_LAYERS = (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)


def spectral_norm_(module: nn.Module, n_power_iterations: int = 1) -> nn.Module:
    """Spectral normalization (Miyato 2018) of every linear and convolutional layer in ``module``, in place, with
    torch's parametrization: ``W / sigma(W)``, ``sigma`` estimated by power iteration (``n_power_iterations`` per
    training forward). Returns ``module``."""
    layers = [m for m in module.modules() if isinstance(m, SPECTRAL_NORM_LAYERS)]
    for layer in layers:
        if not parametrize.is_parametrized(layer, "weight"):
            spectral_norm(layer, n_power_iterations=n_power_iterations)
    return module
