"""The G-only EMA (closed form of one update, used for sampling, saved in checkpoints) and the non-finite guard."""

from __future__ import annotations

import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from torch import nn
from torch.testing import assert_close

from lit_gans import GAN, LitGansError
from lit_gans.base import NonFiniteLossError
from lit_gans.ema import ema_update_
from tests.helpers import tiny_trainer
from tests.test_base import snapshot, tiny_gan, tiny_toy


def test_ema_update_matches_the_closed_form_and_copies_buffers():
    average, current = nn.BatchNorm1d(3), nn.BatchNorm1d(3)
    with torch.no_grad():
        average.weight.fill_(1.0)
        current.weight.fill_(3.0)
        current.running_mean.fill_(5.0)
    ema_update_(average, current, decay=0.75)
    assert_close(average.weight, torch.full((3,), 0.75 * 1.0 + 0.25 * 3.0))  # decay * ema + (1 - decay) * theta
    assert_close(average.running_mean, torch.full((3,), 5.0))
    with pytest.raises(ValueError, match="decay"):
        ema_update_(average, current, decay=1.0)


def test_ema_generator_tracks_g_after_each_g_step_and_is_used_for_sampling(tmp_path):
    model = tiny_gan(ema_decay=0.5, n_critic=2)
    trainer = tiny_trainer(tmp_path, max_steps=4, limit_val_batches=0)
    trainer.fit(model, tiny_toy())
    ema, trained = snapshot(model.generator_ema), snapshot(model.generator)
    assert not all(torch.equal(a, b) for a, b in zip(ema, trained)), "the EMA copy equals G: it is not an average"
    assert not any(p.requires_grad for p in model.generator_ema.parameters())
    assert model.sampling_generator is model.generator_ema
    latent = model.fixed_latent[:4]
    with torch.no_grad():
        assert_close(model.sample_from(latent), model.generator_ema.eval()(latent))
    # saved and restored with the checkpoint (load_from_checkpoint builds it through configure_model)
    path = tmp_path / "ema.ckpt"
    trainer.save_checkpoint(path)
    loaded = GAN.load_from_checkpoint(path, weights_only=True)
    assert all(torch.equal(a, b) for a, b in zip(ema, snapshot(loaded.generator_ema)))


def test_ema_is_off_by_default_and_sampling_uses_g():
    model = tiny_gan()
    assert not hasattr(model, "generator_ema") and model.sampling_generator is model.generator
    with pytest.raises(LitGansError, match="ema_decay"):
        tiny_gan(ema_decay=1.0)


class DivergingGAN(GAN):
    """Its D loss turns NaN at ``self.bad_step`` (1-based)."""

    bad_step = 3

    def d_step(self, batch):
        out = super().d_step(batch)
        if self.d_steps + 1 == self.bad_step:
            out["loss"] = out["loss"] * float("nan")
        return out


def diverging(**overrides) -> DivergingGAN:
    return DivergingGAN(data_shape=(2,), z_dim=4, g_hidden=(16,), d_hidden=(16,), **overrides)


def test_nonfinite_loss_stops_with_the_step_and_keeps_the_last_good_checkpoint(tmp_path):
    checkpoints = ModelCheckpoint(dirpath=tmp_path / "ckpt", every_n_train_steps=1, save_top_k=-1)
    model = diverging()
    trainer = tiny_trainer(
        tmp_path, max_steps=10, limit_val_batches=0, callbacks=[checkpoints], enable_checkpointing=True
    )
    with pytest.raises(NonFiniteLossError, match=r"step 3: train/d/loss is nan; stopped before updating") as error:
        trainer.fit(model, tiny_toy())
    assert "step=2.ckpt" in str(error.value)  # names the last good checkpoint
    saved = sorted(p.name for p in (tmp_path / "ckpt").glob("*.ckpt"))
    assert saved == ["epoch=0-step=1.ckpt", "epoch=0-step=2.ckpt"]
    state = torch.load(tmp_path / "ckpt" / saved[-1], weights_only=True)["state_dict"]
    assert all(torch.isfinite(v).all() for v in state.values())
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_nonfinite_skip_drops_the_update_and_goes_on(tmp_path):
    before: dict[int, list] = {}

    class Spy(DivergingGAN):
        def d_step(self, batch):
            before[self.d_steps + 1] = snapshot(self.discriminator)
            return super().d_step(batch)

    model = Spy(data_shape=(2,), z_dim=4, g_hidden=(16,), d_hidden=(16,), nonfinite="skip")
    trainer = tiny_trainer(tmp_path, max_steps=5, limit_val_batches=0)
    trainer.fit(model, tiny_toy())
    assert (trainer.global_step, model.d_steps, model.skipped_updates) == (5, 5, 1)
    # D before step 4 equals D before step 3: the NaN update of step 3 changed nothing; step 4's did
    assert all(torch.equal(a, b) for a, b in zip(before[3], before[4]))
    assert not all(torch.equal(a, b) for a, b in zip(before[4], before[5]))
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_nonfinite_gradient_is_caught_even_when_the_loss_is_finite(tmp_path):
    class InfiniteGradient(GAN):
        def d_step(self, batch):
            out = super().d_step(batch)
            weight = next(self.discriminator.parameters())
            # + sqrt(|w - w|^2): adds exactly 0 to the loss, but d sqrt(u)/du = inf at u = 0 makes the gradient NaN
            out["loss"] = out["loss"] + torch.sqrt((weight - weight.detach()).pow(2).sum())
            return out

    model = InfiniteGradient(data_shape=(2,), z_dim=4, g_hidden=(16,), d_hidden=(16,))
    with pytest.raises(
        NonFiniteLossError, match=r"step 1: the gradient of train/d/loss \(loss .*\) has NaN or infinite"
    ):
        tiny_trainer(tmp_path, max_steps=3, limit_val_batches=0).fit(model, tiny_toy())
