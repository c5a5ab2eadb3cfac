"""InfoGAN's MNIST networks (Chen et al. 2016, appendix C.1, table 1): DCGAN-like convolutions with one fully
connected layer of 1024 units on each side.

    G: input -> FC 1024, BN, ReLU -> FC s*s*2^k*64/2, BN, ReLU -> k stride-2 4x4 up-convs (BN, ReLU; the last to
       ``channels`` with tanh)              at 28x28: FC 1024 -> FC 7x7x128 -> up-conv 64 -> up-conv 1
    D: k stride-2 4x4 convs (LeakyReLU 0.2; BN from the second on) -> FC 1024, BN, LeakyReLU -> FC ``outputs``
                                            at 28x28: conv 64 -> conv 128 -> FC 1024 -> FC 1

D's ``features`` are the 1024 units before its output layer: the body that InfoGAN's Q head shares.
"""

from __future__ import annotations

from torch import Tensor, nn

from lit_gans.layers import FeaturesThenHead, Reshape, check_shape
from lit_gans.networks.dcgan import dcgan_init_, dcgan_layout


class InfoGANGenerator(nn.Module):
    """``input [N, input_dim] -> x [N, channels, image_size, image_size]`` in [-1, 1]."""

    def __init__(self, input_dim: int, image_size: int, channels: int, features: int = 64, hidden: int = 1024) -> None:
        super().__init__()
        self.input_dim = input_dim
        start, stages = dcgan_layout(image_size)
        width = features * 2 ** (stages - 1)  # 128 at 28x28
        layers: list[nn.Module] = [
            nn.Linear(input_dim, hidden, bias=False),
            nn.BatchNorm1d(hidden),
            nn.ReLU(True),
            nn.Linear(hidden, width * start * start, bias=False),
            nn.BatchNorm1d(width * start * start),
            nn.ReLU(True),
            Reshape((width, start, start)),
        ]
        for _ in range(stages - 1):
            layers += [nn.ConvTranspose2d(width, width // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(width // 2)]
            layers.append(nn.ReLU(True))
            width //= 2
        layers += [nn.ConvTranspose2d(width, channels, 4, 2, 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        self.apply(infogan_init_)

    def forward(self, z: Tensor) -> Tensor:
        check_shape(z, (None, self.input_dim), "InfoGANGenerator input")
        return self.net(z)


class InfoGANDiscriminator(FeaturesThenHead):
    """``x [N, channels, image_size, image_size] -> logits [N]`` (``[N, outputs]`` when ``outputs > 1``); its
    ``features`` are the ``[N, hidden]`` activations of the fully connected layer. ``leaky_slope``: the LeakyReLUs'
    (the paper's table 1 says lReLU; the authors' code, openai/InfoGAN's ``leaky_rectify``, uses 0.01)."""

    def __init__(
        self,
        image_size: int,
        channels: int,
        features: int = 64,
        hidden: int = 1024,
        outputs: int = 1,
        leaky_slope: float = 0.2,
    ) -> None:
        super().__init__()
        self.input_shape = (channels, image_size, image_size)
        start, stages = dcgan_layout(image_size)
        layers: list[nn.Module] = [nn.Conv2d(channels, features, 4, 2, 1), nn.LeakyReLU(leaky_slope, True)]
        width = features
        for _ in range(stages - 1):
            layers += [nn.Conv2d(width, width * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(width * 2)]
            layers.append(nn.LeakyReLU(leaky_slope, True))
            width *= 2
        layers += [nn.Flatten(), nn.Linear(width * start * start, hidden, bias=False), nn.BatchNorm1d(hidden)]
        layers.append(nn.LeakyReLU(leaky_slope, True))
        self.feature_dim, self.outputs = hidden, outputs
        self.num_feature_layers = len(layers)
        layers.append(nn.Linear(hidden, outputs))
        self.net = nn.Sequential(*layers)
        self.apply(infogan_init_)


def infogan_init_(module: nn.Module) -> None:
    """DCGAN's N(0, 0.02) weights, extended to the fully connected layers."""
    if isinstance(module, nn.Linear):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm1d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)
    else:
        dcgan_init_(module)
