import math

import pytest
import torch
from torch.testing import assert_close

from datamodules import Toy
from datamodules.toy import gaussian1d, grid, ring


def test_gaussian1d_is_n_minus1_1():
    x, _ = gaussian1d().sample(200_000, torch.Generator().manual_seed(0))
    # standard errors: 1 / sqrt(n) = 0.0022 for the mean, about 0.0016 for the std
    assert_close(x.mean(), torch.tensor(-1.0), atol=0.01, rtol=0)
    assert_close(x.std(), torch.tensor(1.0), atol=0.01, rtol=0)


def test_gaussian1d_density_integrates_to_one():
    xs = torch.linspace(-12, 10, 20_001)[:, None]
    integral = torch.trapezoid(gaussian1d().log_density(xs).exp(), xs[:, 0])
    assert_close(integral, torch.tensor(1.0), atol=1e-4, rtol=0)


def test_ring_modes_and_samples():
    mixture = ring()
    assert mixture.modes.shape == (8, 2) and mixture.std == 0.01
    assert_close(mixture.modes.norm(dim=1), torch.ones(8))
    assert_close(mixture.modes[2], torch.tensor([0.0, 1.0]), atol=1e-6, rtol=0)
    x, component = mixture.sample(10_000, torch.Generator().manual_seed(0))
    distance = (x - mixture.modes[component]).norm(dim=1)
    assert distance.max() < 6 * 0.01  # chi with 2 dof: P(> 6 std) ~ 1.5e-8
    assert torch.bincount(component, minlength=8).min() > 1_000


def test_grid_modes():
    mixture = grid()
    assert mixture.modes.shape == (25, 2) and mixture.std == 0.05
    assert sorted(set(mixture.modes[:, 0].tolist())) == [-4.0, -2.0, 0.0, 2.0, 4.0]
    assert len({tuple(m) for m in mixture.modes.tolist()}) == 25


@pytest.mark.parametrize("name, dim", [("gaussian1d", 1), ("ring", 2), ("grid", 2)])
def test_toy_datamodule(name, dim):
    data = Toy(name, num_train=64, num_val=16, batch_size=32)
    data.setup()
    assert data.data_shape == (dim,)
    x, component = next(iter(data.train_dataloader()))
    assert x.shape == (32, dim) and component.shape == (32,)
    again = Toy(name, num_train=64, num_val=16)
    again.setup()
    assert torch.equal(data.train_set.tensors[0], again.train_set.tensors[0])


def test_mixture_log_density_at_a_mode():
    mixture = ring()
    expected = -math.log(2 * math.pi * 0.01**2) - math.log(8)  # the other modes add nothing at this precision
    assert_close(mixture.log_density(mixture.modes[:1]), torch.tensor([expected]), atol=1e-5, rtol=0)
