"""Layers: self-attention starts as the identity and is equivariant to permuting positions; spectral norm gives a
top singular value of 1; Gaussian noise acts in training only, with its std; weight norm gives rows of norm g and
its data-dependent initialisation unit pre-activations."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.testing import assert_close

from lit_gans.errors import LitGansError
from lit_gans.layers import GaussianNoise, Maxout, SelfAttention, WeightNormLinear, data_dependent_init_, spectral_norm_


def test_self_attention_with_gamma_zero_is_the_identity():
    block = SelfAttention(16)
    x = torch.randn(2, 16, 5, 7)
    assert block.gamma.item() == 0.0
    assert torch.equal(block(x), x)
    assert block.query.out_channels == block.key.out_channels == 2  # C/8


def test_self_attention_mixes_positions_and_is_permutation_equivariant():
    block = SelfAttention(8)
    with torch.no_grad():
        block.gamma.fill_(0.7)
    x = torch.randn(2, 8, 4, 4)
    y = block(x)
    assert y.shape == x.shape and not torch.allclose(y, x)
    # attention over positions: permuting the 16 positions of the input permutes the output the same way
    order = torch.randperm(16)
    permuted = x.flatten(2)[:, :, order].view_as(x)
    assert_close(block(permuted).flatten(2), y.flatten(2)[:, :, order], rtol=1e-5, atol=1e-5)
    # a change at one position reaches every other position
    changed = x.clone()
    changed[:, :, 0, 0] += 5.0
    assert (block(changed) - y)[:, :, 3, 3].abs().sum() > 0


@pytest.mark.parametrize("kind", ["linear", "conv", "transposed"])
def test_spectral_norm_top_singular_value_is_one_after_power_iterations(kind):
    layer = {"linear": nn.Linear(20, 30), "conv": nn.Conv2d(3, 8, 4), "transposed": nn.ConvTranspose2d(8, 4, 4)}[kind]
    with torch.no_grad():
        layer.weight.mul_(7.0)
    net = spectral_norm_(nn.Sequential(layer))
    x = torch.randn(4, 20) if kind == "linear" else torch.randn(4, layer.in_channels, 8, 8)
    for _ in range(300):  # one power iteration per training forward; convergence depends on the spectral gap
        net(x)
    weight = net[0].weight  # W / sigma(W), as the forward uses it
    matrix = (weight.transpose(0, 1) if kind == "transposed" else weight).flatten(1)
    # over 200 seeds x these 3 layers the worst deviation was 6.7e-4; the test is seeded (conftest)
    assert_close(torch.linalg.matrix_norm(matrix, ord=2), torch.tensor(1.0), atol=2e-3, rtol=0)


def test_spectral_norm_reaches_nested_layers_once():
    net = nn.Sequential(nn.Sequential(nn.Linear(4, 4), nn.ReLU()), nn.Linear(4, 1))
    spectral_norm_(net)
    spectral_norm_(net)  # idempotent
    from torch.nn.utils import parametrize

    assert parametrize.is_parametrized(net[0][0], "weight") and parametrize.is_parametrized(net[1], "weight")
    assert len(net[1].parametrizations.weight) == 1


def test_gaussian_noise_is_the_identity_in_eval_and_adds_sigma_in_training():
    noise = GaussianNoise(0.5)
    x = torch.randn(400, 500)
    assert torch.equal(noise.eval()(x), x)
    added = noise.train()(x) - x
    # 200,000 draws: the std's standard error is 0.5 / sqrt(400,000) = 8e-4, the mean's 1.1e-3; 5 of them allowed
    assert_close(added.std(), torch.tensor(0.5), atol=4e-3, rtol=0)
    assert_close(added.mean(), torch.tensor(0.0), atol=6e-3, rtol=0)
    assert torch.equal(GaussianNoise(0.0).train()(x), x)


@pytest.mark.parametrize("train_scale", [False, True])
def test_weight_norm_linear_rows_have_norm_g_and_g_trains_only_when_asked(train_scale):
    layer = WeightNormLinear(6, 4, train_scale=train_scale)
    with torch.no_grad():
        layer.scale.copy_(torch.tensor([0.5, 1.0, 2.0, 3.0]))
    assert_close(layer.weight.norm(dim=1), torch.tensor([0.5, 1.0, 2.0, 3.0]))
    x = torch.randn(3, 6)
    assert_close(layer(x), x @ layer.weight.T + layer.bias)
    names = {name for name, _ in layer.named_parameters()}
    assert names == ({"direction", "bias", "scale"} if train_scale else {"direction", "bias"})
    assert {"direction", "bias", "scale", "initialized"} <= set(layer.state_dict())  # g saved either way
    # theta's scale does not matter: W depends on its direction only
    with torch.no_grad():
        before = layer.weight.clone()
        layer.direction.mul_(7.0)
    assert_close(layer.weight, before)


def test_data_dependent_init_gives_each_layer_unit_pre_activations_on_the_batch():
    torch.manual_seed(0)
    first, second = WeightNormLinear(10, 8), WeightNormLinear(8, 5, train_scale=True)
    net = nn.Sequential(first, nn.ReLU(), second)
    x = torch.randn(64, 10) * 3 + 2
    out = data_dependent_init_(net, x)
    assert bool(first.initialized) and bool(second.initialized)
    with torch.no_grad():
        pre_first = first(x)  # the new weights, in the ordinary forward
        pre_second = second(torch.relu(pre_first))
    for pre in (pre_first, pre_second):  # population std (the batch's), as the authors' init
        assert_close(pre.mean(0), torch.zeros(pre.shape[1]), atol=1e-5, rtol=0)
        assert_close(pre.std(0, unbiased=False), torch.ones(pre.shape[1]), atol=1e-5, rtol=0)
    assert_close(out, pre_second, atol=1e-5, rtol=1e-5)  # the init pass returns what the net now computes
    assert not first.initializing and not second.initializing


def test_maxout_is_the_largest_of_its_pieces_affine_maps():
    layer = Maxout(3, 4, pieces=5)
    x = torch.randn(6, 3)
    pieces = torch.stack(
        [x @ layer.linear.weight[u * 5 + j] + layer.linear.bias[u * 5 + j] for u in range(4) for j in range(5)], dim=1
    ).view(6, 4, 5)  # unit u's pieces are rows u*5 ... u*5+4 of the one linear map
    assert_close(layer(x), pieces.max(dim=2).values)
    with pytest.raises(LitGansError, match="at least 2 pieces"):
        Maxout(3, 4, pieces=1)
