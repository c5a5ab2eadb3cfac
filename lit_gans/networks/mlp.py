"""Fully connected generator and discriminator for flat data: images as vectors, or 1D/2D toy points."""

from __future__ import annotations

import math
from collections.abc import Sequence

from torch import Tensor, nn

from lit_gans.layers import Reshape, check_shape


class MLPGenerator(nn.Module):
    """``z [N, z_dim] -> x [N, *data_shape]``: Linear-BatchNorm-LeakyReLU(0.2) per hidden layer, then a linear
    output, squashed by tanh when ``tanh_output`` (images in [-1, 1]) and left unbounded otherwise (toy points)."""

    def __init__(
        self,
        z_dim: int,
        data_shape: Sequence[int],
        hidden: Sequence[int] = (256, 512, 1024),
        batch_norm: bool = True,
        tanh_output: bool = True,
    ) -> None:
        super().__init__()
        self.z_dim = z_dim
        self.data_shape = tuple(data_shape)
        layers: list[nn.Module] = []
        width = z_dim
        for out in hidden:
            layers.append(nn.Linear(width, out, bias=not batch_norm))
            if batch_norm:
                layers.append(nn.BatchNorm1d(out))
            layers.append(nn.LeakyReLU(0.2))
            width = out
        layers += [nn.Linear(width, math.prod(self.data_shape)), Reshape(self.data_shape)]
        if tanh_output:
            layers.append(nn.Tanh())
        self.net = nn.Sequential(*layers)

    def forward(self, z: Tensor) -> Tensor:
        check_shape(z, (None, self.z_dim), "MLPGenerator input z")
        return self.net(z)


class MLPDiscriminator(nn.Module):
    """``x [N, *data_shape] -> logits [N]``: Linear-LeakyReLU(0.2) per hidden layer, a linear output, no sigmoid."""

    def __init__(self, data_shape: Sequence[int], hidden: Sequence[int] = (512, 256)) -> None:
        super().__init__()
        self.data_shape = tuple(data_shape)
        layers: list[nn.Module] = [nn.Flatten()]
        width = math.prod(self.data_shape)
        for out in hidden:
            layers += [nn.Linear(width, out), nn.LeakyReLU(0.2)]
            width = out
        layers.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        check_shape(x, (None, *self.data_shape), "MLPDiscriminator input x")
        return self.net(x).squeeze(1)
