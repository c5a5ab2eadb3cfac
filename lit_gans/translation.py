"""``TranslationGAN``: the base of image-to-image GANs (Pix2Pix, CycleGAN) on ``GANModule``'s training loop.

G maps an image of domain X to domain Y, with no latent input: batches are ``(x, y)``, paired (``y`` is the target
of ``x``) or unpaired (``y`` is an independent image of domain Y). A model that also learns the inverse map
``F: Y -> X`` (CycleGAN) sets ``bidirectional`` and keeps both generators in ``self.generator`` (one container, so
one optimizer, one EMA copy and one DDP wrapper hold both); ``mapping`` picks the one for a direction.

Both papers' code (junyanz/pytorch-CycleGAN-and-pix2pix, ``--lr_policy linear``) trains at a constant learning rate
for ``n_epochs`` epochs, then decays it linearly to 0 over ``n_epochs_decay`` (100 + 100 by default); training stops
when it reaches 0. The base owns that schedule.

Sampling: ``translate(x)`` (``inverse=True`` for F) runs the sampling generator (EMA copy when on) in eval mode;
``sample_from(x)`` is the same for the forward direction. There is no noise to draw, so ``sample(n)`` raises.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from lit_gans.base import GANModule, eval_mode
from lit_gans.errors import LitGansError


def constant_then_linear(epoch: int, n_epochs: int, n_epochs_decay: int) -> float:
    """Learning-rate factor of epoch ``epoch`` (from 0): ``1 - max(0, epoch + 1 - n_epochs) / (n_epochs_decay + 1)``,
    that is 1 for the first ``n_epochs`` epochs, then ``n_epochs_decay`` epochs on the line from 1 (epoch
    ``n_epochs - 1``) to 0 (epoch ``n_epochs + n_epochs_decay``, where training stops). As in the papers' code."""
    return max(0.0, 1.0 - max(0, epoch + 1 - n_epochs) / (n_epochs_decay + 1))


class TranslationGAN(GANModule):
    """Image-to-image GAN: ``G: X -> Y`` (and ``F: Y -> X`` when ``bidirectional``).

    Args:
        n_epochs: epochs at the initial learning rates.
        n_epochs_decay: epochs of linear decay of the learning rates to 0 after the first ``n_epochs``; training
            stops at their end.
        **kwargs: go to ``GANModule``: lr_g, lr_d, betas_g, betas_d (Adam for the generator(s) and the
            discriminator(s)), ema_decay (EMA of the generator(s)' weights, used by ``translate`` and the metrics;
            0: off), nonfinite (``stop`` or ``skip`` on a NaN/inf loss). The latent arguments are fixed: no z, no
            fixed latent batch, one D step per G step.
    """

    registry_base: ClassVar[bool] = True  # a base to build on: the CLI does not offer it as a model

    latent_input: ClassVar[bool] = False
    bidirectional: ClassVar[bool] = False

    def __init__(self, n_epochs: int = 100, n_epochs_decay: int = 100, **kwargs: Any) -> None:
        # no latent input: no z, no fixed latent batch, one D step per G step
        super().__init__(z_dim=0, n_critic=1, num_fixed_samples=0, fixed_noise_seed=0, **kwargs)
        if n_epochs < 0 or n_epochs_decay < 0:
            raise LitGansError(f"n_epochs and n_epochs_decay must be >= 0, got {n_epochs} and {n_epochs_decay}")
        self.n_epochs, self.n_epochs_decay = n_epochs, n_epochs_decay

    def make_schedulers(self, opt_g: torch.optim.Optimizer, opt_d: torch.optim.Optimizer) -> list[Any]:
        def factor(epoch: int) -> float:
            return constant_then_linear(epoch, self.n_epochs, self.n_epochs_decay)

        return [torch.optim.lr_scheduler.LambdaLR(opt, factor) for opt in (opt_g, opt_d)]

    def on_train_epoch_end(self) -> None:
        super().on_train_epoch_end()  # steps the schedulers
        if self.current_epoch + 1 >= self.n_epochs + self.n_epochs_decay:
            self.trainer.should_stop = True  # the learning rate is now 0

    def mapping(self, generators: nn.Module, inverse: bool = False) -> nn.Module:
        """The network of ``generators`` (``self.generator`` or its EMA copy) for X -> Y, or Y -> X if ``inverse``."""
        if inverse:
            raise LitGansError(f"{type(self).__name__} learns X -> Y only; it has no inverse map")
        return generators

    def generate(self, latent: Tensor, net: nn.Module | None = None, inverse: bool = False, **conditions) -> Tensor:
        """``G(x)`` (``F(x)`` if ``inverse``) with ``net`` as the generator(s); ``latent`` is the input image."""
        if conditions:
            raise LitGansError(f"{type(self).__name__} takes no conditions besides the input image")
        return self.mapping(self.generator if net is None else net, inverse)(latent)

    @torch.no_grad()
    def translate(self, x: Tensor, inverse: bool = False) -> Tensor:
        """``G(x)`` (or ``F(x)``) in eval mode: ``[N, C, H, W] -> [N, C, H, W]`` in [-1, 1]."""
        net = self.sampling_generator
        with eval_mode(net):
            return self.generate(x.to(self.device), net, inverse)

    def translation_panels(self, x: Tensor, y: Tensor) -> list[Tensor]:
        """The columns of a translation grid, each ``[N, C, H, W]``: ``x | G(x) | y`` (target, or an unpaired
        image of Y); bidirectional models show both cycles ``x | G(x) | F(G(x)) | y | F(y) | G(F(y))``."""
        gx = self.translate(x)
        if not self.bidirectional:
            return [x, gx, y]
        fy = self.translate(y, inverse=True)
        return [x, gx, self.translate(gx, inverse=True), y, fy, self.translate(fy)]

    def sample_latent(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        raise LitGansError(
            f"{type(self).__name__} translates images and draws no latent noise: call translate(x) or "
            "sample_from(x) with input images x [N, C, H, W]"
        )

    def sample(self, n: int, generator: torch.Generator | None = None, **conditions) -> Tensor:
        return self.sample_latent(n, generator)

    def sample_fixed(self) -> Tensor:
        return self.sample_latent(0)
