"""Paired image-to-image data (Pix2Pix), in the two layouts its users have:

- ``aligned`` (pix2pix's datasets: facades, maps, edges2shoes, ...): ``root/train/``, ``root/val/``, ``root/test/``
  of images holding A and B side by side (``A|B``). Training reads ``train/`` only; validation reads ``val/``, or
  ``test/`` when there is no ``val/``. Test images never enter training.
- ``folders``: ``root/A/`` and ``root/B/`` with the same file names (extensions may differ); every k-th pair is held
  out for validation.

Training pairs get the same random jitter and flip on both sides (resize to ``load_size``, random crop to
``image_size``); validation pairs are only resized.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from torch import Tensor
from torch.utils.data import Dataset

from datamodules.translation import (
    TranslationDataModule,
    default_load_size,
    image_files,
    jitter,
    key_generator,
    load_side_by_side,
    load_square,
    verify_images,
)
from lit_gans.errors import LitGansError


class PairedDataset(Dataset):
    """``(x, y)`` pairs from ``items``: ``(path, None)`` for an ``A|B`` image, ``(path_a, path_b)`` for two files.
    ``swap``: B -> A. ``augment``: jitter and flip (training; keyed indices, see ``GANDataModule``)."""

    keyed = True

    def __init__(
        self,
        items: list[tuple[Path, Path | None]],
        channels: int,
        image_size: int,
        load_size: int,
        flip: bool,
        augment: bool,
        swap: bool,
    ) -> None:
        self.items, self.channels, self.image_size = items, channels, image_size
        self.load_size = load_size if augment else image_size
        self.flip, self.augment, self.swap = flip, augment, swap

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, key: int) -> tuple[Tensor, Tensor]:
        a_path, b_path = self.items[key % len(self.items)]
        if b_path is None:
            a, b = load_side_by_side(a_path, self.channels, self.load_size)
        else:
            a, b = (
                load_square(a_path, self.channels, self.load_size),
                load_square(b_path, self.channels, self.load_size),
            )
        if self.augment:
            a, b = jitter([a, b], self.image_size, self.flip, key_generator(key))
        return (b, a) if self.swap else (a, b)


def match_by_name(a_files: list[Path], b_files: list[Path], a_dir: Path, b_dir: Path) -> list[tuple[Path, Path]]:
    """Pairs of files with the same name (extension aside); an error naming the first unmatched files."""
    a_by_stem, b_by_stem = {p.stem: p for p in a_files}, {p.stem: p for p in b_files}
    only_a = sorted(set(a_by_stem) - set(b_by_stem))
    only_b = sorted(set(b_by_stem) - set(a_by_stem))
    if only_a or only_b:
        named = [f"{a_by_stem[s]} (no {b_dir / s}.*)" for s in only_a[:3]]
        named += [f"{b_by_stem[s]} (no {a_dir / s}.*)" for s in only_b[:3]]
        raise LitGansError(
            f"A and B do not match: {len(only_a)} files of {a_dir} and {len(only_b)} of {b_dir} have no partner of "
            f"the same name; first unmatched: {'; '.join(named)}"
        )
    return [(a_by_stem[s], b_by_stem[s]) for s in sorted(a_by_stem)]


class Paired(TranslationDataModule):
    """Paired translation data from a folder, ``(x, y)`` = (A, B) or, with ``direction=BtoA``, (B, A).

    Args:
        root: the dataset folder (``train/`` ``val/`` ``test/`` of ``A|B`` images, or ``A/`` and ``B/``).
        layout: ``aligned``, ``folders`` or ``auto`` (``aligned`` when ``root/train`` exists, else ``folders``).
        direction: ``AtoB`` or ``BtoA``.
        image_size: side of the square crops (256 in the paper).
        load_size: the jitter's resize before the random crop (default: 286 for 256, in proportion otherwise).
        flip: random horizontal flips in training (the same for both sides).
        channels: 3 (RGB) or 1 (grey), both sides.
        val_size: pairs held out for validation in the ``folders`` layout (at most a tenth, at least one).
        check_images: open every file's header before training, so a corrupt file is named at once.
    """

    paired_validation = True

    def __init__(
        self,
        root: str,
        layout: Literal["auto", "aligned", "folders"] = "auto",
        direction: Literal["AtoB", "BtoA"] = "AtoB",
        image_size: int = 256,
        load_size: int | None = None,
        flip: bool = True,
        channels: int = 3,
        val_size: int = 100,
        check_images: bool = True,
        batch_size: int = 1,
        num_workers: int = 0,
        shuffle_seed: int | None = None,
    ) -> None:
        super().__init__(image_size, channels, batch_size, num_workers, shuffle_seed)
        if direction not in ("AtoB", "BtoA"):
            raise LitGansError(f"direction must be 'AtoB' or 'BtoA', got {direction!r}")
        if layout not in ("auto", "aligned", "folders"):
            raise LitGansError(f"layout must be 'auto', 'aligned' or 'folders', got {layout!r}")
        self.save_hyperparameters()
        self.root, self.layout, self.direction = Path(root).expanduser(), layout, direction
        self.load_size = default_load_size(image_size, load_size)
        self.flip, self.val_size, self.check_images = flip, val_size, check_images

    def find_layout(self) -> str:
        if self.layout != "auto":
            return self.layout
        if not self.root.is_dir():
            raise LitGansError(f"paired data folder {self.root} does not exist: pass --data.root DIR")
        if (self.root / "train").is_dir():
            return "aligned"
        if (self.root / "A").is_dir() or (self.root / "B").is_dir():
            return "folders"
        raise LitGansError(
            f"{self.root} has neither train/ (pix2pix layout: train/, val/, test/ of A|B images) nor A/ and B/ "
            "(two folders of images matched by file name)"
        )

    def splits(self) -> tuple[list[tuple[Path, Path | None]], list[tuple[Path, Path | None]]]:
        """``(train items, validation items)`` of the dataset's layout."""
        if self.find_layout() == "aligned":
            train = image_files(self.root / "train", "training (A|B images)")
            val_dir = self.root / "val" if (self.root / "val").is_dir() else self.root / "test"
            if not val_dir.is_dir():
                raise LitGansError(f"{self.root} has no val/ nor test/ folder of A|B images for validation")
            val = image_files(val_dir, "validation (A|B images)")
            return [(p, None) for p in train], [(p, None) for p in val]
        a_dir, b_dir = self.root / "A", self.root / "B"
        pairs = match_by_name(image_files(a_dir, "domain A"), image_files(b_dir, "domain B"), a_dir, b_dir)
        if len(pairs) < 2:
            raise LitGansError(f"{self.root} holds {len(pairs)} pair; at least 2 are needed (train and validation)")
        num_val = max(1, min(self.val_size, len(pairs) // 10))
        val = pairs[:: len(pairs) // num_val][:num_val]  # spread over the folder's order
        held_out = set(val)
        return [p for p in pairs if p not in held_out], list(val)

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is not None:
            return
        train, val = self.splits()
        if self.check_images:
            verify_images([p for item in train + val for p in item if p is not None])
        args = (self.channels, self.image_size, self.load_size, self.flip)
        swap = self.direction == "BtoA"
        self.train_set = PairedDataset(train, *args, augment=True, swap=swap)
        self.val_set = PairedDataset(val, *args, augment=False, swap=swap)
