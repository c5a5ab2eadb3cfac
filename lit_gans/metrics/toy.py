"""Metrics for toy distributions whose truth is known.

Mode collapse on the 2D ring and grid (VEEGAN, Srivastava 2017; PacGAN, Lin 2018): a sample is *high quality* when
it lies within 3 standard deviations of its nearest mode; a mode is *captured* when at least one high-quality sample
is nearest to it; *reverse KL* is ``KL(q || uniform)`` of the histogram ``q`` of high-quality samples over the modes.
A perfect sampler of a 2D isotropic mixture scores ``1 - exp(-9/2) = 98.9%`` high quality.

For the 1D Gaussian: the Wasserstein-1 distance and the Kolmogorov-Smirnov statistic between the samples and the
true distribution.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


def high_quality_per_mode(samples: Tensor, modes: Tensor, std: float) -> Tensor:
    """``samples [N, D]``, ``modes [K, D]`` -> ``[K]``: how many samples lie within ``3 std`` of each mode, each
    counted at its nearest mode (the histogram behind ``mode_collapse_metrics``)."""
    distance, nearest = torch.cdist(samples.double(), modes.double()).min(dim=1)  # [N], [N]
    return torch.bincount(nearest[distance <= 3 * std], minlength=len(modes))


def mode_collapse_metrics(samples: Tensor, modes: Tensor, std: float) -> dict[str, Tensor]:
    """``samples [N, D]``, ``modes [K, D]`` -> ``{"modes": captured count, "high_quality": share in [0, 1],
    "reverse_kl": KL(q || U_K)}`` (``reverse_kl`` is ``log K`` when no sample is high quality)."""
    counts = high_quality_per_mode(samples, modes, std).double()  # [K]
    captured = (counts > 0).sum()
    if counts.sum() == 0:
        reverse_kl = torch.tensor(math.log(len(modes)), dtype=torch.float64)
    else:
        q = counts / counts.sum()
        q = q[q > 0]
        reverse_kl = (q * (q * len(modes)).log()).sum()  # sum_k q_k log(q_k / (1/K))
    return {"modes": captured.double(), "high_quality": counts.sum() / len(samples), "reverse_kl": reverse_kl}


def mixture_cdf_1d(x: Tensor, means: Tensor, std: float) -> Tensor:
    """CDF of the equal-weight mixture of ``N(means_k, std^2)`` at ``x [N]``."""
    z = (x.double()[:, None] - means.double()[None, :]) / (std * math.sqrt(2))
    return (0.5 * (1 + torch.erf(z))).mean(1)


def mixture_quantile_1d(u: Tensor, means: Tensor, std: float, iterations: int = 60) -> Tensor:
    """Inverse of ``mixture_cdf_1d`` at probabilities ``u [N]`` in (0, 1), by bisection."""
    low = torch.full_like(u, float(means.min()) - 12 * std, dtype=torch.float64)
    high = torch.full_like(u, float(means.max()) + 12 * std, dtype=torch.float64)
    for _ in range(iterations):
        middle = (low + high) / 2
        below = mixture_cdf_1d(middle, means, std) < u
        low, high = torch.where(below, middle, low), torch.where(below, high, middle)
    return (low + high) / 2


def distance_to_gaussian_1d(samples: Tensor, means: Tensor, std: float) -> dict[str, Tensor]:
    """``samples [N, 1]`` against the 1D mixture: ``{"wasserstein1": W1, "ks": sup_x |F_N(x) - F(x)|}``.

    ``W1 = int_0^1 |F_N^-1(u) - F^-1(u)| du``, evaluated at the midpoints ``u_i = (i - 1/2) / N`` of the sorted
    samples; the KS statistic compares the true CDF with the empirical one on both sides of each jump.
    """
    x = samples.double().flatten().sort().values
    n = len(x)
    u = (torch.arange(n, dtype=torch.float64) + 0.5) / n
    wasserstein = (x - mixture_quantile_1d(u, means, std)).abs().mean()
    cdf = mixture_cdf_1d(x, means, std)
    steps = torch.arange(n + 1, dtype=torch.float64) / n
    ks = torch.maximum((steps[1:] - cdf).abs().max(), (cdf - steps[:-1]).abs().max())
    return {"wasserstein1": wasserstein, "ks": ks}
