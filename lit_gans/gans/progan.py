"""ProGAN: Karras, Aila, Laine & Lehtinen 2018, "Progressive Growing of GANs for Improved Quality, Stability, and
Variation" (arXiv:1710.10196), as the official code (``tkarras/progressive_growing_of_gans``) trains it.

G and D grow from 4x4 to the target size a level at a time. The schedule is a function of the real images shown
(``TrainingSchedule``): stabilise a level for ``stabilise_kimg`` thousand images, then fade the next one in over
``fade_kimg``, with ``alpha`` rising linearly from 0 to 1:

    G_l(z) = lerp(upsample(toRGB_{l-1}(h_{l-1})), toRGB_l(h_l), alpha)
    D_l(x) = ... lerp(fromRGB_{l-1}(avgpool(x)), block_l(fromRGB_l(x)), alpha) ...

and the real images are faded the same way, ``x_l = lerp(upsample(avgpool(x_l)), x_l, alpha)``. Adam's state is
reset when a fade starts and when it ends (``reset_opt_for_new_lod``). Loss: WGAN-GP with the drift term,

    critic: E[D(G(z))] - E[D(x)] + lambda E[(||grad D(x_hat)||_2 - 1)^2] + epsilon_drift E[D(x)^2]
    G:      -E[D(G(z))]

with lambda 10, epsilon_drift 0.001, one D step per G step, Adam 1e-3 (0, 0.99), G's EMA 0.999.

Every level is built up front; the step selects the path, so checkpoints, resume and DDP need nothing special (DDP
must find unused parameters: the CLI's ``--trainer.strategy ddp`` does).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from lit_gans.base import GANModule, eval_mode, uncompiled
from lit_gans.errors import LitGansError
from lit_gans.losses import drift_penalty, wasserstein_d_loss, wasserstein_g_loss
from lit_gans.networks.progressive import (
    ProgressiveDiscriminator,
    ProgressiveGenerator,
    downsample,
    lerp,
    num_levels_for,
    upsample,
)
from lit_gans.regularizers import gradient_penalty

# the official run's EMA half-life as a share of a fade: beta 0.999 (a half-life of ln 0.5 / ln 0.999 = 693 steps)
# against 600 kimg at 16 images a step (37,500 steps)
OFFICIAL_HALF_LIFE_SHARE = (math.log(0.5) / math.log(0.999)) / (600_000 / 16)


@dataclass(frozen=True)
class Growth:
    """Where the schedule stands: ``level`` (resolution ``4 * 2^level``), the new level's weight ``alpha`` (below 1
    while it fades in), ``phase`` (0: the first level stabilising, then fade and stabilise in turn) and ``lod``, the
    official level of detail (``num_levels - 1 - level`` when stable, fractional while fading)."""

    level: int
    alpha: float
    phase: int
    lod: float

    @property
    def fading(self) -> bool:
        return self.alpha < 1.0

    @property
    def resolution(self) -> int:
        return 4 * 2**self.level


def growth_at(
    images_shown: int, num_levels: int, start_level: int, stabilise_images: float, fade_images: float
) -> Growth:
    """The official ``TrainingSchedule`` as a function of the real images shown: phase ``k`` stabilises level
    ``start_level + k`` for ``stabilise_images``, then fades level ``start_level + k + 1`` in over ``fade_images``;
    after the last fade the target level trains on."""
    top = num_levels - 1
    period = stabilise_images + fade_images
    period_index = math.floor(images_shown / period) if period > 0 else 0
    within = images_shown - period_index * period
    lod = top - start_level - period_index
    if fade_images > 0:
        lod -= max(within - stabilise_images, 0.0) / fade_images
    lod = max(lod, 0.0)
    level = top - math.floor(lod)
    alpha = 1.0 - (lod - math.floor(lod))
    phase = 2 * (level - start_level) - (1 if alpha < 1 else 0)
    return Growth(level=level, alpha=alpha, phase=phase, lod=lod)


def fade_reals(images: Tensor, level: int, alpha: float) -> Tensor:
    """Real images at ``level``'s resolution, blended like G's output while the level fades in (the official
    ``process_reals``): ``lerp(upsample(avgpool(x)), x, alpha)``. ``images`` are at the target size."""
    x = downsample(images, images.shape[-1] // (4 * 2**level))
    return lerp(upsample(downsample(x)), x, alpha) if level > 0 and alpha < 1 else x


class ProGAN(GANModule):
    """Progressive growing of G and D with a smooth fade-in.

    Args:
        data_shape: ``(C, S, S)``, ``S`` a power of two from 8; linked from the data.
        z_dim: latent size (512 in the paper, ``nf(0)``).
        fmap_base: ``fmap_base`` of the official networks: level ``l`` has ``min(fmap_base / 2^(l+1), fmap_max)``
            channels (8192 in the paper).
        fmap_max: the most channels of any layer (512 in the paper).
        start_resolution: the resolution training starts at (4 in the paper); the target size itself trains the
            same networks at full resolution from the first step, without growing (the baseline of s.5.1).
        stabilise_kimg: thousands of real images a level trains before the next fades in (``lod_training_kimg``,
            600 in the paper).
        fade_kimg: thousands of real images a fade lasts (``lod_transition_kimg``, 600).
        lambda_gp: the gradient penalty's weight ``lambda`` (10).
        epsilon_drift: the drift term's weight (0.001).
        group_size: the minibatch stddev layer's group (4).
        reset_optimizers: reset Adam's moments when a fade starts and ends (the official ``reset_opt_for_new_lod``).
        ema_half_life_share: the most a half-life of G's EMA may last, as a share of a fade, so layers that just
            faded in do not stay stale in the EMA copy when phases are short; the official run's 0.999 at 600 kimg
            and 16 images a step is a share of 0.0185 (the default). ``ema_decay`` is used when shorter.
        lr_g: G's Adam learning rate (0.001).
        lr_d: D's Adam learning rate (0.001).
        betas_g: G's Adam betas ((0, 0.99)).
        betas_d: D's Adam betas ((0, 0.99)).
        n_critic: D steps per G step (1).
        ema_decay: decay of G's EMA copy, the one sampled (0.999, ``G_smoothing``).
        **kwargs: go to ``GANModule``: num_fixed_samples, fixed_noise_seed, nonfinite, compile_networks,
            channels_last.
    """

    offline_preset: ClassVar[str] = "configs/progan_shapes.yaml"  # `fit --model ProGAN` with no data

    def __init__(
        self,
        data_shape: tuple[int, int, int] = (3, 32, 32),
        z_dim: int = 512,
        fmap_base: int = 8192,
        fmap_max: int = 512,
        start_resolution: int = 4,
        stabilise_kimg: float = 600.0,
        fade_kimg: float = 600.0,
        lambda_gp: float = 10.0,
        epsilon_drift: float = 0.001,
        group_size: int = 4,
        reset_optimizers: bool = True,
        ema_half_life_share: float = OFFICIAL_HALF_LIFE_SHARE,
        lr_g: float = 1e-3,
        lr_d: float = 1e-3,
        betas_g: tuple[float, float] = (0.0, 0.99),
        betas_d: tuple[float, float] = (0.0, 0.99),
        n_critic: int = 1,
        ema_decay: float = 0.999,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            z_dim=z_dim,
            lr_g=lr_g,
            lr_d=lr_d,
            betas_g=betas_g,
            betas_d=betas_d,
            n_critic=n_critic,
            ema_decay=ema_decay,
            **kwargs,
        )
        self.save_hyperparameters()
        channels, size, width = data_shape
        if size != width:
            raise LitGansError(f"ProGAN needs square images, got data_shape={tuple(data_shape)}")
        self.num_levels = num_levels_for(size)
        if start_resolution not in [4 * 2**level for level in range(self.num_levels)]:
            raise LitGansError(f"start_resolution must be a power of two from 4 to {size}, got {start_resolution}")
        if stabilise_kimg < 0 or fade_kimg < 0:
            raise LitGansError("stabilise_kimg and fade_kimg cannot be negative")
        if self.updates_per_batch != 1:  # the level and alpha are set once a batch (on_train_batch_start)
            raise LitGansError("ProGAN's growth schedule advances once a batch: it takes updates_per_batch 1 only")
        self.start_level = int(math.log2(start_resolution)) - 2
        self.stabilise_images, self.fade_images = stabilise_kimg * 1000, fade_kimg * 1000
        self.lambda_gp, self.epsilon_drift = lambda_gp, epsilon_drift
        self.reset_optimizers, self.ema_half_life_share = reset_optimizers, ema_half_life_share
        self.generator = ProgressiveGenerator(z_dim, channels, size, fmap_base, fmap_max)
        self.discriminator = ProgressiveDiscriminator(channels, size, fmap_base, fmap_max, group_size)
        # the schedule's clock (real images shown, all ranks together) and the last (level, fading) trained, both
        # saved in checkpoints, so a resumed run continues the schedule and its optimizer resets exactly
        self.register_buffer("images_shown", torch.zeros((), dtype=torch.long))
        self.register_buffer("trained_stage", torch.tensor([-1, -1]))
        self.images_per_step = 0  # real images a step, all ranks together (set by every training step)
        self.level, self.alpha = self.start_level, 1.0  # what the current step trains (set by every training step)

    # ----------------------------------------------------------------------------------------------------------
    # The schedule
    # ----------------------------------------------------------------------------------------------------------
    @property
    def growth(self) -> Growth:
        return growth_at(
            int(self.images_shown), self.num_levels, self.start_level, self.stabilise_images, self.fade_images
        )

    def on_train_batch_start(self, batch: Any, batch_idx: int) -> None:
        """The level and alpha of this batch's D and G steps; Adam's state reset when a fade starts or ends."""
        self.images_per_step = len(batch[0]) * self.trainer.world_size
        growth = self.growth
        stage = torch.tensor([growth.level, int(growth.fading)], device=self.trained_stage.device)
        if not torch.equal(stage, self.trained_stage):
            if self.reset_optimizers and int(self.trained_stage[0]) >= 0:
                for optimizer in self.optimizers():
                    optimizer.optimizer.state.clear()  # Adam's moments and step counts
            self.trained_stage.copy_(stage)
        self.level, self.alpha = growth.level, growth.alpha

    def after_d_step(self) -> None:
        # the official clock: every D step shows a batch of reals (counted here, inside the step, so a checkpoint
        # written at the end of this batch already holds it)
        self.images_shown += self.images_per_step

    def current_ema_decay(self) -> float:
        """``ema_decay``, or a shorter average when a fade is short: half-life at most ``ema_half_life_share`` of
        a fade's steps."""
        if self.fade_images <= 0 or self.images_per_step <= 0 or self.ema_half_life_share <= 0:
            return self.ema_decay
        half_life = max(1.0, self.ema_half_life_share * self.fade_images / self.images_per_step)
        return min(self.ema_decay, 0.5 ** (1 / half_life))

    def progress_logs(self) -> dict[str, Tensor]:
        growth = self.growth
        return {
            "progress/resolution": torch.tensor(float(growth.resolution)),
            "progress/alpha": torch.tensor(growth.alpha),
            "progress/phase": torch.tensor(float(growth.phase)),
            "progress/kimg": self.images_shown.float() / 1000,
        }

    # ----------------------------------------------------------------------------------------------------------
    # The objectives, at the current level
    # ----------------------------------------------------------------------------------------------------------
    def draw_fake(self, n: int) -> Tensor:
        return self.generator(self.sample_latent(n), self.level, self.alpha)

    def critic(self, images: Tensor) -> Tensor:
        return self.discriminator(images, self.level, self.alpha)

    def eager_critic(self, images: Tensor) -> Tensor:
        return uncompiled(self.discriminator)(images, self.level, self.alpha)

    def d_step(self, batch: tuple[Tensor, ...]) -> dict[str, Tensor]:
        real = fade_reals(batch[0], self.level, self.alpha)
        fake = self.draw_fake(len(real)).detach()
        real_scores, fake_scores = self.critic(real), self.critic(fake)
        critic_loss = wasserstein_d_loss(real_scores, fake_scores)
        penalty = gradient_penalty(self.eager_critic, real, fake)
        drift = drift_penalty(real_scores)
        return {
            "loss": critic_loss + self.lambda_gp * penalty + self.epsilon_drift * drift,
            "wasserstein": -critic_loss.detach(),
            "gp": penalty.detach(),
            "drift": drift.detach(),
        }

    def g_step(self, batch: tuple[Tensor, ...]) -> dict[str, Tensor]:
        return {"loss": wasserstein_g_loss(self.critic(self.draw_fake(len(batch[0]))))}

    # ----------------------------------------------------------------------------------------------------------
    # Sampling
    # ----------------------------------------------------------------------------------------------------------
    def generate(self, latent: Tensor, net: nn.Module | None = None, **conditions: Tensor) -> Tensor:
        """G at the schedule's current level and alpha, upsampled (nearest) to the target size when growth is not
        finished, in [-1, 1]: ``[n, C, S, S]``."""
        growth = self.growth
        image = (self.generator if net is None else net)(latent, growth.level, growth.alpha)
        return upsample(image, self.generator.resolution // image.shape[-1]).clamp(-1, 1)

    def sampling_note(self) -> str | None:
        growth = self.growth
        if growth.level == self.num_levels - 1 and not growth.fading:
            return None
        return (
            f"this ProGAN checkpoint is mid-growth ({growth.resolution}x{growth.resolution}, alpha {growth.alpha:.2f}"
            f", {int(self.images_shown) / 1000:.1f} kimg shown): its samples are upsampled to "
            f"{self.generator.resolution}x{self.generator.resolution}"
        )

    def sample_grids(self) -> dict[str, tuple[Tensor, int | None]]:
        """The fixed batch at the current resolution (not upsampled)."""
        growth = self.growth
        with torch.no_grad(), eval_mode(self.sampling_generator) as net:
            images = net(self.fixed_latent, growth.level, growth.alpha).clamp(-1, 1)
        return {"samples": (images, None)}
