"""The Trainer the in-process benchmarks fit with: on the CPU, no logger, checkpoints, progress bar, model summary
or validation, so that what a benchmark times and scores is the training alone; ``options`` add to it or
override it (``max_steps``, ``callbacks``, ...)."""

from __future__ import annotations

from typing import Any

from lightning.pytorch import Trainer


def quiet_trainer(**options: Any) -> Trainer:
    settings: dict[str, Any] = dict(
        accelerator="cpu",
        max_epochs=-1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        limit_val_batches=0,
        num_sanity_val_steps=0,
    )
    return Trainer(**{**settings, **options})
