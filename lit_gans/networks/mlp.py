"""Fully connected generator and discriminator for flat data: images as vectors, or 1D/2D toy points."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

from torch import Tensor, nn

from lit_gans.errors import LitGansError
from lit_gans.layers import (
    FeaturesThenHead,
    Maxout,
    MinibatchDiscrimination,
    ReferenceBatch,
    Reshape,
    VirtualBatchNorm,
    check_shape,
    forward_with_reference,
)

GeneratorNorm = Literal["batch", "virtual", "none"]
# the hidden layers' nonlinearity: LeakyReLU(0.2) (the classic GAN example), tanh (the 1D tutorial's small MLPs)
# or ReLU (PacGAN's toy generator)
Activation = Literal["leaky_relu", "tanh", "relu"]
ACTIVATIONS = {"leaky_relu": lambda: nn.LeakyReLU(0.2), "tanh": nn.Tanh, "relu": nn.ReLU}


def activation_layer(activation: Activation) -> nn.Module:
    if activation not in ACTIVATIONS:
        raise LitGansError(f"the MLP activation must be one of {', '.join(map(repr, ACTIVATIONS))}, got {activation!r}")
    return ACTIVATIONS[activation]()


class MLPGenerator(nn.Module):
    """``z [N, z_dim] -> x [N, *data_shape]``: Linear-norm-LeakyReLU(0.2) per hidden layer, then a linear output,
    squashed by tanh when ``tanh_output`` (images in [-1, 1]) and left unbounded otherwise (toy points).

    ``norm``: ``batch`` (BatchNorm), ``virtual`` (virtual batch norm against a fixed reference batch of latents)
    or ``none``. ``activation``: ``leaky_relu`` (LeakyReLU(0.2)), ``tanh`` or ``relu`` in the hidden layers.
    """

    def __init__(
        self,
        z_dim: int,
        data_shape: Sequence[int],
        hidden: Sequence[int] = (256, 512, 1024),
        norm: GeneratorNorm = "batch",
        tanh_output: bool = True,
        activation: Activation = "leaky_relu",
    ) -> None:
        super().__init__()
        if norm not in ("batch", "virtual", "none"):
            raise LitGansError(f"the generator's norm must be 'batch', 'virtual' or 'none', got {norm!r}")
        self.z_dim = z_dim
        self.data_shape = tuple(data_shape)
        layers: list[nn.Module] = []
        width = z_dim
        for out in hidden:
            layers.append(nn.Linear(width, out, bias=norm == "none"))
            if norm == "batch":
                layers.append(nn.BatchNorm1d(out))
            elif norm == "virtual":
                layers.append(VirtualBatchNorm(out))
            layers.append(activation_layer(activation))
            width = out
        layers += [nn.Linear(width, math.prod(self.data_shape)), Reshape(self.data_shape)]
        if tanh_output:
            layers.append(nn.Tanh())
        self.net = nn.Sequential(*layers)
        self.reference = ReferenceBatch(z_dim) if norm == "virtual" else None

    def forward(self, z: Tensor) -> Tensor:
        check_shape(z, (None, self.z_dim), "MLPGenerator input z")
        if self.reference is not None:
            return forward_with_reference(self.net, self.reference.latent, z)
        return self.net(z)


class MLPDiscriminator(FeaturesThenHead):
    """``x [N, *data_shape] -> logits [N]``: Linear-LeakyReLU(0.2) per hidden layer (the ``features``), then a
    linear output, no sigmoid.

    ``minibatch_kernels > 0`` puts minibatch discrimination (Salimans 2016, s.3.2; ``B`` kernels of dimension
    ``minibatch_kernel_dim``) between the features and the output layer. ``outputs`` > 1 gives ``[N, outputs]``
    logits (e.g. one per class). ``activation``: ``leaky_relu`` (LeakyReLU(0.2)), ``tanh`` or ``relu`` in the
    hidden layers; ``maxout_pieces`` = k >= 2 makes each hidden layer maxout units of k pieces instead (PacGAN's toy
    D: 3 x 200 units of 5 pieces), with no other nonlinearity.
    """

    def __init__(
        self,
        data_shape: Sequence[int],
        hidden: Sequence[int] = (512, 256),
        minibatch_kernels: int = 0,
        minibatch_kernel_dim: int = 5,
        outputs: int = 1,
        activation: Activation = "leaky_relu",
        maxout_pieces: int = 1,
    ) -> None:
        super().__init__()
        self.data_shape = self.input_shape = tuple(data_shape)
        self.outputs = outputs
        layers: list[nn.Module] = [nn.Flatten()]
        width = math.prod(self.data_shape)
        for out in hidden:
            if maxout_pieces > 1:
                layers.append(Maxout(width, out, maxout_pieces))
            else:
                layers += [nn.Linear(width, out), activation_layer(activation)]
            width = out
        self.feature_dim = width
        self.num_feature_layers = len(layers)
        if minibatch_kernels > 0:
            layers.append(MinibatchDiscrimination(width, minibatch_kernels, minibatch_kernel_dim))
            width += minibatch_kernels
        layers.append(nn.Linear(width, outputs))
        self.net = nn.Sequential(*layers)
