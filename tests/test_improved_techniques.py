"""Salimans et al. 2016's techniques as shared pieces: closed forms and invariants."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn
from torch.testing import assert_close

from lit_gans.ema import ParameterHistory
from lit_gans.errors import LitGansError
from lit_gans.layers import MinibatchDiscrimination, VirtualBatchNorm, forward_with_reference
from lit_gans.losses import feature_matching_loss, non_saturating_d_loss, real_logit_from_class_logits
from lit_gans.regularizers import historical_averaging_penalty

TOL = {"atol": 1e-6, "rtol": 1e-6}


# ---------------------------------------------------------------------------------------------------------------
# one-sided label smoothing
# ---------------------------------------------------------------------------------------------------------------
def test_label_smoothing_changes_only_the_real_targets():
    real = torch.randn(16, dtype=torch.float64, requires_grad=True)
    fake = torch.randn(16, dtype=torch.float64, requires_grad=True)
    plain_real, plain_fake = torch.autograd.grad(non_saturating_d_loss(real, fake), (real, fake))
    smooth_real, smooth_fake = torch.autograd.grad(non_saturating_d_loss(real, fake, real_target=0.9), (real, fake))
    assert_close(smooth_fake, plain_fake, atol=0, rtol=0)  # the fake side is untouched: exactly
    # d/dr of BCE(r, t) per sample is (sigmoid(r) - t) / N: the real targets moved from 1 to 0.9
    assert_close(plain_real, (torch.sigmoid(real) - 1.0) / 16, **TOL)
    assert_close(smooth_real, (torch.sigmoid(real) - 0.9) / 16, **TOL)


def test_label_smoothing_optimum_is_the_smoothed_target():
    # the loss is convex in D(x)'s logit, with zero gradient exactly where sigmoid(D(x)) = t
    logit = torch.tensor([math.log(0.9 / 0.1)], dtype=torch.float64, requires_grad=True)
    loss = non_saturating_d_loss(logit, torch.full((1,), -50.0, dtype=torch.float64), real_target=0.9)
    (gradient,) = torch.autograd.grad(loss, logit)
    assert abs(gradient.item()) < 1e-12


def test_label_smoothing_rejects_targets_outside_0_1():
    with pytest.raises(ValueError, match="real_target"):
        non_saturating_d_loss(torch.zeros(2), torch.zeros(2), real_target=1.5)


# ---------------------------------------------------------------------------------------------------------------
# feature matching, the K-class discriminator's real logit
# ---------------------------------------------------------------------------------------------------------------
def test_feature_matching_is_the_squared_distance_of_batch_means():
    real = torch.tensor([[1.0, 2.0], [3.0, 4.0]])  # mean (2, 3)
    fake = torch.tensor([[0.0, 0.0], [0.0, 2.0], [3.0, 1.0]])  # mean (1, 1)
    assert feature_matching_loss(real, fake).item() == pytest.approx(1.0 + 4.0)
    assert feature_matching_loss(real, real[[1, 0]]).item() == 0.0  # same batch statistics, any order
    # the authors' code's mean over the features (Salimans' train_mnist_feature_matching.py)
    assert feature_matching_loss(real, fake, reduction="mean").item() == pytest.approx((1.0 + 4.0) / 2)


def test_real_logit_of_class_logits_is_log_z():
    logits = torch.randn(5, 10, dtype=torch.float64)
    z = logits.exp().sum(1)
    assert_close(torch.sigmoid(real_logit_from_class_logits(logits)), z / (z + 1), **TOL)


# ---------------------------------------------------------------------------------------------------------------
# minibatch discrimination
# ---------------------------------------------------------------------------------------------------------------
def test_minibatch_discrimination_identical_samples_are_zero_distance():
    torch.manual_seed(0)
    layer = MinibatchDiscrimination(in_features=6, num_kernels=4, kernel_dim=3)
    x = torch.randn(1, 6).expand(5, 6)
    out = layer(x)
    assert out.shape == (5, 6 + 4)
    assert_close(out[:, :6], x, atol=0, rtol=0)
    assert_close(out[:, 6:], torch.full((5, 4), 5.0), **TOL)  # every c_b = exp(0) = 1, summed over 5 samples


def test_minibatch_discrimination_far_apart_samples_see_only_themselves():
    layer = MinibatchDiscrimination(in_features=2, num_kernels=3, kernel_dim=2)
    with torch.no_grad():
        layer.T.fill_(1.0)
    x = torch.tensor([[0.0, 0.0], [100.0, 0.0], [0.0, -200.0]])
    assert_close(layer(x)[:, 2:], torch.ones(3, 3), **TOL)  # exp(-large) = 0 for every j != i


def test_minibatch_discrimination_matches_the_pairwise_formula():
    # o(x_i)_b = sum_j exp(-sum_c |M_ibc - M_jbc|), written out with explicit loops; values and input gradients
    torch.manual_seed(0)
    layer = MinibatchDiscrimination(in_features=5, num_kernels=3, kernel_dim=4).double()
    x = torch.randn(6, 5, dtype=torch.float64, requires_grad=True)
    m = (x @ layer.T).view(6, 3, 4)
    expected = torch.stack(
        [
            torch.stack([sum(torch.exp(-(m[i, b] - m[j, b]).abs().sum()) for j in range(6)) for b in range(3)])
            for i in range(6)
        ]
    )
    weights = torch.randn(6, 3, dtype=torch.float64)
    out = layer(x)[:, 5:]
    assert_close(out, expected, **TOL)
    assert_close(
        torch.autograd.grad((out * weights).sum(), x)[0], torch.autograd.grad((expected * weights).sum(), x)[0], **TOL
    )


def test_minibatch_discrimination_sees_the_batch():
    torch.manual_seed(0)
    layer = MinibatchDiscrimination(in_features=4, num_kernels=2, kernel_dim=2)
    x = torch.randn(3, 4)
    alone = layer(x[:1])[:, 4:]
    together = layer(x)[:1, 4:]
    assert not torch.allclose(alone, together)  # unlike a per-sample layer, the others change sample 0's features


# ---------------------------------------------------------------------------------------------------------------
# virtual batch normalization
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(8, 4), (8, 3, 5, 5)])
def test_virtual_batch_norm_output_does_not_depend_on_the_rest_of_the_batch(shape):
    torch.manual_seed(0)
    net = nn.Sequential(VirtualBatchNorm(shape[1]))
    reference, x, others = torch.randn(shape), torch.randn(shape), torch.randn(shape)
    out = forward_with_reference(net, reference, x)
    mixed = forward_with_reference(net, reference, torch.cat([x[:1], others[1:]]))
    assert_close(mixed[:1], out[:1], atol=1e-6, rtol=0)
    alone = forward_with_reference(net, reference, x[:1])
    assert_close(alone, out[:1], atol=1e-6, rtol=0)


def test_virtual_batch_norm_uses_reference_statistics_closed_form():
    layer = VirtualBatchNorm(1, eps=0.0)
    reference = torch.tensor([[0.0], [2.0], [4.0]])  # mean 2, mean square 20/3
    x = torch.tensor([[8.0]])
    mean = (3 * 2.0 + 8.0) / 4  # 3.5
    variance = (3 * 20.0 / 3 + 64.0) / 4 - mean**2  # 21 - 12.25 = 8.75
    out = forward_with_reference(nn.Sequential(layer), reference, x)
    assert out.item() == pytest.approx((8.0 - mean) / variance**0.5, rel=1e-6)
    # the reference batch itself is normalised by its own statistics: mean 0, variance 1
    layer.capturing = True
    normalised = layer(reference)
    layer.capturing = False
    assert_close(normalised.mean(), torch.tensor(0.0), atol=1e-6, rtol=0)
    assert_close(normalised.pow(2).mean(), torch.tensor(1.0), atol=1e-6, rtol=0)


def test_virtual_batch_norm_without_reference_is_an_error():
    with pytest.raises(LitGansError, match="reference"):
        VirtualBatchNorm(3)(torch.randn(2, 3))


def test_virtual_batch_norm_gradients_reach_through_the_reference_pass():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), VirtualBatchNorm(4))
    forward_with_reference(net, torch.randn(6, 3), torch.randn(2, 3)).sum().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in net.parameters())
    assert net[1].reference is None  # the reference graph is not kept between calls


# ---------------------------------------------------------------------------------------------------------------
# historical averaging
# ---------------------------------------------------------------------------------------------------------------
def test_historical_average_is_the_running_mean_and_its_penalty_is_zero_there():
    net = nn.Linear(2, 1)
    history = ParameterHistory(net)
    snapshots = [[p.detach().clone() for p in net.parameters()]]
    for value in (1.0, -3.0, 5.0):
        with torch.no_grad():
            for p in net.parameters():
                p.add_(value)
        history.update_(net)
        snapshots.append([p.detach().clone() for p in net.parameters()])
    assert history.count.item() == 4
    for i, mean in enumerate(history.means):
        assert_close(mean, torch.stack([s[i] for s in snapshots]).mean(0), **TOL)
    assert historical_averaging_penalty(history.means, history.means).item() == 0.0
    # away from the mean: sum ||theta - mean||^2
    expected = sum(((p - m) ** 2).sum() for p, m in zip(net.parameters(), history.means))
    penalty = historical_averaging_penalty(net.parameters(), history.means)
    assert_close(penalty, expected, **TOL)
    assert penalty.item() > 0
    penalty.backward()
    assert all(p.grad is not None for p in net.parameters())
    assert history.means[0].grad is None and not history.means[0].requires_grad


def test_parameter_history_lives_in_buffers():
    history = ParameterHistory(nn.Linear(2, 1))
    assert list(history.parameters()) == []
    assert set(history.state_dict()) == {"mean_0", "mean_1", "count"}
