"""The objective family's invariants: WGAN's clipped critic and RMSprop, critics without BatchNorm for the
per-sample penalties, spectral norm where the papers put it, self-attention in SAGAN, the paper defaults."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize
from torch.testing import assert_close

from datamodules import Shapes
from lit_gans import DRAGAN, LSGAN, SAGAN, SNGAN, WGAN, WGANGP, WGANDiv
from lit_gans.layers import SelfAttention
from tests.helpers import tiny_trainer

TINY_IMAGES = dict(data_shape=(1, 28, 28), z_dim=8, g_features=4, d_features=4)


def tiny_shapes() -> Shapes:
    return Shapes(image_size=28, channels=1, num_train=64, num_val=16, batch_size=16)


def test_wgan_clips_every_critic_weight_and_uses_rmsprop(tmp_path):
    model = WGAN(**TINY_IMAGES, clip_value=0.02)
    trainer = tiny_trainer(tmp_path, max_steps=3, limit_val_batches=0)
    trainer.fit(model, tiny_shapes())
    bound = max(p.abs().max() for p in model.discriminator.parameters())
    assert bound <= 0.02
    assert_close(bound, torch.tensor(0.02))  # DCGAN's N(0, 0.02) init exceeds it somewhere: the clip is active
    assert all(isinstance(opt, torch.optim.RMSprop) for opt in trainer.optimizers)
    assert (model.d_steps, model.g_steps) == (3, 0)  # n_critic 5


@pytest.mark.parametrize("cls", [WGANGP, WGANDiv, DRAGAN])
def test_penalised_critics_have_no_batchnorm_and_score_each_sample_alone(cls):
    critic = cls(**TINY_IMAGES).discriminator.eval()
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in critic.modules())
    critic.train()  # even in train mode a sample's score does not depend on its batch
    x = torch.rand(6, 1, 28, 28) * 2 - 1
    assert_close(critic(x)[:2], critic(x[:2]), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("cls, g_normalised", [(SNGAN, False), (SAGAN, True)])
@pytest.mark.parametrize("data_shape", [(1, 28, 28), (2,)])
def test_spectral_norm_covers_every_layer_of_the_papers_nets(cls, g_normalised, data_shape):
    model = cls(data_shape=data_shape, z_dim=8, g_features=4, d_features=4, g_hidden=(16,), d_hidden=(16,))

    def layers(net):
        return [m for m in net.modules() if isinstance(m, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d))]

    d_layers, g_layers = layers(model.discriminator), layers(model.generator)  # attention's 1x1 convs included
    assert d_layers and all(parametrize.is_parametrized(m, "weight") for m in d_layers)
    assert g_layers and all(parametrize.is_parametrized(m, "weight") == g_normalised for m in g_layers)


def test_sagan_has_self_attention_in_both_nets_starting_as_identity():
    model = SAGAN(**TINY_IMAGES)
    for net in (model.generator, model.discriminator):
        blocks = [m for m in net.modules() if isinstance(m, SelfAttention)]
        assert len(blocks) == 1 and blocks[0].gamma.item() == 0.0


@pytest.mark.parametrize(
    "cls, lr_g, lr_d, betas, n_critic",
    [
        (WGAN, 5e-5, 5e-5, None, 5),
        (WGANGP, 1e-4, 1e-4, (0.0, 0.9), 5),
        (WGANDiv, 2e-4, 2e-4, (0.0, 0.9), 5),  # the authors' code (the paper's text: (0.5, 0.999))
        (DRAGAN, 1e-4, 1e-4, (0.5, 0.9), 1),
        (LSGAN, 2e-4, 2e-4, (0.5, 0.999), 1),
        (SNGAN, 2e-4, 2e-4, (0.0, 0.9), 5),
        (SAGAN, 1e-4, 4e-4, (0.0, 0.9), 1),
    ],
)
def test_paper_defaults(cls, lr_g, lr_d, betas, n_critic):
    model = cls()
    assert (model.lr_g, model.lr_d, model.n_critic) == (lr_g, lr_d, n_critic)
    if betas is not None:
        assert model.betas_g == model.betas_d == betas


def test_the_toy_nets_are_mlps_with_an_unbounded_output():
    model = WGANGP(data_shape=(2,), z_dim=4, g_hidden=(16,), d_hidden=(16,))
    assert not any(isinstance(m, (nn.Tanh, nn.Conv2d)) for m in model.generator.modules())
    with torch.no_grad():
        list(model.generator.modules())[-2].bias.fill_(5.0)  # the output layer (before Reshape)
    assert model.sample(5).abs().min() > 1  # points outside [-1, 1] are reachable


def test_wgan_critic_warmup_follows_the_authors_schedule():
    model = WGAN(**TINY_IMAGES, n_critic=5, critic_warmup=True)
    # Diters = 100 if gen_iterations < 25 or gen_iterations % 500 == 0 else 5 (martinarjovsky/WassersteinGAN)
    expected = {0: 100, 1: 100, 24: 100, 25: 5, 499: 5, 500: 100, 501: 5, 1000: 100}
    for g_steps, critic_steps in expected.items():
        model.g_steps = g_steps
        assert model.critic_steps() == critic_steps, g_steps
    model.critic_warmup = False
    assert model.critic_steps() == 5


def test_variable_critic_schedule_trains_and_resumes_mid_cycle(tmp_path):
    data = tiny_shapes()
    model = WGAN(**TINY_IMAGES, n_critic=1, critic_warmup=True, warmup_critic_steps=3)
    trainer = tiny_trainer(tmp_path, max_steps=7, limit_val_batches=0)
    trainer.fit(model, data)
    assert (model.d_steps, model.g_steps, model.d_steps_since_g) == (7, 2, 1)  # G after batches 3 and 6
    path = tmp_path / "mid_cycle.ckpt"
    trainer.save_checkpoint(path)

    resumed = WGAN(**TINY_IMAGES, n_critic=1, critic_warmup=True, warmup_critic_steps=3)
    tiny_trainer(tmp_path, max_steps=9, limit_val_batches=0).fit(resumed, data, ckpt_path=path)
    assert (resumed.d_steps, resumed.g_steps, resumed.d_steps_since_g) == (9, 3, 0)  # the third G step at batch 9
