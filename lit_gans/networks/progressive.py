"""ProGAN's networks (Karras et al. 2018, Table 2; the official ``G_paper`` / ``D_paper``) with every resolution built
up front, and MSG-GAN's multi-scale discriminator (Karnewar & Wang 2020) on the same blocks.

Levels: level ``l`` works at ``4 * 2^l`` pixels, from level 0 (4x4) to ``num_levels - 1`` (the target size). The
width of level ``l`` is ``nf(l + 1)`` channels, ``nf(stage) = min(fmap_base / 2^stage, fmap_max)`` (the official
``fmap_decay`` 1), so 512 channels up to 32x32 with the paper's ``fmap_base`` 8192, ``fmap_max`` 512. Every layer
has the equalized learning rate; G uses pixel norm after every conv, D none (and no BatchNorm anywhere: the
gradient penalty is per sample).
"""

from __future__ import annotations

import math
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lit_gans.errors import LitGansError
from lit_gans.layers import EqualizedConv2d, EqualizedLinear, MinibatchStdDev, PixelNorm, Reshape

Combine = Literal["simple", "lin_cat", "cat_lin"]


def num_levels_for(resolution: int) -> int:
    """Levels from 4x4 up to ``resolution`` (a power of two, at least 8): 8 -> 2, 32 -> 4, 64 -> 5."""
    levels = math.log2(resolution) - 1
    if resolution < 8 or levels != int(levels):
        raise LitGansError(f"the progressive networks need a power-of-two image size of at least 8, got {resolution}")
    return int(levels)


def feature_counts(num_levels: int, fmap_base: int, fmap_max: int) -> list[int]:
    """``nf(stage)`` for stages ``0 .. num_levels``: level ``l``'s width is ``nf(l + 1)``, ``nf(0)`` is the width
    of D's last dense layer."""
    return [max(1, min(int(fmap_base / 2.0**stage), fmap_max)) for stage in range(num_levels + 1)]


def lerp(a: Tensor, b: Tensor, t: float) -> Tensor:
    """``a + (b - a) t``: ``a`` at ``t = 0``, ``b`` at ``t = 1``."""
    return a + (b - a) * t


def upsample(x: Tensor, factor: int = 2) -> Tensor:
    """Nearest-neighbour upsampling by ``factor`` (the official ``upscale2d``)."""
    return x if factor == 1 else F.interpolate(x, scale_factor=factor, mode="nearest")


def downsample(x: Tensor, factor: int = 2) -> Tensor:
    """Average pooling by ``factor`` (the official ``downscale2d``)."""
    return x if factor == 1 else F.avg_pool2d(x, factor)


def conv_lrelu(in_channels: int, out_channels: int, kernel: int = 3) -> list[nn.Module]:
    return [EqualizedConv2d(in_channels, out_channels, kernel), nn.LeakyReLU(0.2)]


class ProgressiveGenerator(nn.Module):
    """G: ``z -> pixel norm -> dense to 4x4 -> conv 3x3`` (level 0), then per level a nearest 2x upsample and two
    3x3 convs, LeakyReLU 0.2 and pixel norm after each; a linear 1x1 toRGB per level (gain 1), no output
    non-linearity (images leave it roughly in [-1, 1]).

    ``forward(z, level, alpha)``: the image at level ``level``'s resolution; while that level fades in (``alpha``
    below 1) it is ``lerp(upsample(toRGB_{l-1}(h_{l-1})), toRGB_l(h_l), alpha)``. ``all_scales(z)``: every level's
    toRGB output, 4x4 first (MSG-GAN)."""

    def __init__(self, z_dim: int, channels: int, resolution: int, fmap_base: int = 8192, fmap_max: int = 512) -> None:
        super().__init__()
        self.z_dim, self.channels, self.resolution = z_dim, channels, resolution
        self.num_levels = num_levels_for(resolution)
        nf = feature_counts(self.num_levels, fmap_base, fmap_max)
        first = [
            PixelNorm(),  # the latent itself is normalised (normalize_latents)
            EqualizedLinear(z_dim, nf[1] * 16, gain=2**0.5 / 4),  # the official gain override for the dense layer
            Reshape((nf[1], 4, 4)),
            nn.LeakyReLU(0.2),
            PixelNorm(),
            *conv_lrelu(nf[1], nf[1]),
            PixelNorm(),
        ]
        self.blocks = nn.ModuleList([nn.Sequential(*first)])
        for level in range(1, self.num_levels):
            self.blocks.append(
                nn.Sequential(
                    nn.Upsample(scale_factor=2, mode="nearest"),
                    *conv_lrelu(nf[level], nf[level + 1]),
                    PixelNorm(),
                    *conv_lrelu(nf[level + 1], nf[level + 1]),
                    PixelNorm(),
                )
            )
        self.to_rgb = nn.ModuleList(
            [EqualizedConv2d(nf[level + 1], channels, 1, gain=1.0) for level in range(self.num_levels)]
        )

    def forward(self, z: Tensor, level: int | None = None, alpha: float = 1.0) -> Tensor:
        level = self.num_levels - 1 if level is None else level
        previous, h = None, z
        for block in self.blocks[: level + 1]:
            previous, h = h, block(h)
        image = self.to_rgb[level](h)
        if level > 0 and alpha < 1:
            image = lerp(upsample(self.to_rgb[level - 1](previous)), image, alpha)
        return image

    def all_scales(self, z: Tensor) -> list[Tensor]:
        """``[image 4x4, image 8x8, ..., image at the target size]``."""
        images, h = [], z
        for block, to_rgb in zip(self.blocks, self.to_rgb):
            h = block(h)
            images.append(to_rgb(h))
        return images


def final_block(nf: list[int], in_channels: int, group_size: int) -> nn.Sequential:
    """D's 4x4 block: minibatch stddev, a 3x3 conv, a dense layer to ``nf(0)``, and the linear score (gain 1)."""
    return nn.Sequential(
        MinibatchStdDev(group_size),
        *conv_lrelu(in_channels + 1, nf[1]),
        nn.Flatten(),
        EqualizedLinear(nf[1] * 16, nf[0]),
        nn.LeakyReLU(0.2),
        EqualizedLinear(nf[0], 1, gain=1.0),
        nn.Flatten(0),  # [N, 1] -> [N]
    )


def down_block(in_channels: int, mid_channels: int, out_channels: int) -> nn.Sequential:
    """D's block at a level above 0: two 3x3 convs with LeakyReLU, then 2x average pooling."""
    return nn.Sequential(
        *conv_lrelu(in_channels, mid_channels), *conv_lrelu(mid_channels, out_channels), nn.AvgPool2d(2)
    )


class ProgressiveDiscriminator(nn.Module):
    """D, mirroring G: a 1x1 fromRGB (with LeakyReLU) per level, per level above 0 two 3x3 convs and 2x average
    pooling, and the 4x4 block with minibatch stddev (group ``group_size``) before its conv and two dense layers.

    ``forward(x, level, alpha)``: ``x`` at level ``level``'s resolution; while it fades in, the features entering
    level ``l - 1`` are ``lerp(fromRGB_{l-1}(avgpool(x)), block_l(fromRGB_l(x)), alpha)``. Scores ``[N]``."""

    def __init__(
        self, channels: int, resolution: int, fmap_base: int = 8192, fmap_max: int = 512, group_size: int = 4
    ) -> None:
        super().__init__()
        self.channels, self.resolution = channels, resolution
        self.num_levels = num_levels_for(resolution)
        nf = feature_counts(self.num_levels, fmap_base, fmap_max)
        self.from_rgb = nn.ModuleList(
            [nn.Sequential(*conv_lrelu(channels, nf[level + 1], kernel=1)) for level in range(self.num_levels)]
        )
        # blocks[0] is the final 4x4 block; blocks[l] takes level l's features down to level l - 1's
        self.blocks = nn.ModuleList([final_block(nf, nf[1], group_size)])
        for level in range(1, self.num_levels):
            self.blocks.append(down_block(nf[level + 1], nf[level + 1], nf[level]))

    def forward(self, x: Tensor, level: int | None = None, alpha: float = 1.0) -> Tensor:
        level = self.num_levels - 1 if level is None else level
        h = self.from_rgb[level](x)
        if level > 0:
            h = self.blocks[level](h)
            if alpha < 1:
                h = lerp(self.from_rgb[level - 1](downsample(x)), h, alpha)
        for block in reversed(self.blocks[1:level]):
            h = block(h)
        return self.blocks[0](h)


class MultiScaleDiscriminator(nn.Module):
    """MSG-GAN's D: the full-resolution image enters through a 1x1 fromRGB; before every lower block (the 4x4 one
    included) the image at that scale joins the features through ``combine`` (the paper's s.3.1):

    - ``simple``: ``[x_s; h]``, the raw image concatenated to the features;
    - ``lin_cat``: ``[r'(x_s); h]``, a 1x1 conv of the image concatenated (BMSG-GAN's PyTorch code);
    - ``cat_lin``: ``r''([x_s; h])``, a 1x1 conv of the concatenation (the authors' TF code).

    ``forward([x_4, x_8, ..., x_full])`` -> scores ``[N]``."""

    def __init__(
        self,
        channels: int,
        resolution: int,
        fmap_base: int = 8192,
        fmap_max: int = 512,
        group_size: int = 4,
        combine: Combine = "cat_lin",
    ) -> None:
        super().__init__()
        if combine not in ("simple", "lin_cat", "cat_lin"):
            raise LitGansError(f"combine must be 'simple', 'lin_cat' or 'cat_lin', got {combine!r}")
        self.channels, self.resolution, self.combine = channels, resolution, combine
        self.num_levels = num_levels_for(resolution)
        nf = feature_counts(self.num_levels, fmap_base, fmap_max)
        top = self.num_levels - 1
        self.from_rgb = nn.Sequential(*conv_lrelu(channels, nf[top + 1], kernel=1))
        # combiners[l] joins x at level l with the features arriving from level l + 1 (nf[l + 1] channels)
        self.combiners = nn.ModuleList()
        widths = []
        for level in range(top):
            width = nf[level + 1]
            if combine == "simple":
                self.combiners.append(nn.Identity())
                widths.append(width + channels)
            elif combine == "lin_cat":
                self.combiners.append(EqualizedConv2d(channels, width, 1))
                widths.append(2 * width)
            else:
                self.combiners.append(EqualizedConv2d(width + channels, width, 1))
                widths.append(width)
        self.blocks = nn.ModuleList([final_block(nf, widths[0], group_size)])
        for level in range(1, self.num_levels):
            in_channels = nf[level + 1] if level == top else widths[level]
            self.blocks.append(down_block(in_channels, nf[level + 1], nf[level]))

    def join(self, level: int, image: Tensor, features: Tensor) -> Tensor:
        if self.combine == "simple":
            return torch.cat([image, features], dim=1)
        if self.combine == "lin_cat":
            return torch.cat([self.combiners[level](image), features], dim=1)
        return self.combiners[level](torch.cat([image, features], dim=1))

    def forward(self, images: list[Tensor]) -> Tensor:
        if len(images) != self.num_levels:
            raise LitGansError(f"MultiScaleDiscriminator takes {self.num_levels} scales, got {len(images)}")
        h = self.blocks[-1](self.from_rgb(images[-1]))
        for level in range(self.num_levels - 2, -1, -1):
            h = self.join(level, images[level], h)
            h = self.blocks[level](h) if level > 0 else h
        return self.blocks[0](h)
