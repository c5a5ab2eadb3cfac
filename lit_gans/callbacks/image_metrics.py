"""FID / IS / KID of G's samples after each validation (``ImageMetrics``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

import torch
from lightning.pytorch import Callback, LightningModule, Trainer
from torch import Tensor

from lit_gans.callbacks.samples import run_dir
from lit_gans.errors import LitGansError
from lit_gans.metrics.extractors import FeatureExtractor
from lit_gans.metrics.functional import (
    frechet_distance,
    gaussian_statistics,
    inception_score,
    kernel_inception_distance,
)
from lit_gans.metrics.real_stats import (
    cache_key,
    default_cache_dir,
    describe_data,
    load_cached,
    real_images,
    save_cached,
)


class ImageMetrics(Callback):
    """FID, IS and KID of G's samples (the EMA generator when there is one), after each validation.

    Each rank draws ``num_fake / world_size`` samples from its own seeded noise; features are gathered from all
    ranks, so every rank computes, and logs, the same numbers. Real features come from the first ``num_real``
    images of the datamodule's ``real_split`` and are cached on disk (``cache_dir``, default
    ``$LIT_GANS_CACHE/real_features`` or ``~/.cache/lit_gans/real_features``). The protocol is written to
    ``<log_dir>/metrics_protocol.json``, sent to the loggers as hyper-parameters, and repeated with every evaluation
    in ``<log_dir>/metrics.jsonl``.

    Args:
        extractor: ``ClassifierFeatures`` (no download) or ``InceptionV3Features`` (the standard FID network).
        num_fake: generated images per evaluation (10,000 or 50,000 in papers).
        num_real: real images (``None``: the whole split).
        real_split: ``train`` (the usual FID reference) or ``val``.
        metrics: any of ``fid``, ``is``, ``kid``.
        batch_size: images per extractor call.
        is_splits: IS is averaged over this many chunks of the fakes.
        kid_subsets, kid_subset_size: KID's random subsets (the size is capped by the sample counts).
        every_n_validations: evaluate at every n-th validation only (metrics are costly on a CPU).
        seed: seed of the fakes' noise (the same noise at every evaluation) and of KID's subsets.
        prefix: logged names are ``prefix + fid`` etc.
    """

    def __init__(
        self,
        extractor: FeatureExtractor,
        num_fake: int = 10_000,
        num_real: int | None = 10_000,
        real_split: Literal["train", "val"] = "train",
        metrics: tuple[str, ...] = ("fid", "is", "kid"),
        batch_size: int = 250,
        is_splits: int = 10,
        kid_subsets: int = 100,
        kid_subset_size: int = 1000,
        every_n_validations: int = 1,
        seed: int = 0,
        cache_dir: str | None = None,
        prefix: str = "val/",
    ) -> None:
        unknown = set(metrics) - {"fid", "is", "kid"}
        if unknown:
            raise LitGansError(f"unknown metrics {sorted(unknown)}: choose among fid, is, kid")
        if real_split not in ("train", "val"):
            raise LitGansError(f"real_split must be 'train' or 'val', got {real_split!r}")
        if num_fake < max(2, is_splits):
            raise LitGansError(f"num_fake must be at least {max(2, is_splits)}, got {num_fake}")
        self.extractor, self.num_fake, self.num_real, self.real_split = extractor, num_fake, num_real, real_split
        self.metrics, self.batch_size, self.is_splits = tuple(metrics), batch_size, is_splits
        self.kid_subsets, self.kid_subset_size = kid_subsets, kid_subset_size
        self.every_n_validations, self.seed, self.prefix = every_n_validations, seed, prefix
        self.cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
        self.real: dict[str, Tensor] | None = None  # {"features", "logits"}
        self.protocol: dict[str, Any] = {}
        self.last: dict[str, float] = {}
        self._validations = 0

    def on_validation_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if trainer.sanity_checking:
            return
        self._validations += 1
        if self._validations % self.every_n_validations:
            return
        self.extractor.to(pl_module.device)
        folder = Path(run_dir(trainer))  # on every rank: a collective under DDP
        if self.real is None:
            self.real = self._real_features(trainer, pl_module, folder)
        fake_features, fake_logits = self._fake_features(trainer, pl_module)
        values = self.compute(self.real["features"], fake_features, fake_logits)
        for name, value in values.items():
            pl_module.log(self.prefix + name, value, sync_dist=True)
        self.last = {name: float(value) for name, value in values.items()}
        if trainer.is_global_zero:
            step = getattr(pl_module, "d_steps", trainer.global_step)  # also right under `validate --ckpt_path`
            record = {"step": step, **self.last, "protocol": self.protocol}
            with open(folder / "metrics.jsonl", "a") as handle:
                handle.write(json.dumps(record) + "\n")

    def compute(self, real: Tensor, fake: Tensor, fake_logits: Tensor) -> dict[str, Tensor]:
        values = {}
        if "fid" in self.metrics:
            values["fid"] = frechet_distance(*gaussian_statistics(real), *gaussian_statistics(fake))
        if "is" in self.metrics:
            values["is"], values["is_std"] = inception_score(fake_logits, self.is_splits)
        if "kid" in self.metrics:
            values["kid"], values["kid_std"] = kernel_inception_distance(
                real, fake, self.kid_subsets, self.kid_subset_size, self.seed
            )
        return {name: value.float() for name, value in values.items()}

    def _extract(self, images: Tensor, device: torch.device) -> tuple[Tensor, Tensor]:
        """``images [N, C, H, W]`` -> ``(features [N, F], logits [N, K])`` on the CPU, ``batch_size`` at a time."""
        outputs = [self.extractor(chunk.to(device)) for chunk in images.split(self.batch_size)]
        return torch.cat([f.float().cpu() for f, _ in outputs]), torch.cat([k.float().cpu() for _, k in outputs])

    def _fake_features(self, trainer: Trainer, pl_module: LightningModule) -> tuple[Tensor, Tensor]:
        world, rank = trainer.world_size, trainer.global_rank
        per_rank = -(-self.num_fake // world)  # ceil
        generator = torch.Generator(device=pl_module.device).manual_seed(self.seed * 1_000_003 + rank)
        chunks = [
            self._extract(
                pl_module.sample(min(self.batch_size, per_rank - start), generator=generator), pl_module.device
            )
            for start in range(0, per_rank, self.batch_size)
        ]
        features = gather_in_order(pl_module, torch.cat([f for f, _ in chunks]), world)
        logits = gather_in_order(pl_module, torch.cat([k for _, k in chunks]), world)
        return features[: self.num_fake], logits[: self.num_fake]

    def _real_features(self, trainer: Trainer, pl_module: LightningModule, folder: Path) -> dict[str, Tensor]:
        datamodule = trainer.datamodule
        dataset = getattr(datamodule, f"{self.real_split}_set", None)
        if dataset is None:
            raise LitGansError(
                f"ImageMetrics reads real images from the datamodule's {self.real_split}_set; "
                f"{type(datamodule).__name__} has none"
            )
        num = len(dataset) if self.num_real is None else min(self.num_real, len(dataset))
        images = real_images(dataset, num)
        key = cache_key(images, self.extractor.fingerprint())
        cached = load_cached(self.cache_dir, key)
        source = "cache"
        # one decision for all ranks, taken before any rank writes: a miss anywhere makes every rank compute
        if trainer.strategy.reduce_boolean_decision(cached is None, all=False):
            world, rank = trainer.world_size, trainer.global_rank
            order = torch.arange(num)
            padded = torch.cat([order, order[: (-num) % world]])  # every rank gets the same count
            features, logits = self._extract(images[padded[rank::world]], pl_module.device)
            cached = {
                "features": gather_in_order(pl_module, features, world)[:num],
                "logits": gather_in_order(pl_module, logits, world)[:num],
            }
            source = "computed"
            if trainer.is_global_zero:
                save_cached(self.cache_dir, key, cached)
            trainer.strategy.barrier("lit_gans real features")
        real_is = inception_score(cached["logits"], min(self.is_splits, num))[0]
        self.protocol = {
            **self.extractor.protocol(),
            "metrics": list(self.metrics),
            "num_fake": self.num_fake,
            "fake_source": "EMA generator" if hasattr(pl_module, "generator_ema") else "generator",
            "real_split": self.real_split,
            "num_real": num,
            "real_data": describe_data(datamodule),
            "real_features": f"{source}, cache key {key}",
            "is_of_real_images": round(float(real_is), 4),
            "is_splits": self.is_splits,
            "kid": f"{self.kid_subsets} subsets of {min(self.kid_subset_size, num, self.num_fake)}",
        }
        if trainer.is_global_zero:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "metrics_protocol.json").write_text(json.dumps(self.protocol, indent=2) + "\n")
        for logger in trainer.loggers:
            logger.log_hyperparams({"metrics_protocol": self.protocol})
        return cached


def gather_in_order(pl_module: LightningModule, values: Tensor, world: int) -> Tensor:
    """Rank ``r`` holds items ``r, r + W, r + 2W, ...``; returns all items in their original order, on every rank."""
    if world == 1:
        return values
    gathered = pl_module.all_gather(values.to(pl_module.device)).cpu()  # [W, n, ...]
    return gathered.transpose(0, 1).reshape(-1, *values.shape[1:])
