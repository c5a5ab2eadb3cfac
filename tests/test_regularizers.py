"""Weight clipping and the gradient penalties: closed forms on a linear critic, any input shape, D-only gradients."""

import pytest
import torch
from torch import nn
from torch.testing import assert_close

from lit_gans.regularizers import (
    clip_weights_,
    dragan_penalty,
    gradient_penalty,
    per_sample_uniform,
    wgan_div_penalty,
)


def test_clip_weights_bounds_every_parameter_and_keeps_those_inside():
    net = nn.Sequential(nn.Linear(4, 8), nn.Linear(8, 1))
    with torch.no_grad():
        net[0].weight.mul_(10)
    before = [p.clone() for p in net.parameters()]
    clip_weights_(net, 0.05)
    for old, new in zip(before, net.parameters()):
        assert new.abs().max() <= 0.05
        inside = old.abs() <= 0.05
        assert torch.equal(new[inside], old[inside])
        assert torch.equal(new[~inside], 0.05 * old[~inside].sign())


def test_clip_weights_rejects_a_non_positive_bound():
    with pytest.raises(ValueError, match="positive"):
        clip_weights_(nn.Linear(2, 2), 0.0)


class LinearCritic(nn.Module):
    """``D(x) = w . x + b`` over the flattened input: ``grad_x D = w`` everywhere."""

    def __init__(self, shape: tuple[int, ...]) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.randn(*shape))
        self.b = nn.Parameter(torch.randn(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x * self.w).flatten(1).sum(1) + self.b


SHAPES = [(2,), (1, 8, 8), (3, 8, 8)]  # 2D points, grey and RGB images


@pytest.mark.parametrize("shape", SHAPES)
def test_gradient_penalties_of_a_linear_critic_have_the_closed_form(shape):
    critic = LinearCritic(shape)
    real, fake = torch.randn(16, *shape), torch.randn(16, *shape)
    w_norm = critic.w.detach().norm()
    # the gradient is w at every point: (|w| - 1)^2 exactly, whatever the interpolates
    assert_close(gradient_penalty(critic, real, fake), (w_norm - 1) ** 2, rtol=1e-5, atol=1e-6)
    assert_close(dragan_penalty(critic, real), (w_norm - 1) ** 2, rtol=1e-5, atol=1e-6)
    # k E[|grad|^p] at interpolates or over real and fake alike: k |w|^p
    for points in ("interpolates", "real_and_fake"):
        penalty = wgan_div_penalty(critic, real, fake, k=2.0, p=6.0, points=points)
        assert_close(penalty, 2.0 * w_norm**6, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("penalty", ["gp", "dragan", "div", "div-real-and-fake"])
def test_penalties_backpropagate_into_d_only(penalty):
    generator = nn.Linear(4, 12)
    critic = nn.Sequential(nn.Flatten(), nn.Linear(12, 8), nn.Tanh(), nn.Linear(8, 1))
    real, fake = torch.randn(8, 3, 2, 2), generator(torch.randn(8, 4)).view(8, 3, 2, 2)
    value = {
        "gp": lambda: gradient_penalty(critic, real, fake),
        "dragan": lambda: dragan_penalty(critic, real),
        "div": lambda: wgan_div_penalty(critic, real, fake),
        "div-real-and-fake": lambda: wgan_div_penalty(critic, real, fake, points="real_and_fake"),
    }[penalty]()
    value.backward()
    # every weight shapes grad_x D (the last bias does not, so it gets no gradient)
    weights = [p for name, p in critic.named_parameters() if name.endswith("weight")]
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in weights)
    assert all(p.grad is None for p in generator.parameters())


def test_interpolation_weights_are_per_sample_not_per_element():
    x = torch.zeros(5, 3, 4, 4)
    alpha = per_sample_uniform(x)
    assert alpha.shape == (5, 1, 1, 1)
    seen: list[torch.Tensor] = []

    def spy(points: torch.Tensor) -> torch.Tensor:
        seen.append(points.detach())
        return points.flatten(1).sum(1)

    real, fake = torch.zeros(5, 3, 4, 4), torch.ones(5, 3, 4, 4)
    gradient_penalty(spy, real, fake)  # x_hat = alpha x + (1 - alpha) G(z) = 1 - alpha
    wgan_div_penalty(spy, real, fake)  # x' = x + alpha (G(z) - x) = alpha
    assert len(seen) == 2
    for interpolates in seen:  # constant within each sample, different between samples
        per_sample = interpolates.flatten(1)
        assert torch.equal(per_sample, per_sample[:, :1].expand_as(per_sample))
        assert per_sample[:, 0].unique().numel() == 5
        assert 0 < per_sample.min() and per_sample.max() < 1
