"""The 1D theory of Goodfellow et al. 2014 ("Generative Adversarial Nets", section 4) on a grid, as pure functions.

For a fixed G the best discriminator is (Proposition 1)

    D*(x) = p_data(x) / (p_data(x) + p_g(x))

and at it the value function is (Theorem 1)

    V(D*, G) = E_pdata[log D*(x)] + E_pg[log(1 - D*(x))] = -log 4 + 2 JSD(p_data || p_g),

minimal (-log 4) exactly when p_g = p_data. Everything here works on a uniform 1D grid ``x [K]`` with spacing ``dx``
and densities sampled on it; integrals are Riemann sums ``sum_k f(x_k) dx`` (exact up to O(dx^2) for smooth
densities that vanish at the grid's ends). Natural logarithms throughout: JSD lies in [0, log 2].

p_g comes from G by the change of variables ``p_g(G(z)) = p_z(z) / |G'(z)|`` where G is monotone on the z range
(``pushforward_density``), or from samples by a Gaussian kernel density estimate (``kde_density``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor


class Pushforward(NamedTuple):
    """What ``pushforward_density`` finds: ``density`` p_g on the x grid ``[K]``; ``monotone``, whether G is
    strictly monotone on the z grid (then ``density`` is exact up to interpolation); ``x = G(z)`` and
    ``slope = G'(z)`` on the z grid ``[M]``."""

    density: Tensor
    monotone: bool
    x: Tensor
    slope: Tensor


def interpolate(x: Tensor, xp: Tensor, fp: Tensor) -> Tensor:
    """Piecewise-linear ``f`` through ``(xp, fp)`` (``xp`` increasing, ``[M]``) at ``x [K]``; 0 outside
    ``[xp[0], xp[-1]]``."""
    index = torch.searchsorted(xp, x).clamp(1, len(xp) - 1)  # xp[index - 1] <= x < xp[index]
    left, right = xp[index - 1], xp[index]
    weight = ((x - left) / (right - left).clamp_min(torch.finfo(xp.dtype).tiny)).clamp(0, 1)
    values = fp[index - 1] + weight * (fp[index] - fp[index - 1])
    return torch.where((x >= xp[0]) & (x <= xp[-1]), values, torch.zeros_like(values))


def generator_slope(G: Callable[[Tensor], Tensor], z_grid: Tensor) -> tuple[Tensor, Tensor]:
    """``(G(z), G'(z))`` on ``z_grid [M]``, G' by autograd; ``G`` maps ``z [M] -> x [M]`` sample by sample. Works
    inside ``torch.inference_mode`` (Lightning's validation), which it leaves for the derivative."""
    with torch.inference_mode(False), torch.enable_grad():
        z = z_grid.detach().clone().requires_grad_(True)
        x = G(z)
        (slope,) = torch.autograd.grad(x.sum(), z)  # dx_i/dz_i: x_i depends on z_i alone
    return x.detach(), slope.detach()


def pushforward_density(
    G: Callable[[Tensor], Tensor], z_grid: Tensor, z_density: Tensor, x_grid: Tensor
) -> Pushforward:
    """p_g on ``x_grid [K]`` for ``x = G(z)``, ``z`` with density ``z_density`` on ``z_grid [M]`` (increasing,
    covering all but a negligible mass of p_z): ``p_g(G(z)) = p_z(z) / |G'(z)|``, interpolated from the points
    ``G(z_grid)`` to ``x_grid``.

    Exact (up to interpolation) when G is strictly monotone on the z grid (``monotone``). Otherwise the same formula
    is summed over the pieces where G is monotone (every ``z`` with ``G(z) = x`` adds ``p_z(z) / |G'(z)|``), which is
    right away from G's turning points but misses the integrable spikes at them (``G' -> 0``): use ``kde_density`` of
    samples then. The x grid must also resolve G's image: a G that maps the z range into a few grid cells (collapse)
    puts its mass between grid points; ``density.sum() * dx`` (1 when resolved) tells.
    """
    x, slope = generator_slope(G, z_grid)
    x, slope = x.to(x_grid.dtype), slope.to(x_grid.dtype)
    values = z_density.to(x_grid.dtype) / slope.abs().clamp_min(torch.finfo(x_grid.dtype).tiny)  # p_z / |G'| [M]
    sign = torch.sign(slope)
    monotone = bool((sign > 0).all() or (sign < 0).all())
    density = torch.zeros_like(x_grid)
    # runs of constant sign of G': G is monotone on each, and its points sorted by x interpolate p_g there
    cuts = [0, *(torch.nonzero(sign[1:] != sign[:-1]).flatten() + 1).tolist(), len(z_grid)]
    for start, stop in zip(cuts[:-1], cuts[1:]):
        if stop - start < 2 or sign[start] == 0:
            continue
        order = torch.argsort(x[start:stop])
        density += interpolate(x_grid, x[start:stop][order], values[start:stop][order])
    return Pushforward(density, monotone, x, slope)


def kde_bandwidth(samples: Tensor, rule: Literal["scott", "silverman"] = "silverman") -> float:
    """Gaussian-kernel bandwidth for 1D ``samples [N]``: Scott's ``sigma N^(-1/5)`` (scipy's ``gaussian_kde``) or
    Silverman's ``0.9 min(sigma, IQR / 1.34) N^(-1/5)`` (Silverman 1986, eq. 3.31: robust to heavy tails)."""
    samples = samples.double().flatten()
    sigma, n = float(samples.std()), len(samples)
    if rule == "scott":
        return sigma * n ** (-1 / 5)
    if rule != "silverman":
        raise ValueError(f"the bandwidth rule must be 'scott' or 'silverman', got {rule!r}")
    quartiles = torch.quantile(samples, torch.tensor([0.25, 0.75], dtype=torch.float64))
    spread = float(quartiles[1] - quartiles[0]) / 1.34
    return 0.9 * (min(sigma, spread) if spread > 0 else sigma) * n ** (-1 / 5)


def kde_density(
    samples: Tensor,
    x_grid: Tensor,
    bandwidth: float | Literal["scott", "silverman"] | None = None,
    min_bandwidth: float = 0.0,
    chunk: int = 256,
) -> Tensor:
    """Gaussian kernel density estimate of 1D ``samples [N]`` (or ``[N, 1]``) on ``x_grid [K]``:
    ``p(x) = 1/N sum_i N(x; s_i, h^2)``, ``h`` a number or a rule of ``kde_bandwidth`` (Silverman's by default),
    at least ``min_bandwidth`` (a grid step: the grid cannot hold a narrower kernel, and identical samples give
    ``h = 0``). Computed ``chunk`` grid points at a time (``N x chunk`` kernel values in memory)."""
    samples = samples.to(x_grid.dtype).flatten()
    if bandwidth is None or isinstance(bandwidth, str):
        bandwidth = kde_bandwidth(samples, bandwidth or "silverman")
    h = max(float(bandwidth), float(min_bandwidth))
    if h <= 0:
        raise ValueError("the KDE bandwidth is 0 (identical samples?): pass min_bandwidth > 0")
    pieces = []
    for start in range(0, len(x_grid), chunk):
        u = (x_grid[start : start + chunk, None] - samples[None, :]) / h  # [chunk, N]
        pieces.append(torch.exp(-0.5 * u**2).mean(dim=1) / (h * math.sqrt(2 * math.pi)))
    return torch.cat(pieces)


def optimal_discriminator(p_data: Tensor, p_g: Tensor, floor: float = 1e-6) -> tuple[Tensor, Tensor]:
    """``(D*, mask)`` on the grid: ``D* = p_data / (p_data + p_g)`` where ``p_data + p_g > floor`` (``mask``), and
    1/2 elsewhere, where both densities are ~0, D* is 0/0 and no sample ever lands."""
    total = p_data + p_g
    mask = total > floor
    d_star = torch.where(mask, p_data / total.clamp_min(floor), torch.full_like(total, 0.5))
    return d_star, mask


def weighted_d_error(D: Tensor, D_star: Tensor, p_data: Tensor, p_g: Tensor, dx: float, mask: Tensor) -> Tensor:
    """``int_mask |D(x) - D*(x)| (p_data(x) + p_g(x)) / 2 dx``: how far D is from D* where the samples D is trained
    on fall (the weights are the mixture density, which integrates to 1, so the error lies in [0, 1])."""
    weight = (p_data + p_g) / 2 * mask
    return ((D - D_star).abs() * weight).sum() * dx


def jensen_shannon(p_data: Tensor, p_g: Tensor, dx: float) -> Tensor:
    """``JSD = 1/2 KL(p_data || m) + 1/2 KL(p_g || m)``, ``m = (p_data + p_g) / 2``, in nats: 0 for equal
    densities, log 2 for disjoint ones (``0 log 0 = 0``)."""
    m = (p_data + p_g) / 2
    # p log(p / m) = xlogy(p, p) - xlogy(p, m): 0 where p = 0, finite where p > 0 (then m > 0)
    kl_data = torch.xlogy(p_data, p_data) - torch.xlogy(p_data, m)
    kl_g = torch.xlogy(p_g, p_g) - torch.xlogy(p_g, m)
    return 0.5 * (kl_data + kl_g).sum() * dx


def value_function(D: Tensor, p_data: Tensor, p_g: Tensor, dx: float, logits: bool = False) -> Tensor:
    """``V(D, G) = E_pdata[log D(x)] + E_pg[log(1 - D(x))] = int p_data log D + p_g log(1 - D) dx`` for ``D`` in
    [0, 1] on the grid (``0 log 0 = 0``: a D of 0 or 1 costs nothing where no sample lands). With ``logits``, ``D``
    holds ``log(D / (1 - D))`` and the logs are ``log D = -softplus(-logit)``, ``log(1 - D) = -softplus(logit)``:
    exact where the probability rounds to 0 or 1 (beyond |logit| ~ 37 in float64), which would give -inf."""
    if logits:
        return (-p_data * F.softplus(-D) - p_g * F.softplus(D)).sum() * dx
    return (torch.xlogy(p_data, D) + torch.xlogy(p_g, 1 - D)).sum() * dx


def optimal_value(jsd: Tensor | float) -> Tensor | float:
    """``V(D*, G) = -log 4 + 2 JSD(p_data || p_g)`` (Theorem 1): the value at the best D, -log 4 at p_g = p_data."""
    return -math.log(4.0) + 2 * jsd
