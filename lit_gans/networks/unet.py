"""Pix2Pix's U-Net generator (Isola et al. 2017, "Image-to-Image Translation with Conditional Adversarial Networks",
appendix 6.1.1).

Encoder ``C64-C128-C256-C512-C512-...`` and decoder ``CD512-CD512-CD512-C512-...-C64`` (``Ck``: 4x4 convolution of
stride 2, BatchNorm, ReLU; ``CDk`` adds 50% dropout before the ReLU), with the paper's notes: encoder ReLUs leak
(0.2), no BatchNorm on the first encoder layer, and a skip connection concatenates encoder layer ``i`` to decoder
layer ``n - i``. Dropout sits where the authors' code puts it (``UnetGenerator``: the ``num_downs - 5`` blocks
between the innermost one and the four outermost): decoder layers 2 to ``depth - 4``, 4x4 to 16x16 at 256 (three, as
the paper's three ``CD512``), fewer below and none under 64x64, where it would noise the whole decoder. The encoder
halves the image down to 1x1, so its depth is ``log2(image_size)`` (8 for 256x256, the paper's net); the last
decoder layer maps to the output channels and a tanh. Dropout is the only noise (below 64x64 there is none: G is
deterministic): it stays on at test time, and BatchNorm normalises with the statistics of the batch at hand,
training or not, as the paper runs its generator at inference ("exactly the same manner as during the training
phase").
"""

from __future__ import annotations

import math
from typing import Literal

import torch.nn.functional as F
from torch import Tensor, cat, nn

from lit_gans.errors import LitGansError
from lit_gans.layers import check_shape

Norm2d = Literal["batch", "instance"]


def norm2d(kind: Norm2d, channels: int) -> nn.Module:
    """BatchNorm with the statistics of every batch it sees (no running averages, so eval mode uses the batch's
    too), or InstanceNorm without affine parameters (CycleGAN's)."""
    if kind == "batch":
        return nn.BatchNorm2d(channels, track_running_stats=False)
    if kind == "instance":
        return nn.InstanceNorm2d(channels)
    raise LitGansError(f"norm must be 'batch' or 'instance', got {kind!r}")


class NoiseDropout(nn.Module):
    """Dropout that stays on in eval mode: Pix2Pix's source of noise ``z``."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.p, training=True)

    def extra_repr(self) -> str:
        return f"p={self.p}"


def unet_depth(image_size: int) -> int:
    """Stride-2 layers from ``image_size`` down to 1x1: ``log2(image_size)`` for a power of two >= 8."""
    depth = round(math.log2(image_size)) if image_size > 0 else 0
    if image_size < 8 or 2**depth != image_size:
        raise LitGansError(
            f"the U-Net generator needs image_size a power of two >= 8 (it halves the image down to 1x1), got "
            f"{image_size}; resize the data with --data.image_size"
        )
    return depth


class UNetGenerator(nn.Module):
    """``x [N, in_channels, S, S] -> y [N, out_channels, S, S]`` in [-1, 1], ``S = 2^depth``.

    Args:
        features: channels of the first encoder layer (64 in the paper); layer ``i`` has ``features * 2^i``,
            capped at ``8 * features``.
        dropout: rate of the noise dropout (0.5 in the paper) in decoder layers 2 to ``depth - 4`` (see above).
        norm: ``batch`` (the paper) or ``instance``.
    """

    def __init__(
        self,
        image_size: int,
        in_channels: int,
        out_channels: int,
        features: int = 64,
        dropout: float = 0.5,
        norm: Norm2d = "batch",
    ) -> None:
        super().__init__()
        self.image_size, self.in_channels, self.out_channels = image_size, in_channels, out_channels
        depth = unet_depth(image_size)
        widths = [features * min(2**i, 8) for i in range(depth)]  # encoder outputs, sizes S/2 ... 1
        self.down = nn.ModuleList()
        for i, width in enumerate(widths):
            layers: list[nn.Module] = [nn.Conv2d(in_channels if i == 0 else widths[i - 1], width, 4, 2, 1)]
            # no norm on the first layer (the paper) nor at the 1x1 bottleneck (one value per channel: BatchNorm
            # on a batch of 1 would zero it; the paper's code drops it too)
            if 0 < i < depth - 1:
                layers.append(norm2d(norm, width))
            layers.append(nn.LeakyReLU(0.2, True) if i < depth - 1 else nn.ReLU(True))
            self.down.append(nn.Sequential(*layers))
        self.up = nn.ModuleList()
        for j, i in enumerate(range(depth - 1, 0, -1)):  # decoder layer j outputs size S / 2^i, concat with e_{i-1}
            c_in = widths[i] if i == depth - 1 else 2 * widths[i]
            layers = [nn.ConvTranspose2d(c_in, widths[i - 1], 4, 2, 1), norm2d(norm, widths[i - 1])]
            if 1 <= j < depth - 4 and dropout > 0:  # the authors' code: the num_downs - 5 middle 8x blocks
                layers.append(NoiseDropout(dropout))
            layers.append(nn.ReLU(True))
            self.up.append(nn.Sequential(*layers))
        self.out = nn.Sequential(nn.ConvTranspose2d(2 * widths[0], out_channels, 4, 2, 1), nn.Tanh())
        self.apply(normal_init_)

    def forward(self, x: Tensor) -> Tensor:
        check_shape(x, (None, self.in_channels, self.image_size, self.image_size), "UNetGenerator input x")
        skips = []
        for layer in self.down:
            x = layer(x)
            skips.append(x)  # e_0 [N, 64, S/2, S/2] ... e_{d-1} [N, 512, 1, 1]
        h = skips.pop()
        for layer in self.up:
            h = cat([layer(h), skips.pop()], dim=1)  # [N, 2 * width, size, size]
        return self.out(h)


def normal_init_(module: nn.Module) -> None:
    """Both papers' initialisation: conv weights ~ N(0, 0.02), biases 0, norm scales ~ N(1, 0.02)."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm2d, nn.InstanceNorm2d)) and module.weight is not None:
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)
