"""``GANModule``: the one training loop every GAN in lit-gans runs through.

A GAN file subclasses it, builds ``self.generator`` and ``self.discriminator`` and writes its paper's maths in two
hooks, each returning a dict of scalars whose ``"loss"`` is minimised and whose other entries are logged (on the
batches Lightning writes, every ``log_every_n_steps``):

    d_step(batch) -> {"loss": ..., ...}    every batch: one discriminator (critic) update
    g_step(batch) -> {"loss": ..., ...}    every ``n_critic``-th batch: one generator update

Models with several generators or discriminators (CycleGAN's G and F, D_X and D_Y) keep them in one container each
(``self.generator = nn.ModuleDict(...)``): one optimizer, one EMA copy and one DDP wrapper then hold them all.
Image-to-image models set ``latent_input = False`` (no z, no fixed latent batch; see ``lit_gans.translation``).

Only ``training_step`` touches the optimizers. During the D step G's parameters are frozen (no graph is built
through G), during the G step D's are (gradients flow through D into G, none accumulate in D). ``after_d_step``
runs after each D update (weight clipping uses it).

Around that loop the base owns what every GAN needs the same way: an EMA copy of G (``ema_decay``) used for
sampling and metrics; a guard against non-finite losses and gradients (``nonfinite``: stop with a clear error before
any bad update, or skip the update); per-epoch learning-rate schedulers (``make_schedulers``); per-rank noise under
DDP; and checkpoints that hold the step counters and every rank's RNG state, so a resumed run continues exactly.

What a step counts: one batch. ``trainer.max_steps``, ``trainer.global_step``, ``val_check_interval``,
``log_every_n_steps`` and the loggers' x-axis all count batches, that is D steps; G steps number
``global_step // n_critic`` on a fixed schedule (``critic_steps`` may vary it). (Lightning by itself counts every
optimizer step, so a D and a G step would count two; the G step is therefore taken outside Lightning's step counter.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar, Literal

import torch
import torch.distributed as dist
from lightning.pytorch import Callback, LightningModule, Trainer
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.core.optimizer import LightningOptimizer
from lightning.pytorch.plugins.precision import Precision
from lightning.pytorch.strategies import SingleDeviceStrategy
from lightning.pytorch.utilities import rank_zero_warn
from lightning_utilities.core.apply_func import apply_to_collection
from torch import Tensor, nn

from lit_gans.ema import ema_copy, ema_update_
from lit_gans.errors import LitGansError
from lit_gans.rng import offset_seed_for_rank, rng_state, set_rng_state


def uncompiled(module: nn.Module) -> Callable[..., Any]:
    """``module``'s own call (hooks included), past an in-place ``torch.compile`` (``compile_networks``): for the
    gradient penalties' double backward through D, which compiled graphs (AOT autograd) do not support."""
    return module._call_impl


def guard_parameters_requires_grad() -> None:
    """Make compiled graphs check their parameters' ``requires_grad`` on every call. The D and G steps switch off
    the other network's (``GANModule.trained_alone``); dynamo's dict-tag fast path skipped that check before
    torch 2.12 (pytorch#139476), so a compiled G first called in a D step, its parameters frozen, kept its no-grad
    graph in the G step (seen with torch 2.11 on CUDA: "element 0 of tensors does not require grad"). Process-wide
    and left set: the compiled networks outlive the fit."""
    import torch._dynamo

    config = torch._dynamo.config
    if hasattr(config, "skip_tensor_guards_with_matching_dict_tags"):
        config.skip_tensor_guards_with_matching_dict_tags = False


def skip_cuda_graph_capture_check(optimizer: torch.optim.Optimizer) -> None:
    """For an optimizer whose parameters are all on the CPU: its ``step`` no longer checks that no CUDA graph is
    being captured. Adam's and AdamW's check asks ``torch.cuda.is_available()``, which Lightning routes through NVML
    (it sets ``PYTORCH_NVML_BASED_CUDA_CHECK=1`` when imported) and torch does not cache before CUDA is initialised:
    on a CPU run with a CUDA build of torch every step loads the NVML library again (0.08 to 0.15 ms here, 1-2% of a
    toy update). Parameters on the CPU cannot be part of a CUDA graph, so the check has nothing to find."""
    if hasattr(optimizer, "_accelerator_graph_capture_health_check"):
        optimizer._accelerator_graph_capture_health_check = _nothing


def lightning_adds_nothing_to_updates(trainer: Trainer) -> bool:
    """Whether ``manual_backward(loss)`` and ``LightningOptimizer.step()`` would do nothing here but
    ``loss.backward()`` and the optimizer's own ``step()`` (and count the step): one device, full precision, and no
    callback or module hook around the backward pass or the optimizer step. Their wrappers and hook calls cost about
    0.04 ms each (4 a GAN update, about 3% of a toy MLP update on these CPUs), so the loop skips them then."""
    if type(trainer.strategy) is not SingleDeviceStrategy or type(trainer.precision_plugin) is not Precision:
        return False
    hooks = ("on_before_backward", "on_after_backward", "on_before_optimizer_step")
    module_type = type(trainer.lightning_module)
    if any(getattr(module_type, hook) is not getattr(LightningModule, hook) for hook in (*hooks, "backward")):
        return False
    return all(getattr(type(cb), hook) is getattr(Callback, hook) for cb in trainer.callbacks for hook in hooks)


def finite_loss_and_grads(loss: Tensor, grads: list[Tensor]) -> Tensor:
    """Whether ``loss`` and every entry of ``grads`` are finite, as a bool tensor ``[1]``: one fused pass over the
    gradients of each device and dtype, the check ``GradScaler`` makes (``_amp_foreach_non_finite_check_and_unscale_``
    at a scale of 1, which leaves the gradients as they are). A quarter of the time of a fused norm over the same
    gradients on these CPUs (7 against 29 us for a toy D's 8 tensors)."""
    found = torch.zeros(1, device=loss.device)  # set to 1 by the check on a NaN or inf
    by_kind: dict[tuple[torch.device, torch.dtype], list[Tensor]] = {}
    for grad in grads:
        by_kind.setdefault((grad.device, grad.dtype), []).append(grad)
    for (device, _), group in by_kind.items():
        found_here = found if device == found.device else torch.zeros(1, device=device)
        torch._amp_foreach_non_finite_check_and_unscale_(group, found_here, torch.ones(1, device=device))
        if found_here is not found:
            found = found + found_here.to(found.device)
    return torch.isfinite(loss) & (found == 0)


def images_channels_last(batch: Any) -> Any:
    """``batch`` with its 4-D float tensors (images ``[B, C, H, W]``) in the channels-last memory layout."""
    return apply_to_collection(
        batch,
        Tensor,
        lambda t: t.contiguous(memory_format=torch.channels_last) if t.dim() == 4 and t.is_floating_point() else t,
    )


class NonFiniteLossError(LitGansError):
    """A loss or gradient became NaN or infinite; raised before the bad update, so the weights stay finite."""


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
        z_dim: size of the latent vector ``z ~ N(0, I)`` (a number of dimensions).
        lr_g: G's learning rate (Adam's ``alpha``, unless the model names another optimizer); separate from D's:
            the two time-scale update rule (Heusel et al. 2017).
        lr_d: D's (the critic's) learning rate, as ``lr_g`` for G.
        betas_g: Adam's ``(beta1, beta2)`` for G: the decay rates of its running means of the gradient and of the
            squared gradient.
        betas_d: Adam's ``(beta1, beta2)`` for D.
        n_critic: D steps per G step (``k`` in Goodfellow 2014's Algorithm 1, ``n_critic`` in WGAN); 1 alternates
            one D and one G update.
        num_fixed_samples: size of the fixed latent batch used for sample grids, so grids are comparable over time.
        fixed_noise_seed: seed of that batch (the same seed gives the same grid latents in every run).
        ema_decay: decay of the exponential moving average of G's weights, updated after every G step and used by
            ``sample`` and the metric callbacks; 0 turns it off (e.g. 0.999 as in ProGAN/StyleGAN).
        nonfinite: what a NaN/inf loss or gradient does: ``stop`` raises ``NonFiniteLossError`` naming the step and
            the loss before anything is updated or saved (the last checkpoint stays the last good one); ``skip``
            drops that update, counts it in ``train/skipped_updates`` and goes on.
        compile_networks: ``torch.compile`` every trained network (G and D, each of CycleGAN's) in place when
            fitting starts, so checkpoints keep their keys; the first steps pay the compilation. Off by default:
            on the CPU it made DCGAN no faster (benchmarks/README.md, "Compile and channels-last").
        channels_last: keep conv weights and 4-D image batches in the channels-last (NHWC) memory layout, which
            tensor cores prefer; a no-op for MLPs. Off by default, for the same reason.
        updates_per_batch: how many D updates (each followed by G's as ``n_critic`` says) one training batch
            makes: every tensor of the batch is cut into this many equal parts along its first axis, one an update,
            in order. Lightning's per-batch machinery (loading, hooks, progress; about 0.4 ms on these CPUs) is
            then paid once for several updates, which matters for small networks (the toy MLPs, whose update
            takes a few ms): ``--data.batch_size 2048 --model.updates_per_batch 8`` trains on the very batches of
            256 that ``--data.batch_size 256`` gives, in the same order (benchmarks/README.md, "Training speed").
            ``global_step`` and ``max_steps`` still count D updates (the parts past ``max_steps`` are left
            unused); ``val_check_interval`` and ``log_every_n_steps`` count batches; a checkpoint's
            ``every_n_train_steps`` must be a multiple of it.
    """

    optimizer_class: ClassVar[type[torch.optim.Optimizer]] = torch.optim.Adam
    # False for models driven by input images instead of noise (image-to-image translation): no z, no fixed latent
    latent_input: ClassVar[bool] = True
    # the preset (a path relative to the repository) that `cli.py fit --model NAME` uses when nothing names the
    # data: a small offline task, so every model trains with no other argument
    offline_preset: ClassVar[str | None] = None
    # presets for named data, used when `fit --model NAME --data DATA ...` has no --config: ``{"DATA key=value ...":
    # path}``, the data's class name and the ``--data.key`` values that must match
    data_presets: ClassVar[dict[str, str]] = {}

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
        ema_decay: float = 0.0,
        nonfinite: Literal["stop", "skip"] = "stop",
        compile_networks: bool = False,
        channels_last: bool = False,
        updates_per_batch: int = 1,
    ) -> None:
        super().__init__()
        if not 0.0 <= ema_decay < 1.0:
            raise LitGansError(f"ema_decay must lie in [0, 1) (0 turns EMA off), got {ema_decay}")
        if nonfinite not in ("stop", "skip"):
            raise LitGansError(f"nonfinite must be 'stop' or 'skip', got {nonfinite!r}")
        if n_critic < 1:
            raise LitGansError(f"n_critic must be at least 1 (D steps per G step), got {n_critic}")
        if updates_per_batch < 1:
            raise LitGansError(f"updates_per_batch must be at least 1, got {updates_per_batch}")
        if self.latent_input and z_dim < 1:
            raise LitGansError(f"z_dim must be at least 1, got {z_dim}")
        self.automatic_optimization = False
        self.z_dim = z_dim
        self.lr_g, self.lr_d = lr_g, lr_d
        self.betas_g, self.betas_d = tuple(betas_g), tuple(betas_d)
        self.n_critic = n_critic
        self.ema_decay, self.nonfinite = ema_decay, nonfinite
        self.compile_networks, self.channels_last = compile_networks, channels_last
        self.updates_per_batch = updates_per_batch
        self.fixed_noise_seed = fixed_noise_seed
        self.d_steps = 0  # D steps taken so far, skipped ones included (saved in checkpoints)
        self.g_steps = 0  # G steps taken so far
        self.d_steps_since_g = 0  # D steps since the last G step (saved: a variable schedule resumes exactly)
        self.skipped_updates = 0  # updates dropped by nonfinite="skip"
        self._plain_updates = False  # backward and optimizer steps without Lightning's wrappers (on_train_start)
        # whether the step under way is logged: models compute their diagnostics (D's accuracy) only then; always
        # outside the training loop
        self.diagnosing = True
        self._last_g_out: dict[str, Tensor] | None = None  # G's values of its latest step, for the next logged batch
        if self.latent_input:
            fixed = self.sample_latent(num_fixed_samples, generator=torch.Generator().manual_seed(fixed_noise_seed))
            self.register_buffer("fixed_latent", fixed)

    # ----------------------------------------------------------------------------------------------------------
    # What a GAN file provides
    # ----------------------------------------------------------------------------------------------------------
    def d_step(self, batch: Any) -> dict[str, Tensor]:
        """One discriminator objective on ``batch``: ``{"loss": scalar to minimise, ...diagnostics}``; a true
        ``"skip_update"`` entry drops this D update (its gradients are left unset, so the optimizer changes
        nothing)."""
        raise NotImplementedError

    def g_step(self, batch: Any) -> dict[str, Tensor]:
        """One generator objective: ``{"loss": scalar to minimise, ...diagnostics}``."""
        raise NotImplementedError

    def critic_steps(self) -> int:
        """D steps before the next G step, asked after every D step: ``n_critic`` by default; a model may vary it
        with ``self.g_steps`` (WGAN's warm-up of the critic)."""
        return self.n_critic

    def after_d_step(self) -> None:
        """Runs after every D update (e.g. WGAN's weight clipping)."""

    def after_g_step(self) -> None:
        """Runs after every G update (e.g. historical averaging's running mean)."""

    def current_ema_decay(self) -> float:
        """The EMA decay of this G step: ``ema_decay``; a model with phases may shorten it (ProGAN)."""
        return self.ema_decay

    def progress_logs(self) -> dict[str, Tensor]:
        """Values a model logs with the losses besides its objectives' (ProGAN: resolution, alpha, phase)."""
        return {}

    def sample_latent(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """``z ~ N(0, I)``, ``[n, z_dim]``, on the module's device."""
        device = generator.device if generator is not None else self.device
        return torch.randn(n, self.z_dim, generator=generator, device=device).to(self.device)

    def draw_fake(self, n: int) -> Tensor:
        """``G(z)`` for ``n`` fresh ``z ~ N(0, I)``, with G's graph (detach it in a D step)."""
        return self.generator(self.sample_latent(n))

    def generate(self, latent: Tensor, net: nn.Module | None = None, **conditions: Tensor) -> Tensor:
        """``G(latent)`` with ``net`` as G (the trained G by default, its EMA copy when sampling); models with
        conditions or codes override this."""
        return (self.generator if net is None else net)(latent)

    def make_schedulers(self, opt_g: torch.optim.Optimizer, opt_d: torch.optim.Optimizer) -> list[Any]:
        """Learning-rate schedulers, stepped once at the end of every training epoch (none by default)."""
        return []

    def generator_parameters(self) -> Iterator[nn.Parameter]:
        return self.generator.parameters()

    def discriminator_parameters(self) -> Iterator[nn.Parameter]:
        return self.discriminator.parameters()

    # ----------------------------------------------------------------------------------------------------------
    # The loop
    # ----------------------------------------------------------------------------------------------------------
    def forward(self, latent: Tensor) -> Tensor:
        return self.generate(latent)

    def configure_model(self) -> None:
        """Adds ``generator_ema``, G's EMA copy, once G exists (subclasses build G after the base constructor).
        Lightning calls this before it restores a checkpoint or wraps the module in DDP, and so does
        ``load_from_checkpoint``."""
        if self.channels_last:
            self.to(memory_format=torch.channels_last)  # 4-D weights only; parameters stay the same objects
        if self.ema_decay > 0 and not hasattr(self, "generator_ema"):
            self.generator_ema = ema_copy(self.generator)

    def trained_networks(self) -> list[nn.Module]:
        """The networks the optimizers train: G and D, or the members of a ``ModuleDict`` of them (CycleGAN's)."""
        networks = []
        for net in (self.generator, self.discriminator):
            networks += list(net.values()) if isinstance(net, nn.ModuleDict) else [net]
        return networks

    def on_fit_start(self) -> None:
        k = self.updates_per_batch
        for callback in self.trainer.callbacks if k > 1 else []:
            every = getattr(callback, "_every_n_train_steps", 0) if isinstance(callback, ModelCheckpoint) else 0
            if every % k:  # Lightning saves when global_step is a multiple, which jumps by k a batch
                raise LitGansError(
                    f"a ModelCheckpoint saves every {every} steps, which updates_per_batch {k} would skip: make "
                    f"every_n_train_steps a multiple of {k}"
                )
        # in place (``nn.Module.compile``): the state-dict keys, the optimizers' parameters and the EMA copy (made
        # before, left uncompiled: it only samples) stay as they are
        if self.compile_networks:
            guard_parameters_requires_grad()
            if self.channels_last and self.device.type == "cuda":
                rank_zero_warn(
                    "compile_networks with channels_last failed on torch 2.11 with CUDA (inductor's stride check in "
                    "the backward of a transposed conv on a 1x1 input, DCGAN's first G layer; benchmarks/README.md, "
                    "'On a GPU'): if inductor raises 'AssertionError: expected size ... stride', drop one of them"
                )
            for net in self.trained_networks():
                net.compile()

    def on_train_start(self) -> None:
        self._plain_updates = lightning_adds_nothing_to_updates(self.trainer)
        if self.device.type == "cpu":
            for optimizer in self.trainer.optimizers:
                skip_cuda_graph_capture_check(optimizer)

    @property
    def sampling_generator(self) -> nn.Module:
        """The G that ``sample`` and the metrics use: the EMA copy when EMA is on, else the trained G."""
        return self.generator_ema if hasattr(self, "generator_ema") else self.generator

    def setup(self, stage: str) -> None:
        # seed_everything seeds every DDP rank alike: without this each rank would draw the same latent noise
        offset_seed_for_rank(self.global_rank)

    def configure_optimizers(self):
        opt_g = self.make_optimizer(self.generator_parameters(), self.lr_g, self.betas_g)
        opt_d = self.make_optimizer(self.discriminator_parameters(), self.lr_d, self.betas_d)
        schedulers = self.make_schedulers(opt_g, opt_d)
        return ([opt_g, opt_d], schedulers) if schedulers else [opt_g, opt_d]

    def make_optimizer(self, params: Iterator[nn.Parameter], lr: float, betas: tuple[float, float]):
        return self.optimizer_class(params, lr=lr, betas=betas)

    def training_step(self, batch: Any, batch_idx: int) -> None:
        if self.channels_last:
            batch = images_channels_last(batch)
        logged = self._logging_step()
        parts = self.update_batches(batch)
        for index, part in enumerate(parts):
            self.diagnosing = logged and index == len(parts) - 1  # the logged values are the last update's
            out = self.training_update(part)
        self.diagnosing = True
        if logged:
            self._log_step(out)

    def update_batches(self, batch: Any) -> list[Any]:
        """The batches of this training batch's updates: ``[batch]``, or with ``updates_per_batch = k`` every tensor
        ``[B, ...]`` cut into ``k`` parts ``[B/k, ...]`` (part ``i`` holds rows ``i B/k`` to ``(i+1) B/k``), without
        the parts that would run past ``max_steps``."""
        k = self.updates_per_batch
        if k == 1:
            return [batch]
        sizes = set()
        apply_to_collection(batch, Tensor, lambda tensor: sizes.add(len(tensor)))
        uneven = sorted(size for size in sizes if size % k)
        if uneven:
            raise LitGansError(
                f"updates_per_batch {k} must divide the batch, which holds {uneven[0]} rows: pass a --data.batch_size "
                f"that is a multiple of {k}"
            )
        parts = k
        if self.trainer.max_steps >= 0:  # each part is one D step, one global step
            parts = max(1, min(k, self.trainer.max_steps - self.global_step))
        return [apply_to_collection(batch, Tensor, _rows_part, part=i, parts=k) for i in range(parts)]

    def training_update(self, batch: Any) -> dict[str, Tensor]:
        """One D update on ``batch`` and, when ``critic_steps`` says so, one G update; returns D's values."""
        opt_g, opt_d = self.optimizers()
        with self.trained_alone(opt_d):
            d_out = self.d_step(batch)
            self._backward_checked(opt_d, d_out["loss"], "train/d/loss")
            if "skip_update" in d_out:  # the model's own rule may drop this update (VAE-GAN's equilibrium)
                skip = bool(d_out.pop("skip_update"))
                if self.trainer.world_size > 1:  # one verdict for every rank, or their D's would part
                    skip = self.trainer.strategy.reduce_boolean_decision(skip, all=True)
                if skip:
                    opt_d.zero_grad(set_to_none=True)
            self.step_optimizer(opt_d)  # a no-op on parameters whose update was dropped (grad None)
        self.after_d_step()
        self.d_steps += 1
        self.d_steps_since_g += 1

        if self.d_steps_since_g >= self.critic_steps():
            self.d_steps_since_g = 0
            with self.trained_alone(opt_g):
                g_out = self.g_step(batch)
                updated = self._backward_checked(opt_g, g_out["loss"], "train/g/loss")
                self.step_optimizer(opt_g, counted=False)
            self.after_g_step()
            self.g_steps += 1
            if updated and hasattr(self, "generator_ema"):
                ema_update_(self.generator_ema, self.generator, self.current_ema_decay())
            self._last_g_out = {name: value.detach() for name, value in g_out.items()}
        return d_out

    def step_optimizer(self, optimizer: LightningOptimizer, counted: bool = True) -> None:
        """``optimizer.step()``; ``counted``: the step advances ``global_step`` (D's steps do, G's do not: the manual
        loop counts every optimizer step as Lightning issue 17958 describes, so ``max_steps`` would count both)."""
        if not self._plain_updates:
            optimizer.step() if counted else _step_uncounted(optimizer)
            return
        if counted:
            optimizer._on_before_step()  # the manual loop's step count (and the profiler's optimizer_step)
        optimizer.optimizer.step()
        if counted:
            optimizer._on_after_step()

    @contextmanager
    def trained_alone(self, optimizer: LightningOptimizer) -> Iterator[None]:
        """Inside, the parameters of every other optimizer (G's in a D step, D's in a G step) do not require grad,
        so no gradient reaches them and no graph is built through them; afterwards they are as they were. Lightning's
        ``toggled_optimizer`` does the same by saving and setting every parameter of every optimizer; this touches
        only the others' (one loop over the parameters, as a hand-written loop freezes D for its G step)."""
        own = {id(param) for group in optimizer.param_groups for param in group["params"]}
        others = [
            param
            for other in self.trainer.optimizers
            for group in other.param_groups
            for param in group["params"]
            if id(param) not in own
        ]
        states = [param.requires_grad for param in others]
        for param in others:
            param.requires_grad_(False)
        try:
            yield
        finally:
            for param, state in zip(others, states):
                param.requires_grad_(state)

    def _logging_step(self) -> bool:
        """Whether Lightning writes this batch's logged values (its ``should_update_logs``: every
        ``log_every_n_steps``-th batch, counted from 1, or the last): only then are they logged, so the other
        batches pay for no logging call."""
        trainer = self.trainer
        every = trainer.log_every_n_steps
        batch_number = trainer.fit_loop.epoch_loop._batches_that_stepped + 1  # Lightning's own count, resumed too
        return bool(every) and (batch_number % every == 0 or trainer.should_stop)

    def _log_step(self, d_out: dict[str, Tensor]) -> None:
        """D's values of this batch's last update and G's of its latest step (``train/d/...``, ``train/g/...``),
        the losses also on the progress bar."""
        g_out = self._last_g_out
        logs = {f"train/d/{name}": value.detach() for name, value in d_out.items()}
        if g_out is not None:
            logs.update({f"train/g/{name}": value for name, value in g_out.items()})
        logs.update(self.progress_logs())
        if self.nonfinite == "skip":
            logs["train/skipped_updates"] = torch.tensor(float(self.skipped_updates))
        self.log_dict(logs, prog_bar=False)
        self.log("d_loss", logs["train/d/loss"], prog_bar=True, logger=False)
        if "train/g/loss" in logs:
            self.log("g_loss", logs["train/g/loss"], prog_bar=True, logger=False)

    def on_train_epoch_end(self) -> None:
        schedulers = self.lr_schedulers()  # None, one scheduler, or a list
        if schedulers is None:
            return
        for scheduler in schedulers if isinstance(schedulers, list) else [schedulers]:
            scheduler.step()

    def _backward_checked(self, optimizer: LightningOptimizer, loss: Tensor, name: str) -> bool:
        """Zero the grads and backpropagate ``loss``; unless the loss and the gradients of ``optimizer``'s parameters
        are finite, stop (raise) or drop the update (grads set to None, so the optimizer step changes nothing).
        Returns whether the update stands.

        One check a step, one host read: ``finite_loss_and_grads`` (under DDP also one all-reduce of the verdict,
        that every rank takes the same branch). Under fp16 the grad scaler itself skips inf gradients: the loss alone
        is checked there."""
        optimizer.zero_grad(set_to_none=True)
        if self._plain_updates:
            loss.backward()
        else:
            self.manual_backward(loss)
        loss = loss.detach()
        if getattr(self.trainer.precision_plugin, "scaler", None) is None:
            grads = [
                param.grad for group in optimizer.param_groups for param in group["params"] if param.grad is not None
            ]
            finite = bool(finite_loss_and_grads(loss, grads))
        else:
            finite = bool(torch.isfinite(loss))
        if self.trainer.world_size > 1:  # every rank must take the same branch, or DDP's all-reduce waits forever
            finite = not self.trainer.strategy.reduce_boolean_decision(not finite, all=False)
        if finite:
            return True
        optimizer.zero_grad(set_to_none=True)
        if self.nonfinite == "stop":
            if not torch.isfinite(loss):
                problem = f"{name} is {loss.item()}"
            elif self.trainer.world_size == 1:
                problem = f"the gradient of {name} (loss {loss.item()}) has NaN or infinite entries"
            else:
                problem = f"{name} (loss {loss.item()}) or its gradient is not finite"
            problem += " on at least one rank" if self.trainer.world_size > 1 else ""
            checkpoint = getattr(self.trainer.checkpoint_callback, "last_model_path", "") or getattr(
                self.trainer.checkpoint_callback, "best_model_path", ""
            )
            kept = f"the last checkpoint, {checkpoint}, holds finite weights" if checkpoint else "no checkpoint yet"
            raise NonFiniteLossError(
                f"step {self.global_step + 1}: {problem}; stopped before updating ({kept}). Lower the learning rates, "
                "or pass --model.nonfinite skip to drop such updates and go on"
            )
        self.skipped_updates += 1
        return False

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        """Deliberately light: it exists so that Lightning runs the validation loop, where the sample and metric
        callbacks do their work (``on_validation_batch_end`` sees the real batches)."""

    # ----------------------------------------------------------------------------------------------------------
    # Sampling
    # ----------------------------------------------------------------------------------------------------------
    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None, **conditions: Any) -> Tensor:
        """``n`` samples from G in eval mode: images ``[n, C, H, W]`` in [-1, 1], toy points ``[n, D]``.
        ``conditions`` (class labels, latent codes) are what the model's ``draw_conditions`` accepts; whatever is
        not given is drawn from its prior."""
        latent = self.sample_latent(n, generator)
        return self.sample_from(latent, **self.draw_conditions(n, generator, **conditions))

    @torch.no_grad()
    def sample_from(self, latent: Tensor, **conditions: Tensor) -> Tensor:
        net = self.sampling_generator
        with eval_mode(net):
            conditions = {name: value.to(self.device) for name, value in conditions.items()}
            return self.generate(latent.to(self.device), net, **conditions)

    def sampling_note(self) -> str | None:
        """A caveat that ``cli.py sample`` prints with the samples (ProGAN's mid-growth checkpoints), or None."""
        return None

    def sample_fixed(self) -> Tensor:
        """Samples from the fixed latent batch (the same ``z`` and conditions at every call, for grids over
        training)."""
        return self.sample_from(self.fixed_latent, **self.fixed_conditions())

    def sample_grids(self) -> dict[str, tuple[Tensor, int | None]]:
        """The image grids ``LogSamples`` writes at each validation, ``{tag: (images [N, C, H, W], per_row)}``: by
        default the fixed batch as a square grid; conditional models add a row per class or code traversals."""
        return {"samples": (self.sample_fixed(), None)}

    def draw_conditions(self, n: int, generator: torch.Generator | None = None, **given: Any) -> dict[str, Tensor]:
        """The conditions of ``n`` samples besides ``z`` (labels, codes), ``given`` ones checked and the rest drawn
        from their prior with ``generator``; unconditional models take none."""
        if given:
            raise LitGansError(f"{type(self).__name__} is unconditional: it takes no {', '.join(sorted(given))}")
        return {}

    def fixed_conditions(self) -> dict[str, Tensor]:
        """The conditions that go with ``fixed_latent`` in sample grids (e.g. one class per row)."""
        return {}

    # ----------------------------------------------------------------------------------------------------------
    # Checkpoints
    # ----------------------------------------------------------------------------------------------------------
    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["lit_gans"] = {
            "model": class_path(type(self)),
            "d_steps": self.d_steps,
            "g_steps": self.g_steps,
            "d_steps_since_g": self.d_steps_since_g,
            "skipped_updates": self.skipped_updates,
            "rng_states": gather_from_ranks(rng_state()),  # one per rank: Lightning calls this on every rank
        }

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
        # checkpoints from before the variable schedule ran a fixed n_critic
        self.d_steps_since_g = info.get("d_steps_since_g", info["d_steps"] % self.n_critic)
        self.skipped_updates = info.get("skipped_updates", 0)
        states = info.get("rng_states")
        if states and self._trainer is not None:  # resuming a run (not merely loading weights)
            if self.global_rank < len(states):
                set_rng_state(states[self.global_rank])
            else:  # more ranks than the run that saved it: derive a fresh stream from rank 0's
                set_rng_state(states[0])
                offset_seed_for_rank(self.global_rank)


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


def gather_from_ranks(value: Any) -> list[Any]:
    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        gathered: list[Any] = [None] * dist.get_world_size()
        dist.all_gather_object(gathered, value)
        return gathered
    return [value]


def _rows_part(tensor: Tensor, part: int, parts: int) -> Tensor:
    """Part ``part`` of ``parts`` equal parts of ``tensor``'s rows."""
    size = len(tensor) // parts
    return tensor[part * size : (part + 1) * size]


def _nothing() -> None:
    return None


def _short_hparams(checkpoint: dict[str, Any]) -> str:
    hparams = {k: v for k, v in checkpoint.get("hyper_parameters", {}).items() if not k.startswith("_")}
    return ", ".join(f"{k}={v}" for k, v in hparams.items())
