"""Learning-rate schedules over a run's D updates (``LinearLRDecay``), for any model's optimizers."""

from __future__ import annotations

from typing import Any

from lightning.pytorch import Callback, LightningModule, Trainer

from lit_gans.errors import LitGansError


class LinearLRDecay(Callback):
    """Hold every optimizer's learning rates until ``start`` x ``max_steps`` D updates, then take them linearly to
    0 at ``max_steps``: ``lr(t) = lr_0 min(1, (T - t) / (T - start T))`` with ``t`` the D updates done (the
    Trainer's ``global_step``) and ``T = max_steps``. The late, small steps let G settle on the modes it found
    instead of circling them (the 2D ring's high-quality share, benchmarks/README.md).

    Set before every Trainer batch, so with ``updates_per_batch`` k the rate is a staircase of k updates. ``lr_0``
    is kept in each parameter group as ``initial_lr`` (as torch's schedulers keep it), so a resumed run goes on
    with the same rates."""

    def __init__(self, start: float = 0.5) -> None:
        if not 0 <= start < 1:
            raise LitGansError(f"start is the fraction of max_steps where the decay begins, in [0, 1), got {start}")
        self.start = start

    def on_train_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if trainer.max_steps <= 0:
            raise LitGansError(
                "LinearLRDecay decays the learning rates to 0 at the Trainer's max_steps: set --trainer.max_steps"
            )
        if trainer.lr_scheduler_configs:
            raise LitGansError(
                f"{type(pl_module).__name__} has its own learning-rate schedule; LinearLRDecay would overwrite it"
            )

    def on_train_batch_start(self, trainer: Trainer, pl_module: LightningModule, *args: Any) -> None:
        end = trainer.max_steps
        factor = min(1.0, (end - trainer.global_step) / (end - self.start * end))
        for optimizer in trainer.optimizers:
            for group in optimizer.param_groups:
                group["lr"] = group.setdefault("initial_lr", group["lr"]) * factor
