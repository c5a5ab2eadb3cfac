"""Optimizers: Adam with eps inside the square root (Salimans et al.'s code) against torch's Adam."""

from __future__ import annotations

import math

import pytest
import torch
from torch.testing import assert_close

from lit_gans.optim import AdamEpsInSqrt


def test_adam_eps_in_sqrt_equals_torch_adam_without_eps():
    torch.manual_seed(0)
    start = torch.randn(5, 3)
    ours, theirs = torch.nn.Parameter(start.clone()), torch.nn.Parameter(start.clone())
    opt_ours = AdamEpsInSqrt([ours], lr=0.01, betas=(0.5, 0.999), eps=0.0)
    opt_theirs = torch.optim.Adam([theirs], lr=0.01, betas=(0.5, 0.999), eps=0.0)
    for _ in range(6):
        grad = torch.randn(5, 3)
        ours.grad, theirs.grad = grad.clone(), grad.clone()
        opt_ours.step()
        opt_theirs.step()
    assert_close(ours.detach(), theirs.detach(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("grad", [1e-4, 1e-6, 1.0])
def test_adam_eps_in_sqrt_first_step_damps_gradients_below_sqrt_eps(grad):
    # first step: m_hat = g, v_hat = g^2, so theta moves by -lr g / sqrt(g^2 + eps) (torch: -lr g / (|g| + eps))
    p = torch.nn.Parameter(torch.zeros(1))
    opt = AdamEpsInSqrt([p], lr=0.003, betas=(0.5, 0.999), eps=1e-8)
    p.grad = torch.tensor([grad])
    opt.step()
    expected = -0.003 * grad / math.sqrt(grad**2 + 1e-8)  # 1e-4: lr / sqrt 2; 1e-6: lr / 100; 1: lr
    assert_close(p.detach(), torch.tensor([expected]), rtol=1e-5, atol=0.0)


def test_adam_eps_in_sqrt_state_round_trips():
    p = torch.nn.Parameter(torch.ones(2))
    opt = AdamEpsInSqrt([p], lr=0.1)
    p.grad = torch.tensor([1.0, -2.0])
    opt.step()
    copy = AdamEpsInSqrt([torch.nn.Parameter(p.detach().clone())], lr=0.1)
    copy.load_state_dict(opt.state_dict())
    assert float(copy.state[copy.param_groups[0]["params"][0]]["step"]) == 1.0
