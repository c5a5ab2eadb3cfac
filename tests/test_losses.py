"""Losses against their closed forms (float64, tolerance 1e-12 unless stated)."""

import math

import pytest
import torch
from torch.testing import assert_close

from lit_gans import losses

TOL = dict(atol=1e-12, rtol=1e-12)


@pytest.fixture
def logits():
    generator = torch.Generator().manual_seed(0)
    return torch.randn(64, generator=generator, dtype=torch.float64) * 3, torch.randn(
        64, generator=generator, dtype=torch.float64
    ) * 3


def test_gan_losses_match_the_log_sigmoid_forms(logits):
    real, fake = logits
    d_real, d_fake = torch.sigmoid(real), torch.sigmoid(fake)
    expected_d = -(torch.log(d_real).mean() + torch.log(1 - d_fake).mean())
    assert_close(losses.minimax_d_loss(real, fake), expected_d, **TOL)
    assert_close(losses.non_saturating_d_loss(real, fake), expected_d, **TOL)
    assert_close(losses.minimax_g_loss(fake), torch.log(1 - d_fake).mean(), **TOL)
    assert_close(losses.non_saturating_g_loss(fake), -torch.log(d_fake).mean(), **TOL)


def test_d_loss_of_an_undecided_discriminator_is_2_log_2():
    zero = torch.zeros(5, dtype=torch.float64)
    assert_close(losses.minimax_d_loss(zero, zero), torch.tensor(2 * math.log(2), dtype=torch.float64), **TOL)


def test_optimal_discriminator_loss_is_2log2_minus_2jsd():
    """Goodfellow 2014, Theorem 1: with D*(x) = p_data / (p_data + p_g), the D loss is 2 log 2 - 2 JSD(p_data, p_g).

    Distributions on three points with probabilities in quarters are written as four equally likely draws."""
    p_data = torch.tensor([0.5, 0.25, 0.25], dtype=torch.float64)
    p_g = torch.tensor([0.25, 0.25, 0.5], dtype=torch.float64)
    optimal_logit = torch.log(p_data / p_g)  # logit of D* = log(p_data / p_g)
    real_draws, fake_draws = torch.tensor([0, 0, 1, 2]), torch.tensor([0, 1, 2, 2])
    loss = losses.minimax_d_loss(optimal_logit[real_draws], optimal_logit[fake_draws])
    m = (p_data + p_g) / 2
    jsd = 0.5 * (p_data * torch.log(p_data / m)).sum() + 0.5 * (p_g * torch.log(p_g / m)).sum()
    assert_close(loss, 2 * math.log(2) - 2 * jsd, **TOL)


def test_gan_losses_stay_finite_where_the_sigmoid_saturates():
    big = torch.tensor([200.0], dtype=torch.float64)
    assert_close(losses.non_saturating_g_loss(-big), big[0], atol=1e-9, rtol=0)
    assert_close(losses.minimax_d_loss(-big, big), 2 * big[0], atol=1e-9, rtol=0)
    assert torch.isfinite(losses.minimax_g_loss(big))


def test_least_squares_losses():
    real, fake = torch.tensor([1.0, 3.0]), torch.tensor([0.0, 2.0])
    # D: 1/2 mean((real - 1)^2) + 1/2 mean(fake^2) = 1/2 * 2 + 1/2 * 2
    assert_close(losses.least_squares_d_loss(real, fake), torch.tensor(2.0))
    # G: 1/2 mean((fake - 1)^2) = 1/2 * (1 + 1) / 2
    assert_close(losses.least_squares_g_loss(fake), torch.tensor(0.5))
    assert_close(losses.least_squares_d_loss(torch.ones(3), torch.zeros(3)), torch.tensor(0.0))


def test_wasserstein_losses(logits):
    real, fake = logits
    assert_close(losses.wasserstein_d_loss(real, fake), fake.mean() - real.mean(), **TOL)
    assert_close(losses.wasserstein_g_loss(fake), -fake.mean(), **TOL)


def test_hinge_losses():
    assert_close(losses.hinge_d_loss(torch.tensor([2.0, 1.0]), torch.tensor([-3.0, -1.0])), torch.tensor(0.0))
    assert_close(losses.hinge_d_loss(torch.zeros(4), torch.zeros(4)), torch.tensor(2.0))
    # relu(1 - 0.5) + relu(1 + 0.5) = 0.5 + 1.5
    assert_close(losses.hinge_d_loss(torch.tensor([0.5]), torch.tensor([0.5])), torch.tensor(2.0))
    assert_close(losses.hinge_g_loss(torch.tensor([1.0, 3.0])), torch.tensor(-2.0))


@pytest.mark.parametrize("shape", [(8,), (8, 1), (4, 1, 5, 5)])
def test_losses_accept_any_shape(shape):
    real, fake = torch.randn(shape), torch.randn(shape)
    for d_loss in (losses.minimax_d_loss, losses.least_squares_d_loss, losses.wasserstein_d_loss, losses.hinge_d_loss):
        assert d_loss(real, fake).shape == ()


def test_discriminator_accuracy():
    real, fake = torch.tensor([1.0, -1.0, 2.0, 3.0]), torch.tensor([-1.0, -2.0, 1.0, -0.5])
    assert_close(losses.discriminator_accuracy(real, fake), torch.tensor(6 / 8))
