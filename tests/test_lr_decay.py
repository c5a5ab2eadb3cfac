"""LinearLRDecay: the learning rates hold, then fall linearly to 0 at max_steps; with several updates a batch; on
resume; and its errors."""

from __future__ import annotations

import pytest
import torch
from lightning.pytorch import Callback, seed_everything
from lightning.pytorch.callbacks import ModelCheckpoint

from datamodules import Toy
from lit_gans import GAN
from lit_gans.callbacks import LinearLRDecay
from lit_gans.errors import LitGansError
from tests.helpers import StopAt, final_state, tiny_trainer

LR_G, LR_D = 2e-4, 1e-4


class RecordRates(Callback):
    """``(global_step, G's lr, D's lr)`` as the batch's first update sees them (placed after LinearLRDecay)."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, float, float]] = []

    def on_train_batch_start(self, trainer, pl_module, *args) -> None:
        opt_g, opt_d = trainer.optimizers
        self.rows.append((trainer.global_step, opt_g.param_groups[0]["lr"], opt_d.param_groups[0]["lr"]))


def build(updates_per_batch: int = 1) -> tuple[GAN, Toy]:
    model = GAN(
        data_shape=(2,),
        z_dim=4,
        g_hidden=(16,),
        d_hidden=(16,),
        lr_g=LR_G,
        lr_d=LR_D,
        n_critic=2,
        ema_decay=0.9,
        updates_per_batch=updates_per_batch,
    )
    return model, Toy(distribution="ring", num_train=128, num_val=32, batch_size=16 * updates_per_batch)


def expected_factor(step: int, start: float, total: int) -> float:
    return min(1.0, (total - step) / (total - start * total))


@pytest.mark.parametrize("updates_per_batch", [1, 4])
def test_learning_rates_hold_until_start_then_fall_linearly_to_zero_at_max_steps(tmp_path, updates_per_batch):
    total, start = 20, 0.5
    model, data = build(updates_per_batch)
    record = RecordRates()
    trainer = tiny_trainer(tmp_path, max_steps=total, limit_val_batches=0, callbacks=[LinearLRDecay(start), record])
    trainer.fit(model, data)
    steps = [row[0] for row in record.rows]
    assert steps == list(range(0, total, updates_per_batch))  # one row a Trainer batch: a staircase of k updates
    for step, lr_g, lr_d in record.rows:
        factor = expected_factor(step, start, total)
        assert lr_g == pytest.approx(LR_G * factor, rel=1e-12) and lr_d == pytest.approx(LR_D * factor, rel=1e-12)
    assert record.rows[0][1:] == (LR_G, LR_D)  # held at first
    assert dict((s, g) for s, g, _ in record.rows)[16] == pytest.approx(0.4 * LR_G, rel=1e-12)  # (20 - 16) / 10
    # the base rates stay in each group, as torch's schedulers keep them
    assert [opt.param_groups[0]["initial_lr"] for opt in trainer.optimizers] == [LR_G, LR_D]


def test_a_resumed_run_keeps_the_schedule_and_ends_bit_identical(tmp_path):
    """The first run is cut at step 14 of 30 (as a killed job is), its checkpoint resumed. Fails if the schedule
    took its base rates from the resumed optimizers, whose rates have already fallen."""
    torch.use_deterministic_algorithms(True)
    total, stop_at, start = 30, 14, 0.2

    def trainer(root, *callbacks, **options):
        return tiny_trainer(
            root, max_steps=total, limit_val_batches=0, callbacks=[LinearLRDecay(start), *callbacks], **options
        )

    seed_everything(3, verbose=False)
    model, data = build()
    uninterrupted = trainer(tmp_path / "a")
    uninterrupted.fit(model, data)
    expected = final_state(model, uninterrupted)

    seed_everything(3, verbose=False)
    model, data = build()
    checkpoint = ModelCheckpoint(dirpath=tmp_path / "ckpt", every_n_train_steps=stop_at, save_top_k=-1)
    trainer(tmp_path / "b", checkpoint, StopAt(stop_at), enable_checkpointing=True).fit(model, data)
    (path,) = list((tmp_path / "ckpt").glob("*.ckpt"))
    assert f"step={stop_at}" in path.name

    seed_everything(99, verbose=False)
    model, data = build()
    record = RecordRates()
    resumed = trainer(tmp_path / "c", record)
    resumed.fit(model, data, ckpt_path=path)
    got = final_state(model, resumed)

    assert record.rows[0][0] == stop_at
    assert record.rows[0][1] == pytest.approx(LR_G * expected_factor(stop_at, start, total), rel=1e-12)
    different = [key for key in expected if not torch.equal(expected[key], got[key])]
    assert got.keys() == expected.keys() and not different, f"differ after resume: {different}"


def test_errors_name_the_fix(tmp_path):
    with pytest.raises(LitGansError, match="fraction of max_steps"):
        LinearLRDecay(1.0)
    model, data = build()
    with pytest.raises(LitGansError, match="--trainer.max_steps"):
        tiny_trainer(tmp_path, max_steps=-1, max_epochs=1, callbacks=[LinearLRDecay()]).fit(model, data)

    class Scheduled(GAN):
        def make_schedulers(self, opt_g, opt_d):
            return [torch.optim.lr_scheduler.StepLR(opt, step_size=1) for opt in (opt_g, opt_d)]

    scheduled = Scheduled(data_shape=(2,), z_dim=4, g_hidden=(16,), d_hidden=(16,))
    with pytest.raises(LitGansError, match="own learning-rate schedule"):
        tiny_trainer(tmp_path, max_steps=4, callbacks=[LinearLRDecay()]).fit(scheduled, data)
