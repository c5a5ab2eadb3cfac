"""FID, IS and KID against closed forms, and against torchmetrics' implementations on the same features."""

from __future__ import annotations

import math

import pytest
import torch
from torch.testing import assert_close

from lit_gans.metrics import (
    frechet_distance,
    gaussian_statistics,
    inception_score,
    kernel_inception_distance,
    polynomial_mmd2,
)


def test_frechet_distance_of_diagonal_gaussians_has_the_closed_form():
    # diagonal covariances: |mu1 - mu2|^2 + sum_i (sqrt(s1_i) - sqrt(s2_i))^2
    mu1, mu2 = torch.tensor([0.0, 1.0, 2.0]), torch.tensor([1.0, 1.0, -1.0])
    s1, s2 = torch.tensor([1.0, 4.0, 9.0]), torch.tensor([4.0, 1.0, 9.0])
    expected = (mu1 - mu2).square().sum() + (s1.sqrt() - s2.sqrt()).square().sum()
    got = frechet_distance(mu1, torch.diag(s1), mu2, torch.diag(s2))
    assert_close(got, expected.double(), rtol=1e-10, atol=1e-10)


def test_frechet_distance_is_zero_for_identical_and_symmetric_for_full_covariances():
    a = torch.randn(500, 6, dtype=torch.float64)
    b = torch.randn(500, 6, dtype=torch.float64) @ torch.randn(6, 6, dtype=torch.float64) + 0.5
    stats_a, stats_b = gaussian_statistics(a), gaussian_statistics(b)
    assert_close(frechet_distance(*stats_a, *stats_a), torch.tensor(0.0, dtype=torch.float64), atol=1e-8, rtol=0)
    assert_close(frechet_distance(*stats_a, *stats_b), frechet_distance(*stats_b, *stats_a), rtol=1e-9, atol=1e-9)


def test_fid_matches_torchmetrics_on_the_same_features():
    from torchmetrics.image.fid import _compute_fid

    real, fake = torch.randn(400, 16), torch.randn(300, 16) * 1.3 + 0.2
    mu_r, sigma_r = gaussian_statistics(real)
    mu_f, sigma_f = gaussian_statistics(fake)
    assert_close(
        frechet_distance(mu_r, sigma_r, mu_f, sigma_f), _compute_fid(mu_r, sigma_r, mu_f, sigma_f), rtol=1e-6, atol=1e-6
    )


def test_inception_score_of_uniform_and_of_confident_balanced_predictions():
    k = 10
    uniform = torch.zeros(100, k)  # p(y|x) = p(y): KL 0, IS 1
    assert_close(inception_score(uniform, splits=2)[0], torch.tensor(1.0, dtype=torch.float64))
    confident = torch.full((100, k), -1e4)
    confident[torch.arange(100), torch.arange(100) % k] = 0.0  # one-hot, each class equally often: IS = K
    mean, std = inception_score(confident, splits=5)
    assert_close(mean, torch.tensor(float(k), dtype=torch.float64), rtol=1e-6, atol=1e-6)
    assert_close(std, torch.tensor(0.0, dtype=torch.float64), atol=1e-6, rtol=0)
    collapsed = torch.full((100, k), -1e4)
    collapsed[:, 3] = 0.0  # confident but always the same class: IS 1
    assert_close(inception_score(collapsed, splits=5)[0], torch.tensor(1.0, dtype=torch.float64), atol=1e-6, rtol=0)


def test_inception_score_matches_torchmetrics():
    from torchmetrics.image.inception import InceptionScore

    class Identity(torch.nn.Module):
        def forward(self, x):
            return x

    logits = torch.randn(200, 7) * 3
    # torchmetrics shuffles before splitting; with one split the order does not matter
    metric = InceptionScore(feature=Identity(), splits=1)
    metric.update(logits)
    expected = metric.compute()[0]
    assert_close(inception_score(logits, splits=1)[0].float(), expected.float(), rtol=1e-5, atol=1e-5)


def test_polynomial_mmd_matches_torchmetrics_and_kid_is_near_zero_for_one_distribution():
    from torchmetrics.image.kid import poly_mmd

    # torchmetrics' poly_mmd assumes equal set sizes
    x, y = torch.randn(64, 8, dtype=torch.float64), torch.randn(64, 8, dtype=torch.float64) + 0.3
    expected = poly_mmd(x, y, degree=3, gamma=1 / 8, coef=1.0)
    assert_close(polynomial_mmd2(x, y), expected, rtol=1e-9, atol=1e-9)

    same = torch.randn(2000, 8)
    mean, std = kernel_inception_distance(same[:1000], same[1000:], subsets=20, subset_size=500)
    assert abs(mean.item()) < 4 * std.item() + 1e-3  # unbiased: zero within its spread
    shifted, _ = kernel_inception_distance(same[:1000], same[1000:] + 1.0, subsets=20, subset_size=500)
    assert shifted.item() > 10 * (abs(mean.item()) + std.item())


def test_kid_caps_the_subset_size_and_refuses_tiny_sets():
    mean, _ = kernel_inception_distance(torch.randn(30, 4), torch.randn(20, 4), subsets=3, subset_size=1000)
    assert math.isfinite(mean.item())
    with pytest.raises(ValueError, match="at least 2"):
        kernel_inception_distance(torch.randn(1, 4), torch.randn(20, 4))
