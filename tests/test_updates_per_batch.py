"""``updates_per_batch = k``: a Trainer batch of ``k B`` rows makes ``k`` updates on its consecutive parts of ``B``
rows, which are the very batches (same rows, same order) that batch size ``B`` gives. So a run ends bit-identical to
the run with batch ``B`` and one update a batch, whatever ``n_critic``, EMA and ``max_steps``; misuse fails with a
clear error."""

from __future__ import annotations

import pytest
import torch
from lightning.pytorch import seed_everything
from lightning.pytorch.callbacks import ModelCheckpoint

from datamodules import Toy
from lit_gans import GAN, ProGAN
from lit_gans.callbacks import RunCheckpoint
from lit_gans.errors import LitGansError
from tests.helpers import tiny_trainer

BATCH = 16  # an update's batch; 128 points make 8 of them an epoch


def fit(root, updates_per_batch: int, max_steps: int, batch_size: int | None = None, **trainer_options):
    seed_everything(5, verbose=False)
    model = GAN(
        data_shape=(2,), z_dim=4, g_hidden=(16,), d_hidden=(16,), n_critic=2, ema_decay=0.9,
        updates_per_batch=updates_per_batch,
    )  # fmt: skip
    data = Toy("ring", num_train=128, num_val=32, batch_size=batch_size or BATCH * updates_per_batch)
    trainer = tiny_trainer(root, max_steps=max_steps, limit_val_batches=0, **trainer_options)
    trainer.fit(model, data)
    return model, trainer


@pytest.mark.parametrize(("k", "max_steps"), [(4, 24), (4, 22), (8, 20)])
def test_k_updates_a_batch_end_where_one_update_a_batch_ends(tmp_path, k, max_steps):
    torch.use_deterministic_algorithms(True)
    one, one_trainer = fit(tmp_path / "one", 1, max_steps)
    after_one = torch.randn(3)
    split, split_trainer = fit(tmp_path / "split", k, max_steps)
    after_split = torch.randn(3)
    # every D update counts as a step, and max_steps holds even when it cuts the last batch short
    assert split_trainer.global_step == one_trainer.global_step == max_steps
    assert (split.d_steps, split.g_steps) == (one.d_steps, one.g_steps) == (max_steps, max_steps // 2)
    assert split_trainer.fit_loop.epoch_loop._batches_that_stepped == -(-max_steps // k)
    expected = one.state_dict()
    for key, value in split.state_dict().items():
        assert torch.equal(value, expected[key]), key  # weights, EMA weights, BN statistics: bit for bit
    for opt_split, opt_one in zip(split_trainer.optimizers, one_trainer.optimizers):
        for state_split, state_one in zip(opt_split.state.values(), opt_one.state.values()):
            assert all(torch.equal(state_split[name], state_one[name]) for name in state_one)
    assert torch.equal(after_split, after_one)  # the same noise was drawn, in the same order


def test_a_batch_that_k_does_not_divide_is_refused(tmp_path):
    with pytest.raises(LitGansError, match="updates_per_batch 4 must divide the batch, which holds 30 rows"):
        fit(tmp_path, 4, 8, batch_size=30)


def test_a_checkpoint_interval_that_k_would_skip_is_refused(tmp_path):
    every_6 = ModelCheckpoint(dirpath=tmp_path / "ckpt", every_n_train_steps=6)
    with pytest.raises(LitGansError, match="every_n_train_steps a multiple of 4"):
        fit(tmp_path, 4, 8, callbacks=[every_6], enable_checkpointing=True)


def test_run_checkpoint_saves_in_the_batch_that_reaches_each_multiple(tmp_path):
    saved_at = []

    class Recording(RunCheckpoint):
        def _save_last_checkpoint(self, trainer, monitor_candidates):
            saved_at.append(trainer.global_step)
            super()._save_last_checkpoint(trainer, monitor_candidates)

    every_6 = Recording(every_n_train_steps=6)
    fit(tmp_path, 4, 16, callbacks=[every_6], enable_checkpointing=True)
    # the batches end at steps 4, 8, 12, 16: 8 passes 6, 12 reaches 12, and the fit's end saves 16
    assert saved_at == [8, 12, 16]


def test_bad_values_and_progan_are_refused():
    with pytest.raises(LitGansError, match="updates_per_batch must be at least 1"):
        GAN(data_shape=(2,), updates_per_batch=0)
    with pytest.raises(LitGansError, match="ProGAN's growth schedule advances once a batch"):
        ProGAN(data_shape=(1, 16, 16), updates_per_batch=2)


def test_a_run_resumed_from_its_checkpoint_ends_where_the_uninterrupted_run_ends(tmp_path):
    torch.use_deterministic_algorithms(True)
    whole, _ = fit(tmp_path / "whole", 4, 24)
    checkpoint = ModelCheckpoint(dirpath=tmp_path / "ckpt", every_n_train_steps=12, save_top_k=-1)
    fit(
        tmp_path / "first", 4, 12, callbacks=[checkpoint], enable_checkpointing=True
    )  # step 12: mid-epoch (8 updates an epoch)
    (path,) = list((tmp_path / "ckpt").glob("*.ckpt"))
    seed_everything(99, verbose=False)  # everything must come from the checkpoint
    model = GAN(
        data_shape=(2,), z_dim=4, g_hidden=(16,), d_hidden=(16,), n_critic=2, ema_decay=0.9, updates_per_batch=4
    )
    data = Toy("ring", num_train=128, num_val=32, batch_size=BATCH * 4)  # its order comes from the checkpoint
    trainer = tiny_trainer(tmp_path / "resumed", max_steps=24, limit_val_batches=0)
    trainer.fit(model, data, ckpt_path=path)
    assert trainer.global_step == 24 and (model.d_steps, model.g_steps) == (24, 12)
    expected = whole.state_dict()
    for key, value in model.state_dict().items():
        assert torch.equal(value, expected[key]), key
