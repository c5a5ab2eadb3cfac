import pytest
import torch
from torch import nn

from lit_gans import LitGansError
from lit_gans.networks import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator, dcgan_layout


@pytest.mark.parametrize(
    "size, layout", [(28, (7, 2)), (32, (4, 3)), (48, (6, 3)), (64, (4, 4)), (128, (4, 5)), (8, (4, 1))]
)
def test_dcgan_layout_writes_the_size_as_start_times_power_of_two(size, layout):
    assert dcgan_layout(size) == layout


@pytest.mark.parametrize("size", [7, 30, 36 * 3, 100])
def test_dcgan_refuses_sizes_it_cannot_build(size):
    with pytest.raises(LitGansError, match=f"cannot build image_size={size}"):
        dcgan_layout(size)


@pytest.mark.parametrize("size, channels", [(28, 1), (32, 3), (64, 3)])
def test_dcgan_networks_shapes_and_paper_guidelines(size, channels):
    G, D = DCGANGenerator(16, size, channels, features=8), DCGANDiscriminator(size, channels, features=8)
    x = G(torch.randn(5, 16))
    assert x.shape == (5, channels, size, size)
    assert x.abs().max() <= 1  # tanh output
    assert D(x).shape == (5,)
    layers = [type(m) for m in G.modules()] + [type(m) for m in D.modules()]
    assert nn.Linear not in layers and nn.MaxPool2d not in layers and nn.AvgPool2d not in layers  # all-convolutional
    assert nn.BatchNorm2d in [type(m) for m in G.modules()] and nn.BatchNorm2d in [type(m) for m in D.modules()]
    first_d = [m for m in D.net if not isinstance(m, nn.LeakyReLU)][:2]
    assert not isinstance(first_d[1], nn.BatchNorm2d)  # no BatchNorm on D's input layer


def test_networks_check_their_input_shapes():
    with pytest.raises(LitGansError, match=r"expected a tensor of shape \(N, 16\), got \(5, 8\)"):
        DCGANGenerator(16, 32, 3, 8)(torch.randn(5, 8))
    with pytest.raises(LitGansError, match=r"\(N, 3, 32, 32\)"):
        DCGANDiscriminator(32, 3, 8)(torch.randn(5, 1, 32, 32))
    with pytest.raises(LitGansError, match=r"\(N, 2\)"):
        MLPDiscriminator((2,))(torch.randn(5, 3))


def test_mlp_networks():
    G = MLPGenerator(10, (1, 28, 28))
    assert [m.out_features for m in G.modules() if isinstance(m, nn.Linear)] == [256, 512, 1024, 784]
    x = G(torch.randn(4, 10))
    assert x.shape == (4, 1, 28, 28) and x.abs().max() <= 1
    D = MLPDiscriminator((1, 28, 28))
    assert [m.out_features for m in D.modules() if isinstance(m, nn.Linear)] == [512, 256, 1]
    assert D(x).shape == (4,)
    toy = MLPGenerator(2, (2,), hidden=(8,), tanh_output=False)
    assert not any(isinstance(m, nn.Tanh) for m in toy.modules())


def test_pacgan_toy_networks_relu_generator_and_maxout_discriminator():
    """PacGAN's 2D networks: G 4 x 400 Linear-BN-ReLU, D 3 x 200 maxout units of 5 pieces on 4 packed points."""
    from lit_gans import GAN
    from lit_gans.layers import Maxout

    model = GAN(
        data_shape=(2,), z_dim=2, g_hidden=(400,) * 4, d_hidden=(200,) * 3, activation="relu", maxout_pieces=5, pack=4
    )
    G, D = model.generator, model.discriminator
    assert [type(m).__name__ for m in G.net[:3]] == ["Linear", "BatchNorm1d", "ReLU"] and len(G.net) == 4 * 3 + 2
    maxouts = [m for m in D.net if isinstance(m, Maxout)]
    assert [(m.linear.in_features, m.out_features, m.pieces) for m in maxouts] == [
        (8, 200, 5),
        (200, 200, 5),
        (200, 200, 5),
    ]
    assert not any(isinstance(m, (nn.LeakyReLU, nn.ReLU)) for m in D.net)  # maxout is the only nonlinearity
    assert D(torch.randn(7, 8)).shape == (7,) and D.features(torch.randn(7, 8)).shape == (7, 200)
    with pytest.raises(LitGansError, match="'relu'"):
        MLPGenerator(2, (2,), (8,), activation="swish")
