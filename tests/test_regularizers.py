import pytest
import torch
from torch import nn

from lit_gans.regularizers import clip_weights_


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
