"""Label-conditioned networks (Mirza & Osindero 2014): the class label ``y`` is embedded (``nn.Embedding``) and
concatenated to the inputs of an unconditional G and D.

    G(z, y) = G'([z, e(y)])                                          e(y) in R^E
    D(x, y) = D'([x, e(y)])       flat data: e(y) joins the flattened x
    D(x, y) = D'([x ; map(y)])    images: e(y) in R^{H W} reshaped to one extra input channel
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import torch
from torch import Tensor, nn

from lit_gans.errors import LitGansError
from lit_gans.layers import check_shape
from lit_gans.networks.dcgan import DCGANDiscriminator, DCGANGenerator, Norm
from lit_gans.networks.infogan import InfoGANDiscriminator, InfoGANGenerator
from lit_gans.networks.mlp import MLPDiscriminator, MLPGenerator

Network = Literal["mlp", "conv", "infogan"]


def base_networks(
    network: Network,
    data_shape: Sequence[int],
    g_input_dim: int,
    g_hidden: Sequence[int],
    d_hidden: Sequence[int],
    g_features: int,
    d_features: int,
    minibatch_kernels: int = 0,
    d_extra_inputs: int = 0,
    d_outputs: int = 1,
    d_norm: Norm = "batch",
    d_leaky_slope: float = 0.2,
) -> tuple[nn.Module, nn.Module]:
    """The unconditional ``(G', D')`` the conditional models wrap: ``mlp`` (GAN's MLPs; ``D'`` takes the flattened
    data plus ``d_extra_inputs`` values), ``conv`` (DCGAN nets, square images; ``D'`` takes ``d_extra_inputs`` more
    channels, normalised by ``d_norm``) or ``infogan`` (InfoGAN's MNIST nets: convolutions plus an FC-1024 layer on
    each side, BatchNorm; no extra inputs or minibatch discrimination; ``d_leaky_slope`` its LeakyReLUs' slope, the
    other nets keep 0.2). ``G'`` takes ``g_input_dim`` inputs; ``D'`` gives ``d_outputs`` logits."""
    if network != "infogan" and d_leaky_slope != 0.2:
        raise LitGansError(f"d_leaky_slope applies to network='infogan' only (the others use 0.2), got {network!r}")
    data_shape = tuple(data_shape)
    if network == "mlp":
        generator = MLPGenerator(g_input_dim, data_shape, g_hidden, tanh_output=len(data_shape) == 3)
        d_shape = (math.prod(data_shape) + d_extra_inputs,) if d_extra_inputs else data_shape
        return generator, MLPDiscriminator(d_shape, d_hidden, minibatch_kernels, outputs=d_outputs)
    if network == "conv":
        if len(data_shape) != 3 or data_shape[1] != data_shape[2]:
            raise LitGansError(f"network='conv' needs square images (C, S, S), got data_shape={data_shape}")
        channels, size, _ = data_shape
        generator = DCGANGenerator(g_input_dim, size, channels, g_features)
        discriminator = DCGANDiscriminator(
            size,
            channels + d_extra_inputs,
            d_features,
            norm=d_norm,
            minibatch_kernels=minibatch_kernels,
            outputs=d_outputs,
        )
        return generator, discriminator
    if network == "infogan":
        square = len(data_shape) == 3 and data_shape[1] == data_shape[2]
        if not square or d_extra_inputs or minibatch_kernels or d_norm != "batch":
            raise LitGansError(
                "network='infogan' takes square images (C, S, S), BatchNorm in D and no extra D inputs or minibatch "
                f"kernels, got data_shape={data_shape}, d_norm={d_norm!r}, d_extra_inputs={d_extra_inputs}, "
                f"minibatch_kernels={minibatch_kernels}"
            )
        channels, size, _ = data_shape
        return (
            InfoGANGenerator(g_input_dim, size, channels, g_features),
            InfoGANDiscriminator(size, channels, d_features, outputs=d_outputs, leaky_slope=d_leaky_slope),
        )
    raise LitGansError(f"network must be 'mlp', 'conv' or 'infogan', got {network!r}")


def check_labels(labels: Tensor, num_classes: int, n: int) -> None:
    if labels.shape != (n,) or labels.dtype != torch.long:
        raise LitGansError(f"expected {n} class labels as a long tensor [N], got {labels.dtype} {tuple(labels.shape)}")
    if labels.numel() and (labels.min() < 0 or labels.max() >= num_classes):
        raise LitGansError(
            f"class labels must lie in 0..{num_classes - 1} (num_classes={num_classes}), got "
            f"{labels.min().item()}..{labels.max().item()}: set the model's num_classes to the data's"
        )


class LabelConditionedGenerator(nn.Module):
    """``(z [N, z_dim], y [N]) -> x``: ``net`` (built for ``z_dim + embed_dim`` inputs) applied to ``[z, e(y)]``."""

    def __init__(self, net: nn.Module, z_dim: int, num_classes: int, embed_dim: int) -> None:
        super().__init__()
        self.z_dim, self.num_classes = z_dim, num_classes
        self.embedding = nn.Embedding(num_classes, embed_dim)
        self.net = net

    def forward(self, z: Tensor, labels: Tensor) -> Tensor:
        check_shape(z, (None, self.z_dim), "conditional generator input z")
        check_labels(labels, self.num_classes, len(z))
        return self.net(torch.cat([z, self.embedding(labels)], dim=1))


class LabelConditionedDiscriminator(nn.Module):
    """``(x [N, *data_shape], y [N]) -> logits``: ``net`` applied to ``x`` joined with ``e(y)``.

    Flat data (``len(data_shape) == 1``) or ``as_channel=False``: ``net`` takes ``[N, prod(data_shape) + E]``
    vectors. Images with ``as_channel``: ``e(y)`` has ``H * W`` entries, reshaped to one more input channel, and
    ``net`` takes ``[N, C + 1, H, W]``. ``features`` / ``head`` split like ``net``'s (for feature matching).
    """

    def __init__(
        self, net: nn.Module, data_shape: Sequence[int], num_classes: int, embed_dim: int, as_channel: bool
    ) -> None:
        super().__init__()
        self.data_shape, self.num_classes, self.as_channel = tuple(data_shape), num_classes, as_channel
        if as_channel and len(self.data_shape) != 3:
            raise LitGansError(f"a label channel needs images (C, H, W), got data_shape={self.data_shape}")
        size = math.prod(self.data_shape[1:]) if as_channel else embed_dim
        self.embedding = nn.Embedding(num_classes, size)
        self.net = net

    def joined(self, x: Tensor, labels: Tensor) -> Tensor:
        check_shape(x, (None, *self.data_shape), "conditional discriminator input x")
        check_labels(labels, self.num_classes, len(x))
        e = self.embedding(labels)
        if self.as_channel:
            return torch.cat([x, e.view(len(x), 1, *self.data_shape[1:])], dim=1)
        return torch.cat([x.flatten(1), e], dim=1)

    def features(self, x: Tensor, labels: Tensor) -> Tensor:
        return self.net.features(self.joined(x, labels))

    def head(self, features: Tensor) -> Tensor:
        return self.net.head(features)

    def forward(self, x: Tensor, labels: Tensor) -> Tensor:
        return self.net(self.joined(x, labels))


class AuxiliaryHeadDiscriminator(nn.Module):
    """``x -> (logits [N], auxiliary [N, A])``: an unconditional D (anything with ``features`` / ``head`` /
    ``feature_dim``) plus a second head on the same features: ACGAN's class logits (Odena 2017), InfoGAN's ``Q``
    (Chen 2016), whose body is D's. ``hidden > 0`` puts one Linear-LeakyReLU(``leaky_slope``) layer of that width in
    the head (InfoGAN's FC-128), with ``hidden_batch_norm`` a BatchNorm1d between the two (the paper's
    FC-128-BN-lReLU)."""

    def __init__(
        self,
        net: nn.Module,
        auxiliary_outputs: int,
        hidden: int = 0,
        hidden_batch_norm: bool = False,
        leaky_slope: float = 0.2,
    ) -> None:
        super().__init__()
        self.net = net
        layers: list[nn.Module] = [nn.Flatten()]
        width = net.feature_dim
        if hidden > 0:
            norm = [nn.BatchNorm1d(hidden)] if hidden_batch_norm else []
            layers += [nn.Linear(width, hidden, bias=not hidden_batch_norm), *norm, nn.LeakyReLU(leaky_slope)]
            width = hidden
        layers.append(nn.Linear(width, auxiliary_outputs))
        self.auxiliary_head = nn.Sequential(*layers)

    def features(self, x: Tensor) -> Tensor:
        return self.net.features(x)

    def head(self, features: Tensor) -> Tensor:
        return self.net.head(features)

    def auxiliary(self, features: Tensor) -> Tensor:
        return self.auxiliary_head(features)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        features = self.features(x)
        return self.head(features), self.auxiliary(features)


class LatentCodeGenerator(nn.Module):
    """InfoGAN's generator input (Chen 2016): ``(z [N, z_dim], c_cat [N] in 0..K-1, c_cont [N, L]) -> x``, ``net``
    applied to ``[z, one_hot(c_cat), c_cont]`` (``z_dim + K + L`` inputs)."""

    def __init__(self, net: nn.Module, z_dim: int, num_categories: int, num_continuous: int) -> None:
        super().__init__()
        self.z_dim, self.num_categories, self.num_continuous = z_dim, num_categories, num_continuous
        self.net = net

    def forward(self, z: Tensor, categorical: Tensor, continuous: Tensor) -> Tensor:
        check_shape(z, (None, self.z_dim), "InfoGAN generator input z")
        check_labels(categorical, self.num_categories, len(z))
        check_shape(continuous, (len(z), self.num_continuous), "InfoGAN generator continuous codes")
        one_hot = nn.functional.one_hot(categorical, self.num_categories).to(z.dtype)
        return self.net(torch.cat([z, one_hot, continuous.to(z.dtype)], dim=1))
