"""CycleGAN's ResNet generator (Zhu et al. 2017, appendix 7.2, after Johnson et al. 2016):

    c7s1-64, d128, d256, R256 x n_blocks, u128, u64, c7s1-3

``c7s1-k``: 7x7 convolution, stride 1, InstanceNorm, ReLU; ``dk``: 3x3 convolution, stride 2; ``Rk``: a residual
block of two 3x3 convolutions; ``uk``: 3x3 fractional-strided convolution, stride 1/2. Reflection padding throughout
(fewer border artefacts); the last layer ends in tanh without norm. 6 blocks for 128x128 images, 9 for 256x256.
Two stride-2 steps down and two up: the output has the input's size for any size divisible by 4.
"""

from __future__ import annotations

from typing import Literal

from torch import Tensor, nn

from lit_gans.errors import LitGansError
from lit_gans.layers import check_shape
from lit_gans.networks.unet import normal_init_

ResnetNorm = Literal["instance", "batch"]


def resnet_norm(kind: ResnetNorm, channels: int) -> nn.Module:
    """The paper's InstanceNorm (no affine parameters: each image's per-channel mean and scale are discarded), or
    BatchNorm with running statistics for eval mode (the authors' code's ``--norm batch``)."""
    if kind == "instance":
        return nn.InstanceNorm2d(channels)
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    raise LitGansError(f"norm must be 'instance' or 'batch', got {kind!r}")


class ResidualBlock(nn.Module):
    """``x + conv(relu(norm(conv(x))))`` with 3x3 reflection-padded convolutions, ``[N, C, H, W]`` kept."""

    def __init__(self, channels: int, norm: ResnetNorm = "instance") -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3, bias=False),
            resnet_norm(norm, channels),
            nn.ReLU(True),
            nn.ReflectionPad2d(1),
            nn.Conv2d(channels, channels, 3, bias=False),
            resnet_norm(norm, channels),
        )

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


class ResnetGenerator(nn.Module):
    """``x [N, in_channels, H, W] -> y [N, out_channels, H, W]`` in [-1, 1], ``H`` and ``W`` divisible by 4.

    Args:
        features: channels of ``c7s1`` (64 in the paper); the blocks run at ``4 * features``.
        n_blocks: residual blocks (6 for 128x128, 9 for 256x256 in the paper).
        norm: ``instance`` (the paper) or ``batch`` (see ``resnet_norm``).
    """

    def __init__(
        self, in_channels: int, out_channels: int, features: int = 64, n_blocks: int = 9, norm: ResnetNorm = "instance"
    ) -> None:
        super().__init__()
        if n_blocks < 1:
            raise LitGansError(f"n_blocks must be at least 1, got {n_blocks}")
        self.in_channels = in_channels
        f = features
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(3),
            nn.Conv2d(in_channels, f, 7, bias=False),
            resnet_norm(norm, f),
            nn.ReLU(True),
        ]
        for width in (f, 2 * f):  # d128, d256
            layers += [nn.Conv2d(width, 2 * width, 3, 2, 1, bias=False), resnet_norm(norm, 2 * width), nn.ReLU(True)]
        layers += [ResidualBlock(4 * f, norm) for _ in range(n_blocks)]
        for width in (4 * f, 2 * f):  # u128, u64
            layers += [
                nn.ConvTranspose2d(width, width // 2, 3, 2, 1, output_padding=1, bias=False),
                resnet_norm(norm, width // 2),
                nn.ReLU(True),
            ]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(f, out_channels, 7), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        self.apply(normal_init_)

    def forward(self, x: Tensor) -> Tensor:
        check_shape(x, (None, self.in_channels, None, None), "ResnetGenerator input x")
        if x.shape[-1] % 4 or x.shape[-2] % 4:
            raise LitGansError(f"ResnetGenerator needs height and width divisible by 4, got {tuple(x.shape[-2:])}")
        return self.net(x)
