"""The MNIST networks of Salimans et al. 2016's semi-supervised GAN, as in the authors' code (openai/improved-gan,
``mnist_svhn_cifar10/train_mnist_feature_matching.py`` and its ``nn.py``):

    G: z [N, 100] -> FC 500, BN (no scale), softplus -> FC 500, BN (no scale), softplus -> FC 784 weight-normed
       (trained scale), sigmoid
    D: x -> noise 0.3 -> FC 1000 -> noise 0.5 -> FC 500 -> noise 0.5 -> FC 250 -> noise 0.5 -> FC 250 -> noise 0.5
       -> FC 250 -> noise 0.5 -> FC 10
       every FC weight-normed (``WeightNormLinear``: theta ~ N(0, 0.1^2), scale fixed at its data-dependent
       initialisation except on the output layer), ReLU on the hidden ones; Gaussian noise only in training

The authors' data lie in [0, 1], lit-gans' in [-1, 1]: D first maps its input to [0, 1] (``(x + 1) / 2``) so its
noise and first layer see the numbers the authors' D saw, and G's sigmoid output ``s`` is returned as ``2 s - 1``,
so G's images are the authors' ones in lit-gans' range (and ``2 sigmoid(a) - 1 = tanh(a / 2)``).

D's ``features`` are the last hidden layer's ReLU outputs (the authors' ``layers[-3]``, before the noise that
follows it): feature matching's ``f``. Call ``data_dependent_init_(D, x)`` (``lit_gans.layers``) on a batch of
real data before training, as the authors do on 500 training images.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from lit_gans.errors import LitGansError
from lit_gans.layers import FeaturesThenHead, GaussianNoise, Reshape, WeightNormLinear, check_shape


class ToUnitInterval(nn.Module):
    """``x in [-1, 1] -> (x + 1) / 2 in [0, 1]``."""

    def forward(self, x: Tensor) -> Tensor:
        return (x + 1.0) * 0.5


class Shift(nn.Module):
    """``x + b`` with a learned ``b`` per feature, ``[N, F]``: the shift of a batch norm without a scale."""

    def __init__(self, num_features: int) -> None:
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(num_features))

    def forward(self, x: Tensor) -> Tensor:
        return x + self.bias


class ImprovedGANGenerator(nn.Module):
    """``z [N, z_dim] -> x [N, *data_shape]`` in [-1, 1] (see the module docstring). The hidden layers are
    Glorot-uniform initialised (Lasagne's default) without bias, batch-normalised with a learned shift and no
    scale, then softplus; the output layer is weight-normalised with a trained scale (the authors' ``l2normalize``)
    and no data-dependent initialisation."""

    def __init__(self, z_dim: int, data_shape: Sequence[int], hidden: Sequence[int] = (500, 500)) -> None:
        super().__init__()
        self.z_dim, self.data_shape = z_dim, tuple(data_shape)
        layers: list[nn.Module] = []
        width = z_dim
        for out in hidden:
            linear = nn.Linear(width, out, bias=False)
            nn.init.xavier_uniform_(linear.weight)
            # the authors' batch norm: eps 1e-6 on the variance, a shift and no scale
            layers += [linear, nn.BatchNorm1d(out, eps=1e-6, affine=False), Shift(out), nn.Softplus()]
            width = out
        output = WeightNormLinear(width, math.prod(self.data_shape), train_scale=True)
        with torch.no_grad():
            nn.init.xavier_uniform_(output.direction)
        layers += [output, nn.Sigmoid(), Reshape(self.data_shape)]
        self.net = nn.Sequential(*layers)

    def forward(self, z: Tensor) -> Tensor:
        check_shape(z, (None, self.z_dim), "ImprovedGANGenerator input z")
        return self.net(z) * 2.0 - 1.0  # sigmoid's [0, 1] -> [-1, 1]


class ImprovedGANDiscriminator(FeaturesThenHead):
    """``x [N, *data_shape] in [-1, 1] -> logits [N, outputs]`` (``[N]`` when ``outputs == 1``): the authors'
    MNIST D (see the module docstring), ``input_noise`` the std of the noise on the [0, 1] input, ``hidden_noise``
    after every hidden layer."""

    def __init__(
        self,
        data_shape: Sequence[int],
        hidden: Sequence[int] = (1000, 500, 250, 250, 250),
        outputs: int = 10,
        input_noise: float = 0.3,
        hidden_noise: float = 0.5,
    ) -> None:
        super().__init__()
        if not hidden:
            raise LitGansError("ImprovedGANDiscriminator needs at least one hidden layer (its features)")
        self.data_shape = self.input_shape = tuple(data_shape)
        self.outputs = outputs
        layers: list[nn.Module] = [nn.Flatten(), ToUnitInterval(), GaussianNoise(input_noise)]
        width = math.prod(self.data_shape)
        for i, out in enumerate(hidden):
            if i > 0:
                layers.append(GaussianNoise(hidden_noise))
            layers += [WeightNormLinear(width, out), nn.ReLU()]
            width = out
        self.feature_dim = width
        self.num_feature_layers = len(layers)
        layers += [GaussianNoise(hidden_noise), WeightNormLinear(width, outputs, train_scale=True)]
        self.net = nn.Sequential(*layers)
