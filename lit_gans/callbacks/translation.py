"""Image-to-image metrics after each validation: L1, PSNR, SSIM, cycle error, FID (``TranslationMetrics``)."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from lightning.pytorch import Callback, LightningModule, Trainer
from torch import Tensor

from lit_gans.callbacks.image_metrics import gather_in_order
from lit_gans.callbacks.samples import run_dir, seeded
from lit_gans.metrics.extractors import FeatureExtractor
from lit_gans.metrics.functional import (
    frechet_distance,
    gaussian_statistics,
)


class TranslationMetrics(Callback):
    """After each validation, for image-to-image models (others: nothing), over the whole validation split:

    - when validation pairs correspond (the datamodule's ``paired_validation``: Pix2Pix's data, the offline unpaired
      task): ``l1`` (mean absolute error in [-1, 1] units), ``psnr`` (dB), ``ssim`` (Gaussian window 11, sigma
      1.5) and ``colour`` (the per-image colour error: the mean over channels of |mean colour of G(x) - mean colour
      of y|, in 8-bit levels 0..255) of G(x) against y, images in [0, 1], averaged per image; for bidirectional
      models also F(y) against x;
    - for bidirectional models (CycleGAN): the cycle-reconstruction errors ``cycle_x = |F(G(x)) - x|`` and
      ``cycle_y = |G(F(y)) - y|`` (mean absolute error);
    - with an ``extractor``: FID of G(x) against the real y of the validation split (``XtoY/fid``) and of F(y)
      against the real x (``YtoX/fid``); real features are computed once, at the first evaluation.

    Logged as ``prefix + XtoY/l1``, ``YtoX/psnr``, ``cycle_x``, ... Images are never held: per-image sums and
    extractor features are accumulated batch by batch, then reduced (sums) and gathered (features) across DDP ranks.
    Every evaluation draws G's noise (Pix2Pix's dropout) from ``seed``. The values are appended to
    ``<log_dir>/translation_metrics.jsonl``.

    Args:
        extractor: a ``FeatureExtractor`` for FID (``ClassifierFeatures`` needs no download); ``None``: no FID.
        every_n_validations: evaluate at every n-th validation only.
        seed: seed of the translations' noise.
        prefix: prefix of the logged names.
    """

    def __init__(
        self,
        extractor: FeatureExtractor | None = None,
        every_n_validations: int = 1,
        seed: int = 0,
        prefix: str = "val/",
    ) -> None:
        self.extractor, self.every_n_validations, self.seed, self.prefix = extractor, every_n_validations, seed, prefix
        self.last: dict[str, float] = {}
        self._validations = 0
        self._active = False
        self._sums: dict[str, Tensor] = {}
        self._features: dict[str, list[Tensor]] = {}
        self._real: dict[str, Tensor] | None = None  # gathered real features {"x": [N, F], "y": [N, F]}

    def on_validation_epoch_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._active = False
        if trainer.sanity_checking or pl_module.latent_input:
            return
        self._validations += 1
        self._active = self._validations % self.every_n_validations == 0
        self._sums, self._features = {}, {}
        if self.extractor is not None:
            self.extractor.to(pl_module.device)

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0) -> None:
        if not self._active:
            return
        x, y = batch[0], batch[1]
        with seeded(self.seed * 1_000_003 + batch_idx * 1_009 + trainer.global_rank):
            gx = pl_module.translate(x)
            fy = pl_module.translate(y, inverse=True) if pl_module.bidirectional else None
            if fy is not None:
                self._add("cycle_x", per_image_l1(pl_module.translate(gx, inverse=True), x))
                self._add("cycle_y", per_image_l1(pl_module.translate(fy), y))
        paired = getattr(trainer.datamodule, "paired_validation", False)
        for direction, output, target in (("XtoY", gx, y), ("YtoX", fy, x)):
            if output is None:
                continue
            if paired:
                for name, values in image_similarity(output, target).items():
                    self._add(f"{direction}/{name}", values)
            if self.extractor is not None:
                self._features.setdefault(f"fake_{direction}", []).append(self.extractor(output)[0].float())
        if self.extractor is not None and self._real is None:
            self._features.setdefault("real_y", []).append(self.extractor(y)[0].float())
            if pl_module.bidirectional:
                self._features.setdefault("real_x", []).append(self.extractor(x)[0].float())

    def _add(self, name: str, values: Tensor) -> None:
        total = torch.stack([values.double().sum(), torch.tensor(float(len(values)), dtype=torch.float64)]).cpu()
        self._sums[name] = self._sums.get(name, torch.zeros(2, dtype=torch.float64)) + total

    def on_validation_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if not self._active:
            return
        folder = Path(run_dir(trainer))  # on every rank: a collective under DDP
        world = trainer.world_size
        values: dict[str, Tensor] = {}
        for name in sorted(self._sums):
            total = self._sums[name].to(pl_module.device)
            if world > 1:
                total = trainer.strategy.reduce(total, reduce_op="sum")
            values[name] = (total[0] / total[1]).float().cpu()
        if pl_module.bidirectional:
            values["cycle"] = (values["cycle_x"] + values["cycle_y"]) / 2
        if self.extractor is not None:
            features = {k: gather_in_order(pl_module, torch.cat(v), world) for k, v in self._features.items()}
            if self._real is None:
                self._real = {k[len("real_") :]: features[k] for k in features if k.startswith("real_")}
            for direction, real in (("XtoY", "y"), ("YtoX", "x")):
                if f"fake_{direction}" in features:
                    fake = features[f"fake_{direction}"]
                    fid = frechet_distance(*gaussian_statistics(self._real[real]), *gaussian_statistics(fake))
                    values[f"{direction}/fid"] = fid.float()
        for name, value in values.items():
            pl_module.log(self.prefix + name, value.to(pl_module.device), sync_dist=True)
        self.last = {name: float(value) for name, value in values.items()}
        if trainer.is_global_zero and self.last:  # nothing to write for unpaired data and no extractor
            step = getattr(pl_module, "d_steps", trainer.global_step)
            record = {"step": step, **self.last}
            if self.extractor is not None:
                record["extractor"] = self.extractor.protocol()
            folder.mkdir(parents=True, exist_ok=True)
            with open(folder / "translation_metrics.jsonl", "a") as handle:
                handle.write(json.dumps(record) + "\n")


def per_image_l1(output: Tensor, target: Tensor) -> Tensor:
    """``[N, C, H, W]`` pairs -> ``[N]`` mean absolute errors (in the images' own units)."""
    return (output.float() - target.float()).abs().flatten(1).mean(1)


def image_similarity(output: Tensor, target: Tensor) -> dict[str, Tensor]:
    """Per-image ``l1`` (in [-1, 1] units), ``psnr`` (dB), ``ssim`` and ``colour`` (mean over channels of the
    difference of the images' mean colours, in 8-bit levels) of ``output`` against ``target``, both ``[N, C, H, W]``
    in [-1, 1], compared in [0, 1] (``data_range`` 1) as torchmetrics computes them."""
    from torchmetrics.functional.image import peak_signal_noise_ratio, structural_similarity_index_measure

    preds, target01 = ((output.float() + 1) / 2).clamp(0, 1), ((target.float() + 1) / 2).clamp(0, 1)
    return {
        "l1": per_image_l1(output, target),
        "psnr": peak_signal_noise_ratio(preds, target01, data_range=1.0, reduction="none", dim=(1, 2, 3)),
        "ssim": structural_similarity_index_measure(preds, target01, data_range=1.0, reduction="none"),
        "colour": 255 * (preds.mean((2, 3)) - target01.mean((2, 3))).abs().mean(1),
    }
