"""Exact resume: a run stopped at step k and resumed from its checkpoint ends bit-identical to an uninterrupted run
(CPU, deterministic algorithms): weights, EMA, both optimizers, the scheduler, step counters and RNG streams."""

from __future__ import annotations

import torch
from lightning.pytorch import seed_everything
from lightning.pytorch.callbacks import ModelCheckpoint

from datamodules import Toy
from lit_gans import GAN
from tests.helpers import tiny_trainer


class ScheduledGAN(GAN):
    """The tiny GAN plus a per-epoch scheduler on both optimizers, so resume must restore scheduler state too."""

    def make_schedulers(self, opt_g, opt_d):
        return [torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5) for opt in (opt_g, opt_d)]


def build() -> tuple[ScheduledGAN, Toy]:
    model = ScheduledGAN(data_shape=(2,), z_dim=4, g_hidden=(16,), d_hidden=(16,), n_critic=2, ema_decay=0.9)
    # 128 points / batch 16 = 8 batches an epoch: step 13 lies in the middle of the second epoch
    return model, Toy(distribution="ring", num_train=128, num_val=32, batch_size=16)


def final_state(model: ScheduledGAN, trainer) -> dict:
    state = {f"model.{k}": v.clone() for k, v in model.state_dict().items()}
    for i, optimizer in enumerate(trainer.optimizers):
        for param_id, values in optimizer.state_dict()["state"].items():
            state.update({f"opt{i}.{param_id}.{k}": torch.as_tensor(v).clone() for k, v in values.items()})
    state["lr"] = torch.tensor([s.get_last_lr()[0] for s in model.lr_schedulers()])
    state["next_noise"] = torch.randn(4)  # the global RNG continues where it should
    return state


def test_resumed_run_is_bit_identical_to_uninterrupted(tmp_path):
    torch.use_deterministic_algorithms(True)
    total, stop_at = 30, 13

    seed_everything(7, verbose=False)
    model, data = build()
    uninterrupted = tiny_trainer(tmp_path / "a", max_steps=total, limit_val_batches=0)
    uninterrupted.fit(model, data)
    expected = final_state(model, uninterrupted)

    seed_everything(7, verbose=False)
    model, data = build()
    checkpoint = ModelCheckpoint(dirpath=tmp_path / "ckpt", every_n_train_steps=stop_at, save_top_k=-1)
    tiny_trainer(
        tmp_path / "b", max_steps=stop_at, limit_val_batches=0, callbacks=[checkpoint], enable_checkpointing=True
    ).fit(model, data)
    (path,) = list((tmp_path / "ckpt").glob("*.ckpt"))
    assert f"step={stop_at}" in path.name

    seed_everything(12345, verbose=False)  # a different seed: everything must come from the checkpoint
    model, data = build()
    resumed = tiny_trainer(tmp_path / "c", max_steps=total, limit_val_batches=0)
    resumed.fit(model, data, ckpt_path=path)
    got = final_state(model, resumed)

    assert (model.d_steps, model.g_steps, resumed.global_step) == (total, total // 2, total)
    assert got.keys() == expected.keys()
    different = [key for key in expected if not torch.equal(expected[key], got[key])]
    assert not different, f"differ after resume: {different}"
    assert any(key.startswith("model.generator_ema.") for key in expected)
