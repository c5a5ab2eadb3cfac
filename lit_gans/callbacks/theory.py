"""Goodfellow et al. 2014's 1D theory after each validation (``OneDimensionalTheory``): p_g, the optimal
discriminator D* = p_data / (p_data + p_g) (Proposition 1), the JSD and the value function beside its value at the
optimum, -log 4 + 2 JSD (Theorem 1), and the paper's figure 1."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch
from lightning.pytorch import Callback, LightningModule, Trainer
from lightning.pytorch.loggers import TensorBoardLogger, WandbLogger
from torch import Tensor

from lit_gans.base import GANModule, eval_mode
from lit_gans.callbacks.samples import run_dir, write_png
from lit_gans.improved import NonSaturatingGAN
from lit_gans.metrics.optimal_d import (
    generator_slope,
    jensen_shannon,
    kde_bandwidth,
    kde_density,
    optimal_discriminator,
    optimal_value,
    pushforward_density,
    value_function,
    weighted_d_error,
)


@dataclass
class TheoryState:
    """The 1D picture on a uniform grid ``x [K]`` (step ``dx``): the densities, D (``sigmoid`` of D's logit) and
    D* with its ``mask`` (where ``p_data + p_g`` is not ~0), whether p_g is ``exact`` (change of variables) or a KDE,
    the mapping ``x = G(z)`` at ``z_lines [L]`` (None when z is not 1D), and the logged ``values``."""

    x: Tensor
    dx: float
    p_data: Tensor
    p_g: Tensor
    D: Tensor
    D_star: Tensor
    mask: Tensor
    exact: bool
    z_lines: Tensor | None
    x_lines: Tensor | None
    values: dict[str, Tensor]


def applies(pl_module: LightningModule) -> bool:
    """Whether ``pl_module`` plays the paper's game: a latent-input GAN on the cross-entropy objective
    (``NonSaturatingGAN``: its D's logit is ``log D / (1 - D)``), unconditional (no labels or codes beside z), its D
    judging one sample at a time (a packed D's ``D(x)`` of a single ``x`` is undefined)."""
    return (
        isinstance(pl_module, NonSaturatingGAN)
        and pl_module.latent_input
        and type(pl_module).draw_conditions is GANModule.draw_conditions
        and getattr(pl_module, "pack", 1) == 1
    )


def normal_density(z: Tensor) -> Tensor:
    """N(0, 1)'s density, the latent prior of ``GANModule.sample_latent``."""
    return torch.exp(-0.5 * z**2) / math.sqrt(2 * math.pi)


@torch.no_grad()
def theory_state(
    pl_module: GANModule,
    distribution,
    num_grid: int = 2_001,
    num_z: int = 4_001,
    z_max: float = 6.0,
    num_samples: int = 20_000,
    num_lines: int = 17,
    seed: int = 0,
) -> TheoryState | None:
    """p_g, D and D* of ``pl_module``'s trained G and D (the G that D is trained against, not its EMA copy) on a
    grid of ``num_grid`` points over p_data's modes +- 6 std and G's range, and the values of Theorem 1; None when D
    does not give one logit per point.

    With a 1D z, p_g is exact by change of variables on ``num_z`` points of ``[-z_max, z_max]`` (all but 2e-9 of
    N(0, 1)) where G is monotone there and its image spans grid cells (mass within 2% of 1); otherwise, and for a
    larger z, it is a Gaussian KDE (Silverman's bandwidth, at least a grid step) of ``num_samples`` samples drawn
    from ``seed``. The mapping is drawn at the ``num_lines`` quantiles ``(i + 1/2) / L`` of N(0, 1): their spacing
    shows p_z, as the paper's evenly spaced z show its uniform p_z."""
    device = pl_module.device
    G, D = pl_module.generator, pl_module.discriminator
    means, std = distribution.modes[:, 0].double(), float(distribution.std)
    low, high = float(means.min()) - 6 * std, float(means.max()) + 6 * std

    def G_1d(z: Tensor) -> Tensor:  # z [M] -> x [M]
        return pl_module.generate(z[:, None].float().to(device), G).reshape(-1).double().cpu()

    def draw() -> Tensor:  # x = G(z) for num_samples z ~ N(0, I) drawn from seed, [N]
        latent = pl_module.sample_latent(num_samples, generator=torch.Generator(device=device).manual_seed(seed))
        return pl_module.generate(latent, G).reshape(-1).double().cpu()

    with eval_mode(G), eval_mode(D):
        image, monotone = None, False
        if pl_module.z_dim == 1:
            z_grid = torch.linspace(-z_max, z_max, num_z, dtype=torch.float64)
            image, slope = generator_slope(G_1d, z_grid)  # G(z), G'(z) [M]
            monotone = bool((slope > 0).all() or (slope < 0).all())
            low, high = min(low, float(image.min())), max(high, float(image.max()))
        samples = None
        if not monotone:
            samples = draw()
            margin = 5 * kde_bandwidth(samples)
            low, high = min(low, float(samples.min()) - margin), max(high, float(samples.max()) + margin)
        x = torch.linspace(low, high, num_grid, dtype=torch.float64)
        dx = float(x[1] - x[0])
        exact = False
        if monotone:
            p_g = pushforward_density(G_1d, z_grid, normal_density(z_grid), x).density
            exact = abs(float(p_g.sum()) * dx - 1) < 0.02
        if not exact:
            p_g = kde_density(draw() if samples is None else samples, x, min_bandwidth=dx)
        logits = D(x[:, None].float().to(device)).double().cpu()
        if logits.numel() != num_grid:
            return None
        logits = logits.reshape(-1)  # log(D / (1 - D)) [K]
        z_lines = x_lines = None
        if pl_module.z_dim == 1:
            quantiles = (torch.arange(num_lines, dtype=torch.float64) + 0.5) / num_lines
            z_lines = math.sqrt(2) * torch.erfinv(2 * quantiles - 1)  # Phi^-1(u)
            x_lines = G_1d(z_lines)
    p_data = distribution.log_density(x[:, None]).exp()  # [K]
    d_star, mask = optimal_discriminator(p_data, p_g)
    jsd = jensen_shannon(p_data, p_g, dx)
    values = {
        "d_error": weighted_d_error(torch.sigmoid(logits), d_star, p_data, p_g, dx, mask),
        "jsd": jsd,
        "value": value_function(logits, p_data, p_g, dx, logits=True),
        "value_at_optimum": torch.as_tensor(optimal_value(jsd)),
    }
    return TheoryState(x, dx, p_data, p_g, torch.sigmoid(logits), d_star, mask, exact, z_lines, x_lines, values)


def theory_figure(state: TheoryState, title: str = "") -> np.ndarray:
    """The paper's figure 1 as ``uint8 [H, W, 3]``: p_data (dotted black), p_g (green), D (dashed blue) and D*
    (faint blue) over x; below the x axis, the z axis and the mapping ``x = G(z)`` as arrows from z to G(z) (both
    axes on the same scale)."""
    x = state.x.numpy()
    peak = max(float(state.p_data.max()), float(state.p_g.max()))
    top = max(1.3, 1.1 * min(peak, 3.0))  # room for the legend above D = 1; p_g spikes above 3 are cut
    z_level = -0.3 * top
    figure, axis = plt.subplots(figsize=(6.4, 4.2), dpi=100)
    d_star = np.where(state.mask.numpy(), state.D_star.numpy(), np.nan)  # undefined where both densities are ~0
    axis.plot(x, d_star, color="tab:blue", alpha=0.3, lw=4, label="D* = p_data / (p_data + p_g)")
    axis.plot(x, state.p_data.numpy(), color="black", ls=":", lw=2, label="p_data")
    axis.plot(x, state.p_g.numpy(), color="green", lw=1.8, label="p_g" + ("" if state.exact else " (KDE)"))
    axis.plot(x, state.D.numpy(), color="tab:blue", ls="--", lw=1.8, label="D")
    axis.axhline(0.0, color="black", lw=0.8)
    if state.z_lines is not None:
        axis.axhline(z_level, color="black", lw=0.8)
        for z, gz in zip(state.z_lines.tolist(), state.x_lines.tolist()):
            axis.annotate("", xy=(gz, 0.0), xytext=(z, z_level), arrowprops=dict(arrowstyle="->", lw=0.7, color="0.35"))
        axis.text(x[-1], z_level, " z", va="center", ha="left")
        axis.text(x[-1], 0.0, " x", va="center", ha="left")
    else:
        axis.text(0.02, 0.1, "z is not 1D: no mapping x = G(z) drawn", fontsize=8, transform=axis.transAxes)
    axis.set_xlim(x[0], x[-1])
    axis.set_ylim(z_level * 1.15, top)
    axis.set_yticks([t for t in axis.get_yticks() if 0 <= t <= top])
    axis.legend(loc="upper right", fontsize=8, framealpha=0.9)
    axis.set_title(title, fontsize=9)
    figure.tight_layout()
    figure.canvas.draw()
    pixels = np.asarray(figure.canvas.buffer_rgba())[..., :3].copy()
    plt.close(figure)
    return pixels


class OneDimensionalTheory(Callback):
    """After each validation of a GAN on 1D toy data (a datamodule whose ``distribution`` is 1D; see ``applies``):
    p_g (exact by change of variables when z is 1D and G monotone, else a KDE), D* from the true p_data, and logs

        {prefix}d_error           int |D - D*| (p_data + p_g) / 2 dx, masked where both densities are ~0
        {prefix}jsd               JSD(p_data || p_g), in [0, log 2]
        {prefix}value             V(D, G) = E_pdata[log D] + E_pg[log(1 - D)]
        {prefix}value_at_optimum  V(D*, G) = -log 4 + 2 JSD >= value

    and draws the paper's figure 1 (``theory_figure``) to ``<run>/samples/theory_stepNNNNNNN.png``, TensorBoard and
    W&B (``samples/theory``). On any other data or model it returns at once.

    Args:
        num_grid: points of the x grid.
        num_samples: samples for the KDE when p_g has no exact form.
        seed: seed of those samples.
        prefix: logged names are ``prefix + name``.
    """

    def __init__(
        self, num_grid: int = 2_001, num_samples: int = 20_000, seed: int = 0, prefix: str = "val/theory/"
    ) -> None:
        self.num_grid, self.num_samples, self.seed, self.prefix = num_grid, num_samples, seed, prefix
        self.last: dict[str, float] = {}
        self.last_path: Path | None = None

    def on_validation_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        distribution = getattr(trainer.datamodule, "distribution", None)
        if trainer.sanity_checking or distribution is None or distribution.dim != 1 or not applies(pl_module):
            return
        state = theory_state(pl_module, distribution, self.num_grid, num_samples=self.num_samples, seed=self.seed)
        if state is None:
            return
        for name, value in state.values.items():
            pl_module.log(self.prefix + name, value.float(), sync_dist=True)
        self.last = {name: float(value) for name, value in state.values.items()}
        folder = Path(run_dir(trainer))  # on every rank: trainer.log_dir is a collective under DDP
        if not trainer.is_global_zero:
            return
        step = getattr(pl_module, "d_steps", trainer.global_step)
        v = self.last
        title = (
            f"step {step}: JSD {v['jsd']:.4f}, V(D, G) {v['value']:.4f} <= -log 4 + 2 JSD "
            f"{v['value_at_optimum']:.4f}, |D - D*| {v['d_error']:.4f}"
        )
        picture = theory_figure(state, title)
        self.last_path = write_png(picture, folder / "samples" / f"theory_step{step:07d}.png")
        for logger in trainer.loggers:
            if isinstance(logger, TensorBoardLogger):
                logger.experiment.add_image("samples/theory", picture, global_step=step, dataformats="HWC")
            elif isinstance(logger, WandbLogger):
                logger.log_image(key="samples/theory", images=[picture], step=step)
