"""Helpers the tests share: tiny trainers, so the whole suite runs in minutes on 2 CPU cores."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import torch
from lightning.pytorch import Callback, LightningModule, Trainer

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


def run_in_repo(
    *args: str, env: dict[str, str] | None = None, timeout: int = 180, cwd: Path = REPO
) -> subprocess.CompletedProcess:
    """``python ARGS`` in a fresh process that imports this checkout, run in ``cwd`` (the repository root by
    default; one torch thread; ``env`` adds variables); the test asserts on the return code and shows stderr."""
    full_env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", **(env or {})}
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout
    )


class StopAt(Callback):
    """Stops the fit at the end of the batch that reaches ``step`` D updates, as a killed job stops."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_end(self, trainer, *args) -> None:
        trainer.should_stop = trainer.global_step >= self.step


def final_state(model: LightningModule, trainer: Trainer) -> dict:
    """Every weight and buffer, each optimizer's first learning rate and its state: what a resumed run must match."""
    state = {f"model.{k}": v.clone() for k, v in model.state_dict().items()}
    for i, optimizer in enumerate(trainer.optimizers):
        state[f"opt{i}.lr"] = torch.tensor(optimizer.param_groups[0]["lr"])
        for param_id, values in optimizer.state_dict()["state"].items():
            state.update({f"opt{i}.{param_id}.{k}": torch.as_tensor(v).clone() for k, v in values.items()})
    return state
