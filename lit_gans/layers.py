"""Small building blocks shared by the networks."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from itertools import islice

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm

from lit_gans.errors import LitGansError


class Reshape(nn.Module):
    """``[N, prod(shape)] -> [N, *shape]``."""

    def __init__(self, shape: Sequence[int]) -> None:
        super().__init__()
        self.shape = tuple(shape)

    def forward(self, x: Tensor) -> Tensor:
        return x.view(x.shape[0], *self.shape)

    def extra_repr(self) -> str:
        return f"shape={self.shape}"


def check_shape(x: Tensor, expected: Sequence[int | None], name: str) -> None:
    """Raise a clear error unless ``x.shape`` matches ``expected`` (``None`` matches any size)."""
    expected = tuple(expected)
    if x.ndim != len(expected) or any(e is not None and e != s for e, s in zip(expected, x.shape)):
        wanted = "(" + ", ".join("N" if e is None else str(e) for e in expected) + ")"
        raise LitGansError(f"{name}: expected a tensor of shape {wanted}, got {tuple(x.shape)}")


def pack_samples(x: Tensor, pack: int) -> Tensor:
    """PacGAN's packing (Lin et al. 2018): ``[B, C, *rest] -> [B / m, m C, *rest]``, each run of ``m = pack``
    consecutive samples joined along the first feature axis (points ``[B, D] -> [B / m, m D]``, images along
    their channels), so that D judges ``m`` samples at once."""
    if len(x) % pack:
        raise LitGansError(
            f"packing {pack} samples per D input needs a batch that is a multiple of {pack}, got {len(x)}: "
            f"set --data.batch_size to a multiple of {pack}"
        )
    return x.reshape(len(x) // pack, pack * x.shape[1], *x.shape[2:])


def packed_shape(data_shape: Sequence[int], pack: int) -> tuple[int, ...]:
    """The shape of one packed D input: ``(m C, *rest)`` for samples of ``(C, *rest)``."""
    return (pack * data_shape[0], *data_shape[1:])


class FeaturesThenHead(nn.Module):
    """A discriminator laid out as ``net = [feature layers..., head layers...]``: ``features(x)`` runs the first
    ``num_feature_layers`` (D's last hidden activations: feature matching's ``f``, the body of extra heads),
    ``head(features)`` the rest, down to ``outputs`` logits a sample (``[N]`` when one, else ``[N, outputs]``).
    Subclasses set ``net``, ``num_feature_layers``, ``outputs`` and ``input_shape`` (one sample's shape)."""

    net: nn.Sequential
    num_feature_layers: int
    outputs: int
    input_shape: tuple[int, ...]

    def features(self, x: Tensor) -> Tensor:
        check_shape(x, (None, *self.input_shape), f"{type(self).__name__} input x")
        # layer by layer: slicing ``net`` would build a new Sequential at every call
        for layer in islice(self.net, self.num_feature_layers):
            x = layer(x)
        return x

    def head(self, features: Tensor) -> Tensor:
        for layer in islice(self.net, self.num_feature_layers, None):
            features = layer(features)
        return features.squeeze(1) if self.outputs == 1 else features

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.features(x))


class Maxout(nn.Module):
    """``[N, in_features] -> [N, out_features]``: maxout units (Goodfellow et al. 2013), each the largest of
    ``pieces`` affine maps of the input, ``h_i(x) = max_j (x W_ij + b_ij)``; the nonlinearity of PacGAN's (and
    the 2014 GAN's) toy discriminators."""

    def __init__(self, in_features: int, out_features: int, pieces: int) -> None:
        super().__init__()
        if pieces < 2:
            raise LitGansError(f"a maxout unit takes the max of at least 2 pieces, got {pieces}")
        self.out_features, self.pieces = out_features, pieces
        self.linear = nn.Linear(in_features, out_features * pieces)

    def forward(self, x: Tensor) -> Tensor:
        return self.linear(x).view(len(x), self.out_features, self.pieces).amax(dim=2)

    def extra_repr(self) -> str:
        return f"pieces={self.pieces}"


class SelfAttention(nn.Module):
    """SAGAN's self-attention block (Zhang 2019): ``y = gamma * o + x`` with ``o = v softmax(q^T k)`` over all
    positions, ``q, k`` 1x1 convolutions to ``C/8`` channels, ``v`` a 1x1 convolution to ``C``, and a learned
    ``gamma`` that starts at 0 (the block starts as the identity). ``[N, C, H, W] -> [N, C, H, W]``."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        inner = max(1, channels // 8)
        self.query = nn.Conv2d(channels, inner, 1)
        self.key = nn.Conv2d(channels, inner, 1)
        self.value = nn.Conv2d(channels, channels, 1)
        self.gamma = nn.Parameter(torch.zeros(()))

    def forward(self, x: Tensor) -> Tensor:
        n, c, h, w = x.shape
        q = self.query(x).flatten(2)  # [N, C/8, HW]
        k = self.key(x).flatten(2)  # [N, C/8, HW]
        v = self.value(x).flatten(2)  # [N, C, HW]
        attention = torch.softmax(q.transpose(1, 2) @ k, dim=-1)  # [N, HW (query), HW (key)]
        o = (v @ attention.transpose(1, 2)).view(n, c, h, w)  # o_i = sum_j attention_ij v_j
        return self.gamma * o + x


SPECTRAL_NORM_LAYERS = (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)


def spectral_norm_(module: nn.Module, n_power_iterations: int = 1) -> nn.Module:
    """Spectral normalization (Miyato 2018) of every linear and convolutional layer in ``module``, in place, with
    torch's parametrization: ``W / sigma(W)``, ``sigma`` estimated by power iteration (``n_power_iterations`` per
    training forward). Returns ``module``."""
    layers = [m for m in module.modules() if isinstance(m, SPECTRAL_NORM_LAYERS)]
    for layer in layers:
        if not parametrize.is_parametrized(layer, "weight"):
            spectral_norm(layer, n_power_iterations=n_power_iterations)
    return module


class MinibatchDiscrimination(nn.Module):
    """Minibatch discrimination (Salimans 2016, s.3.2): ``[N, A] -> [N, A + B]``, the input with ``B`` features
    appended that measure how close each sample is to the rest of its batch. With ``T`` in ``R^{A x B x C}``:
    ``M_i = f(x_i) T`` in ``R^{B x C}``, ``c_b(x_i, x_j) = exp(-||M_{i,b} - M_{j,b}||_1)`` and
    ``o(x_i)_b = sum_j c_b(x_i, x_j)`` over the whole batch (``j = i`` included, as in the paper, so a batch of
    ``n`` identical samples gives ``o = n`` and one of far-apart samples ``o -> 1``). Real and fake batches must be
    passed separately."""

    def __init__(self, in_features: int, num_kernels: int = 50, kernel_dim: int = 5) -> None:
        super().__init__()
        self.in_features, self.num_kernels, self.kernel_dim = in_features, num_kernels, kernel_dim
        self.T = nn.Parameter(torch.randn(in_features, num_kernels * kernel_dim) / in_features**0.5)

    def forward(self, x: Tensor) -> Tensor:
        check_shape(x, (None, self.in_features), "MinibatchDiscrimination input")
        m = (x @ self.T).view(-1, self.num_kernels, self.kernel_dim).transpose(0, 1).contiguous()  # M: [B, N, C]
        # ||M_i,b - M_j,b||_1: [B, N, N]; cdist never builds the [N, N, B, C] differences (5x faster at N = 256)
        l1 = torch.cdist(m, m, p=1)
        o = torch.exp(-l1).sum(2)  # [B, N]
        return torch.cat([x, o.t()], dim=1)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, num_kernels={self.num_kernels}, kernel_dim={self.kernel_dim}"


class VirtualBatchNorm(nn.Module):
    """Virtual batch normalization (Salimans 2016, s.3.5): each sample ``x_i`` is normalised with the statistics of
    a fixed reference batch together with itself, ``mu_i = (n mu_ref + mean(x_i)) / (n + 1)`` (likewise for the
    mean square; per feature for ``[N, C]``, per channel over positions for ``[N, C, H, W]``), then scaled by
    ``gamma`` and shifted by ``beta``. A sample's output therefore does not depend on the other samples of its batch.

    The reference statistics are taken, on the current weights, by a forward pass of the reference batch inside
    ``reference_pass(net)``; the network that holds the layer runs that pass first (``forward_with_reference``).
    """

    def __init__(self, num_features: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.num_features, self.eps = num_features, eps
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.capturing = False
        self.reference: tuple[Tensor, Tensor, int] | None = None  # (mean [C], mean square [C], n) of the reference

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim < 2 or x.shape[1] != self.num_features:
            raise LitGansError(f"VirtualBatchNorm({self.num_features}): got input of shape {tuple(x.shape)}")
        position_dims = tuple(range(2, x.ndim))
        own_mean = x.mean(position_dims) if position_dims else x  # [N, C]
        own_square = (x * x).mean(position_dims) if position_dims else x * x
        if self.capturing:  # the reference batch: normalised by its own statistics, which are kept
            mean, square = own_mean.mean(0, keepdim=True), own_square.mean(0, keepdim=True)
            self.reference = (mean[0], square[0], x.shape[0])
        elif self.reference is None:
            raise LitGansError(
                "VirtualBatchNorm has no reference statistics: run the net through forward_with_reference"
            )
        else:
            ref_mean, ref_square, n = self.reference
            mean, square = (n * ref_mean + own_mean) / (n + 1), (n * ref_square + own_square) / (n + 1)  # [N, C]
        variance = (square - mean * mean).clamp_min(0.0)
        shape = (mean.shape[0], self.num_features) + (1,) * len(position_dims)
        normalised = (x - mean.view(shape)) / torch.sqrt(variance.view(shape) + self.eps)
        affine_shape = (1, self.num_features) + (1,) * len(position_dims)
        return normalised * self.weight.view(affine_shape) + self.bias.view(affine_shape)

    def extra_repr(self) -> str:
        return f"{self.num_features}, eps={self.eps}"


class ReferenceBatch(nn.Module):
    """The fixed reference batch of virtual batch normalization (Salimans 2016, s.3.5): ``size`` latent vectors
    drawn once from ``N(0, I)`` with their own seed and kept as a buffer (saved with the weights)."""

    def __init__(self, z_dim: int, size: int = 64, seed: int = 1234) -> None:
        super().__init__()
        self.register_buffer("latent", torch.randn(size, z_dim, generator=torch.Generator().manual_seed(seed)))


@contextmanager
def flag_layers(layers: Sequence[nn.Module], flag: str) -> Iterator[None]:
    """Set the boolean attribute ``flag`` on ``layers`` for the duration of one pass, then clear it (also on error)."""
    for layer in layers:
        setattr(layer, flag, True)
    try:
        yield
    finally:
        for layer in layers:
            setattr(layer, flag, False)


def forward_with_reference(net: nn.Module, reference: Tensor, x: Tensor) -> Tensor:
    """``net(x)`` with every ``VirtualBatchNorm`` in ``net`` normalising by ``reference``'s statistics (taken now,
    on the current weights, so gradients flow through them as in Salimans 2016) combined with each sample's own."""
    layers = [m for m in net.modules() if isinstance(m, VirtualBatchNorm)]
    with flag_layers(layers, "capturing"):
        net(reference)
    try:
        return net(x)
    finally:
        for layer in layers:
            layer.reference = None  # do not keep the reference graph alive between calls


class GaussianNoise(nn.Module):
    """``x + N(0, sigma^2)`` elementwise in training mode, the identity in eval mode (Salimans 2016's MNIST
    discriminator puts it on its input and after every hidden layer; the authors' ``GaussianNoiseLayer``)."""

    def __init__(self, sigma: float) -> None:
        super().__init__()
        if sigma < 0:
            raise LitGansError(f"GaussianNoise's sigma must be >= 0, got {sigma}")
        self.sigma = sigma

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.sigma == 0:
            return x
        return x + self.sigma * torch.randn_like(x)

    def extra_repr(self) -> str:
        return f"sigma={self.sigma}"


class WeightNormLinear(nn.Module):
    """A weight-normalised linear layer (Salimans & Kingma 2016), ``[N, in] -> [N, out]``:
    ``y = x W^T + b`` with row ``W_j = g_j theta_j / ||theta_j||``, ``theta ~ N(0, init_std^2)``, ``g = 1`` and
    ``b = 0`` to start. The scale ``g`` is trained only when ``train_scale`` (then a parameter, else a buffer: the
    authors' MNIST ``DenseLayer`` trains it on the output layer only); ``theta`` and ``b`` are always trained.

    Data-dependent initialisation (``data_dependent_init_``) sets ``g`` and ``b`` so that each unit's
    pre-activation has mean 0 and standard deviation 1 on a batch; ``initialized`` (a buffer, saved in checkpoints)
    records that it ran, so a resumed run does not redo it."""

    def __init__(self, in_features: int, out_features: int, train_scale: bool = False, init_std: float = 0.1) -> None:
        super().__init__()
        self.in_features, self.out_features, self.train_scale = in_features, out_features, train_scale
        self.direction = nn.Parameter(torch.randn(out_features, in_features) * init_std)  # theta
        scale = torch.ones(out_features)
        if train_scale:
            self.scale = nn.Parameter(scale)
        else:
            self.register_buffer("scale", scale)
        self.bias = nn.Parameter(torch.zeros(out_features))
        self.register_buffer("initialized", torch.tensor(False))
        self.initializing = False  # set by data_dependent_init_ for one forward

    @property
    def weight(self) -> Tensor:
        """``W = g theta / ||theta||`` row by row, ``[out, in]``."""
        return self.direction * (self.scale / self.direction.norm(dim=1)).unsqueeze(1)

    def forward(self, x: Tensor) -> Tensor:
        check_shape(x, (None, self.in_features), "WeightNormLinear input")
        if self.initializing:
            return self._initialize(x)
        return F.linear(x, self.weight, self.bias)

    @torch.no_grad()
    def _initialize(self, x: Tensor) -> Tensor:
        # t = x W^T on the batch; g <- g / std(t), b <- -mean(t) / std(t): the new pre-activation (t - mean) / std.
        # Under DDP the statistics are those of every rank's batch together (all-reduced), so all ranks agree.
        t = F.linear(x, self.weight)  # [N, out]
        mean = _mean_over_ranks(t.mean(0))
        std = _mean_over_ranks((t - mean).pow(2).mean(0)).sqrt()
        self.scale.div_(std)
        self.bias.copy_(-mean / std)
        self.initialized.fill_(True)
        return (t - mean) / std

    def extra_repr(self) -> str:
        return f"{self.in_features}, {self.out_features}, train_scale={self.train_scale}"


def _mean_over_ranks(value: Tensor) -> Tensor:
    """The mean of ``value`` over the DDP ranks (``value`` itself outside DDP)."""
    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        value = value.clone()
        dist.all_reduce(value)
        value /= dist.get_world_size()
    return value


@torch.no_grad()
def data_dependent_init_(net: nn.Module, x: Tensor) -> Tensor:
    """Data-dependent initialisation of every ``WeightNormLinear`` in ``net`` (Salimans & Kingma 2016, s.3): one
    forward pass of the batch ``x`` in which each such layer, in the order the pass reaches it, sets its ``g`` and
    ``b`` so that its pre-activations have mean 0 and std 1 on the batch (what it sees is the output of the layers
    before it, already initialised). Noise layers act as ``net``'s mode says. Under DDP every rank must call it at
    once (the statistics are all-reduced). Returns ``net(x)`` with the new weights."""
    with flag_layers([m for m in net.modules() if isinstance(m, WeightNormLinear)], "initializing"):
        return net(x)


class EqualizedLinear(nn.Module):
    """ProGAN's equalized learning rate (Karras 2018, s.4.1) for a dense layer: ``w ~ N(0, 1)`` stored, scaled at
    run time by ``c = gain / sqrt(fan_in)`` (He's constant), so Adam's scale-invariant steps move every layer at the
    same relative speed. Bias initialised to 0."""

    def __init__(self, in_features: int, out_features: int, gain: float = 2**0.5) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features))
        self.bias = nn.Parameter(torch.zeros(out_features))
        self.scale = gain / in_features**0.5

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight * self.scale, self.bias)

    def extra_repr(self) -> str:
        return f"{self.weight.shape[1]}, {self.weight.shape[0]}, scale={self.scale:.4g}"


class EqualizedConv2d(nn.Module):
    """A ``kernel x kernel`` convolution (stride 1, 'same' padding) with the equalized learning rate of
    ``EqualizedLinear``: ``fan_in = in_channels * kernel^2``."""

    def __init__(self, in_channels: int, out_channels: int, kernel: int, gain: float = 2**0.5) -> None:
        super().__init__()
        if kernel % 2 != 1:
            raise LitGansError(f"EqualizedConv2d needs an odd kernel ('same' padding), got {kernel}")
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel, kernel))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.scale = gain / (in_channels * kernel * kernel) ** 0.5
        self.padding = kernel // 2

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(x, self.weight * self.scale, self.bias, padding=self.padding)

    def extra_repr(self) -> str:
        out_channels, in_channels, kernel, _ = self.weight.shape
        return f"{in_channels}, {out_channels}, kernel={kernel}, scale={self.scale:.4g}"


class PixelNorm(nn.Module):
    """ProGAN's pixelwise feature vector normalization (s.4.2): ``b = a / sqrt(mean_j a_j^2 + eps)`` over the
    channels ``j`` at every pixel (``[N, C, H, W]``) or over the features of a vector (``[N, C]``)."""

    def __init__(self, eps: float = 1e-8) -> None:
        super().__init__()
        self.eps = eps

    def forward(self, x: Tensor) -> Tensor:
        return x * torch.rsqrt(x.square().mean(dim=1, keepdim=True) + self.eps)


class MinibatchStdDev(nn.Module):
    """ProGAN's minibatch standard deviation (s.3; the official code's group form): split the batch into groups
    of ``group_size``, take each feature's standard deviation over a group, average it over features and pixels,
    and append that one number per group as a constant extra channel: ``[N, C, H, W] -> [N, C + 1, H, W]``. A batch
    not divisible by ``group_size`` uses the largest group size that divides it."""

    def __init__(self, group_size: int = 4, eps: float = 1e-8) -> None:
        super().__init__()
        self.group_size, self.eps = group_size, eps

    def forward(self, x: Tensor) -> Tensor:
        n, c, h, w = x.shape
        group = min(self.group_size, n)
        while n % group:
            group -= 1
        y = x.view(group, n // group, c, h, w)  # [G, M, C, H, W]: sample i is in group i % M
        std = (y.var(dim=0, unbiased=False) + self.eps).sqrt()  # [M, C, H, W]
        std = std.mean(dim=(1, 2, 3)).view(1, n // group, 1, 1, 1)  # [1, M, 1, 1, 1]
        return torch.cat([x, std.expand(group, -1, 1, h, w).reshape(n, 1, h, w)], dim=1)

    def extra_repr(self) -> str:
        return f"group_size={self.group_size}"
