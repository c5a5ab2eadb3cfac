"""Callbacks that show and measure what G draws; logger-agnostic (TensorBoard, CSV, W&B).

``LogSamples`` draws grids and toy plots; ``ImageMetrics`` computes FID/IS/KID, ``ToyMetrics`` the mode-collapse
and 1D distances, after each validation.

Every picture is written as a PNG beside the run (``<log_dir>/samples/``), whatever the logger, and also sent to
TensorBoard (``add_image``) or W&B (``log_image``) when one of those is set.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from lightning.pytorch import Callback, LightningModule, Trainer  # noqa: E402
from lightning.pytorch.loggers import TensorBoardLogger, WandbLogger  # noqa: E402
from PIL import Image  # noqa: E402
from torch import Tensor  # noqa: E402
from torchvision.utils import make_grid  # noqa: E402

from lit_gans.errors import LitGansError  # noqa: E402
from lit_gans.metrics.extractors import FeatureExtractor  # noqa: E402
from lit_gans.metrics.functional import (  # noqa: E402
    frechet_distance,
    gaussian_statistics,
    inception_score,
    kernel_inception_distance,
)
from lit_gans.metrics.real_stats import (  # noqa: E402
    cache_key,
    default_cache_dir,
    describe_data,
    load_cached,
    real_images,
    save_cached,
)
from lit_gans.metrics.toy import distance_to_gaussian_1d, mode_collapse_metrics  # noqa: E402


def image_grid(images: Tensor, nrow: int | None = None) -> np.ndarray:
    """``[N, C, H, W]`` in [-1, 1] -> ``uint8 [H', W', 3]`` grid, ``nrow`` images a row (square by default)."""
    nrow = nrow or max(1, int(len(images) ** 0.5))
    grid = make_grid(((images.detach().float().cpu() + 1) / 2).clamp(0, 1), nrow=nrow, padding=2, pad_value=0.5)
    return (grid.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)


def toy_plot(samples: Tensor, real: Tensor | None = None, title: str = "") -> np.ndarray:
    """Scatter of 2D points (generated over real) or histograms of 1D points, as ``uint8 [H, W, 3]``."""
    samples = samples.detach().float().cpu()
    figure, axis = plt.subplots(figsize=(4.5, 4.5), dpi=100)
    if samples.shape[1] == 1:
        bins = np.linspace(-5.0, 3.0, 81) if real is None else np.histogram_bin_edges(real.numpy(), bins=80)
        if real is not None:
            axis.hist(real[:, 0].numpy(), bins=bins, density=True, alpha=0.5, label="real", color="tab:blue")
        axis.hist(samples[:, 0].numpy(), bins=bins, density=True, alpha=0.5, label="generated", color="tab:orange")
        axis.legend(loc="upper right")
    else:
        if real is not None:
            axis.scatter(real[:, 0], real[:, 1], s=2, alpha=0.5, label="real", color="tab:blue")
        axis.scatter(samples[:, 0], samples[:, 1], s=2, alpha=0.5, label="generated", color="tab:orange")
        axis.set_aspect("equal")
        axis.legend(loc="upper right", markerscale=4)
    axis.set_title(title)
    figure.tight_layout()
    figure.canvas.draw()
    pixels = np.asarray(figure.canvas.buffer_rgba())[..., :3].copy()
    plt.close(figure)
    return pixels


class LogSamples(Callback):
    """After each validation epoch and at the end of training: a grid of G's samples on the fixed latent batch
    (images), a plot of ``num_points`` samples against the real validation points (1D/2D toy data), or, for
    image-to-image models, a translation grid of the first ``num_translations`` validation pairs, one pair a row:
    ``input | output | target`` (``x | G(x) | F(G(x)) | y | F(y) | G(F(y))`` for CycleGAN).

    Args:
        num_points: points drawn for toy plots.
        nrow: images per grid row (square grid by default).
        num_translations: rows of the translation grid.
        seed: seed of the translation's noise (Pix2Pix's dropout), the same at every grid.
    """

    def __init__(
        self, num_points: int = 2_000, nrow: int | None = None, num_translations: int = 8, seed: int = 0
    ) -> None:
        self.num_points, self.nrow, self.num_translations, self.seed = num_points, nrow, num_translations, seed
        self._real: list[Tensor] = []
        self._pairs: tuple[Tensor, Tensor] | None = None  # the first validation pairs (x, y), for translation grids
        self.last_path: Path | None = None
        self.last_paths: dict[str, Path] = {}  # every grid of the last call, by tag

    def on_validation_epoch_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._real = []

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0) -> None:
        real = batch[0] if isinstance(batch, (tuple, list)) else batch
        if real.ndim == 2 and sum(len(r) for r in self._real) < self.num_points:
            self._real.append(real.detach().cpu())
        if not pl_module.latent_input and batch_idx == 0 and dataloader_idx == 0:
            self._pairs = (batch[0][: self.num_translations].cpu(), batch[1][: self.num_translations].cpu())

    def on_validation_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if not trainer.sanity_checking:
            self.log_samples(trainer, pl_module)

    def on_train_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self.log_samples(trainer, pl_module)

    def log_samples(self, trainer: Trainer, pl_module: LightningModule) -> None:
        folder = Path(run_dir(trainer))  # on every rank: trainer.log_dir is a collective under DDP
        if not trainer.is_global_zero:
            return
        step = trainer.global_step
        pictures: dict[str, np.ndarray] = {}
        if not pl_module.latent_input:
            picture = self.translation_grid(trainer, pl_module)
            if picture is None:
                return
            pictures["translations"] = picture
        elif (grids := pl_module.sample_grids())["samples"][0].ndim == 4:
            # the model's grids: the fixed batch (a class a row for conditional models), InfoGAN's code traversals
            for tag, (images, per_row) in grids.items():
                pictures[tag] = image_grid(images, self.nrow or per_row)
        else:
            generator = torch.Generator(device=pl_module.device).manual_seed(0)
            points = pl_module.sample(self.num_points, generator=generator)
            real = torch.cat(self._real)[: self.num_points] if self._real else None
            pictures["samples_plot"] = toy_plot(points, real, title=f"step {step}")
        self.last_paths = {}
        for tag, picture in pictures.items():
            self.last_paths[tag] = write_png(picture, folder / "samples" / f"{tag}_step{step:07d}.png")
            for logger in trainer.loggers:
                if isinstance(logger, TensorBoardLogger):
                    logger.experiment.add_image(f"samples/{tag}", picture, global_step=step, dataformats="HWC")
                elif isinstance(logger, WandbLogger):
                    logger.log_image(key=f"samples/{tag}", images=[picture], step=step)
        self.last_path = next(iter(self.last_paths.values()))  # the samples, plot or translations

    def translation_grid(self, trainer: Trainer, pl_module: LightningModule) -> np.ndarray | None:
        if self._pairs is None:  # no validation ran yet: the first validation batch, as validation would see it
            loader = trainer.datamodule.val_dataloader() if trainer.datamodule is not None else None
            if loader is None:
                return None
            x, y = next(iter(loader))[:2]
            self._pairs = (x[: self.num_translations], y[: self.num_translations])
        with seeded(self.seed):
            panels = pl_module.translation_panels(*(t.to(pl_module.device) for t in self._pairs))
        rows = torch.stack([p.cpu() for p in panels], dim=1).flatten(0, 1)  # [N * panels, C, H, W], a pair a row
        return image_grid(rows, nrow=len(panels))


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Run the block on torch's generators seeded with ``seed``, then restore their states (training's stream goes
    on as if the block had not run)."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        yield


def run_dir(trainer: Trainer) -> str:
    """Where the run's files go: the logger's versioned folder, or the trainer's root when there is no logger.
    Call it on every rank: under DDP ``trainer.log_dir`` broadcasts from rank 0."""
    return trainer.log_dir or trainer.default_root_dir


def write_png(picture: np.ndarray, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(picture).save(path)
    return path


# --------------------------------------------------------------------------------------------------------------
# Metrics
# --------------------------------------------------------------------------------------------------------------
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


class TranslationMetrics(Callback):
    """After each validation, for image-to-image models (others: nothing), over the whole validation split:

    - when validation pairs correspond (the datamodule's ``paired_validation``: Pix2Pix's data, the offline unpaired
      task): ``l1`` (mean absolute error in [-1, 1] units), ``psnr`` (dB) and ``ssim`` (Gaussian window 11, sigma
      1.5) of G(x) against y, images in [0, 1], averaged per image; for bidirectional models also F(y) against x;
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
        if trainer.is_global_zero:
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
    """Per-image ``l1`` (in [-1, 1] units), ``psnr`` (dB) and ``ssim`` of ``output`` against ``target``, both
    ``[N, C, H, W]`` in [-1, 1], compared in [0, 1] (``data_range`` 1) as torchmetrics computes them."""
    from torchmetrics.functional.image import peak_signal_noise_ratio, structural_similarity_index_measure

    preds, target01 = ((output.float() + 1) / 2).clamp(0, 1), ((target.float() + 1) / 2).clamp(0, 1)
    return {
        "l1": per_image_l1(output, target),
        "psnr": peak_signal_noise_ratio(preds, target01, data_range=1.0, reduction="none", dim=(1, 2, 3)),
        "ssim": structural_similarity_index_measure(preds, target01, data_range=1.0, reduction="none"),
    }


class CPUTimeLimit(Callback):
    """Stop training once this process has used ``seconds`` of CPU time (``time.process_time``, all its threads)
    since training started: start-up is not counted, validations during training are. Unlike ``max_time``'s wall
    clock, other processes on the machine do not eat into this budget: "5 CPU minutes" on one thread is
    ``seconds=300`` with ``OMP_NUM_THREADS=1``. Checked after every batch."""

    def __init__(self, seconds: float) -> None:
        if seconds <= 0:
            raise LitGansError(f"seconds must be positive, got {seconds}")
        self.seconds = seconds
        self._start: float | None = None
        self.used = 0.0

    def on_train_start(self, trainer: Trainer, pl_module: LightningModule) -> None:
        self._start = time.process_time()

    def on_train_batch_end(self, trainer: Trainer, pl_module: LightningModule, *args: Any) -> None:
        self.used = time.process_time() - (self._start or 0.0)
        stop = self.used >= self.seconds
        if trainer.world_size > 1:
            stop = trainer.strategy.reduce_boolean_decision(stop, all=False)
        if stop:
            trainer.should_stop = True
