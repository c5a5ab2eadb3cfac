"""Mode-collapse metrics and 1D distances on toy data after each validation (``ToyMetrics``)."""

from __future__ import annotations

import torch
from lightning.pytorch import Callback, LightningModule, Trainer

from lit_gans.metrics.toy import distance_to_gaussian_1d, mode_collapse_metrics


class ToyMetrics(Callback):
    """After each validation on toy data (a datamodule with a ``distribution``): for 2D mixtures the mode-collapse
    metrics (``modes``, ``high_quality``, ``reverse_kl``), for 1D the ``wasserstein1`` and ``ks`` distances to the
    true distribution, over ``num_samples`` samples drawn from a fixed seed (the same on every rank). Does nothing on
    other data.

    Args:
        num_samples: samples per evaluation (2,500 in VEEGAN/PacGAN).
        seed: seed of their noise.
        prefix: logged names are ``prefix + name``.
    """

    def __init__(self, num_samples: int = 2_500, seed: int = 0, prefix: str = "val/") -> None:
        self.num_samples, self.seed, self.prefix = num_samples, seed, prefix
        self.last: dict[str, float] = {}

    def on_validation_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        distribution = getattr(trainer.datamodule, "distribution", None)
        if trainer.sanity_checking or distribution is None:
            return
        generator = torch.Generator(device=pl_module.device).manual_seed(self.seed)
        samples = pl_module.sample(self.num_samples, generator=generator).cpu()
        if distribution.dim == 1:
            values = distance_to_gaussian_1d(samples, distribution.modes[:, 0], distribution.std)
        else:
            values = mode_collapse_metrics(samples, distribution.modes, distribution.std)
        for name, value in values.items():
            pl_module.log(self.prefix + name, value.float(), sync_dist=True)
        self.last = {name: float(value) for name, value in values.items()}
