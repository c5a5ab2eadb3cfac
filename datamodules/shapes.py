"""Shapes: procedurally drawn images with known factors (dSprites-like), the embedded default dataset.

Each image holds one shape (circle, square or triangle) of random scale, rotation, position and colour on a black
background, rasterised from its signed distance with one pixel of anti-aliasing. Nothing is downloaded; the same
seed gives the same images at any size.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor
from torch.utils.data import Dataset

from datamodules.base import GANDataModule, UInt8ImageDataset
from datamodules.semi_supervised import SemiSupervisedDataset
from datamodules.translation import TranslationDataModule
from lit_gans.errors import LitGansError

SHAPE_NAMES = ("circle", "square", "triangle")
FACTOR_NAMES = ("shape", "scale", "rotation", "x", "y", "red", "green", "blue")


COLOUR_RANGE = (0.35, 1.0)  # every channel's, unless told otherwise


def sample_factors(
    n: int,
    channels: int,
    generator: torch.Generator,
    scale_range: tuple[float, float] = (0.4, 0.8),
    rotate: bool = True,
    colour_ranges: Sequence[tuple[float, float]] | None = None,
) -> Tensor:
    """``[n, 8]`` factors (see ``FACTOR_NAMES``): shape index, circumradius in ``scale_range`` (fractions of the
    half-side), rotation in [0, 2pi) (``rotate``; else pi: squares upright, triangles pointing up), centre inside
    the image, colour uniform in [0.35, 1] per channel, or in ``colour_ranges[c]`` for channel ``c`` (one grey level
    when ``channels == 1``, from the first range). The same ``generator`` state gives the same shapes, positions and
    colours' uniforms whatever ``scale_range``, ``rotate`` and ``colour_ranges``."""
    u = torch.rand(n, 8, generator=generator)
    shape = torch.floor(u[:, 0] * len(SHAPE_NAMES)).clamp(max=len(SHAPE_NAMES) - 1)
    low, high = scale_range
    scale = low + (high - low) * u[:, 1]
    rotation = 2 * math.pi * u[:, 2] if rotate else torch.full_like(u[:, 2], math.pi)
    centre = (u[:, 3:5] * 2 - 1) * (1 - scale[:, None])
    low, high = torch.tensor(list(colour_ranges or [COLOUR_RANGE] * 3), dtype=torch.float32).T  # [3] each
    colour = low + (high - low) * u[:, 5:8]
    if channels == 1:
        colour = colour[:, :1].expand(n, 3)
    return torch.cat([shape[:, None], scale[:, None], rotation[:, None], centre, colour], dim=1)


def signed_distance(factors: Tensor, image_size: int) -> Tensor:
    """``factors [N, 8]`` -> signed distance to each shape's boundary, ``[N, S, S]`` (negative inside); pixel
    centres span [-1, 1] on both axes."""
    scale, rotation = factors[:, 1, None, None], factors[:, 2, None, None]
    coords = (torch.arange(image_size, dtype=torch.float32) + 0.5) / image_size * 2 - 1
    y, x = torch.meshgrid(coords, coords, indexing="ij")  # [S, S]
    dx, dy = x - factors[:, 3, None, None], y - factors[:, 4, None, None]  # [N, S, S]
    cos, sin = torch.cos(rotation), torch.sin(rotation)
    u, v = cos * dx + sin * dy, -sin * dx + cos * dy  # rotate by -rotation into the shape's frame

    circle = torch.sqrt(u**2 + v**2) - scale
    square = torch.maximum(u.abs(), v.abs()) - scale / math.sqrt(2)  # inscribed in the circumcircle
    # equilateral triangle: the inradius is half the circumradius; outward edge normals at -90, 30 and 150 degrees
    edges = [math.radians(a) for a in (-90.0, 30.0, 150.0)]
    triangle = torch.stack([math.cos(a) * u + math.sin(a) * v for a in edges]).amax(0) - scale / 2
    shape = factors[:, 0, None, None]
    return torch.where(shape == 0, circle, torch.where(shape == 1, square, triangle))


def render(factors: Tensor, image_size: int, channels: int, outline: float | None = None) -> Tensor:
    """Draw ``factors [N, 8]`` as ``uint8 [N, channels, S, S]``: filled shapes, or their outlines ``outline``
    pixels wide, in the shape's colour on black."""
    n = len(factors)
    distance = signed_distance(factors, image_size)
    if outline is not None:
        distance = distance.abs() - outline / image_size  # a band of half-width outline / 2 pixels (2 / S each)
    coverage = (0.5 - distance * image_size / 2).clamp(0, 1)  # one pixel is 2 / S wide
    colour = factors[:, 5 : 5 + channels] if channels == 3 else factors[:, 5:6]
    image = coverage[:, None] * colour[:, :, None, None]  # [N, C, S, S] in [0, 1]
    return (image * 255).round().to(torch.uint8).reshape(n, channels, image_size, image_size)


class ShapesDataset(UInt8ImageDataset):
    """``num`` images drawn from ``seed``; ``labels`` is the shape index and ``factors [N, 8]`` holds every factor.
    ``scale_range`` and ``rotate`` go to ``sample_factors``."""

    def __init__(
        self,
        num: int,
        image_size: int,
        channels: int,
        seed: int,
        chunk: int = 1024,
        scale_range: tuple[float, float] = (0.4, 0.8),
        rotate: bool = True,
    ) -> None:
        generator = torch.Generator().manual_seed(seed)
        factors = sample_factors(num, channels, generator, scale_range, rotate)
        images = torch.cat([render(factors[i : i + chunk], image_size, channels) for i in range(0, num, chunk)])
        super().__init__(images, factors[:, 0].long())
        self.factors = factors


class Shapes(GANDataModule):
    """Procedural shapes, the default dataset: no download, deterministic given ``seed``, any size.

    Args:
        image_size: side of the square images, in pixels (at least 8).
        channels: 3 (random colours) or 1 (grey levels).
        num_train: images in the training split, drawn from ``seed``.
        num_val: images in the validation split, drawn from ``seed + 1``.
        seed: seed of the training split (the validation split uses ``seed + 1``).
        scale_range: the shapes' circumradius, drawn uniformly in this range, as fractions of the half-side
            (``(0.4, 0.8)``; the smallest is 0.1, the largest 1).
        rotate: random rotations (``True``), or none: squares upright, triangles pointing up.
        labels_per_class: the semi-supervised setting (``SGAN``): training items become ``(x, x_labelled,
            y_labelled)`` with only this many shape labels per class kept; validation keeps every label.
    """

    def __init__(
        self,
        image_size: int = 32,
        channels: int = 3,
        num_train: int = 10_000,
        num_val: int = 1_000,
        seed: int = 0,
        batch_size: int = 64,
        num_workers: int = 0,
        shuffle_seed: int | None = None,
        labels_per_class: int | None = None,
        scale_range: tuple[float, float] = (0.4, 0.8),
        rotate: bool = True,
    ) -> None:
        super().__init__(batch_size, num_workers, shuffle_seed)
        low, high = scale_range
        if not 0.1 <= low <= high <= 1:
            raise LitGansError(f"Shapes needs 0.1 <= scale_range[0] <= scale_range[1] <= 1, got {tuple(scale_range)}")
        if channels not in (1, 3):
            raise LitGansError(f"Shapes draws 1- or 3-channel images, got channels={channels}")
        if image_size < 8:
            raise LitGansError(f"Shapes needs image_size >= 8 to draw recognisable shapes, got {image_size}")
        self.save_hyperparameters()
        self.image_size, self.channels = image_size, channels
        self.num_train, self.num_val, self.seed = num_train, num_val, seed
        self.labels_per_class = labels_per_class
        self.scale_range, self.rotate = (float(low), float(high)), rotate

    @property
    def data_shape(self) -> tuple[int, int, int]:
        return (self.channels, self.image_size, self.image_size)

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is None:
            look = {"scale_range": self.scale_range, "rotate": self.rotate}
            self.train_set = ShapesDataset(self.num_train, self.image_size, self.channels, self.seed, **look)
            self.val_set = ShapesDataset(self.num_val, self.image_size, self.channels, self.seed + 1, **look)
            if self.labels_per_class is not None:
                labels = self.train_set.labels
                self.train_set = SemiSupervisedDataset(self.train_set, labels, self.labels_per_class, self.seed)


# ------------------------------------------------------------------------------------------------------------------
# Image-to-image tasks with a known answer: the offline defaults of Pix2Pix and CycleGAN
# ------------------------------------------------------------------------------------------------------------------
class PairDataset(Dataset):
    """``(x, y)`` from two ``uint8 [N, C, S, S]`` tensors, as floats in [-1, 1]."""

    def __init__(self, x: Tensor, y: Tensor) -> None:
        self.x, self.y = x, y

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        return self.x[index].float() / 127.5 - 1.0, self.y[index].float() / 127.5 - 1.0


def draw(
    num: int,
    image_size: int,
    channels: int,
    seed: int,
    outline: float | None = None,
    colour_ranges: Sequence[tuple[float, float]] | None = None,
) -> Tensor:
    factors = sample_factors(num, channels, torch.Generator().manual_seed(seed), colour_ranges=colour_ranges)
    return torch.cat([render(factors[i : i + 1024], image_size, channels, outline) for i in range(0, num, 1024)])


class ShapesPaired(TranslationDataModule):
    """A paired task (Pix2Pix's offline default): ``x`` the outline of a shape (``outline`` pixels wide, in its
    colour), ``y`` the same shape filled. Every validation pair is an exact ground truth.

    Args:
        image_size: side of the square images, in pixels (at least 8).
        channels: 3 (random colours) or 1 (grey levels).
        outline: width of the outline ``x``, in pixels (1.5).
        num_train: training pairs, drawn from ``seed``.
        num_val: validation pairs, drawn from ``seed + 1``.
        seed: seed of the training pairs (the validation pairs use ``seed + 1``).
    """

    paired_validation = True

    def __init__(
        self,
        image_size: int = 32,
        channels: int = 3,
        outline: float = 1.5,
        num_train: int = 4_000,
        num_val: int = 256,
        seed: int = 0,
        batch_size: int = 16,
        num_workers: int = 0,
        shuffle_seed: int | None = None,
    ) -> None:
        super().__init__(image_size, channels, batch_size, num_workers, shuffle_seed)
        self.save_hyperparameters()
        self.num_train, self.num_val, self.seed, self.outline = num_train, num_val, seed, outline

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is None:
            args = (self.image_size, self.channels)
            self.train_set = PairDataset(
                draw(self.num_train, *args, self.seed, self.outline), draw(self.num_train, *args, self.seed)
            )
            self.val_set = PairDataset(
                draw(self.num_val, *args, self.seed + 1, self.outline), draw(self.num_val, *args, self.seed + 1)
            )


class ShapesUnpaired(TranslationDataModule):
    """An unpaired task (CycleGAN's offline default): X = shapes light on a black background, Y = their negatives
    (``255 - x``: dark shapes on white). Training pairs come from independent draws (unpaired); validation pairs are
    ``(x, 255 - x)``, so the true translation ``G*(x) = -x`` (in [-1, 1]) is known.

    Args:
        image_size: side of the square images, in pixels (at least 8).
        channels: 3 (random colours) or 1 (grey levels).
        colour_ranges: the ``(low, high)`` range of each channel's colour in X (Y's are ``1 - high .. 1 - low``):
            unequal, so that the true map is the only plain one that carries X's colours onto Y's. With every
            channel in [0.35, 1] (Shapes' default) a permutation of the channels does as well as -x, and CycleGAN,
            which sees no pairs, cannot tell them apart: a run painted pink shapes purple where the negative is green
            (red and green swapped) at a cycle error of 0.027. The default is warm colours: red 0.7..1, green
            0.35..1, blue 0.35..0.6.
        num_train: training pairs: X drawn from ``seed``, Y the negatives of an independent draw (``seed + 2``).
        num_val: validation pairs ``(x, 255 - x)``, drawn from ``seed + 1``.
        seed: seed of domain X's training images (validation: ``seed + 1``; Y's training images: ``seed + 2``).
    """

    paired_validation = True

    def __init__(
        self,
        image_size: int = 32,
        channels: int = 3,
        num_train: int = 4_000,
        num_val: int = 256,
        seed: int = 0,
        batch_size: int = 16,
        num_workers: int = 0,
        shuffle_seed: int | None = None,
        colour_ranges: tuple[tuple[float, float], tuple[float, float], tuple[float, float]] = (
            (0.7, 1.0),
            (0.35, 1.0),
            (0.35, 0.6),
        ),
    ) -> None:
        super().__init__(image_size, channels, batch_size, num_workers, shuffle_seed)
        self.save_hyperparameters()
        if len(colour_ranges) != 3 or not all(0 <= low <= high <= 1 for low, high in colour_ranges):
            raise LitGansError(f"colour_ranges takes three (low, high) pairs in [0, 1], got {colour_ranges}")
        self.num_train, self.num_val, self.seed = num_train, num_val, seed
        self.colour_ranges = tuple((float(low), float(high)) for low, high in colour_ranges)

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is None:
            args = (self.image_size, self.channels)
            x = draw(self.num_train, *args, self.seed, colour_ranges=self.colour_ranges)
            y = 255 - draw(self.num_train, *args, self.seed + 2, colour_ranges=self.colour_ranges)
            self.train_set = PairDataset(x, y)
            val = draw(self.num_val, *args, self.seed + 1, colour_ranges=self.colour_ranges)
            self.val_set = PairDataset(val, 255 - val)
