"""Context Encoder networks (Pathak et al. 2016, "Context Encoders: Feature Learning by Inpainting").

The authors' DCGAN-style nets (pathak22/context-encoder, ``train.lua``): an encoder of stride-2 4x4 convs
(LeakyReLU 0.2, BatchNorm except on the first) down to a 4x4 map, a bottleneck, and a decoder of stride-2 4x4
transposed convs (BatchNorm, ReLU, tanh on the output) back up; the discriminator is a DCGAN D on the patch it
judges. The authors zero every conv bias at every step (``train.lua`` lines 274-275), so the convs here have none.

Bottlenecks:

- ``conv`` (the authors' code): a 4x4 conv of the ``[N, width, 4, 4]`` map to ``[N, bottleneck, 1, 1]``, BatchNorm,
  LeakyReLU, then a 4x4 transposed conv back to ``[N, width, 4, 4]`` (``nBottleneck`` 4000 in their README).
- ``channelwise`` (the paper's s.3.1): a fully connected layer inside each channel (``[N, width, 16] ->
  [N, width, 16]``, ``width * 16^2`` weights instead of ``width^2 * 16^2``), then a stride-1 1x1 conv that mixes the
  channels; ``bottleneck`` is then unused (the code is ``width * 16`` numbers).

Unlike the authors' centre-patch G (``[N, C, S/2, S/2]`` out), G here draws the whole image ``[N, C, S, S]``: the
model pastes it into any hole (centre, left half, random pixels; their ``train_random.lua`` does the same).
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor, nn

from lit_gans.errors import LitGansError
from lit_gans.layers import check_shape
from lit_gans.networks.dcgan import dcgan_init_

Bottleneck = Literal["conv", "channelwise"]


def halvings_to_4(size: int, name: str) -> int:
    """``k`` with ``size = 4 * 2^k``, ``k >= 1``; a clear error for other sizes."""
    original, stages = size, 0
    while size > 4 and size % 2 == 0:
        size, stages = size // 2, stages + 1
    if size != 4 or stages == 0:
        raise LitGansError(f"{name} must be a power of two >= 8 (halved down to 4x4), got {original}")
    return stages


class ChannelWiseFullyConnected(nn.Module):
    """The paper's channel-wise fully connected layer: ``[N, C, h, w] -> [N, C, h, w]``, every output pixel of
    channel ``c`` a linear function of all pixels of channel ``c`` only (``W [C, hw, hw]``), then a stride-1 1x1
    conv across the channels."""

    def __init__(self, channels: int, size: int) -> None:
        super().__init__()
        self.size = size
        self.weight = nn.Parameter(torch.randn(channels, size * size, size * size) * 0.02)
        self.mix = nn.Conv2d(channels, channels, 1, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        flat = x.flatten(2)  # [N, C, hw]
        out = torch.einsum("ncp,cpq->ncq", flat, self.weight)  # per channel: [hw] @ [hw, hw]
        return self.mix(out.view_as(x))


class ContextEncoderGenerator(nn.Module):
    """``context [N, channels, image_size, image_size] -> image [N, channels, image_size, image_size]`` in [-1, 1].

    Encoder: ``k = log2(image_size / 4)`` stride-2 4x4 convs, ``features * 2^i`` channels at stage ``i`` (capped at
    ``8 * features``), so ``width`` channels at 4x4; bottleneck (``conv``: to ``[N, bottleneck, 1, 1]`` and back;
    ``channelwise``: the paper's channel-wise FC); decoder: ``k`` stride-2 4x4 transposed convs, halving the
    channels, the last to ``channels`` with tanh.
    """

    def __init__(
        self,
        image_size: int,
        channels: int,
        features: int = 64,
        bottleneck: int = 4000,
        bottleneck_type: Bottleneck = "conv",
    ) -> None:
        super().__init__()
        if bottleneck_type not in ("conv", "channelwise"):
            raise LitGansError(f"bottleneck_type must be 'conv' or 'channelwise', got {bottleneck_type!r}")
        if bottleneck < 1:
            raise LitGansError(f"bottleneck must be at least 1, got {bottleneck}")
        self.image_size, self.channels = image_size, channels
        stages = halvings_to_4(image_size, "image_size")
        widths = [min(features * 2**i, 8 * features) for i in range(stages)]  # encoder stage outputs
        encoder: list[nn.Module] = [nn.Conv2d(channels, widths[0], 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True)]
        for w_in, w_out in zip(widths, widths[1:]):
            encoder += [nn.Conv2d(w_in, w_out, 4, 2, 1, bias=False), nn.BatchNorm2d(w_out), nn.LeakyReLU(0.2, True)]
        width = widths[-1]  # [N, width, 4, 4]
        if bottleneck_type == "conv":
            # train.lua lines 103, 126, 133: conv 4x4 -> [N, bottleneck, 1, 1], BN, LeakyReLU, full conv 4x4 back
            middle: list[nn.Module] = [
                nn.Conv2d(width, bottleneck, 4, bias=False),
                nn.BatchNorm2d(bottleneck),
                nn.LeakyReLU(0.2, True),
                nn.ConvTranspose2d(bottleneck, width, 4, bias=False),
                nn.BatchNorm2d(width),
                nn.ReLU(True),
            ]
        else:
            middle = [ChannelWiseFullyConnected(width, 4), nn.BatchNorm2d(width), nn.ReLU(True)]
        decoder: list[nn.Module] = []
        for w_in, w_out in zip(widths[::-1], widths[::-1][1:]):
            decoder += [nn.ConvTranspose2d(w_in, w_out, 4, 2, 1, bias=False), nn.BatchNorm2d(w_out), nn.ReLU(True)]
        decoder += [nn.ConvTranspose2d(widths[0], channels, 4, 2, 1, bias=False), nn.Tanh()]
        self.encoder, self.bottleneck = nn.Sequential(*encoder), nn.Sequential(*middle)
        self.decoder = nn.Sequential(*decoder)
        self.apply(dcgan_init_)

    def forward(self, context: Tensor) -> Tensor:
        check_shape(context, (None, self.channels, self.image_size, self.image_size), "ContextEncoderGenerator input")
        return self.decoder(self.bottleneck(self.encoder(context)))


class PatchDiscriminator(nn.Module):
    """``patch [N, channels, height, width] -> logits [N, 1, h', w']``: a DCGAN D sized to the patch it judges
    (train.lua lines 180-196): stride-2 4x4 convs (LeakyReLU 0.2, BatchNorm except on the first; ``features``
    doubling, capped at ``8 * features``) until the shorter side is 4, then a 4x4 conv to one logit per position
    (``[N, 1, 1, 1]`` for a square patch; a left-half patch ``S x S/2`` gives ``[N, 1, 5, 1]`` at S=32). The
    first conv keeps a bias (D must see contrast; docs: the scale-blind D), the others feed BatchNorm."""

    def __init__(self, patch_size: tuple[int, int], channels: int, features: int = 64) -> None:
        super().__init__()
        height, width = patch_size
        self.patch_size, self.channels = (height, width), channels
        shorter = min(height, width)
        stages = halvings_to_4(shorter, "the patch's shorter side")
        if max(height, width) % 2**stages:
            raise LitGansError(f"patch {height}x{width}: its longer side must be divisible by {2**stages}")
        layers: list[nn.Module] = [nn.Conv2d(channels, features, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        w = features
        for _ in range(stages - 1):
            w_out = min(2 * w, 8 * features)
            layers += [nn.Conv2d(w, w_out, 4, 2, 1, bias=False), nn.BatchNorm2d(w_out), nn.LeakyReLU(0.2, True)]
            w = w_out
        layers.append(nn.Conv2d(w, 1, 4, bias=False))
        self.net = nn.Sequential(*layers)
        self.apply(dcgan_init_)

    def forward(self, patch: Tensor) -> Tensor:
        check_shape(patch, (None, self.channels, *self.patch_size), "PatchDiscriminator input patch")
        return self.net(patch)
