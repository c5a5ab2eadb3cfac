"""Sample grids and toy plots of what G draws, written beside the run whatever the logger, and sent to TensorBoard
(``add_image``) or W&B (``log_image``) when one of those is set."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from lightning.pytorch import Callback, LightningModule, Trainer  # noqa: E402
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger, WandbLogger  # noqa: E402
from PIL import Image  # noqa: E402
from torch import Tensor  # noqa: E402
from torchvision.utils import make_grid  # noqa: E402


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
        # below the axes: inside, it hid the grid's corner modes
        axis.legend(loc="upper center", bbox_to_anchor=(0.5, -0.07), ncol=2, markerscale=4, frameon=False)
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
        step = getattr(pl_module, "d_steps", trainer.global_step)  # the true step under `validate --ckpt_path` too
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
        if hasattr(pl_module, "grid_captions"):  # text to image: the caption of each row, once (they never change)
            captions = folder / "samples" / "grid_captions.txt"
            if not captions.exists():
                rows = (f"row {i + 1}: {caption}" for i, caption in enumerate(pl_module.grid_captions()))
                captions.write_text("\n".join(rows) + "\n")

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
    """Where the run's files go: TensorBoard's and CSV's ``version_N`` folder; for other loggers (W&B) the run's
    own ``<save_dir>/<name>/<version>`` (W&B: ``<project>/<run id>``), where Lightning puts their ``checkpoints/``,
    so two runs in one folder never share files; the trainer's root when there is no logger. Call it on every rank:
    under DDP it broadcasts from rank 0."""
    logger = trainer.loggers[0] if trainer.loggers else None
    if logger is None or isinstance(logger, (TensorBoardLogger, CSVLogger)):
        return trainer.log_dir or trainer.default_root_dir
    version = logger.version if isinstance(logger.version, str) else f"version_{logger.version}"
    folder = os.path.join(logger.save_dir or trainer.default_root_dir, str(logger.name), version)
    return trainer.strategy.broadcast(folder)


def write_png(picture: np.ndarray, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(picture).save(path)
    return path
