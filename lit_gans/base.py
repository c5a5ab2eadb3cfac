"""``GANModule``: the one training loop every GAN in lit-gans runs through.

A GAN file subclasses it, builds ``self.generator`` and ``self.discriminator`` and writes its paper's maths in two
hooks, each returning a dict of scalars whose ``"loss"`` is minimised and whose other entries are logged:

    d_step(batch) -> {"loss": ..., ...}    every batch: one discriminator (critic) update
    g_step(batch) -> {"loss": ..., ...}    every ``n_critic``-th batch: one generator update

Only ``training_step`` touches the optimizers. During the D step G's parameters are frozen (no graph is built
through G), during the G step D's are (gradients flow through D into G, none accumulate in D). ``after_d_step``
runs after each D update (weight clipping uses it).

What a step counts: one batch. ``trainer.max_steps``, ``trainer.global_step``, ``val_check_interval``,
``log_every_n_steps`` and the loggers' x-axis all count batches, that is D steps; G steps number
``global_step // n_critic``. (Lightning by itself counts every optimizer step, so a D and a G step would count two;
the G step is therefore taken outside Lightning's step counter.)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

import torch
from lightning.pytorch import LightningModule
from lightning.pytorch.core.optimizer import LightningOptimizer
from torch import Tensor, nn

from lit_gans.errors import LitGansError


@contextmanager
def eval_mode(module: nn.Module) -> Iterator[nn.Module]:
    """Put ``module`` in eval mode (BatchNorm uses its running statistics and does not update them), then restore."""
    was_training = module.training
    module.eval()
    try:
        yield module
    finally:
        module.train(was_training)


def class_path(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


class GANModule(LightningModule):
    """Shared GAN training loop: manual optimization, ``n_critic`` D steps per G step, TTUR, fixed sample noise.

    Args:
        z_dim: size of the latent vector ``z ~ N(0, I)``.
        lr_g, lr_d: learning rates of G and D (separate: the two time-scale update rule, Heusel 2017).
        betas_g, betas_d: Adam's ``(beta1, beta2)`` for G and D.
        n_critic: D steps per G step (``k`` in Goodfellow 2014's Algorithm 1, ``n_critic`` in WGAN).
        num_fixed_samples: size of the fixed latent batch used for sample grids, so grids are comparable over time.
        fixed_noise_seed: seed of that batch.
    """

    optimizer_class: ClassVar[type[torch.optim.Optimizer]] = torch.optim.Adam

    generator: nn.Module
    discriminator: nn.Module

    def __init__(
        self,
        z_dim: int,
        lr_g: float,
        lr_d: float,
        betas_g: tuple[float, float],
        betas_d: tuple[float, float],
        n_critic: int = 1,
        num_fixed_samples: int = 64,
        fixed_noise_seed: int = 0,
    ) -> None:
        super().__init__()
        if n_critic < 1:
            raise LitGansError(f"n_critic must be at least 1 (D steps per G step), got {n_critic}")
        if z_dim < 1:
            raise LitGansError(f"z_dim must be at least 1, got {z_dim}")
        self.automatic_optimization = False
        self.z_dim = z_dim
        self.lr_g, self.lr_d = lr_g, lr_d
        self.betas_g, self.betas_d = tuple(betas_g), tuple(betas_d)
        self.n_critic = n_critic
        self.d_steps = 0  # D updates taken so far (saved in checkpoints)
        self.g_steps = 0  # G updates taken so far
        fixed = self.sample_latent(num_fixed_samples, generator=torch.Generator().manual_seed(fixed_noise_seed))
        self.register_buffer("fixed_latent", fixed)

    # ----------------------------------------------------------------------------------------------------------
    # What a GAN file provides
    # ----------------------------------------------------------------------------------------------------------
    def d_step(self, batch: Any) -> dict[str, Tensor]:
        """One discriminator objective on ``batch``: ``{"loss": scalar to minimise, ...diagnostics}``."""
        raise NotImplementedError

    def g_step(self, batch: Any) -> dict[str, Tensor]:
        """One generator objective: ``{"loss": scalar to minimise, ...diagnostics}``."""
        raise NotImplementedError

    def after_d_step(self) -> None:
        """Runs after every D update (e.g. WGAN's weight clipping)."""

    def sample_latent(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """``z ~ N(0, I)``, ``[n, z_dim]``, on the module's device."""
        device = generator.device if generator is not None else self.device
        return torch.randn(n, self.z_dim, generator=generator, device=device).to(self.device)

    def generate(self, latent: Tensor) -> Tensor:
        """``G(latent)``; models with conditions or codes override this."""
        return self.generator(latent)

    def generator_parameters(self) -> Iterator[nn.Parameter]:
        return self.generator.parameters()

    def discriminator_parameters(self) -> Iterator[nn.Parameter]:
        return self.discriminator.parameters()

    # ----------------------------------------------------------------------------------------------------------
    # The loop
    # ----------------------------------------------------------------------------------------------------------
    def forward(self, latent: Tensor) -> Tensor:
        return self.generate(latent)

    def configure_optimizers(self) -> list[torch.optim.Optimizer]:
        return [
            self.make_optimizer(self.generator_parameters(), self.lr_g, self.betas_g),
            self.make_optimizer(self.discriminator_parameters(), self.lr_d, self.betas_d),
        ]

    def make_optimizer(self, params: Iterator[nn.Parameter], lr: float, betas: tuple[float, float]):
        return self.optimizer_class(params, lr=lr, betas=betas)

    def training_step(self, batch: Any, batch_idx: int) -> None:
        opt_g, opt_d = self.optimizers()

        with self.toggled_optimizer(opt_d):
            d_out = self.d_step(batch)
            opt_d.zero_grad(set_to_none=True)
            self.manual_backward(d_out["loss"])
            opt_d.step()
        self.after_d_step()
        self.d_steps += 1
        logs = {f"train/d/{name}": value.detach() for name, value in d_out.items()}

        if self.d_steps % self.n_critic == 0:
            with self.toggled_optimizer(opt_g):
                g_out = self.g_step(batch)
                opt_g.zero_grad(set_to_none=True)
                self.manual_backward(g_out["loss"])
                _step_uncounted(opt_g)
            self.g_steps += 1
            logs.update({f"train/g/{name}": value.detach() for name, value in g_out.items()})

        self.log_dict(logs, prog_bar=False)
        self.log("d_loss", logs["train/d/loss"], prog_bar=True, logger=False)
        if "train/g/loss" in logs:
            self.log("g_loss", logs["train/g/loss"], prog_bar=True, logger=False)

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        """Deliberately light: it exists so that Lightning runs the validation loop, where the sample and metric
        callbacks do their work (``on_validation_batch_end`` sees the real batches)."""

    # ----------------------------------------------------------------------------------------------------------
    # Sampling
    # ----------------------------------------------------------------------------------------------------------
    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """``n`` samples from G in eval mode: images ``[n, C, H, W]`` in [-1, 1], toy points ``[n, D]``."""
        return self.sample_from(self.sample_latent(n, generator))

    @torch.no_grad()
    def sample_from(self, latent: Tensor) -> Tensor:
        with eval_mode(self.generator):
            return self.generate(latent.to(self.device))

    def sample_fixed(self) -> Tensor:
        """Samples from the fixed latent batch (the same ``z`` at every call, for grids over training)."""
        return self.sample_from(self.fixed_latent)

    # ----------------------------------------------------------------------------------------------------------
    # Checkpoints
    # ----------------------------------------------------------------------------------------------------------
    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["lit_gans"] = {"model": class_path(type(self)), "d_steps": self.d_steps, "g_steps": self.g_steps}

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        info = checkpoint_info(checkpoint, "this checkpoint")
        if info["model"] != class_path(type(self)):
            saved = info["model"].rsplit(".", 1)[-1]
            raise LitGansError(
                f"the checkpoint holds a {saved} but this run builds a "
                f"{type(self).__name__}: pass --model {saved} or a checkpoint of this model"
            )
        own = self.state_dict()
        for key, value in checkpoint["state_dict"].items():
            if key in own and own[key].shape != value.shape:
                raise LitGansError(
                    f"the checkpoint's {key} has shape {tuple(value.shape)} but this {type(self).__name__} has "
                    f"{tuple(own[key].shape)}: build the model with the checkpoint's hyper-parameters "
                    f"({_short_hparams(checkpoint)})"
                )
        self.d_steps, self.g_steps = info["d_steps"], info["g_steps"]


def checkpoint_info(checkpoint: dict[str, Any], source: str) -> dict[str, Any]:
    """The ``lit_gans`` entry every lit-gans checkpoint carries: ``{"model": class path, "d_steps", "g_steps"}``."""
    info = checkpoint.get("lit_gans")
    if info is None:
        raise LitGansError(f"{source} was not written by lit-gans (it has no 'lit_gans' entry)")
    return info


def _step_uncounted(optimizer: LightningOptimizer) -> None:
    """``optimizer.step()`` without advancing ``trainer.global_step``: the manual loop injects its step counter as
    the optimizer's ``_on_before_step`` / ``_on_after_step`` hooks for every batch (Lightning issue 17958)."""
    counted = optimizer._on_before_step, optimizer._on_after_step
    optimizer._on_before_step = optimizer._on_after_step = _nothing
    try:
        optimizer.step()
    finally:
        optimizer._on_before_step, optimizer._on_after_step = counted


def _nothing() -> None:
    return None


def _short_hparams(checkpoint: dict[str, Any]) -> str:
    hparams = {k: v for k, v in checkpoint.get("hyper_parameters", {}).items() if not k.startswith("_")}
    return ", ".join(f"{k}={v}" for k, v in hparams.items())
