"""ProGAN and MSG-GAN: their layers against closed forms, the growth schedule as a function of images shown, the
fades of G, D and the real images, the optimizer resets, exact resume mid-fade, MSG-GAN's combine functions and the
multi-scale gradient penalty's shared interpolation factor."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from lightning.pytorch import Callback, seed_everything
from lightning.pytorch.callbacks import ModelCheckpoint
from torch.testing import assert_close

from datamodules import Shapes
from lit_gans import MSGGAN, ProGAN
from lit_gans.errors import LitGansError
from lit_gans.gans.msggan import image_pyramid
from lit_gans.gans.progan import OFFICIAL_HALF_LIFE_SHARE, fade_reals, growth_at
from lit_gans.layers import EqualizedConv2d, EqualizedLinear, MinibatchStdDev, PixelNorm
from lit_gans.networks.progressive import (
    MultiScaleDiscriminator,
    ProgressiveDiscriminator,
    ProgressiveGenerator,
    feature_counts,
)
from lit_gans.regularizers import multiscale_gradient_penalty
from tests.helpers import run_in_repo, tiny_trainer

TINY = dict(z_dim=8, fmap_base=32, fmap_max=8)


# ------------------------------------------------------------------------------------------------------------------
# Layers
# ------------------------------------------------------------------------------------------------------------------
def test_equalized_layers_store_unit_normal_weights_and_scale_them_by_he_constant():
    torch.manual_seed(0)
    linear = EqualizedLinear(512, 256)
    assert abs(linear.weight.std().item() - 1) < 0.01 and linear.scale == pytest.approx(math.sqrt(2 / 512))
    x = torch.randn(64, 512)
    assert_close(linear(x), F.linear(x, linear.weight * math.sqrt(2 / 512), linear.bias))
    # He's constant: unit-variance inputs leave with variance gain^2 = 2 (before the non-linearity), within 5%
    assert linear(torch.randn(4096, 512)).var().item() == pytest.approx(2.0, rel=0.05)
    conv = EqualizedConv2d(16, 8, 3, gain=1.0)
    assert conv.scale == pytest.approx(1 / math.sqrt(16 * 9))
    x = torch.randn(2, 16, 5, 5)
    assert_close(conv(x), F.conv2d(x, conv.weight / math.sqrt(16 * 9), conv.bias, padding=1))
    with pytest.raises(LitGansError, match="odd kernel"):
        EqualizedConv2d(4, 4, 2)


def test_pixel_norm_gives_unit_mean_square_over_channels_and_ignores_scale():
    x = torch.randn(3, 16, 4, 4) * torch.rand(3, 1, 4, 4) * 10
    y = PixelNorm()(x)
    assert_close(y.square().mean(dim=1), torch.ones(3, 4, 4), atol=1e-5, rtol=0)
    assert_close(PixelNorm()(7.5 * x), y, atol=1e-5, rtol=1e-5)
    assert_close(PixelNorm()(torch.tensor([[3.0, 4.0]])), torch.tensor([[3.0, 4.0]]) / math.sqrt(12.5))


def test_minibatch_stddev_appends_each_groups_mean_standard_deviation():
    torch.manual_seed(0)
    x = torch.randn(8, 3, 2, 2)
    y = MinibatchStdDev(group_size=4)(x)
    assert y.shape == (8, 4, 2, 2) and torch.equal(y[:, :3], x)
    for member in range(2):  # the official grouping: sample i is in group i % (N / group_size)
        group = x[member::2]  # [4, 3, 2, 2]
        expected = group.var(dim=0, unbiased=False).add(1e-8).sqrt().mean()
        for i in range(member, 8, 2):
            assert_close(y[i, 3], torch.full((2, 2), expected.item()))
    # a batch of 6 with groups of 4: the largest group that divides it (3)
    z = torch.randn(6, 2, 1, 1)
    assert_close(MinibatchStdDev(4)(z)[0, 2, 0, 0], z[0::2].var(0, unbiased=False).add(1e-8).sqrt().mean())


# ------------------------------------------------------------------------------------------------------------------
# ProGAN: the schedule and the fades
# ------------------------------------------------------------------------------------------------------------------
def test_growth_follows_the_official_schedule_in_images_shown():
    # 32 px (4 levels), 600 kimg to stabilise and to fade, as the paper's runs
    at = lambda images: growth_at(images, num_levels=4, start_level=0, stabilise_images=6e5, fade_images=6e5)  # noqa: E731
    assert (at(0).level, at(0).alpha, at(0).phase, at(0).lod) == (0, 1.0, 0, 3.0)
    assert (at(599_999).level, at(599_999).alpha) == (0, 1.0)
    assert (at(900_000).level, at(900_000).alpha, at(900_000).phase) == (1, 0.5, 1)  # half-way into 8x8
    assert (at(1_200_000).level, at(1_200_000).alpha, at(1_200_000).phase) == (1, 1.0, 2)
    assert (at(3_300_000).level, at(3_300_000).alpha, at(3_300_000).resolution) == (3, 0.5, 32)
    assert (at(10**8).level, at(10**8).alpha, at(10**8).phase, at(10**8).lod) == (3, 1.0, 6, 0.0)
    for shown in range(1_850_000, 2_400_000, 50_000):  # alpha rises linearly through the fade into 16x16
        assert at(shown).level == 2 and at(shown).alpha == pytest.approx((shown - 1_800_000) / 6e5)
    # starting at the target size: no growing
    assert all(growth_at(n, 4, 3, 6e5, 6e5).level == 3 for n in (0, 10**6, 10**8))


def test_real_images_fade_like_the_generator():
    torch.manual_seed(0)
    x = torch.randn(2, 3, 32, 32)
    x8, x4 = F.avg_pool2d(x, 4), F.avg_pool2d(x, 8)
    assert_close(fade_reals(x, level=1, alpha=1.0), x8)
    assert_close(fade_reals(x, level=1, alpha=0.0), F.interpolate(x4, scale_factor=2, mode="nearest"))
    blend = fade_reals(x, level=1, alpha=0.3)
    assert_close(blend, 0.7 * F.interpolate(x4, scale_factor=2, mode="nearest") + 0.3 * x8)
    assert_close(fade_reals(x, level=3, alpha=1.0), x)


def test_generator_and_discriminator_fade_between_levels():
    torch.manual_seed(0)
    g = ProgressiveGenerator(8, 3, 32, fmap_base=32, fmap_max=8)
    d = ProgressiveDiscriminator(3, 32, fmap_base=32, fmap_max=8)
    z = torch.randn(4, 8)
    assert [g(z, level).shape[-1] for level in range(4)] == [4, 8, 16, 32]
    assert_close(g(z, 2, alpha=0.0), F.interpolate(g(z, 1), scale_factor=2, mode="nearest"))
    assert_close(g(z, 2, alpha=0.25), 0.75 * g(z, 2, alpha=0.0) + 0.25 * g(z, 2, alpha=1.0))
    x = torch.randn(4, 3, 16, 16)
    assert_close(d(x, 2, alpha=0.0), d(F.avg_pool2d(x, 2), 1))
    assert d(x, 2, alpha=0.6).shape == (4,)
    assert_close(g(z), g(z, 3))
    assert feature_counts(4, 8192, 512) == [512] * 5  # the paper's widths: 512 up to 32x32
    with pytest.raises(LitGansError, match="power-of-two"):
        ProgressiveGenerator(8, 3, 24)


class StageRecorder(Callback):
    """Per batch: (level, fading) trained, and Adam's step count of D's last layer after the step."""

    def __init__(self) -> None:
        self.rows = []

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        growth = pl_module.growth
        self.stage = (growth.level, growth.fading)

    def on_train_batch_end(self, trainer, pl_module, *args) -> None:
        opt_d = trainer.optimizers[1]
        weight = pl_module.discriminator.blocks[0][-2].weight
        self.rows.append((self.stage, int(opt_d.state[weight]["step"])))


def tiny_progan(**overrides) -> tuple[ProGAN, Shapes]:
    # batch 8, 4 batches a phase: 16 px (3 levels) grown by batch 16; the fades are batches 5-7 and 13-15
    model = ProGAN(data_shape=(3, 16, 16), **{**TINY, "stabilise_kimg": 0.032, "fade_kimg": 0.032, **overrides})
    return model, Shapes(image_size=16, channels=3, num_train=64, num_val=8, batch_size=8)


def test_adam_state_is_reset_when_a_fade_starts_and_ends(tmp_path):
    model, data = tiny_progan()
    recorder = StageRecorder()
    tiny_trainer(tmp_path, max_steps=20, limit_val_batches=0, callbacks=[recorder]).fit(model, data)
    stages = [stage for stage, _ in recorder.rows]
    # 4 batches a phase; a fade's first batch has alpha 0, the level before it, unchanged
    assert stages[:5] == [(0, False)] * 5 and stages[5:8] == [(1, True)] * 3 and stages[8:13] == [(1, False)] * 5
    assert stages[13:16] == [(2, True)] * 3 and stages[16:] == [(2, False)] * 4
    since_change = []
    for i, stage in enumerate(stages):
        since_change.append(1 if i == 0 or stage != stages[i - 1] else since_change[-1] + 1)
    assert [steps for _, steps in recorder.rows] == since_change  # Adam's step count restarts at every change

    model, data = tiny_progan(reset_optimizers=False)
    recorder = StageRecorder()
    tiny_trainer(tmp_path, max_steps=20, limit_val_batches=0, callbacks=[recorder]).fit(model, data)
    assert [steps for _, steps in recorder.rows] == list(range(1, 21))


def test_ema_half_life_is_held_to_a_share_of_a_short_fade():
    model, _ = tiny_progan(fade_kimg=64.0, ema_decay=0.999)
    model.images_per_step = 32  # a fade of 2,000 steps: half-life at most 37 steps
    half_life = OFFICIAL_HALF_LIFE_SHARE * 2000
    assert model.current_ema_decay() == pytest.approx(0.5 ** (1 / half_life))
    model.images_per_step, model.fade_images = 16, 600_000  # the paper's run: 0.999 itself
    assert model.current_ema_decay() == pytest.approx(0.999, abs=1e-6)


def test_resume_mid_fade_continues_the_schedule_exactly(tmp_path):
    torch.use_deterministic_algorithms(True)
    total, stop_at = 14, 6  # after batch 6: half-way through the fade into 8x8 (batches 5 to 7)

    def state(model, trainer) -> dict:
        values = {f"model.{k}": v.clone() for k, v in model.state_dict().items()}
        for i, optimizer in enumerate(trainer.optimizers):
            for pid, entries in optimizer.state_dict()["state"].items():
                values.update({f"opt{i}.{pid}.{k}": torch.as_tensor(v).clone() for k, v in entries.items()})
        return values

    seed_everything(3, verbose=False)
    model, data = tiny_progan()
    straight = tiny_trainer(tmp_path / "a", max_steps=total, limit_val_batches=0)
    straight.fit(model, data)
    expected = state(model, straight)

    seed_everything(3, verbose=False)
    model, data = tiny_progan()
    checkpoint = ModelCheckpoint(dirpath=tmp_path / "ckpt", every_n_train_steps=stop_at, save_top_k=-1)
    first = tiny_trainer(
        tmp_path / "b", max_steps=stop_at, limit_val_batches=0, callbacks=[checkpoint], enable_checkpointing=True
    )
    first.fit(model, data)
    assert model.growth.fading and model.growth.level == 1  # stopped mid-fade
    (path,) = list((tmp_path / "ckpt").glob("*.ckpt"))

    seed_everything(99, verbose=False)
    model, data = tiny_progan()
    resumed = tiny_trainer(tmp_path / "c", max_steps=total, limit_val_batches=0)
    resumed.fit(model, data, ckpt_path=path)
    got = state(model, resumed)
    assert int(model.images_shown) == total * 8
    different = [key for key in expected if not torch.equal(expected[key], got[key])]
    assert got.keys() == expected.keys() and not different, different


def test_sample_command_gives_the_target_size_and_says_when_mid_growth(tmp_path):
    model, data = tiny_progan()
    trainer = tiny_trainer(tmp_path, max_steps=6, limit_val_batches=0)
    trainer.fit(model, data)
    path = tmp_path / "mid.ckpt"
    trainer.save_checkpoint(path)
    result = run_in_repo(
        "cli.py", "sample", "--ckpt_path", str(path), "--num_samples", "5", "--output", str(tmp_path / "x.pt")
    )
    assert result.returncode == 0, result.stderr
    samples = torch.load(tmp_path / "x.pt")
    assert samples.shape == (5, 3, 16, 16) and samples.min() >= -1 and samples.max() <= 1
    assert "mid-growth (8x8, alpha 0.50" in result.stdout and "upsampled to 16x16" in result.stdout
    # nearest upsampling of an 8x8 image: every 2x2 block is one value (the fade's two images are both 8x8 here)
    assert torch.equal(samples[..., ::2, ::2].repeat_interleave(2, -1).repeat_interleave(2, -2), samples)
    assert model.sample_grids()["samples"][0].shape[-1] == 8  # grids at the current resolution


# ------------------------------------------------------------------------------------------------------------------
# MSG-GAN
# ------------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("combine", ["simple", "lin_cat", "cat_lin"])
def test_multiscale_discriminator_combines_every_scale(combine):
    torch.manual_seed(0)
    g = ProgressiveGenerator(8, 3, 32, fmap_base=32, fmap_max=8)
    d = MultiScaleDiscriminator(3, 32, fmap_base=32, fmap_max=8, combine=combine)
    scales = g.all_scales(torch.randn(4, 8))
    assert [tuple(s.shape) for s in scales] == [(4, 3, 4 * 2**level, 4 * 2**level) for level in range(4)]
    scores = d(scales)
    assert scores.shape == (4,)
    # every scale reaches D's score
    gradients = torch.autograd.grad(scores.sum(), scales)
    assert all(gradient.abs().sum() > 0 for gradient in gradients)
    combiners = sum(p.numel() for p in d.combiners.parameters())
    assert (combiners == 0) == (combine == "simple")
    with pytest.raises(LitGansError, match="takes 4 scales"):
        d(scales[1:])


def test_image_pyramid_average_pools_the_reals():
    x = torch.randn(2, 1, 16, 16)
    pyramid = image_pyramid(x, 3)
    assert [p.shape[-1] for p in pyramid] == [4, 8, 16]
    assert_close(pyramid[0], F.avg_pool2d(x, 4))
    assert pyramid[-1] is x


def test_multiscale_gradient_penalty_shares_one_interpolation_factor_per_sample():
    torch.manual_seed(0)
    reals = [torch.randn(5, 1, s, s) for s in (4, 8)]
    fakes = [torch.randn(5, 1, s, s) for s in (4, 8)]
    seen = []

    def critic(scales):
        seen.append(scales)
        return sum(s.flatten(1).sum(1) for s in scales)  # gradient 1 everywhere: ||grad|| = sqrt(16 + 64)

    penalty = multiscale_gradient_penalty(critic, reals, fakes)
    assert_close(penalty, torch.tensor((math.sqrt(80) - 1) ** 2))
    factors = [((x - f) / (r - f)).flatten(1) for x, r, f in zip(seen[0], reals, fakes)]  # alpha per element
    alpha = factors[0][:, :1]
    for factor in factors:  # the same alpha for every element of a sample, at every scale
        assert_close(factor, alpha.expand_as(factor), atol=1e-4, rtol=1e-4)
    assert alpha.std() > 0.05  # and different samples draw their own


def test_msggan_without_links_and_with_wgan_gp(tmp_path):
    data = Shapes(image_size=16, channels=3, num_train=32, num_val=8, batch_size=8)
    for options in (dict(multi_scale=False), dict(loss="wgan_gp", combine="simple")):
        model = MSGGAN(data_shape=(3, 16, 16), **TINY, **options)
        tiny_trainer(tmp_path, max_steps=2, limit_val_batches=0).fit(model, data)
        assert model.sample(3).shape == (3, 3, 16, 16)
    grids = model.sample_grids()
    assert set(grids) == {"scale_4", "scale_8", "samples"} and grids["scale_4"][0].shape == (64, 3, 16, 16)
    with pytest.raises(LitGansError, match="ra_hinge"):
        MSGGAN(data_shape=(3, 16, 16), loss="hinge")
