"""What the image-to-image datamodules share: batches ``(x, y)`` of two domains, images loaded and resized to a
square, and the paper's random jitter (resize to ``load_size``, random crop back to ``image_size``, random
horizontal flip) drawn from a generator seeded by the sample's key (see ``GANDataModule``), never from the global RNG.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor
from torchvision.transforms.v2.functional import pil_to_tensor

from datamodules.base import GANDataModule
from datamodules.folder import IMAGE_SUFFIXES, open_image
from lit_gans.errors import LitGansError


def key_generator(key: int) -> torch.Generator:
    return torch.Generator().manual_seed(key)


def to_tensor(image, channels: int, size: int | tuple[int, int] | None = None) -> Tensor:
    """PIL image -> ``[C, size, size]`` float in [-1, 1] (bilinear, antialiased; ``size`` a square side or
    ``(H, W)``; ``None`` keeps the size)."""
    x = pil_to_tensor(image).float() / 127.5 - 1.0  # [C, H, W]
    if size is not None:
        size = (size, size) if isinstance(size, int) else size
        if tuple(x.shape[-2:]) != size:
            x = F.interpolate(x[None], size=size, mode="bilinear", antialias=True, align_corners=False)[0]
    return x.clamp(-1, 1)


def load_square(path: Path, channels: int, size: int) -> Tensor:
    """An image file resized to ``[C, size, size]`` (aspect ignored, as pix2pix's ``resize_and_crop`` does)."""
    return to_tensor(open_image(path, "RGB" if channels == 3 else "L"), channels, size)


def load_side_by_side(path: Path, channels: int, size: int) -> tuple[Tensor, Tensor]:
    """A pix2pix ``A|B`` image (the two halves side by side) -> ``(A, B)``, each ``[C, size, size]``."""
    image = open_image(path, "RGB" if channels == 3 else "L")
    if image.width < 2:
        raise LitGansError(f"{path} is {image.width} pixel wide: not an A|B side-by-side image")
    half = image.width // 2
    a, b = image.crop((0, 0, half, image.height)), image.crop((half, 0, 2 * half, image.height))
    return to_tensor(a, channels, size), to_tensor(b, channels, size)


def jitter(images: list[Tensor], crop: int, flip: bool, generator: torch.Generator) -> list[Tensor]:
    """One random ``crop x crop`` window and one coin flip for a horizontal mirror, the same for every image."""
    height, width = images[0].shape[-2:]
    top = int(torch.randint(height - crop + 1, (), generator=generator))
    left = int(torch.randint(width - crop + 1, (), generator=generator))
    mirror = flip and bool(torch.rand((), generator=generator) < 0.5)
    out = [image[..., top : top + crop, left : left + crop] for image in images]
    return [image.flip(-1) if mirror else image for image in out]


def image_files(folder: Path, what: str) -> list[Path]:
    """The images directly in ``folder`` (sorted); a clear error naming the path when it is missing or empty."""
    if not folder.is_dir():
        raise LitGansError(f"{what} folder {folder} does not exist")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not files:
        raise LitGansError(f"{what} folder {folder} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
    return files


def verify_images(files: list[Path]) -> None:
    """Open every file's header, so a corrupt file is named before training starts."""
    from PIL import Image

    for path in files:
        try:
            with Image.open(path) as image:
                image.verify()
        except Exception as error:  # PIL raises many types for a broken file
            raise LitGansError(f"cannot read image {path}: {error}; remove or replace the file") from None


class TranslationDataModule(GANDataModule):
    """Base of the two-domain datamodules: batches ``(x, y)``, both ``[N, channels, image_size, image_size]`` in
    [-1, 1]. ``paired_validation`` says whether validation pairs correspond (``y`` is the translation of ``x``), so
    metrics can compare G(x) with y.

    Args:
        image_size: side of the square images of both domains, in pixels (at least 8).
        channels: 3 (RGB) or 1 (grey), both domains.
    """

    registry_base: ClassVar[bool] = True  # a base to build on: the CLI does not offer it as a datamodule

    paired_validation: bool = False

    def __init__(self, image_size: int, channels: int, batch_size: int, num_workers: int, shuffle_seed: int | None):
        super().__init__(batch_size, num_workers, shuffle_seed)
        if channels not in (1, 3):
            raise LitGansError(f"{type(self).__name__} reads 1- or 3-channel images, got channels={channels}")
        if image_size < 8:
            raise LitGansError(f"image_size must be at least 8, got {image_size}")
        self.image_size, self.channels = image_size, channels

    @property
    def data_shape(self) -> tuple[int, int, int]:
        return (self.channels, self.image_size, self.image_size)


def default_load_size(image_size: int, load_size: int | None) -> int:
    """The jitter's resize: the paper's 286 for 256 crops, in proportion for other sizes."""
    load = load_size if load_size is not None else round(image_size * 286 / 256)
    if load < image_size:
        raise LitGansError(f"load_size ({load}) must be at least image_size ({image_size}): crops are image_size")
    return load
