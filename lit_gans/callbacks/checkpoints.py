"""Checkpoints that lose no work: ``last.ckpt`` after every validation, at the end of every fit and on Ctrl-C, plus
the best ``save_top_k`` by the run's quality metric when one is measured."""

from __future__ import annotations

import signal
import sys
import threading
from typing import Any, Literal

from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.trainer.states import TrainerFn

from lit_gans.callbacks.image_metrics import ImageMetrics
from lit_gans.errors import LitGansError

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class RunCheckpoint(ModelCheckpoint):
    """``<run>/checkpoints/last.ckpt``, rewritten after every validation, at the end of every fit (whatever the
    validation interval) and when the fit is interrupted; plus the ``save_top_k`` best checkpoints by ``monitor``
    (``best-step<N>-<metric><value>.ckpt``) when a metric is measured.

    Ctrl-C (SIGINT) or SIGTERM during ``fit`` asks for a stop: the step under way completes, ``last.ckpt`` is
    written, the end-of-fit grid too, and the path is printed; a second Ctrl-C aborts at once, as usual.

    Args:
        save_top_k: how many of the best checkpoints by ``monitor`` to keep besides ``last.ckpt`` (-1: all, 0: none).
        monitor: the logged metric that ranks checkpoints; ``auto`` takes ``ImageMetrics``' FID (``val/fid``) when
            that callback runs and ranks nothing otherwise (``last.ckpt`` only); ``null`` ranks nothing.
        mode: ``min`` (FID, KID) or ``max`` (IS) for the monitored metric.
        every_n_train_steps: also rewrite ``last.ckpt`` every this many steps (D updates), between validations: at
            the end of the batch in which ``global_step`` reaches a multiple of it.
    """

    def __init__(
        self,
        save_top_k: int = 1,
        monitor: str | None = "auto",
        mode: Literal["min", "max"] = "min",
        every_n_train_steps: int | None = None,
    ) -> None:
        if save_top_k < -1:
            raise LitGansError(f"save_top_k must be -1 (keep all), 0 or more, got {save_top_k}")
        if every_n_train_steps is not None and every_n_train_steps < 1:
            raise LitGansError(f"every_n_train_steps must be at least 1, got {every_n_train_steps}")
        super().__init__(save_last=True, save_top_k=0, mode=mode, enable_version_counter=False)
        self.requested_monitor, self.requested_top_k = monitor, save_top_k
        self.last_every_n_steps = every_n_train_steps
        self.stop_requested = False
        self.interrupted_at: int | None = None  # the step at which a requested stop took effect
        self._last_saved_at: int | None = None
        self._step_at_batch_start = 0
        self._previous_handlers: dict[int, Any] = {}

    # ----------------------------------------------------------------------------------------------------------
    # what to rank by, decided once the trainer's callbacks are known (before a resumed state is loaded)
    # ----------------------------------------------------------------------------------------------------------
    def setup(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        monitor = self.requested_monitor
        if monitor == "auto":
            metrics = [c for c in trainer.callbacks if isinstance(c, ImageMetrics) and "fid" in c.metrics]
            monitor = metrics[0].prefix + "fid" if metrics else None
        self.monitor = monitor
        self.save_top_k = self.requested_top_k if monitor else 0
        if monitor:
            self.filename = "best-step{step}-" + monitor.rsplit("/", 1)[-1] + "{" + monitor + ":.4g}"
            self.auto_insert_metric_name = False
        super().setup(trainer, pl_module, stage)

    # ----------------------------------------------------------------------------------------------------------
    # last.ckpt whenever work would otherwise be lost
    # ----------------------------------------------------------------------------------------------------------
    def _save_last_checkpoint(self, trainer: Trainer, monitor_candidates: dict) -> None:
        super()._save_last_checkpoint(trainer, monitor_candidates)
        self._last_saved_at = trainer.global_step

    def save_last_now(self, trainer: Trainer) -> None:
        """Write ``last.ckpt`` for the current step unless it holds it already."""
        if trainer.fast_dev_run or trainer.sanity_checking or trainer.state.fn != TrainerFn.FITTING:
            return
        if self._last_saved_at == trainer.global_step or trainer.global_step == 0:
            return
        self._save_last_checkpoint(trainer, self._monitor_candidates(trainer))

    def on_validation_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        super().on_validation_end(trainer, pl_module)
        self.save_last_now(trainer)

    def on_train_batch_start(self, trainer: Trainer, pl_module: LightningModule, *args: Any, **kwargs: Any) -> None:
        self._step_at_batch_start = trainer.global_step

    def on_train_batch_end(self, trainer: Trainer, pl_module: LightningModule, *args: Any, **kwargs: Any) -> None:
        super().on_train_batch_end(trainer, pl_module, *args, **kwargs)
        stop = self.stop_requested
        if trainer.world_size > 1:
            stop = trainer.strategy.reduce_boolean_decision(stop, all=False)
        if stop and self.interrupted_at is None:
            self.interrupted_at = trainer.global_step
            trainer.should_stop = True
        every = self.last_every_n_steps  # a batch may take several steps (updates_per_batch)
        periodic = every and trainer.global_step // every > self._step_at_batch_start // every
        if stop or periodic:
            self.save_last_now(trainer)

    def on_train_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self.save_last_now(trainer)
        self._restore_signal_handlers()
        if trainer.is_global_zero and self.last_model_path:
            if self.interrupted_at is not None:
                print(
                    f"interrupted: step {self.interrupted_at} saved to {self.last_model_path} (resume with "
                    f"`fit ... --ckpt_path {self.last_model_path}`)",
                    file=sys.stderr,
                )
            else:
                print(f"checkpoint of step {trainer.global_step}: {self.last_model_path}")

    # ----------------------------------------------------------------------------------------------------------
    # Ctrl-C: finish the step, then stop through the normal end of fit
    # ----------------------------------------------------------------------------------------------------------
    def on_train_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        super().on_train_start(trainer, pl_module)
        if threading.current_thread() is threading.main_thread():
            for number in STOP_SIGNALS:
                self._previous_handlers[number] = signal.signal(number, self._request_stop)

    def _request_stop(self, number: int, frame: Any) -> None:
        self.stop_requested = True
        self._restore_signal_handlers()  # a second Ctrl-C aborts at once
        print(
            f"\n{signal.Signals(number).name}: stopping after this step and saving last.ckpt (again to abort now)",
            file=sys.stderr,
        )

    def _restore_signal_handlers(self) -> None:
        for number, handler in self._previous_handlers.items():
            signal.signal(number, handler)
        self._previous_handlers = {}

    def on_exception(self, trainer: Trainer, pl_module: LightningModule, exception: BaseException) -> None:
        self._restore_signal_handlers()
