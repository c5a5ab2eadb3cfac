"""Limits on a run beyond Lightning's own (``CPUTimeLimit``)."""

from __future__ import annotations

import time
from typing import Any

from lightning.pytorch import Callback, LightningModule, Trainer

from lit_gans.errors import LitGansError


class CPUTimeLimit(Callback):
    """Stop training once this process has used ``seconds`` of CPU time (``time.process_time``, all its threads)
    since training started: start-up is not counted, validations during training are. Unlike ``max_time``'s wall
    clock, other processes on the machine do not eat into this budget: "5 CPU minutes" on one thread is
    ``seconds=300`` with ``OMP_NUM_THREADS=1``. Checked after every batch."""

    def __init__(self, seconds: float) -> None:
        if seconds <= 0:
            raise LitGansError(f"seconds must be positive, got {seconds}")
        self.seconds = seconds
        self._start: float | None = None
        self.used = 0.0

    def on_train_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._start = time.process_time()

    def on_train_batch_end(self, trainer: Trainer, pl_module: LightningModule, *args: Any) -> None:
        self.used = time.process_time() - (self._start or 0.0)
        stop = self.used >= self.seconds
        if trainer.world_size > 1:
            stop = trainer.strategy.reduce_boolean_decision(stop, all=False)
        if stop:
            trainer.should_stop = True
