"""MNIST (LeCun et al. 1998) read with torchvision's idx reader.

``root`` may be torchvision's layout (``<root>/MNIST/raw/``) or a folder holding the idx files directly, gzipped or
not (as ``../shared/data/mnist`` does). ``download=True`` fetches them into torchvision's layout.
"""

from __future__ import annotations

import gzip
import http.client
import shutil
import socket
import tempfile
import urllib.error
from pathlib import Path
from typing import Literal
from urllib.parse import urlparse

import torch
import torch.nn.functional as F
from torch import Tensor
from torchvision.datasets import MNIST as TorchvisionMNIST
from torchvision.datasets.mnist import read_image_file, read_label_file

from datamodules.base import GANDataModule, UInt8ImageDataset
from datamodules.semi_supervised import SemiSupervisedDataset
from lit_gans.errors import LitGansError

FILE_PREFIX = {"train": "train", "test": "t10k"}
DOWNLOAD_TIMEOUT = 30.0  # seconds a connection or a read may stall before the download gives up
WHERE_TO_POINT = "--data.root pointing at the folder that holds the idx files"


def candidate_paths(root: Path, name: str) -> list[Path]:
    return [folder / f"{name}{suffix}" for folder in (root / "MNIST" / "raw", root) for suffix in ("", ".gz")]


def read_idx(root: Path, name: str, reader) -> Tensor:
    """Read ``name`` (an idx file) from the first place it is found; ``.gz`` files are unpacked to a temporary file."""
    for path in candidate_paths(root, name):
        if not path.is_file():
            continue
        if path.suffix != ".gz":
            return reader(str(path))
        with tempfile.TemporaryDirectory() as tmp, gzip.open(path, "rb") as packed:
            unpacked = Path(tmp) / name
            with open(unpacked, "wb") as out:
                shutil.copyfileobj(packed, out)
            return reader(str(unpacked))
    raise FileNotFoundError(name)


def split_names(split: str) -> tuple[str, str]:
    return f"{FILE_PREFIX[split]}-images-idx3-ubyte", f"{FILE_PREFIX[split]}-labels-idx1-ubyte"


def split_present(root: Path, split: str) -> bool:
    return all(any(p.is_file() for p in candidate_paths(root, name)) for name in split_names(split))


def download_mnist(root: Path, split: str) -> None:
    """torchvision's download into ``<root>/MNIST/raw`` (every mirror it knows, each request giving up after
    ``DOWNLOAD_TIMEOUT`` seconds without progress); any network failure becomes one ``LitGansError``."""
    if split_present(root, split):
        return
    raw = root / "MNIST" / "raw"
    try:
        raw.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise LitGansError(f"cannot create {raw} to download MNIST into: {error.strerror or error}") from None
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT)
    try:
        TorchvisionMNIST(str(root), train=split == "train", download=True)
    except (urllib.error.URLError, http.client.HTTPException, OSError, RuntimeError) as error:
        hosts = " or ".join(urlparse(mirror).hostname or mirror for mirror in TorchvisionMNIST.mirrors)
        images, labels = split_names(split)
        raise LitGansError(
            f"MNIST download failed: could not fetch the idx files from {hosts} ({short_reason(error)}); this "
            f"machine may be offline. Put {images} and {labels} (gzipped or not, fetched on a machine with "
            f"internet) in {raw} or {root}, or pass {WHERE_TO_POINT}"
        ) from None
    finally:
        socket.setdefaulttimeout(previous)


def short_reason(error: BaseException) -> str:
    """One line saying why: torchvision's ``RuntimeError`` lists each mirror it tried and its error, over lines."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    reasons = [line for line in lines if not line.startswith(("Error downloading", "Tried "))]
    reason = reasons[-1] if reasons else type(error).__name__
    return reason if len(reason) <= 200 else reason[:197] + "..."


def load_mnist(root: str | Path, split: Literal["train", "test"], download: bool = False) -> tuple[Tensor, Tensor]:
    """``(images uint8 [N, 1, 28, 28], labels int64 [N])`` of one split; ``download`` fetches it when missing."""
    root = Path(root).expanduser()
    if download:
        download_mnist(root, split)
    images_name, labels_name = split_names(split)
    try:
        images = read_idx(root, images_name, read_image_file)
        labels = read_idx(root, labels_name, read_label_file)
    except FileNotFoundError as missing:
        looked = ", ".join(str(p) for p in candidate_paths(root, str(missing)))
        hint = ""
        other = "test" if split == "train" else "train"
        if any(p.is_file() for p in candidate_paths(root, f"{FILE_PREFIX[other]}-images-idx3-ubyte")):
            hint = f"; the {other} split is there: pass --data.split {other}"
        raise LitGansError(
            f"MNIST {split} split not found: looked for {looked}. Pass {WHERE_TO_POINT}, "
            f"or --data.download true to fetch them (needs internet){hint}"
        ) from None
    return images[:, None], labels.long()


class MNIST(GANDataModule):
    """MNIST digits, ``(1, image_size, image_size)`` in [-1, 1], labels 0-9.

    Args:
        root: torchvision's layout (``<root>/MNIST/raw/``) or a folder with the idx files (gzipped or not).
        split: which split to train on; ``test`` when that is all there is.
        download: fetch the files into ``<root>/MNIST/raw`` when the split is missing (needs internet).
        image_size: the side of the images: 28 as stored; 32 pads a black border of 2 pixels (the digit keeps its
            scale, the LeNet convention; what the growing and multi-scale GANs' power-of-two sizes need); any other
            size is a bilinear, antialiased resize (e.g. 64 for DCGAN). ``resize`` overrides the choice.
        resize: ``auto`` (pad to 32, resize otherwise), ``pad`` (a centred black border, sizes from 28) or
            ``bilinear``.
        val_size: the last ``val_size`` images of the split are held out for validation.
        labels_per_class: the semi-supervised setting (``SGAN``): training items become ``(x, x_labelled,
            y_labelled)``, only this many labels per class kept (chosen with ``labelled_seed``); validation keeps
            every label.
        labelled_seed: seed of the choice of the kept labels (the first examples of each class in a permutation
            drawn from it); used only with ``labels_per_class``.
    """

    def __init__(
        self,
        root: str = "data",
        split: Literal["train", "test"] = "train",
        download: bool = False,
        image_size: int = 28,
        resize: Literal["auto", "pad", "bilinear"] = "auto",
        val_size: int = 1_000,
        batch_size: int = 64,
        num_workers: int = 0,
        shuffle_seed: int | None = None,
        labels_per_class: int | None = None,
        labelled_seed: int = 0,
    ) -> None:
        super().__init__(batch_size, num_workers, shuffle_seed)
        if split not in FILE_PREFIX:
            raise LitGansError(f"MNIST split must be 'train' or 'test', got {split!r}")
        self.save_hyperparameters()
        self.root, self.split, self.download = root, split, download
        if resize not in ("auto", "pad", "bilinear"):
            raise LitGansError(f"MNIST resize must be 'auto', 'pad' or 'bilinear', got {resize!r}")
        if (resize == "pad" or (resize == "auto" and image_size == 32)) and image_size < 28:
            raise LitGansError(f"MNIST cannot pad 28x28 digits to {image_size}: use resize='bilinear'")
        self.image_size, self.val_size = image_size, val_size
        self.pad = resize == "pad" or (resize == "auto" and image_size == 32)
        self.labels_per_class, self.labelled_seed = labels_per_class, labelled_seed

    @property
    def data_shape(self) -> tuple[int, int, int]:
        return (1, self.image_size, self.image_size)

    def prepare_data(self) -> None:
        if self.download:
            load_mnist(self.root, self.split, download=True)

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is not None:
            return
        images, labels = load_mnist(self.root, self.split)
        if self.pad and self.image_size != 28:
            images = pad_uint8(images, self.image_size)
        elif self.image_size != 28:
            images = resize_uint8(images, self.image_size)
        if not 0 < self.val_size < len(images):
            raise LitGansError(f"MNIST val_size must be between 1 and {len(images) - 1}, got {self.val_size}")
        cut = len(images) - self.val_size
        self.train_set = UInt8ImageDataset(images[:cut], labels[:cut])
        self.val_set = UInt8ImageDataset(images[cut:], labels[cut:])
        if self.labels_per_class is not None:
            self.train_set = SemiSupervisedDataset(
                self.train_set, labels[:cut], self.labels_per_class, self.labelled_seed
            )


def pad_uint8(images: Tensor, size: int) -> Tensor:
    """``uint8 [N, C, H, W]`` centred in a black ``[N, C, size, size]`` (an odd margin puts the extra row and column
    at the bottom and right)."""
    top, left = (size - images.shape[-2]) // 2, (size - images.shape[-1]) // 2
    padding = (left, size - images.shape[-1] - left, top, size - images.shape[-2] - top)
    return F.pad(images, padding, value=0)


def resize_uint8(images: Tensor, size: int, chunk: int = 2048) -> Tensor:
    """Bilinear, antialiased resize of ``uint8 [N, C, H, W]`` to ``[N, C, size, size]``."""
    out = []
    for start in range(0, len(images), chunk):
        x = images[start : start + chunk].float()
        x = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
        out.append(x.round().clamp(0, 255).to(torch.uint8))
    return torch.cat(out)
