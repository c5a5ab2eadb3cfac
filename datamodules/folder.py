"""Any folder of images, searched recursively; each image resized (shorter side) and centre-cropped."""

from __future__ import annotations

from pathlib import Path

import torch
from PIL import Image, UnidentifiedImageError
from torch import Tensor
from torch.utils.data import Dataset
from torchvision.transforms import v2 as T

from datamodules.base import GANDataModule
from lit_gans.errors import LitGansError

IMAGE_SUFFIXES = {".bmp", ".gif", ".jpeg", ".jpg", ".png", ".ppm", ".tif", ".tiff", ".webp"}


def find_images(root: Path) -> list[Path]:
    if not root.is_dir():
        raise LitGansError(f"image folder {root} does not exist: pass --data.root pointing at a folder of images")
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise LitGansError(f"no images ({', '.join(sorted(IMAGE_SUFFIXES))}) found under {root}")
    return files


def open_image(path: Path, mode: str) -> Image.Image:
    try:
        with Image.open(path) as image:
            return image.convert(mode)
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        raise LitGansError(f"cannot read image {path}: {error}; remove or replace the file") from None


def resize_and_crop(image_size: int, channels: int) -> T.Compose:
    """PIL image -> ``[channels, image_size, image_size]`` in [-1, 1]: the shorter side resized to ``image_size``,
    then the centre square cropped."""
    return T.Compose(
        [
            T.ToImage(),
            T.Resize(image_size, antialias=True),
            T.CenterCrop(image_size),
            T.ToDtype(torch.float32, scale=True),
            T.Normalize([0.5] * channels, [0.5] * channels),
        ]
    )


def validation_indices(count: int, val_size: int) -> list[int]:
    """The held-out items of ``count``: ``max(1, min(val_size, count // 10))`` of them, every k-th, so that the split
    does not follow the folder order."""
    num_val = max(1, min(val_size, count // 10))
    return list(range(0, count, count // num_val))[:num_val]


class ImageFolderDataset(Dataset):
    """``(image [C, S, S] in [-1, 1], label)``; the label is the index of the image's top-level subfolder (0 for
    images directly under ``root``), as torchvision's ImageFolder numbers classes."""

    def __init__(self, root: Path, files: list[Path], image_size: int, channels: int) -> None:
        self.files = files
        self.mode = "RGB" if channels == 3 else "L"
        classes = sorted({f.relative_to(root).parts[0] for f in files if len(f.relative_to(root).parts) > 1})
        index = {name: i for i, name in enumerate(classes)}
        self.labels = [index.get(f.relative_to(root).parts[0], 0) for f in files]
        self.transform = resize_and_crop(image_size, channels)

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> tuple[Tensor, int]:
        return self.transform(open_image(self.files[index], self.mode)), self.labels[index]


class ImageFolder(GANDataModule):
    """Images from any folder tree (png, jpg, ...), resized and centre-cropped to ``image_size``.

    Args:
        root: the folder, searched recursively.
        image_size: side of the square crops.
        channels: 3 (RGB) or 1 (grey).
        val_size: images held out for validation (at most a tenth of the folder, at least one).
        check_images: open every file's header before training, so a corrupt file is named at once.
    """

    def __init__(
        self,
        root: str,
        image_size: int = 64,
        channels: int = 3,
        val_size: int = 256,
        check_images: bool = True,
        batch_size: int = 64,
        num_workers: int = 0,
        shuffle_seed: int | None = None,
    ) -> None:
        super().__init__(batch_size, num_workers, shuffle_seed)
        if channels not in (1, 3):
            raise LitGansError(f"ImageFolder reads 1- or 3-channel images, got channels={channels}")
        self.save_hyperparameters()
        self.root, self.image_size, self.channels = Path(root).expanduser(), image_size, channels
        self.val_size, self.check_images = val_size, check_images

    @property
    def data_shape(self) -> tuple[int, int, int]:
        return (self.channels, self.image_size, self.image_size)

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is not None:
            return
        files = find_images(self.root)
        if self.check_images:
            for path in files:
                try:
                    with Image.open(path) as image:
                        image.verify()
                except Exception as error:  # PIL raises many types for a broken file
                    raise LitGansError(f"cannot read image {path}: {error}; remove or replace the file") from None
        if len(files) < 2:
            raise LitGansError(f"{self.root} holds {len(files)} image; at least 2 are needed (train and validation)")
        val_files = [files[i] for i in validation_indices(len(files), self.val_size)]
        held_out = set(val_files)
        train_files = [f for f in files if f not in held_out]
        self.train_set = ImageFolderDataset(self.root, train_files, self.image_size, self.channels)
        self.val_set = ImageFolderDataset(self.root, val_files, self.image_size, self.channels)
