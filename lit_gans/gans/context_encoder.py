"""Context Encoder: Pathak, Krahenbuhl, Donahue, Darrell & Efros 2016, "Context Encoders: Feature Learning by
Inpainting" (arXiv:1604.07379).

An encoder-decoder ``F`` sees an image whose hole is blanked, ``x_ctx = M * x + fill * (1 - M)`` (``M [N, 1, H, W]``:
1 = known, 0 = hole), and predicts the image; its loss (eq. 1-3) is

    L = lambda_rec L_rec + lambda_adv L_adv,                 lambda_rec = 0.999, lambda_adv = 0.001
    L_rec = || w * (x - F(x_ctx)) ||_2^2 / #{w > 0}          w = 1 in the hole, overlap_weight (10) in the band of
                                                             known pixels within ``overlap`` of the hole, 0 elsewhere
    L_adv = -log D(crop(M x + (1 - M) F(x_ctx)))             (non-saturating, as the authors' code)
    D: descend  -log D(crop(x)) - log(1 - D(crop(M x + (1 - M) F(x_ctx))))

"D on the patch": D judges ``crop``, the bounding box of the hole that the mask type fixes: the central
``S/2 x S/2`` square for ``center`` (exactly the authors' centre patch), the left half ``S x S/2`` for ``left``, the
whole image for ``random:P`` (their ``train_random.lua``). Real: the true pixels there; fake: the known pixels with
the prediction pasted into the hole (the authors' centre D sees G's whole patch; pasting makes both coincide in the
hole and gives D nothing but the hole to judge).

The authors' code (pathak22/context-encoder, ``train.lua``) and how the knobs map:

- ``wtl2 = 0.999``: ``(1 - wtl2) L_adv + wtl2 L_rec`` (lines 372-374, 383-385; the README's training command);
- ``overlapPred = 4`` of 128 px and ``overlapL2Weight = 10`` (lines 380-382): their G predicts the centre patch and
  the input blanks that patch shrunk by 4 px, so the 4-px rim of the patch is context the L2 loss weights 10x.
  Here the mask's hole is what the input blanks (their shrunk square) and the band is the ``overlap`` known pixels
  around it; pasted results keep the band's true pixels. At 32 px the same proportion is ``overlap = 1``;
- the hole's fill is the dataset's mean colour, ImageNet's ``2 * (117, 104, 123) / 255 - 1`` (lines 283-285);
  ``fill_value`` (mid-grey 0 by default, the mean colour's dataset-agnostic stand-in);
- Adam ``beta1 = 0.5`` (line 20; Torch's beta2 0.999), D at ``lr = 2e-4``, the context encoder at 10x that when
  ``0 < wtl2 < 1`` (lines 213-221): ``lr_g = 2e-3``, ``lr_d = 2e-4``;
- ``nBottleneck = 4000`` (README; 100 in ``train.lua``'s defaults), ``nef = ngf = ndf = 64``, batch 64;
- ``niter`` epochs at a constant learning rate (25 in ``train.lua``, 500 in the README's command): ``n_epochs``.

Training draws fresh masks of the model's type at every step from torch's global generator, which
``seed_everything`` seeds and the base offsets per DDP rank and saves in checkpoints (so runs are reproducible,
ranks draw different random masks, and a resumed run goes on as it would have). Sampling: ``fill(images, mask)``
(the prediction) and ``complete(images, mask)`` (pasted) run the sampling generator (EMA copy when on) in eval mode;
``translate(x)`` / ``sample_from(x)`` complete the model's own mask type. There is no noise: ``sample(n)`` raises.
Batches: an image tensor ``[N, C, S, S]`` or a tuple/list whose first element is one (labels are ignored).
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lit_gans.base import eval_mode
from lit_gans.errors import LitGansError
from lit_gans.inpaint import hole_psnr, make_mask, masked, paste
from lit_gans.losses import (
    discriminator_accuracy,
    non_saturating_d_loss,
    non_saturating_g_loss,
    weighted_squared_error,
)
from lit_gans.networks.context_encoder import Bottleneck, ContextEncoderGenerator, PatchDiscriminator
from lit_gans.translation import TranslationGAN

MASK_TYPES = "center, left or random:P (P the missing fraction in (0, 1])"


def check_mask_spec(spec: str) -> str:
    """``spec`` when it is a mask type the model trains on (``center``, ``left``, ``random:P``), else a clear
    error."""
    if spec in ("center", "left"):
        return spec
    if spec.startswith("random:"):
        try:
            missing = float(spec.split(":", 1)[1])
        except ValueError:
            missing = -1.0
        if 0.0 < missing <= 1.0:
            return spec
    raise LitGansError(f"ContextEncoder's mask must be {MASK_TYPES}, got {spec!r}")


def patch_box(spec: str, size: int) -> tuple[slice, slice]:
    """The rows and columns D judges for mask type ``spec`` on ``size x size`` images: the hole's bounding box
    (``center``: the central ``size/2`` square; ``left``: the left ``size/2`` columns; ``random:P``: everything)."""
    if spec == "center":
        return slice(size // 4, size // 4 + size // 2), slice(size // 4, size // 4 + size // 2)
    if spec == "left":
        return slice(0, size), slice(0, size // 2)
    return slice(0, size), slice(0, size)


def reconstruction_weights(mask: Tensor, overlap: int, overlap_weight: float) -> Tensor:
    """``w [N, 1, H, W]`` of ``L_rec``: 1 in the hole (``mask == 0``), ``overlap_weight`` on the known pixels within
    ``overlap`` pixels (Chebyshev distance: a ``(2 overlap + 1)``-square) of a hole pixel, 0 on the other known
    pixels."""
    hole = 1 - mask
    if overlap == 0:
        return hole
    near_hole = F.max_pool2d(hole, 2 * overlap + 1, stride=1, padding=overlap)  # 1 within `overlap` of the hole
    return hole + overlap_weight * mask * near_hole


class ContextEncoder(TranslationGAN):
    """Context Encoder: encoder-decoder G trained on one mask type with L2 (overlap-weighted) + adversarial losses,
    D on the hole's patch.

    Args:
        data_shape: ``(C, S, S)`` of the images, linked from the datamodule; ``S`` a power of two >= 16.
        mask: the holes trained on: ``center`` (the central ``S/2`` square, the paper's), ``left`` (the left
            half), ``random:P`` (each pixel missing with probability ``P``, fresh at every step).
        lambda_rec: weight of the reconstruction loss (the authors' ``wtl2`` = 0.999).
        lambda_adv: weight of the adversarial loss in G's objective (``1 - wtl2`` = 0.001; 0: L2 alone, D still
            trained and logged).
        overlap: width in pixels of the band of known pixels around the hole that the reconstruction loss also
            counts (``overlapPred``: 4 at 128 px; 1 at 32 px; 0: the hole alone).
        overlap_weight: the band's weight relative to the hole's (``overlapL2Weight`` = 10).
        fill_value: the value of the hole's pixels in G's input, in [-1, 1] (the authors: the dataset's mean colour;
            0 is mid-grey).
        g_features: channels of the encoder's first conv (``nef``/``ngf``, 64), doubling per stage up to 8x.
        d_features: channels of D's first conv (``ndf``, 64), doubling per stage up to 8x.
        bottleneck: size of the ``conv`` bottleneck's code (``nBottleneck``: 4000 in the authors' README).
        bottleneck_type: ``conv`` (the authors' code: 4x4 conv to a ``bottleneck``-vector and back) or
            ``channelwise`` (the paper's channel-wise fully connected layer).
        n_epochs: epochs at the constant learning rate; training stops at their end (``niter``: 25).
        lr_g: the context encoder's Adam learning rate (10x D's in the authors' code: 2e-3).
        lr_d: D's Adam learning rate (2e-4).
        betas_g: G's Adam ``(beta1, beta2)`` (``(0.5, 0.999)``).
        betas_d: D's Adam ``(beta1, beta2)`` (``(0.5, 0.999)``).
        **kwargs: go to ``GANModule``: ema_decay, nonfinite, compile_networks, channels_last.
    """

    offline_preset: ClassVar[str] = "configs/context_encoder_shapes.yaml"
    data_presets: ClassVar[dict[str, str]] = {"MNIST": "configs/context_encoder_mnist.yaml"}

    def __init__(
        self,
        data_shape: tuple[int, int, int] = (3, 128, 128),
        mask: str = "center",
        lambda_rec: float = 0.999,
        lambda_adv: float = 0.001,
        overlap: int = 4,
        overlap_weight: float = 10.0,
        fill_value: float = 0.0,
        g_features: int = 64,
        d_features: int = 64,
        bottleneck: int = 4000,
        bottleneck_type: Bottleneck = "conv",
        n_epochs: int = 25,
        lr_g: float = 2e-3,
        lr_d: float = 2e-4,
        betas_g: tuple[float, float] = (0.5, 0.999),
        betas_d: tuple[float, float] = (0.5, 0.999),
        **kwargs: Any,
    ) -> None:
        super().__init__(
            n_epochs=n_epochs, n_epochs_decay=0, lr_g=lr_g, lr_d=lr_d, betas_g=betas_g, betas_d=betas_d, **kwargs
        )
        self.save_hyperparameters()
        data_shape = tuple(data_shape)
        if len(data_shape) != 3 or data_shape[1] != data_shape[2]:
            raise LitGansError(f"ContextEncoder needs square images (C, S, S), got data_shape={data_shape}")
        channels, size, _ = data_shape
        if size < 16 or size & (size - 1):
            raise LitGansError(
                f"ContextEncoder needs an image size S that is a power of two >= 16, got {size}: resize the data "
                "(e.g. --data.image_size 32)"
            )
        if overlap < 0 or overlap_weight < 0 or lambda_rec < 0 or lambda_adv < 0:
            raise LitGansError(
                "overlap, overlap_weight, lambda_rec and lambda_adv must be >= 0, got "
                f"{overlap}, {overlap_weight}, {lambda_rec}, {lambda_adv}"
            )
        if not -1.0 <= fill_value <= 1.0:
            raise LitGansError(f"fill_value must lie in [-1, 1] (the images' range), got {fill_value}")
        self.mask = check_mask_spec(mask)
        self.data_shape = data_shape
        self.lambda_rec, self.lambda_adv = lambda_rec, lambda_adv
        self.overlap, self.overlap_weight, self.fill_value = overlap, overlap_weight, fill_value
        self.box = patch_box(self.mask, size)
        patch = (self.box[0].stop - self.box[0].start, self.box[1].stop - self.box[1].start)
        self.generator = ContextEncoderGenerator(size, channels, g_features, bottleneck, bottleneck_type)
        self.discriminator = PatchDiscriminator(patch, channels, d_features)

    # ----------------------------------------------------------------------------------------------------------
    # Masks, the context, the patch
    # ----------------------------------------------------------------------------------------------------------
    def draw_masks(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """``M [n, 1, S, S]`` of the model's mask type (1 = known), on the module's device; random masks from
        ``generator`` (torch's global one by default: seeded, per rank, saved in checkpoints)."""
        return make_mask(self.mask, n, self.data_shape[1:], generator).to(self.device)

    def context(self, images: Tensor, mask: Tensor) -> Tensor:
        """G's input ``M x + fill (1 - M)``: nothing of the hole's pixels reaches G."""
        return masked(images, mask, self.fill_value)

    def crop(self, images: Tensor) -> Tensor:
        """The patch D judges, ``[N, C, h, w]`` (the hole's bounding box for the model's mask type)."""
        return images[..., self.box[0], self.box[1]]

    def images(self, batch: Any) -> Tensor:
        """The image batch ``[N, C, S, S]`` of a batch: the tensor itself, or the first element of a tuple/list."""
        images = batch[0] if isinstance(batch, (tuple, list)) else batch
        if not isinstance(images, Tensor) or tuple(images.shape[1:]) != self.data_shape:
            got = list(images.shape) if isinstance(images, Tensor) else type(images).__name__
            shape = ", ".join(map(str, self.data_shape))
            raise LitGansError(f"ContextEncoder expects image batches [N, {shape}], got {got}")
        return images

    # ----------------------------------------------------------------------------------------------------------
    # The algorithm
    # ----------------------------------------------------------------------------------------------------------
    def d_step(self, batch: Any) -> dict[str, Tensor]:
        x = self.images(batch)
        mask = self.draw_masks(len(x))
        fake = paste(x, self.generator(self.context(x, mask)).detach(), mask)  # M x + (1 - M) F(x_ctx)
        real_logits, fake_logits = self.discriminator(self.crop(x)), self.discriminator(self.crop(fake))
        out = {
            "loss": non_saturating_d_loss(real_logits, fake_logits),
        }
        if self.diagnosing:  # a diagnostic: computed for the logged updates only
            out["accuracy"] = discriminator_accuracy(real_logits, fake_logits)
        return out

    def g_step(self, batch: Any) -> dict[str, Tensor]:
        x = self.images(batch)
        mask = self.draw_masks(len(x))
        prediction = self.generator(self.context(x, mask))  # F(x_ctx) [N, C, S, S]
        weights = reconstruction_weights(mask, self.overlap, self.overlap_weight)
        rec = weighted_squared_error(prediction, x, weights)
        adv = non_saturating_g_loss(self.discriminator(self.crop(paste(x, prediction, mask))))
        return {"loss": self.lambda_rec * rec + self.lambda_adv * adv, "rec": rec, "adv": adv}

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        """``val/hole_psnr``: PSNR (dB, peak-to-peak 2) of the completion inside the hole, on the model's own mask
        type (random masks seeded by the batch index, the same at every validation)."""
        x = self.images(batch)
        mask = self.draw_masks(len(x), torch.Generator().manual_seed(batch_idx))
        completed = self.complete(x, mask)
        self.log("val/hole_psnr", hole_psnr(completed, x, mask).mean(), batch_size=len(x), sync_dist=True)

    # ----------------------------------------------------------------------------------------------------------
    # Sampling: fill holes
    # ----------------------------------------------------------------------------------------------------------
    def check_inputs(self, images: Tensor, mask: Tensor) -> None:
        if images.ndim != 4 or tuple(images.shape[1:]) != self.data_shape:
            raise LitGansError(
                f"ContextEncoder fills images [N, {', '.join(map(str, self.data_shape))}], got {list(images.shape)}"
            )
        if tuple(mask.shape) != (len(images), 1, *images.shape[2:]):
            wanted = [len(images), 1, *images.shape[2:]]
            raise LitGansError(f"the mask must be {wanted}, got {list(mask.shape)}")

    @torch.no_grad()
    def fill(self, images: Tensor, mask: Tensor) -> Tensor:
        """G's prediction ``F(M x + fill (1 - M))`` ``[N, C, H, W]`` in [-1, 1] for ``images`` known where ``mask
        [N, 1, H, W]`` is 1 (any mask, not only the trained type), by the sampling generator in eval mode."""
        self.check_inputs(images, mask)
        net = self.sampling_generator
        with eval_mode(net):
            return net(self.context(images.to(self.device), mask.to(self.device).float()))

    @torch.no_grad()
    def complete(self, images: Tensor, mask: Tensor) -> Tensor:
        """``M x + (1 - M) fill(x, M)``: the known pixels kept, the prediction pasted into the hole."""
        images, mask = images.to(self.device), mask.to(self.device).float()
        return paste(images, self.fill(images, mask), mask)

    def generate(self, latent: Tensor, net: nn.Module | None = None, inverse: bool = False, **conditions) -> Tensor:
        """The completion of the images ``latent`` with a hole of the model's own type (random ones from torch's
        global generator), by ``net`` (the trained G by default): ``translate`` and ``sample_from`` use it."""
        if conditions or inverse:
            raise LitGansError("ContextEncoder takes no conditions and has no inverse map: pass the images only")
        mask = self.draw_masks(len(latent))
        return paste(latent, (self.generator if net is None else net)(self.context(latent, mask)), mask)

    def translation_panels(self, x: Tensor, y: Tensor) -> list[Tensor]:
        """The sample grid's columns (``LogSamples``), each ``[N, C, H, W]``: original | masked (the hole at the
        fill value) | completed, for the first validation images (``y``, their labels, unused)."""
        mask = self.draw_masks(len(x))
        return [x, self.context(x, mask), self.complete(x, mask)]

    def sample_latent(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        raise LitGansError(
            "ContextEncoder fills holes in given images and draws no noise: use `cli.py inpaint --ckpt_path CKPT "
            "--images X --mask center|left|random:P`, or complete(images, mask) in Python"
        )
