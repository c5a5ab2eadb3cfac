"""The Trainer the in-process benchmarks fit with: on the CPU, no logger, checkpoints, progress bar, model summary
or validation, so that what a benchmark times and scores is the training alone; ``options`` add to it or
override it (``max_steps``, ``callbacks``, ...)."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any

import torch
from lightning.pytorch import Trainer
from torch import Tensor, nn

from lit_gans.losses import non_saturating_d_loss, non_saturating_g_loss


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


def hand_written_gan_step(
    G: nn.Module,
    D: nn.Module,
    opt_g: torch.optim.Optimizer,
    opt_d: torch.optim.Optimizer,
    real: Tensor,
    z_dim: int,
    autocast: AbstractContextManager = nullcontext(),  # noqa: B008 (stateless)
) -> tuple[Tensor, Tensor]:
    """One step of the plain PyTorch loop that the speed benchmarks hold lit-gans against: D on ``real`` and
    ``G(z)`` (G without a graph), then G through a frozen D (no gradients accumulate in D, as in lit-gans), both
    non-saturating, fresh ``z ~ N(0, I)`` on ``real``'s device for each. Returns ``(d_loss, g_loss)``."""
    batch_size, device = len(real), real.device
    with autocast:
        with torch.no_grad():
            fake = G(torch.randn(batch_size, z_dim, device=device))
        d_loss = non_saturating_d_loss(D(real), D(fake))
    opt_d.zero_grad(set_to_none=True)
    d_loss.backward()
    opt_d.step()
    for p in D.parameters():
        p.requires_grad_(False)
    with autocast:
        g_loss = non_saturating_g_loss(D(G(torch.randn(batch_size, z_dim, device=device))))
    opt_g.zero_grad(set_to_none=True)
    g_loss.backward()
    opt_g.step()
    for p in D.parameters():
        p.requires_grad_(True)
    return d_loss, g_loss
