"""Toy distributions whose truth is known: the 1D Gaussian of the classic GAN tutorial and the 2D mixtures of the
mode-collapse benchmarks (VEEGAN, Srivastava 2017; PacGAN, Lin 2018).

Points are served in the distribution's own coordinates (not rescaled to [-1, 1]), so metrics can compare them to
the true modes directly. The label of a point is the index of the component it was drawn from.
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import Tensor

from datamodules.base import GANDataModule, InMemoryDataset
from lit_gans.errors import LitGansError


class GaussianMixture:
    """Equal-weight mixture of isotropic Gaussians: ``modes [K, D]`` and one ``std``."""

    def __init__(self, modes: Tensor, std: float) -> None:
        self.modes, self.std = modes.float(), float(std)

    @property
    def dim(self) -> int:
        return self.modes.shape[1]

    def sample(self, n: int, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
        """``(points [n, D], component index [n])``."""
        component = torch.randint(len(self.modes), (n,), generator=generator)
        noise = torch.randn(n, self.dim, generator=generator) * self.std
        return self.modes[component] + noise, component

    def log_density(self, x: Tensor) -> Tensor:
        """``log p(x)`` for ``x [n, D]``."""
        squared = ((x[:, None, :] - self.modes[None]) ** 2).sum(-1)  # [n, K]
        log_normal = -squared / (2 * self.std**2) - self.dim * math.log(self.std * math.sqrt(2 * math.pi))
        return torch.logsumexp(log_normal, dim=1) - math.log(len(self.modes))


def gaussian1d() -> GaussianMixture:
    """N(-1, 1), the target of the classic 1D GAN tutorial."""
    return GaussianMixture(torch.tensor([[-1.0]]), std=1.0)


def ring(num_modes: int = 8, radius: float = 1.0, std: float = 0.01) -> GaussianMixture:
    """8 Gaussians with means ``(cos 2 pi k/8, sin 2 pi k/8)`` and std 0.01."""
    angles = 2 * math.pi * torch.arange(num_modes) / num_modes
    return GaussianMixture(radius * torch.stack([torch.cos(angles), torch.sin(angles)], dim=1), std)


def grid(side: int = 5, spacing: float = 2.0, std: float = 0.05) -> GaussianMixture:
    """25 Gaussians with means ``(i, j)``, ``i, j in {-4, -2, 0, 2, 4}``, and std 0.05."""
    axis = (torch.arange(side) - (side - 1) / 2) * spacing
    i, j = torch.meshgrid(axis, axis, indexing="ij")
    return GaussianMixture(torch.stack([i.flatten(), j.flatten()], dim=1), std)


DISTRIBUTIONS = {"gaussian1d": gaussian1d, "ring": ring, "grid": grid}


class Toy(GANDataModule):
    """Samples of a toy distribution, fixed given ``seed``; ``distribution`` exposes the true sampler, modes and
    density for metrics and plots.

    Args:
        distribution: ``gaussian1d`` (N(-1, 1)), ``ring`` (8 modes) or ``grid`` (25 modes).
        num_train: points in the training split, drawn from ``seed``.
        num_val: points in the validation split, drawn from ``seed + 1``.
        seed: seed of the training points (the validation points use ``seed + 1``).
    """

    def __init__(
        self,
        distribution: Literal["gaussian1d", "ring", "grid"] = "ring",
        num_train: int = 100_000,
        num_val: int = 2_500,
        seed: int = 0,
        batch_size: int = 256,
        num_workers: int = 0,
        shuffle_seed: int | None = None,
    ) -> None:
        super().__init__(batch_size, num_workers, shuffle_seed)
        if distribution not in DISTRIBUTIONS:
            raise LitGansError(f"unknown toy distribution {distribution!r}; choose one of {', '.join(DISTRIBUTIONS)}")
        self.save_hyperparameters()
        self.distribution_name = distribution
        self.distribution = DISTRIBUTIONS[distribution]()
        self.num_train, self.num_val, self.seed = num_train, num_val, seed

    @property
    def data_shape(self) -> tuple[int]:
        return (self.distribution.dim,)

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is None:
            train = self.distribution.sample(self.num_train, torch.Generator().manual_seed(self.seed))
            val = self.distribution.sample(self.num_val, torch.Generator().manual_seed(self.seed + 1))
            self.train_set, self.val_set = InMemoryDataset(*train), InMemoryDataset(*val)
