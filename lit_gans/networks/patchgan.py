"""The PatchGAN discriminator of Pix2Pix and CycleGAN (Isola et al. 2017, s.2.2 and appendix 6.1.2).

``C64-C128-C256-C512`` (4x4 convolutions, LeakyReLU 0.2, no norm on ``C64``; the first three of stride 2, ``C512``
of stride 1), then a 4x4 convolution to one channel: a map of logits, each judging one ``N x N`` patch of the input.
With ``n_layers = 3`` each output sees a 70x70 patch (the paper's choice); 1 gives 16x16 and 2 gives 34x34, for
small images. Pix2Pix's D is conditional: it sees the input and the output concatenated along the channels.
"""

from __future__ import annotations

from torch import Tensor, nn

from lit_gans.errors import LitGansError
from lit_gans.layers import check_shape
from lit_gans.networks.unet import Norm2d, norm2d, normal_init_


class PatchGANDiscriminator(nn.Module):
    """``x [N, in_channels, H, W] -> logits [N, 1, H', W']``, one per overlapping patch.

    Args:
        features: channels of the first layer (64), doubling per layer up to ``8 * features``.
        n_layers: layers between the first and the output (3: the 70x70 PatchGAN).
        norm: ``batch`` (Pix2Pix) or ``instance`` (CycleGAN).
    """

    def __init__(self, in_channels: int, features: int = 64, n_layers: int = 3, norm: Norm2d = "batch") -> None:
        super().__init__()
        if n_layers < 1:
            raise LitGansError(f"the PatchGAN needs n_layers >= 1, got {n_layers}")
        self.in_channels = in_channels
        layers: list[nn.Module] = [nn.Conv2d(in_channels, features, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        width = features
        for i in range(1, n_layers + 1):  # stride 2 for all but the last of these
            out = features * min(2**i, 8)
            stride = 2 if i < n_layers else 1
            layers += [nn.Conv2d(width, out, 4, stride, 1, bias=False), norm2d(norm, out), nn.LeakyReLU(0.2, True)]
            width = out
        layers.append(nn.Conv2d(width, 1, 4, 1, 1))
        self.net = nn.Sequential(*layers)
        self.apply(normal_init_)

    def forward(self, x: Tensor) -> Tensor:
        check_shape(x, (None, self.in_channels, None, None), "PatchGANDiscriminator input x")
        return self.net(x)


def receptive_field(net: nn.Module) -> int:
    """Side of the input patch one output of a chain of square convolutions sees:
    ``r = 1 + sum_l (k_l - 1) * prod_{m < l} s_m``."""
    field, jump = 1, 1
    for module in net.modules():
        if isinstance(module, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
            kernel = module.kernel_size if isinstance(module.kernel_size, int) else module.kernel_size[0]
            stride = module.stride if isinstance(module.stride, int) else module.stride[0]
            field += (kernel - 1) * jump
            jump *= stride
    return field
