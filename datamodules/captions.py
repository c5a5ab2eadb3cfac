"""Captioned images for text-to-image models: ``ShapesCaptions`` (drawn, offline, every caption true) and
``CaptionFolder`` (a user's images and their captions, CUB / Oxford-102 / COCO style).

A batch is ``(images [B, C, S, S] in [-1, 1], tokens [B, L])`` with the caption's word ids (``lit_gans.text``; 0
pads); ``ShapesCaptions`` adds ``attributes [B, 5]`` (the image's shape, colour, size, row and column indices) and
``stated [B, 5]`` (bool: which of them the caption names). An item is one (image, caption) pair: an image with ``K``
captions is seen ``K`` times an epoch, once with each.
"""

from __future__ import annotations

import math
from pathlib import Path, PurePosixPath

import torch
from torch import Tensor
from torch.utils.data import Dataset

from datamodules.base import GANDataModule
from datamodules.folder import find_images, open_image, resize_and_crop, validation_indices
from datamodules.shapes import SHAPE_NAMES, render
from lit_gans.errors import LitGansError
from lit_gans.text import Vocabulary

ATTRIBUTES = ("shape", "colour", "size", "row", "column")
COLOURS = {  # name -> RGB in [0, 1]; each drawn within +-COLOUR_JITTER per channel
    "red": (0.9, 0.15, 0.15),
    "green": (0.15, 0.8, 0.2),
    "blue": (0.2, 0.3, 0.95),
    "yellow": (0.95, 0.85, 0.15),
    "purple": (0.65, 0.2, 0.85),
    "white": (0.92, 0.92, 0.92),
}
COLOUR_JITTER = 0.06
SIZES = {"small": (0.3, 0.36), "large": (0.5, 0.56)}  # circumradius range, fraction of the half-side
ROWS, COLUMNS = ("top", "middle", "bottom"), ("left", "centre", "right")
BIN_CENTRES, POSITION_JITTER = (-0.42, 0.0, 0.42), 0.05  # of a row or column, in [-1, 1] image coordinates
ATTRIBUTE_VALUES = {
    "shape": SHAPE_NAMES,
    "colour": tuple(COLOURS),
    "size": tuple(SIZES),
    "row": ROWS,
    "column": COLUMNS,
}
NUM_VALUES = tuple(len(ATTRIBUTE_VALUES[name]) for name in ATTRIBUTES)  # (3, 6, 2, 3, 3)
# the caption templates and the attributes each states; the full caption twice, so it is a quarter of them
TEMPLATES = (
    ("a {size} {colour} {shape} {position}", ("shape", "colour", "size", "row", "column")),
    ("a {size} {colour} {shape} {position}", ("shape", "colour", "size", "row", "column")),
    ("a {colour} {shape} {position}", ("shape", "colour", "row", "column")),
    ("a {size} {colour} {shape}", ("shape", "colour", "size")),
    ("a {size} {shape} {position}", ("shape", "size", "row", "column")),
    ("a {colour} {shape}", ("shape", "colour")),
    ("something {colour} {position}", ("colour", "row", "column")),
    ("something {colour}", ("colour",)),
)


def position_phrase(row: int, column: int) -> str:
    """``in the top left``, ``in the middle right``, ``in the centre`` (middle row, centre column)."""
    if (row, column) == (1, 1):
        return "in the centre"
    return f"in the {ROWS[row]} {COLUMNS[column]}"


def shapes_vocabulary() -> Vocabulary:
    words = ["a", "something", "in", "the", *SHAPE_NAMES, *COLOURS, *SIZES, *ROWS, *COLUMNS]
    return Vocabulary(list(dict.fromkeys(words)))


def sample_attributes(n: int, generator: torch.Generator) -> Tensor:
    """``[n, 5]`` uniform attribute indices (shape, colour, size, row, column)."""
    return torch.stack([torch.randint(k, (n,), generator=generator) for k in NUM_VALUES], dim=1)


def attribute_factors(attributes: Tensor, generator: torch.Generator) -> Tensor:
    """Shapes' ``[n, 8]`` drawing factors for ``attributes [n, 5]``: each continuous factor drawn inside its named
    bin, away from the bin's edges (sizes and positions jittered, colours within ``COLOUR_JITTER`` of the name's),
    squares upright and triangles pointing up, so every caption of the image is true."""
    n = len(attributes)
    u = torch.rand(n, 6, generator=generator)
    size_range = torch.tensor(list(SIZES.values()))[attributes[:, 2]]  # [n, 2]
    scale = size_range[:, 0] + (size_range[:, 1] - size_range[:, 0]) * u[:, 0]
    centres = torch.tensor(BIN_CENTRES)
    x = centres[attributes[:, 4]] + POSITION_JITTER * (2 * u[:, 1] - 1)
    y = centres[attributes[:, 3]] + POSITION_JITTER * (2 * u[:, 2] - 1)  # y grows downwards: row 0 is the top
    colour = torch.tensor(list(COLOURS.values()))[attributes[:, 1]] + COLOUR_JITTER * (2 * u[:, 3:6] - 1)
    rotation = torch.full((n,), math.pi)
    return torch.cat(
        [attributes[:, :1].float(), scale[:, None], rotation[:, None], x[:, None], y[:, None], colour.clamp(0, 1)],
        dim=1,
    )


def caption_for(attributes: Tensor, template: int) -> tuple[str, Tensor]:
    """The caption of one image's ``attributes [5]`` with template ``template``, and the ``stated [5]`` mask."""
    text, stated_names = TEMPLATES[template]
    values = {name: ATTRIBUTE_VALUES[name][int(attributes[i])] for i, name in enumerate(ATTRIBUTES)}
    caption = text.format(position=position_phrase(int(attributes[3]), int(attributes[4])), **values)
    stated = torch.tensor([name in stated_names for name in ATTRIBUTES])
    return caption, stated


class CaptionedImages(Dataset):
    """Pairs ``(image, caption)``: ``images uint8 [N, C, S, S]``, ``tokens [M, L]`` and ``image_of [M]`` (the image
    each caption describes); with ``attributes [N, 5]`` and ``stated [M, 5]`` an item also carries them. Served as
    floats in [-1, 1], whole batches by ``get_batch``."""

    def __init__(
        self,
        images: Tensor,
        tokens: Tensor,
        image_of: Tensor,
        attributes: Tensor | None = None,
        stated: Tensor | None = None,
    ) -> None:
        if len(tokens) != len(image_of) or (stated is not None and len(stated) != len(tokens)):
            raise ValueError("tokens, image_of and stated need one row per caption")
        self.images, self.tokens, self.image_of = images, tokens, image_of
        self.attributes, self.stated = attributes, stated

    def __len__(self) -> int:
        return len(self.tokens)

    def __getitem__(self, index: int) -> tuple[Tensor, ...]:
        return tuple(t[0] for t in self.get_batch(torch.tensor([index])))

    def get_batch(self, indices: Tensor) -> tuple[Tensor, ...]:
        image_indices = self.image_of[indices]
        batch = (self.images[image_indices].float() / 127.5 - 1.0, self.tokens[indices])
        if self.attributes is not None:
            batch += (self.attributes[image_indices], self.stated[indices])
        return batch


def draw_captioned_shapes(
    num_images: int, captions_per_image: int, image_size: int, seed: int, max_length: int
) -> CaptionedImages:
    generator = torch.Generator().manual_seed(seed)
    attributes = sample_attributes(num_images, generator)
    factors = attribute_factors(attributes, generator)
    images = torch.cat([render(factors[i : i + 1024], image_size, 3) for i in range(0, num_images, 1024)])
    templates = torch.randint(len(TEMPLATES), (num_images, captions_per_image), generator=generator)
    captions, stated = [], []
    for i in range(num_images):
        for template in templates[i].tolist():
            caption, mask = caption_for(attributes[i], template)
            captions.append(caption)
            stated.append(mask)
    tokens = shapes_vocabulary().encode(captions, max_length)
    image_of = torch.arange(num_images).repeat_interleave(captions_per_image)
    return CaptionedImages(images, tokens, image_of, attributes, torch.stack(stated))


class ShapesCaptions(GANDataModule):
    """Shapes with captions (the offline default of the text-to-image models): one upright circle, square or
    triangle on black, of a named colour (red, green, blue, yellow, purple, white), size (small, large) and place
    (a 3 x 3 grid: top/middle/bottom, left/centre/right), each drawn well inside its named bin so that every
    caption is true. Captions come from templates that sometimes leave attributes out: "a large red circle in the
    top left", "a small blue square", "a green triangle in the centre", "something white".

    Items are ``(image, tokens, attributes, stated)``: the caption's word ids (``vocabulary``), the image's five
    attribute indices (``ATTRIBUTES``: shape, colour, size, row, column) and which of them the caption states.

    Args:
        image_size: side of the square images, in pixels (at least 16).
        num_train: training images, drawn from ``seed``.
        num_val: validation images, drawn from ``seed + 1``, one caption each.
        captions_per_image: captions drawn for each training image (StackGAN's datasets have 5 to 10); an epoch
            visits every (image, caption) pair once.
        max_length: caption length in tokens (padded with 0).
        seed: seed of the training split (the validation split uses ``seed + 1``).
    """

    def __init__(
        self,
        image_size: int = 32,
        num_train: int = 10_000,
        num_val: int = 1_000,
        captions_per_image: int = 5,
        max_length: int = 10,
        seed: int = 0,
        batch_size: int = 64,
        num_workers: int = 0,
        shuffle_seed: int | None = None,
    ) -> None:
        super().__init__(batch_size, num_workers, shuffle_seed)
        if image_size < 16:
            raise LitGansError(f"ShapesCaptions needs image_size >= 16 to draw small shapes, got {image_size}")
        if captions_per_image < 1:
            raise LitGansError(f"captions_per_image must be at least 1, got {captions_per_image}")
        if max_length < 8:
            raise LitGansError(f"max_length must be at least 8 (the longest caption), got {max_length}")
        self.save_hyperparameters()
        self.image_size, self.num_train, self.num_val = image_size, num_train, num_val
        self.captions_per_image, self.max_length, self.seed = captions_per_image, max_length, seed

    @property
    def data_shape(self) -> tuple[int, int, int]:
        return (3, self.image_size, self.image_size)

    @property
    def vocabulary(self) -> list[str]:
        return shapes_vocabulary().words

    @property
    def attribute_classes(self) -> dict[str, int]:
        """Each attribute's number of values, for an attribute classifier's heads."""
        return dict(zip(ATTRIBUTES, NUM_VALUES))

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is None:
            args = (self.image_size, self.seed, self.max_length)
            self.train_set = draw_captioned_shapes(self.num_train, self.captions_per_image, *args)
            self.val_set = draw_captioned_shapes(self.num_val, 1, self.image_size, self.seed + 1, self.max_length)


class CaptionFolderDataset(Dataset):
    """Pairs ``(image [C, S, S] in [-1, 1], tokens [L])``: ``tokens [M, L]`` and ``image_of [M]`` (the index in
    ``files`` of the image each caption describes). Images are read from disk per item, resized (shorter side) and
    centre-cropped as ``ImageFolder`` does."""

    def __init__(self, files: list[Path], tokens: Tensor, image_of: Tensor, image_size: int, channels: int) -> None:
        if len(tokens) != len(image_of):
            raise ValueError("tokens and image_of need one row per caption")
        self.files, self.tokens, self.image_of = files, tokens, image_of
        self.mode = "RGB" if channels == 3 else "L"
        self.transform = resize_and_crop(image_size, channels)

    def __len__(self) -> int:
        return len(self.tokens)

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        image = open_image(self.files[int(self.image_of[index])], self.mode)
        return self.transform(image), self.tokens[index]


def split_caption_line(line: str) -> tuple[str, str] | None:
    """``path<TAB>caption`` (or ``path|caption`` when the line has no tab) -> ``(path, caption)``; None without a
    separator."""
    separator = "\t" if "\t" in line else "|" if "|" in line else None
    if separator is None:
        return None
    path, caption = line.split(separator, 1)
    return path.strip(), caption.strip()


def read_caption_file(path: Path, root: Path, files: list[Path]) -> list[list[str]]:
    """Each of ``files``' captions from one captions file of ``relative/path.jpg<TAB>caption`` lines."""
    index = {f.relative_to(root).as_posix(): i for i, f in enumerate(files)}
    captions: list[list[str]] = [[] for _ in files]
    with open(path, encoding="utf-8-sig") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            parts = split_caption_line(line)
            if parts is None:
                raise LitGansError(
                    f"line {number} of captions file {path} has no separator: write 'relative/path.jpg<TAB>caption' "
                    "(or 'relative/path.jpg|caption')"
                )
            name = PurePosixPath(parts[0].replace("\\", "/")).as_posix()
            if name not in index:
                raise LitGansError(
                    f"line {number} of captions file {path} names {parts[0]!r}, which is not an image under {root} "
                    "(paths are relative to --data.root)"
                )
            if not parts[1]:
                raise LitGansError(f"line {number} of captions file {path} names {parts[0]!r} with an empty caption")
            captions[index[name]].append(parts[1])
    missing = [f for f, c in zip(files, captions) if not c]
    if missing:
        raise LitGansError(
            f"{len(missing)} of {len(files)} images under {root} have no caption: captions file {path} never names "
            f"{missing[0].relative_to(root).as_posix()!r} (first of them)"
        )
    return captions


def read_caption_dir(folder: Path, root: Path, files: list[Path]) -> list[list[str]]:
    """Each of ``files``' captions from a ``.txt`` per image under ``folder``, at the image's path relative to
    ``root`` (one caption per non-empty line)."""
    captions: list[list[str]] = []
    missing: list[tuple[Path, Path]] = []  # (image, its absent caption file)
    for file in files:
        text = (folder / file.relative_to(root)).with_suffix(".txt")
        if not text.is_file():
            missing.append((file, text))
            captions.append([])
            continue
        lines = [line.strip() for line in text.read_text(encoding="utf-8-sig").splitlines()]
        lines = [line for line in lines if line]
        if not lines:
            raise LitGansError(f"caption file {text} holds no caption: write one caption per line, or remove its image")
        captions.append(lines)
    if missing:
        raise LitGansError(
            f"{len(missing)} of {len(files)} images under {root} have no caption file: the first, {missing[0][0]}, "
            f"needs {missing[0][1]} (one caption per line)"
        )
    return captions


class CaptionFolder(GANDataModule):
    """A user's images and their captions (CUB-200, Oxford-102 flowers, COCO and the like), the images searched
    recursively under ``root`` and resized and centre-cropped to ``image_size`` as by ``ImageFolder``.

    Captions come either from a text file per image, one caption per non-empty line, at the image's path relative to
    ``root`` with the suffix ``.txt`` under ``captions`` (default: beside the image, ``root/a/img1.jpg`` ->
    ``root/a/img1.txt``; CUB's and Oxford-102's ``text_c10`` folders mirror the image folders), or from one captions
    file of ``relative/path/of/image.jpg<TAB>caption`` lines (``|`` separates when a line has no tab), several lines
    per image allowed. Every image needs at least one caption.

    Items are ``(image, tokens)``; a training image with ``K`` captions is seen ``K`` times an epoch, once with each,
    and a validation image once, with its first caption. The vocabulary (``vocabulary``) holds the training
    captions' words; validation words outside it become ``<unk>`` (id 1).

    Args:
        root: the images folder, searched recursively.
        captions: a folder of ``.txt`` caption files mirroring ``root`` (None: the ``.txt`` files sit beside the
            images) or one captions file of ``path<TAB>caption`` lines.
        image_size: side of the square crops.
        channels: 3 (RGB) or 1 (grey).
        val_size: images held out for validation (at most a tenth of the folder, at least one), every k-th image.
        max_length: caption length in tokens (padded with 0, longer captions cut).
        min_word_count: words seen fewer times in the training captions are ``<unk>``.
    """

    def __init__(
        self,
        root: str,
        captions: str | None = None,
        image_size: int = 64,
        channels: int = 3,
        val_size: int = 256,
        max_length: int = 18,
        min_word_count: int = 1,
        batch_size: int = 64,
        num_workers: int = 0,
        shuffle_seed: int | None = None,
    ) -> None:
        super().__init__(batch_size, num_workers, shuffle_seed)
        if channels not in (1, 3):
            raise LitGansError(f"CaptionFolder reads 1- or 3-channel images, got channels={channels}")
        if max_length < 1:
            raise LitGansError(f"max_length must be at least 1, got {max_length}")
        self.save_hyperparameters()
        self.root, self.image_size, self.channels = Path(root).expanduser(), image_size, channels
        self.captions = None if captions is None else Path(captions).expanduser()
        self.val_size, self.max_length, self.min_word_count = val_size, max_length, min_word_count
        self._split: tuple[list[Path], list[list[str]], list[Path], list[list[str]]] | None = None
        self._vocabulary: Vocabulary | None = None

    @property
    def data_shape(self) -> tuple[int, int, int]:
        return (self.channels, self.image_size, self.image_size)

    @property
    def vocabulary(self) -> list[str]:
        """The training captions' words (read from the caption files alone, no image opened)."""
        return self._training_vocabulary().words

    def _training_vocabulary(self) -> Vocabulary:
        if self._vocabulary is None:
            train_captions = self._read_split()[1]
            words = (caption for captions in train_captions for caption in captions)
            self._vocabulary = Vocabulary.from_captions(words, self.min_word_count)
        return self._vocabulary

    def _read_split(self) -> tuple[list[Path], list[list[str]], list[Path], list[list[str]]]:
        """``(train files, their captions, validation files, their captions)``, cached."""
        if self._split is not None:
            return self._split
        files = find_images(self.root)
        if len(files) < 2:
            raise LitGansError(f"{self.root} holds {len(files)} image; at least 2 are needed (train and validation)")
        source = self.root if self.captions is None else self.captions
        if not source.exists():
            raise LitGansError(
                f"captions path {source} does not exist: pass --data.captions a folder of .txt files or a captions file"
            )
        if source.is_dir():
            captions = read_caption_dir(source, self.root, files)
        else:
            captions = read_caption_file(source, self.root, files)
        val = validation_indices(len(files), self.val_size)  # as ImageFolder splits
        held_out = set(val)
        train = [i for i in range(len(files)) if i not in held_out]
        self._split = (
            [files[i] for i in train],
            [captions[i] for i in train],
            [files[i] for i in val],
            [captions[i] for i in val],
        )
        return self._split

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is not None:
            return
        train_files, train_captions, val_files, val_captions = self._read_split()
        vocabulary = self._training_vocabulary()
        counts = torch.tensor([len(c) for c in train_captions])
        tokens = vocabulary.encode([c for captions in train_captions for c in captions], self.max_length)  # [M, L]
        image_of = torch.arange(len(train_files)).repeat_interleave(counts)  # [M]
        self.train_set = CaptionFolderDataset(train_files, tokens, image_of, self.image_size, self.channels)
        val_tokens = vocabulary.encode([c[0] for c in val_captions], self.max_length)  # [V, L]: first captions
        self.val_set = CaptionFolderDataset(
            val_files, val_tokens, torch.arange(len(val_files)), self.image_size, self.channels
        )
