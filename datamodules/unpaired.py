"""Unpaired image-to-image data (CycleGAN), in its datasets' layout: ``root/trainA/``, ``root/trainB/`` for
training and ``root/testA/``, ``root/testB/`` (or ``valA/``, ``valB/`` when present) for validation.

An epoch goes once through the larger domain; each image is paired with an image of the other domain drawn at random,
independently of it (a fresh draw every epoch). Each side gets its own random jitter and flip. Validation pairs image
``i`` of A with image ``i`` of B (cycling through the smaller domain): fixed, but not corresponding.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import torch
from torch import Tensor
from torch.utils.data import Dataset

from datamodules.translation import (
    TranslationDataModule,
    default_load_size,
    image_files,
    jitter,
    key_generator,
    load_square,
    verify_images,
)
from lit_gans.errors import LitGansError


class UnpairedDataset(Dataset):
    """``(x, y)``: ``x`` the ``i``-th image of domain X, ``y`` a random (training) or the ``i``-th (validation)
    image of Y. ``load(item, size) -> [C, size, size]`` reads one item of a domain; ``augment``: jitter each side
    from ``load_size`` to ``image_size`` and flip (keyed indices, see ``GANDataModule``)."""

    keyed = True

    def __init__(
        self,
        domain_x: Sequence,
        domain_y: Sequence,
        load: Callable[[object, int], Tensor],
        image_size: int,
        load_size: int,
        flip: bool,
        augment: bool,
    ) -> None:
        self.domain_x, self.domain_y, self.load = domain_x, domain_y, load
        self.image_size, self.flip, self.augment = image_size, flip, augment
        self.load_size = load_size if augment else image_size

    def __len__(self) -> int:
        return max(len(self.domain_x), len(self.domain_y))

    def __getitem__(self, key: int) -> tuple[Tensor, Tensor]:
        i = key % len(self)
        generator = key_generator(key)
        j = int(torch.randint(len(self.domain_y), (), generator=generator)) if self.augment else i
        x = self.load(self.domain_x[i % len(self.domain_x)], self.load_size)
        y = self.load(self.domain_y[j % len(self.domain_y)], self.load_size)
        if self.augment:
            (x,), (y,) = (
                jitter([x], self.image_size, self.flip, generator),
                jitter([y], self.image_size, self.flip, generator),
            )
        return x, y


class FileLoader:
    """``(path, size) -> [channels, size, size]``: an image file, resized."""

    def __init__(self, channels: int) -> None:
        self.channels = channels

    def __call__(self, path: Path, size: int) -> Tensor:
        return load_square(path, self.channels, size)


class Unpaired(TranslationDataModule):
    """Two unpaired image folders, ``(x, y)`` = (an image of A, an independent image of B).

    Args:
        root: the dataset folder, with ``trainA/``, ``trainB/``, ``testA/``, ``testB/`` (``valA/``, ``valB/`` are
            used for validation instead of the test folders when present).
        image_size: side of the square crops (256 in the paper).
        load_size: the jitter's resize before the random crop (default: 286 for 256, in proportion otherwise).
        flip: random horizontal flips in training.
        channels: 3 (RGB) or 1 (grey).
        check_images: open every file's header before training, so a corrupt file is named at once.
    """

    def __init__(
        self,
        root: str,
        image_size: int = 256,
        load_size: int | None = None,
        flip: bool = True,
        channels: int = 3,
        check_images: bool = True,
        batch_size: int = 1,
        num_workers: int = 0,
        shuffle_seed: int | None = None,
    ) -> None:
        super().__init__(image_size, channels, batch_size, num_workers, shuffle_seed)
        self.save_hyperparameters()
        self.root = Path(root).expanduser()
        self.load_size, self.flip, self.check_images = default_load_size(image_size, load_size), flip, check_images

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is not None:
            return
        if not self.root.is_dir():
            raise LitGansError(f"unpaired data folder {self.root} does not exist: pass --data.root DIR")
        val = "val" if (self.root / "valA").is_dir() and (self.root / "valB").is_dir() else "test"
        folders = {name: self.root / name for name in ("trainA", "trainB", f"{val}A", f"{val}B")}
        files = {name: image_files(folder, f"domain {name[-1]} ({name})") for name, folder in folders.items()}
        if self.check_images:
            verify_images([p for group in files.values() for p in group])
        args = (FileLoader(self.channels), self.image_size, self.load_size, self.flip)
        self.train_set = UnpairedDataset(files["trainA"], files["trainB"], *args, augment=True)
        self.val_set = UnpairedDataset(files[f"{val}A"], files[f"{val}B"], *args, augment=False)
