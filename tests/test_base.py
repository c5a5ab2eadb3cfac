"""GANModule invariants: which parameters each step changes, how often G steps, what a step counts."""

from __future__ import annotations

import pytest
import torch
from lightning.pytorch import Callback
from torch.testing import assert_close

from datamodules import Toy
from lit_gans import GAN, LitGansError
from lit_gans.regularizers import clip_weights_
from tests.helpers import tiny_trainer


def tiny_gan(**overrides) -> GAN:
    options = dict(data_shape=(2,), z_dim=4, g_hidden=(16,), d_hidden=(16,), num_fixed_samples=8)
    options.update(overrides)
    return GAN(**options)


def tiny_toy(**overrides) -> Toy:
    options = dict(distribution="ring", num_train=256, num_val=32, batch_size=16)
    options.update(overrides)
    return Toy(**options)


def snapshot(module: torch.nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in module.parameters()]


def same(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a, b))


class StepRecorder(Callback):
    """Snapshots G and D before each batch, after its D step (through the ``after_d_step`` hook) and after it."""

    def __init__(self) -> None:
        self.batches: list[dict] = []

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        record = {"start": (snapshot(pl_module.generator), snapshot(pl_module.discriminator))}
        self.batches.append(record)
        original = type(pl_module).after_d_step

        def after_d_step() -> None:
            record["after_d"] = (snapshot(pl_module.generator), snapshot(pl_module.discriminator))
            original(pl_module)

        pl_module.after_d_step = after_d_step

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.batches[-1]["end"] = (snapshot(pl_module.generator), snapshot(pl_module.discriminator))


@pytest.mark.parametrize("n_critic", [1, 3])
def test_d_step_changes_only_d_and_g_step_only_g_once_per_n_critic(tmp_path, n_critic):
    recorder = StepRecorder()
    model = tiny_gan(n_critic=n_critic)
    trainer = tiny_trainer(tmp_path, max_steps=7, callbacks=[recorder], limit_val_batches=0)
    trainer.fit(model, tiny_toy())

    assert len(recorder.batches) == 7
    g_updated = []
    for record in recorder.batches:
        (g0, d0), (g1, d1), (g2, d2) = record["start"], record["after_d"], record["end"]
        assert same(g0, g1), "the D step changed G's parameters"
        assert not same(d0, d1), "the D step left D unchanged"
        assert same(d1, d2), "the G step changed D's parameters"
        g_updated.append(not same(g1, g2))
    expected = [(i + 1) % n_critic == 0 for i in range(7)]
    assert g_updated == expected
    assert (model.d_steps, model.g_steps) == (7, 7 // n_critic)


@pytest.mark.parametrize("n_critic, max_steps", [(1, 6), (5, 10)])
def test_max_steps_counts_batches(tmp_path, n_critic, max_steps):
    model = tiny_gan(n_critic=n_critic)
    trainer = tiny_trainer(tmp_path, max_steps=max_steps, limit_val_batches=0)
    trainer.fit(model, tiny_toy())
    assert trainer.global_step == max_steps
    assert model.d_steps == max_steps
    assert model.g_steps == max_steps // n_critic


class ClippedGAN(GAN):
    clip_value = 0.01

    def after_d_step(self) -> None:
        clip_weights_(self.discriminator, self.clip_value)


def test_after_d_step_hook_clips_d_weights(tmp_path):
    model = ClippedGAN(data_shape=(2,), z_dim=4, g_hidden=(16,), d_hidden=(16,))
    assert max(p.abs().max() for p in model.discriminator.parameters()) > 0.01  # the default init exceeds the bound
    tiny_trainer(tmp_path, max_steps=3, limit_val_batches=0).fit(model, tiny_toy())
    bound = max(p.abs().max() for p in model.discriminator.parameters())
    assert_close(bound, torch.tensor(0.01))
    assert max(p.abs().max() for p in model.generator.parameters()) > 0.01  # G is not clipped


def test_n_critic_below_one_is_refused():
    with pytest.raises(LitGansError, match="n_critic must be at least 1"):
        tiny_gan(n_critic=0)


def test_sample_uses_eval_mode_and_leaves_batchnorm_statistics_alone():
    model = tiny_gan().train()
    buffers = [b.clone() for b in model.generator.buffers()]
    samples = model.sample(32)
    assert samples.shape == (32, 2)
    assert model.generator.training
    assert all(torch.equal(a, b) for a, b in zip(buffers, model.generator.buffers()))
    # eval mode: a sample does not depend on the rest of its batch
    one = model.sample_from(model.fixed_latent[:1])
    assert_close(one, model.sample_fixed()[:1], atol=1e-6, rtol=1e-6)


def test_fixed_latent_is_reproducible_and_seeded():
    assert torch.equal(tiny_gan().fixed_latent, tiny_gan().fixed_latent)
    assert not torch.equal(tiny_gan().fixed_latent, tiny_gan(fixed_noise_seed=1).fixed_latent)
    assert tiny_gan(num_fixed_samples=5).fixed_latent.shape == (5, 4)


def test_losses_are_logged_per_network(tmp_path):
    from lightning.pytorch.loggers import CSVLogger

    model = tiny_gan()
    trainer = tiny_trainer(tmp_path, max_steps=4, logger=CSVLogger(tmp_path), log_every_n_steps=1, limit_val_batches=0)
    trainer.fit(model, tiny_toy())
    metrics = trainer.logged_metrics
    assert {"train/d/loss", "train/d/accuracy", "train/g/loss"} <= set(metrics)


def test_values_are_logged_only_where_the_loggers_write_them(tmp_path, monkeypatch):
    """Every ``log_every_n_steps``-th batch, as Lightning writes them, each row with D's values of its batch and
    G's of its latest step."""
    import csv

    from lightning.pytorch.loggers import CSVLogger

    import lit_gans.gans.gan as gan_module

    model, calls, diagnosed = tiny_gan(n_critic=3), [], []
    log_dict = model.log_dict
    model.log_dict = lambda logs, **kwargs: calls.append(model.global_step) or log_dict(logs, **kwargs)
    accuracy = gan_module.discriminator_accuracy
    monkeypatch.setattr(
        gan_module, "discriminator_accuracy", lambda *a: diagnosed.append(model.d_steps) or accuracy(*a)
    )
    trainer = tiny_trainer(tmp_path, max_steps=11, logger=CSVLogger(tmp_path), log_every_n_steps=4, limit_val_batches=0)
    trainer.fit(model, tiny_toy())
    assert calls == [4, 8]  # 1-based batch numbers; no logging call on the other batches
    assert diagnosed == [3, 7]  # D's accuracy, a diagnostic, is computed for those batches only (d_steps before)
    rows = list(csv.DictReader(open(next(tmp_path.rglob("metrics.csv")))))
    assert [int(row["step"]) for row in rows] == [3, 7]  # Lightning's 0-based x-axis
    assert all(row["train/d/loss"] and row["train/g/loss"] and row["train/d/accuracy"] for row in rows)
    assert "accuracy" in model.d_step([torch.randn(16, 2)])  # outside the training loop it is always there


def test_checkpoint_of_another_model_is_refused(tmp_path):
    from lit_gans import DCGAN

    model = tiny_gan()
    trainer = tiny_trainer(tmp_path, max_steps=1, limit_val_batches=0)
    trainer.fit(model, tiny_toy())
    path = tmp_path / "gan.ckpt"
    trainer.save_checkpoint(path)
    other = DCGAN(data_shape=(1, 28, 28), g_features=4, d_features=4)
    with pytest.raises(LitGansError, match="holds a GAN but this run builds a DCGAN"):
        other.on_load_checkpoint(torch.load(path, weights_only=True))
    wider = tiny_gan(g_hidden=(32,))
    with pytest.raises(LitGansError, match="build the model with the checkpoint's hyper-parameters"):
        wider.on_load_checkpoint(torch.load(path, weights_only=True))


def test_checkpoint_without_the_lit_gans_entry_is_refused(tmp_path):
    with pytest.raises(LitGansError, match="this checkpoint was not written by lit-gans"):
        tiny_gan().on_load_checkpoint({"state_dict": tiny_gan().state_dict()})
