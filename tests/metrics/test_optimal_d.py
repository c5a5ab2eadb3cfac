"""The 1D theory of Goodfellow 2014 on a grid against closed forms: D* of two Gaussians, p_g by change of variables
(against the closed form and a histogram of samples), KDE, JSD, and V(D*, G) = -log 4 + 2 JSD."""

from __future__ import annotations

import math

import pytest
import torch
from torch.testing import assert_close

from lit_gans.metrics.optimal_d import (
    interpolate,
    jensen_shannon,
    kde_bandwidth,
    kde_density,
    optimal_discriminator,
    optimal_value,
    pushforward_density,
    value_function,
    weighted_d_error,
)

LOG4 = math.log(4.0)


def normal(x: torch.Tensor, mean: float = 0.0, std: float = 1.0) -> torch.Tensor:
    return torch.exp(-0.5 * ((x - mean) / std) ** 2) / (std * math.sqrt(2 * math.pi))


def grid(low: float = -12.0, high: float = 12.0, num: int = 4_801) -> tuple[torch.Tensor, float]:
    x = torch.linspace(low, high, num, dtype=torch.float64)
    return x, float(x[1] - x[0])


def z_grid() -> tuple[torch.Tensor, torch.Tensor]:
    z = torch.linspace(-6.0, 6.0, 4_001, dtype=torch.float64)
    return z, normal(z)


def histogram_density(samples: torch.Tensor, edges: torch.Tensor) -> torch.Tensor:
    """The share of ``samples`` in each bin over its width (all samples count in the normalisation)."""
    counts = torch.histogram(samples, bins=edges).hist
    return counts / (len(samples) * (edges[1:] - edges[:-1]))


def test_optimal_discriminator_of_two_gaussians_is_logistic():
    # N(m1, s^2) against N(m2, s^2): log p1/p2 = (m1 - m2) x / s^2 + (m2^2 - m1^2) / (2 s^2), so D* is a sigmoid
    x, _ = grid(-6.0, 6.0)
    m1, m2, s = -1.0, 0.5, 1.3
    d_star, mask = optimal_discriminator(normal(x, m1, s), normal(x, m2, s))
    expected = torch.sigmoid((m1 - m2) / s**2 * x + (m2**2 - m1**2) / (2 * s**2))
    assert mask.all()  # both densities > 1e-6 on [-6, 6]
    assert_close(d_star, expected, atol=1e-12, rtol=0)


def test_optimal_discriminator_is_one_half_and_masked_where_both_densities_vanish():
    x, _ = grid(-40.0, 40.0, 801)
    p_data, p_g = normal(x, -1.0), normal(x, 1.0)
    d_star, mask = optimal_discriminator(p_data, p_g)
    far = x.abs() > 10  # both densities < 1e-18 there
    assert not mask[far].any() and mask[x.abs() < 4].all()
    assert_close(d_star[far], torch.full_like(d_star[far], 0.5))


@pytest.mark.parametrize(
    "G, density, name",
    [
        (lambda z: 2 * z - 1, lambda x: normal(x, -1.0, 2.0), "affine: N(-1, 2^2)"),
        (lambda z: -0.5 * z + 3, lambda x: normal(x, 3.0, 0.5), "decreasing affine: N(3, 0.5^2)"),
        # x = 2 tanh(z): p_g(x) = phi(atanh(x / 2)) / (2 (1 - (x / 2)^2)) on (-2, 2)
        (
            lambda z: 2 * torch.tanh(z),
            lambda x: torch.where(
                x.abs() < 1.999, normal(torch.atanh((x / 2).clamp(-0.9995, 0.9995))) / (2 * (1 - (x / 2) ** 2)), 0.0
            ),
            "2 tanh(z)",
        ),
    ],
)
def test_pushforward_density_matches_the_closed_form_and_a_histogram(G, density, name):
    x, dx = grid(-12.0, 12.0, 4_801)  # dx = 0.005
    z, p_z = z_grid()
    found = pushforward_density(G, z, p_z, x)
    assert found.monotone, name
    inside = x.abs() < 1.99 if "tanh" in name else torch.ones_like(x, dtype=torch.bool)
    # linear interpolation between G(z) points (spacing <= 0.006): errors O(h^2 p'') < 1e-4
    assert_close(found.density[inside], density(x)[inside], atol=1e-4, rtol=0, msg=name)
    assert_close(float(found.density.sum()) * dx, 1.0, atol=2e-3, rtol=0, msg=name)  # the mass
    # against 10^6 samples in bins of 0.1: a bin's standard error is sqrt(p / (N w)) <= 0.003, atol is ~4 of them
    samples = G(torch.randn(1_000_000, generator=torch.Generator().manual_seed(0), dtype=torch.float64))
    edges = torch.linspace(-1.9, 1.9, 39, dtype=torch.float64) + (0.0 if "tanh" in name else -1.0)
    centres = (edges[1:] + edges[:-1]) / 2
    at_centres = interpolate(centres, x, found.density)
    assert_close(histogram_density(samples, edges), at_centres, atol=0.012, rtol=0, msg=name)


def test_pushforward_of_a_folded_map_says_not_monotone_and_sums_the_branches():
    # x = z^2 (chi-square, 1 dof): p_g(x) = 2 phi(sqrt x) / (2 sqrt x) = phi(sqrt x) / sqrt x, both branches summed
    x, _ = grid(-1.0, 10.0, 2_201)
    z, p_z = z_grid()
    found = pushforward_density(lambda t: t**2, z, p_z, x)
    assert not found.monotone
    away = (x > 0.5) & (x < 8)  # away from the turning point z = 0, where p_g has its integrable spike
    expected = normal(x[away].sqrt()) / x[away].sqrt()
    assert_close(found.density[away], expected, atol=1e-4, rtol=0)
    assert_close(found.slope, 2 * z, atol=1e-12, rtol=0)  # G' by autograd


def test_pushforward_works_inside_inference_mode():
    x, _ = grid()
    z, p_z = z_grid()
    with torch.inference_mode():
        found = pushforward_density(lambda t: 2 * t - 1, z, p_z, x)
    assert_close(found.density, normal(x, -1.0, 2.0), atol=1e-4, rtol=0)


def test_kde_of_normal_samples_and_its_bandwidth_rules():
    samples = torch.randn(20_000, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    # normal data: Scott's h = sigma N^(-1/5), Silverman's = 0.9 min(sigma, IQR / 1.34) N^(-1/5) with IQR = 1.349
    assert_close(kde_bandwidth(samples, "scott"), 20_000 ** (-0.2), rtol=0.02, atol=0)
    assert_close(kde_bandwidth(samples, "silverman"), 0.9 * 20_000 ** (-0.2), rtol=0.02, atol=0)
    x, dx = grid(-6.0, 6.0, 1_201)
    estimate = kde_density(samples, x)
    # the estimate's error at h = 0.12: bias h^2 p'' / 2 < 0.003, noise sqrt(p / (2 sqrt(pi) N h)) < 0.003
    assert_close(estimate, normal(x), atol=0.012, rtol=0)
    assert_close(float(estimate.sum()) * dx, 1.0, atol=1e-3, rtol=0)
    # identical samples: the bandwidth floor keeps it a density of mass 1 (one grid step wide)
    point = kde_density(torch.zeros(100), x, min_bandwidth=dx)
    assert_close(float(point.sum()) * dx, 1.0, atol=1e-6, rtol=0)
    with pytest.raises(ValueError, match="bandwidth is 0"):
        kde_density(torch.zeros(100), x)


def test_jensen_shannon_closed_cases():
    x, dx = grid()
    p, far = normal(x, -5.0, 0.3), normal(x, 5.0, 0.3)  # supports ~disjoint: overlap mass < 1e-60
    assert_close(jensen_shannon(p, p, dx), torch.tensor(0.0, dtype=torch.float64), atol=1e-12, rtol=0)
    assert_close(jensen_shannon(p, far, dx), torch.tensor(math.log(2), dtype=torch.float64), atol=1e-6, rtol=0)
    # p against the mixture (p + far) / 2: m = 3/4 p + 1/4 far, so KL(p || m) = log(4/3) and
    # KL(q || m) = 1/2 log(2/3) + 1/2 log 2: JSD = (log(4/3) + 1/2 log(2/3) + 1/2 log 2) / 2
    expected = (math.log(4 / 3) + 0.5 * math.log(2 / 3) + 0.5 * math.log(2)) / 2
    assert_close(jensen_shannon(p, (p + far) / 2, dx), torch.tensor(expected, dtype=torch.float64), atol=1e-6, rtol=0)


@pytest.mark.parametrize("shift", [0.0, 0.7, 2.0, 10.0])
def test_value_at_the_optimal_discriminator_is_minus_log4_plus_2_jsd(shift):
    x, dx = grid(-12.0, 22.0, 6_801)
    p_data, p_g = normal(x, -1.0), normal(x, -1.0 + shift, 1.5)
    d_star, mask = optimal_discriminator(p_data, p_g)
    jsd = jensen_shannon(p_data, p_g, dx)
    # Theorem 1, pointwise the same algebra: only the masked points (D* set to 1/2, densities < 1e-6) can differ
    d_star_logit = torch.where(mask, p_data.log() - p_g.log(), 0.0)  # log(D* / (1 - D*)) = log(p_data / p_g)
    assert_close(value_function(d_star_logit, p_data, p_g, dx, logits=True), optimal_value(jsd), atol=1e-6, rtol=0)
    if shift <= 2:  # as probabilities too, while 1 - D* stays representable (at shift 10 D* rounds to 1 where p_g > 0)
        assert_close(value_function(d_star, p_data, p_g, dx), optimal_value(jsd), atol=1e-6, rtol=0)
    assert 0 <= float(jsd) <= math.log(2)
    # any other D does worse (D* maximises the integrand pointwise); D = 1/2 scores -log 4 exactly
    half = torch.full_like(x, 0.5)
    minus_log4 = torch.tensor(-LOG4, dtype=torch.float64)
    assert_close(value_function(half, p_data, p_g, dx), minus_log4, atol=1e-9, rtol=0)
    assert_close(value_function(torch.zeros_like(x), p_data, p_g, dx, logits=True), minus_log4, atol=1e-9, rtol=0)
    assert float(value_function(half, p_data, p_g, dx)) <= float(optimal_value(jsd)) + 1e-9


def test_weighted_error_is_zero_at_d_star_and_one_half_for_a_coin_on_disjoint_densities():
    x, dx = grid()
    p_data, p_g = normal(x, -5.0, 0.3), normal(x, 5.0, 0.3)
    d_star, mask = optimal_discriminator(p_data, p_g)
    zero = torch.tensor(0.0, dtype=torch.float64)
    assert_close(weighted_d_error(d_star, d_star, p_data, p_g, dx, mask), zero, atol=1e-15, rtol=0)
    # D* is 1 under p_data and 0 under p_g: a D of 1/2 is off by 1/2 wherever the mixture has mass
    half = torch.full_like(x, 0.5)
    error = weighted_d_error(half, d_star, p_data, p_g, dx, mask)
    assert_close(error, torch.tensor(0.5, dtype=torch.float64), atol=1e-6, rtol=0)


def test_interpolate_is_linear_inside_and_zero_outside():
    xp = torch.tensor([0.0, 1.0, 3.0], dtype=torch.float64)
    fp = torch.tensor([1.0, 3.0, 7.0], dtype=torch.float64)
    x = torch.tensor([-0.5, 0.0, 0.5, 2.0, 3.0, 3.5], dtype=torch.float64)
    assert_close(interpolate(x, xp, fp), torch.tensor([0.0, 1.0, 2.0, 5.0, 7.0, 0.0], dtype=torch.float64))
