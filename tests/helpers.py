"""Helpers the tests share: tiny trainers, so the whole suite runs in minutes on 2 CPU cores."""

from __future__ import annotations

from pathlib import Path

from lightning.pytorch import Trainer

REPO = Path(__file__).resolve().parents[1]
SHARED_MNIST = REPO.parent / "shared" / "data" / "mnist"


def tiny_trainer(root: Path, max_steps: int, **overrides) -> Trainer:
    """CPU trainer without logger, progress bar, checkpointing or sanity check, unless overridden."""
    options = dict(
        accelerator="cpu",
        devices=1,
        max_steps=max_steps,
        logger=False,
        enable_progress_bar=False,
        enable_checkpointing=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        limit_val_batches=1,
        default_root_dir=str(root),
    )
    options.update(overrides)
    return Trainer(**options)
