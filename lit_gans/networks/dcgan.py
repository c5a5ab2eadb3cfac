"""DCGAN networks (Radford et al. 2015, "Unsupervised Representation Learning with Deep Convolutional GANs").

The paper's guidelines: strided (transposed) convolutions instead of pooling, BatchNorm in both nets except G's
output and D's input layer, ReLU in G with tanh on the output, LeakyReLU(0.2) in D, no fully connected hidden
layers. The paper's 64x64 nets start G from a 4x4 map; here the start size ``s`` (4 to 7) and the number ``k`` of
stride-2 stages follow from ``image_size = s * 2^k``, so 28 (7 -> 14 -> 28), 32, 48, 64 and 128 all build.
"""

from __future__ import annotations

from typing import Literal

from torch import Tensor, nn

from lit_gans.errors import LitGansError
from lit_gans.layers import (
    FeaturesThenHead,
    MinibatchDiscrimination,
    ReferenceBatch,
    SelfAttention,
    VirtualBatchNorm,
    check_shape,
    forward_with_reference,
)

Norm = Literal["batch", "layer", "none"]
Init = Literal["dcgan", "he"]


def dcgan_layout(image_size: int) -> tuple[int, int]:
    """``image_size = s * 2^k`` with ``4 <= s <= 7`` and ``k >= 1``; returns ``(s, k)``."""
    size, stages = image_size, 0
    while size % 2 == 0 and size // 2 >= 4:
        size, stages = size // 2, stages + 1
    if stages == 0 or not 4 <= size <= 7:
        raise LitGansError(
            f"DCGAN cannot build image_size={image_size}: it needs image_size = s * 2^k with s in 4..7 and k >= 1 "
            "(for example 28, 32, 48, 64 or 128); resize the data with --data.image_size"
        )
    return size, stages


class DCGANGenerator(nn.Module):
    """``z [N, z_dim] -> x [N, channels, image_size, image_size]`` in [-1, 1].

    z is a 1x1 map; a transposed conv of kernel ``s`` makes the ``s x s`` start with ``features * 2^(k-1)``
    channels; each of the ``k`` stages doubles the size and halves the channels; the last one outputs ``channels``.
    ``attention`` adds SAGAN's self-attention block before that last stage (at half the image size).
    ``virtual_batch_norm`` replaces BatchNorm by virtual batch norm against a fixed reference batch of latents
    (Salimans 2016, s.3.5).
    """

    def __init__(
        self,
        z_dim: int,
        image_size: int,
        channels: int,
        features: int = 64,
        attention: bool = False,
        virtual_batch_norm: bool = False,
    ) -> None:
        super().__init__()
        self.z_dim, self.image_size, self.channels = z_dim, image_size, channels
        start, stages = dcgan_layout(image_size)
        width = features * 2 ** (stages - 1)
        norm = VirtualBatchNorm if virtual_batch_norm else nn.BatchNorm2d
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(z_dim, width, start, 1, 0, bias=False),
            norm(width),
            nn.ReLU(True),
        ]
        for _ in range(stages - 1):
            layers += [nn.ConvTranspose2d(width, width // 2, 4, 2, 1, bias=False), norm(width // 2), nn.ReLU(True)]
            width //= 2
        if attention:
            layers.append(SelfAttention(width))
        layers += [nn.ConvTranspose2d(width, channels, 4, 2, 1, bias=False), nn.Tanh()]
        self.net = nn.Sequential(*layers)
        self.reference = ReferenceBatch(z_dim) if virtual_batch_norm else None
        self.apply(dcgan_init_)

    def forward(self, z: Tensor) -> Tensor:
        check_shape(z, (None, self.z_dim), "DCGANGenerator input z")
        if self.reference is not None:
            return forward_with_reference(self.net, self.reference.latent[:, :, None, None], z[:, :, None, None])
        return self.net(z[:, :, None, None])


class DCGANDiscriminator(FeaturesThenHead):
    """``x [N, channels, image_size, image_size] -> logits [N]``, the mirror of the generator: ``k`` stride-2
    convs (``features``, doubling; no normalization on the first), then a conv of kernel ``s`` down to one logit.

    ``norm``: ``batch`` (the paper), ``layer`` (per-sample, over C, H, W: for critics with a per-sample gradient
    penalty, which BatchNorm breaks by mixing the samples of a batch; igul222's ``gan_64x64.py``) or ``none``
    (under spectral norm, or the plain critic of igul222's ``gan_mnist.py``).
    ``attention`` adds SAGAN's self-attention block after the first stage (at half the image size).
    ``init``: ``dcgan`` (weights ~ N(0, 0.02), the paper's; biases keep torch's default uniform start, so the
    first one is non-zero from step 0) or ``he`` (He et al. 2015 for LeakyReLU(0.2), biases 0: the WGAN-GP authors'
    critics; without normalisation it keeps ``||grad_x D||`` of order 1 at initialisation; meant for
    ``norm="none"``, since zero biases in front of a per-sample norm leave D scale-blind until it learns them).

    The first convolution has a bias, and so has every convolution in front of a layer norm (BatchNorm's shift
    makes one redundant there). Without it a bias-free conv, LeakyReLU (positively homogeneous) and a per-sample
    norm make ``D(a x) = D(x)`` for every ``a > 0``: the critic cannot see contrast (a grey image is a scaled black
    one) and its input gradient grows as ``1 / ||x||``, which blows up gradient penalties at G's low-contrast first
    outputs. BatchNorm is blind the same way to a scale shared by a whole batch of fakes.

    The last stage's map is the ``features`` (``[N, width, s, s]``, for feature matching and extra heads).
    ``minibatch_kernels > 0`` replaces the last conv by minibatch discrimination on those features and a linear
    output (Salimans 2016, s.3.2); ``outputs`` > 1 gives ``[N, outputs]`` logits.
    """

    def __init__(
        self,
        image_size: int,
        channels: int,
        features: int = 64,
        norm: Norm = "batch",
        attention: bool = False,
        minibatch_kernels: int = 0,
        minibatch_kernel_dim: int = 5,
        outputs: int = 1,
        init: Init = "dcgan",
    ) -> None:
        super().__init__()
        if norm not in ("batch", "layer", "none"):
            raise LitGansError(f"norm must be 'batch', 'layer' or 'none', got {norm!r}")
        if init not in ("dcgan", "he"):
            raise LitGansError(f"init must be 'dcgan' or 'he', got {init!r}")
        self.image_size, self.channels = image_size, channels
        self.input_shape = (channels, image_size, image_size)
        start, stages = dcgan_layout(image_size)
        # the first conv's bias breaks D(a x) = D(x): LeakyReLU(W a x + b) is not a scaled LeakyReLU(W x + b)
        layers: list[nn.Module] = [nn.Conv2d(channels, features, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        if attention:
            layers.append(SelfAttention(features))
        width = features
        for _ in range(stages - 1):
            # BatchNorm's shift makes a bias redundant; a one-group layer norm keeps per-channel biases
            layers += [nn.Conv2d(width, width * 2, 4, 2, 1, bias=norm != "batch"), *_norm(norm, width * 2)]
            layers.append(nn.LeakyReLU(0.2, True))
            width *= 2
        self.outputs = outputs
        self.feature_dim = width * start * start
        self.num_feature_layers = len(layers)
        if minibatch_kernels > 0:
            layers += [
                nn.Flatten(),
                MinibatchDiscrimination(self.feature_dim, minibatch_kernels, minibatch_kernel_dim),
                nn.Linear(self.feature_dim + minibatch_kernels, outputs),
            ]
        else:
            layers += [nn.Conv2d(width, outputs, start, 1, 0, bias=False), nn.Flatten()]
        self.net = nn.Sequential(*layers)
        self.apply(dcgan_init_ if init == "dcgan" else he_init_)


def _norm(norm: Norm, channels: int) -> list[nn.Module]:
    if norm == "batch":
        return [nn.BatchNorm2d(channels)]
    if norm == "layer":
        return [nn.GroupNorm(1, channels)]  # one group: normalises each sample over (C, H, W)
    return []


def dcgan_init_(module: nn.Module) -> None:
    """The paper's initialisation: conv weights ~ N(0, 0.02), BatchNorm scale ~ N(1, 0.02) and shift 0."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
    elif isinstance(module, (nn.BatchNorm2d, nn.GroupNorm, VirtualBatchNorm)):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


def he_init_(module: nn.Module) -> None:
    """He et al. 2015 for LeakyReLU(0.2): conv and linear weights ~ N(0, 2 / ((1 + 0.2^2) fan_in)), biases 0."""
    if isinstance(module, (nn.Conv2d, nn.Linear)):
        nn.init.kaiming_normal_(module.weight, a=0.2, nonlinearity="leaky_relu")
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.GroupNorm):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)
