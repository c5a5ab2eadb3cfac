"""SRGAN's networks (Ledig et al. 2017, "Photo-Realistic Single Image Super-Resolution Using a Generative
Adversarial Network", arXiv:1609.04802, Figure 4).

G, the SRResNet (``k9n64s1``: a 9x9 convolution, 64 maps, stride 1)::

    k9n64s1, PReLU                                               -> skip
    B x [k3n64s1, BN, PReLU, k3n64s1, BN] + its input            (residual blocks, B = 16)
    k3n64s1, BN + skip                                           (the long skip around all blocks)
    log2(r) x [k3n256s1, PixelShuffle x2, PReLU]                 (sub-pixel convolution, Shi et al. 2016)
    k9n(C)s1, tanh                                               (the output in [-1, 1], the data's range)

D::

    k3n64s1, LReLU(0.2)
    k3n64s2, k3n128s1, k3n128s2, k3n256s1, k3n256s2, k3n512s1, k3n512s2   (each followed by BN, LReLU(0.2))
    Dense 1024, LReLU(0.2), Dense 1                              (a logit; the sigmoid is in the loss)

The paper's D sees 96x96 crops, which its four stride-2 convolutions bring to 6x6. On small images (MNIST's 28 px)
they would go below 2 px, so here a stride-2 convolution whose output would be smaller than 4 px has stride 1
instead: every layer and width stays, only the last strides are dropped (28 px: 28 -> 14 -> 7 -> 4, three stride-2
stages; 64 px: 64 -> 32 -> 16 -> 8 -> 4, four; 96 px: the paper's 6). The dense layers read the flattened last map.
"""

from __future__ import annotations

import math

from torch import Tensor, nn

from lit_gans.errors import LitGansError
from lit_gans.layers import check_shape

MIN_D_MAP = 4  # the smallest map a stride-2 convolution of D may leave, in pixels


def upsampling_stages(scale: int) -> int:
    """``log2(scale)``: the number of x2 PixelShuffle stages; a clear error unless ``scale`` is a power of two >= 2."""
    if scale < 2 or scale & (scale - 1):
        raise LitGansError(f"scale must be a power of two >= 2 (x2 PixelShuffle stages), got {scale}")
    return int(math.log2(scale))


class SRResidualBlock(nn.Module):
    """``x + BN(conv(PReLU(BN(conv(x)))))``, 3x3 convolutions, ``[N, F, h, w]`` kept."""

    def __init__(self, features: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(features, features, 3, padding=1, bias=False),
            nn.BatchNorm2d(features),
            nn.PReLU(features),
            nn.Conv2d(features, features, 3, padding=1, bias=False),
            nn.BatchNorm2d(features),
        )

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


class PixelShuffleStage(nn.Module):
    """``[N, F, h, w] -> [N, U / 4, 2h, 2w]``: a 3x3 convolution to ``U`` maps, PixelShuffle x2 (4 maps become a
    2x2 block of pixels), PReLU."""

    def __init__(self, features: int, upsample_features: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(features, upsample_features, 3, padding=1),
            nn.PixelShuffle(2),
            nn.PReLU(upsample_features // 4),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.body(x)


class SRResNetGenerator(nn.Module):
    """``I_LR [N, C, h, w] -> I_SR [N, C, scale * h, scale * w]`` in [-1, 1] (tanh).

    Args:
        channels: image channels ``C``, in and out.
        scale: the upscaling factor ``r``, a power of two (4 in the paper): ``log2(r)`` PixelShuffle x2 stages.
        features: maps of the residual trunk (64 in the paper).
        blocks: residual blocks ``B`` (16 in the paper).
        upsample_features: maps of each upsampling convolution before its PixelShuffle (256 in the paper), a multiple
            of 4; after the shuffle a stage has ``upsample_features / 4``. None: ``4 * features``.
    """

    def __init__(
        self, channels: int, scale: int, features: int = 64, blocks: int = 16, upsample_features: int | None = None
    ) -> None:
        super().__init__()
        stages = upsampling_stages(scale)
        upsample_features = 4 * features if upsample_features is None else upsample_features
        if upsample_features < 4 or upsample_features % 4:
            raise LitGansError(f"upsample_features must be a positive multiple of 4, got {upsample_features}")
        if blocks < 0 or features < 1:
            raise LitGansError(f"SRResNet needs features >= 1 and blocks >= 0, got {features} and {blocks}")
        self.channels, self.scale = channels, scale
        self.head = nn.Sequential(nn.Conv2d(channels, features, 9, padding=4), nn.PReLU(features))
        self.blocks = nn.Sequential(*(SRResidualBlock(features) for _ in range(blocks)))
        self.trunk_end = nn.Sequential(
            nn.Conv2d(features, features, 3, padding=1, bias=False), nn.BatchNorm2d(features)
        )
        widths = [features] + [upsample_features // 4] * stages  # maps into each stage, then out of the last
        self.upsample = nn.Sequential(*(PixelShuffleStage(widths[i], upsample_features) for i in range(stages)))
        self.tail = nn.Conv2d(widths[-1], channels, 9, padding=4)

    def forward(self, lr: Tensor) -> Tensor:
        check_shape(lr, (None, self.channels, None, None), "SRResNet's low-resolution input")
        skip = self.head(lr)  # [N, F, h, w]
        x = skip + self.trunk_end(self.blocks(skip))  # the long skip connection
        x = self.upsample(x)  # [N, U / 4, r h, r w]
        return self.tail(x).tanh()  # [N, C, r h, r w]


def discriminator_strides(image_size: int, stride_two_convs: int = 4) -> list[int]:
    """The strides of D's ``stride_two_convs`` downsampling convolutions: 2 while the map stays >= ``MIN_D_MAP``
    pixels (a 3x3 convolution with padding 1 and stride 2 gives ``ceil(s / 2)``), 1 after."""
    strides, size = [], image_size
    for _ in range(stride_two_convs):
        if -(-size // 2) >= MIN_D_MAP:
            strides.append(2)
            size = -(-size // 2)
        else:
            strides.append(1)
    return strides


class SRGANDiscriminator(nn.Module):
    """``I [N, C, S, S] -> logit [N, 1]``: the paper's D (see the module docstring for small images).

    Args:
        channels: image channels ``C``.
        image_size: the side ``S`` of the (high-resolution) images it judges.
        features: maps of the first convolutions (64 in the paper), doubled by each pair up to ``8 * features``.
        dense_features: units of the first dense layer (1024 in the paper).
    """

    def __init__(self, channels: int, image_size: int, features: int = 64, dense_features: int = 1024) -> None:
        super().__init__()
        if image_size < MIN_D_MAP:
            raise LitGansError(f"SRGAN's D needs images of at least {MIN_D_MAP} px, got {image_size}")
        self.channels, self.image_size = channels, image_size
        strides = discriminator_strides(image_size)
        layers: list[nn.Module] = [nn.Conv2d(channels, features, 3, padding=1), nn.LeakyReLU(0.2, True)]
        size, c_in = image_size, features
        for i, stride in enumerate(strides):  # k3n(F 2^i)s1 (not before the first), then k3n(F 2^i)s2
            width = features * 2**i
            if i > 0:
                layers += conv_bn_lrelu(c_in, width, 1)
            layers += conv_bn_lrelu(width, width, stride)
            c_in, size = width, -(-size // stride)
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Linear(c_in * size * size, dense_features),
            nn.LeakyReLU(0.2, True),
            nn.Linear(dense_features, 1),
        )

    def forward(self, images: Tensor) -> Tensor:
        check_shape(images, (None, self.channels, self.image_size, self.image_size), "SRGAN's D input")
        return self.head(self.features(images))  # [N, 1] logits


def conv_bn_lrelu(c_in: int, c_out: int, stride: int) -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, 3, stride, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.LeakyReLU(0.2, True)]
