"""CelebA (Liu et al. 2015): 202,599 aligned face images with 40 binary attributes, read from torchvision's
layout: ``<root>/celeba/`` (or ``root`` itself) holding ``img_align_celeba/``, ``list_attr_celeba.txt`` and
``list_eval_partition.txt``. Only those are read (torchvision's own class also demands the identity, box and
landmark files and their checksums). Each image is centre-cropped (178x178, the usual crop of the 178x218 aligned
faces) and resized to ``image_size``; images are read from disk as batches need them.

Without ``attribute``: batches ``(image, attributes [40] in {0, 1})``, for the unconditional GANs. With
``attribute`` (e.g. ``Eyeglasses``): two unpaired domains for CycleGAN, X = faces without it, Y = faces with it;
batches ``(x, y)`` drawn as in ``Unpaired`` (y independent of x, random flips).
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor
from torch.utils.data import Dataset

from datamodules.folder import open_image
from datamodules.translation import TranslationDataModule, to_tensor
from datamodules.unpaired import UnpairedDataset
from lit_gans.errors import LitGansError

PARTITIONS = {"train": 0, "valid": 1, "test": 2}


def celeba_folder(root: Path) -> Path:
    for folder in (root / "celeba", root):
        if (folder / "img_align_celeba").is_dir():
            return folder
    raise LitGansError(
        f"CelebA not found: neither {root / 'celeba' / 'img_align_celeba'} nor {root / 'img_align_celeba'} exists "
        "(torchvision's layout: ROOT/celeba/img_align_celeba/, list_attr_celeba.txt, list_eval_partition.txt)"
    )


def read_attributes(path: Path) -> tuple[list[str], list[str], Tensor]:
    """``list_attr_celeba.txt`` -> ``(attribute names [40], file names [N], values [N, 40] in {0, 1})``."""
    if not path.is_file():
        raise LitGansError(f"CelebA attribute file {path} does not exist")
    lines = path.read_text().splitlines()
    names = lines[1].split()
    rows = [line.split() for line in lines[2:] if line.strip()]
    if any(len(row) != len(names) + 1 for row in rows):
        raise LitGansError(f"{path}: every row must hold a file name and {len(names)} values of -1 or 1")
    values = torch.tensor([[int(v) for v in row[1:]] for row in rows])
    return names, [row[0] for row in rows], (values > 0).long()


def read_partition(path: Path) -> dict[str, int]:
    """``list_eval_partition.txt`` -> ``{file name: 0 (train), 1 (valid) or 2 (test)}``."""
    if not path.is_file():
        raise LitGansError(f"CelebA partition file {path} does not exist")
    return {name: int(part) for name, part in (line.split() for line in path.read_text().splitlines() if line.strip())}


class FaceLoader:
    """``(path, size) -> [3, size, size]``: centre crop of ``crop_size``, then resize."""

    def __init__(self, crop_size: int) -> None:
        self.crop_size = crop_size

    def __call__(self, path: Path, size: int) -> Tensor:
        image = open_image(path, "RGB")
        crop = min(self.crop_size, image.width, image.height)
        left, top = (image.width - crop) // 2, (image.height - crop) // 2
        return to_tensor(image.crop((left, top, left + crop, top + crop)), 3, size)


class CelebAImages(Dataset):
    """``(image [3, S, S], attributes [40])`` for the files given."""

    def __init__(self, files: list[Path], attributes: Tensor, load: FaceLoader, image_size: int) -> None:
        self.files, self.attributes, self.load, self.image_size = files, attributes, load, image_size

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        return self.load(self.files[index], self.image_size), self.attributes[index]


class CelebA(TranslationDataModule):
    """CelebA faces, optionally split by an attribute into two unpaired domains.

    Args:
        root: the folder holding ``celeba/`` (torchvision's ``root``) or the ``celeba`` folder itself.
        image_size: side of the images after crop and resize.
        crop_size: side of the centre crop taken first (178).
        attribute: split into X = without, Y = with this attribute (``Eyeglasses``, ``Smiling``, ``Male``, ...).
        flip: random horizontal flips in training (domains only).
        max_val: validation images (per domain with ``attribute``) taken from the ``valid`` partition
            (``None``: all 19,867).
    """

    def __init__(
        self,
        root: str,
        image_size: int = 64,
        crop_size: int = 178,
        attribute: str | None = None,
        flip: bool = True,
        max_val: int | None = 1000,
        batch_size: int = 64,
        num_workers: int = 0,
        shuffle_seed: int | None = None,
    ) -> None:
        super().__init__(image_size, 3, batch_size, num_workers, shuffle_seed)
        self.save_hyperparameters()
        self.root, self.crop_size, self.attribute = Path(root).expanduser(), crop_size, attribute
        self.flip, self.max_val = flip, max_val
        self.attribute_names: list[str] = []

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is not None:
            return
        folder = celeba_folder(self.root)
        names, files, values = read_attributes(folder / "list_attr_celeba.txt")
        partition = read_partition(folder / "list_eval_partition.txt")
        self.attribute_names = names
        missing = [f for f in files if f not in partition]
        if missing:
            raise LitGansError(f"{folder / 'list_eval_partition.txt'} has no entry for {missing[0]}")
        images = folder / "img_align_celeba"
        load = FaceLoader(self.crop_size)

        def split(name: str) -> tuple[list[Path], Tensor]:
            rows = [i for i, f in enumerate(files) if partition[f] == PARTITIONS[name]]
            if not rows:
                raise LitGansError(f"CelebA's {name} partition is empty in {folder / 'list_eval_partition.txt'}")
            return [images / files[i] for i in rows], values[rows]

        (train_files, train_attrs), (val_files, val_attrs) = split("train"), split("valid")
        if self.attribute is None:
            self.train_set = CelebAImages(train_files, train_attrs, load, self.image_size)
            keep = len(val_files) if self.max_val is None else self.max_val
            self.val_set = CelebAImages(val_files[:keep], val_attrs[:keep], load, self.image_size)
            return
        if self.attribute not in names:
            raise LitGansError(f"unknown CelebA attribute {self.attribute!r}; the attributes are {', '.join(names)}")
        column = names.index(self.attribute)

        def domains(paths: list[Path], attrs: Tensor, what: str, limit: int | None) -> tuple[list[Path], list[Path]]:
            without = [p for p, a in zip(paths, attrs[:, column]) if a == 0][:limit]
            with_ = [p for p, a in zip(paths, attrs[:, column]) if a == 1][:limit]
            if not without or not with_:
                empty = "with" if not with_ else "without"
                raise LitGansError(f"CelebA's {what} partition has no image {empty} {self.attribute}")
            return without, with_

        x_train, y_train = domains(train_files, train_attrs, "train", None)
        x_val, y_val = domains(val_files, val_attrs, "valid", self.max_val)
        args = (load, self.image_size, self.image_size, self.flip)
        self.train_set = UnpairedDataset(x_train, y_train, *args, augment=True)
        self.val_set = UnpairedDataset(x_val, y_val, *args, augment=False)
