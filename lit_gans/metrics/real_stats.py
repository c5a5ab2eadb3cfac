"""Real-image features, computed once per (data, extractor) and cached on disk.

The cache key hashes the exact float tensors the extractor would see (every real image, in order) together with the
extractor's fingerprint (its class, layer and weights hash) and this file's format version: a change of data,
split, count, resize or weights gives a new key, so stale statistics are never reused. Reading the images to hash
them is cheap next to running the extractor, which is what the cache saves.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from torch.utils.data import Dataset

FORMAT_VERSION = "real-features-v1"
CACHE_ENV = "LIT_GANS_CACHE"


def default_cache_dir() -> Path:
    return Path(os.environ.get(CACHE_ENV, Path.home() / ".cache" / "lit_gans")) / "real_features"


def real_images(dataset: Dataset, num: int) -> Tensor:
    """The first ``num`` images of ``dataset`` (items ``(image, label)`` or bare images), ``[num, C, H, W]``."""
    first = dataset[0]
    image = first[0] if isinstance(first, (tuple, list)) else first
    out = torch.empty(num, *image.shape, dtype=torch.float32)
    for i in range(num):
        item = dataset[i]
        out[i] = item[0] if isinstance(item, (tuple, list)) else item
    return out


def cache_key(images: Tensor, fingerprint: str) -> str:
    digest = hashlib.sha256(f"{FORMAT_VERSION}|{fingerprint}|{tuple(images.shape)}".encode())
    digest.update(images.contiguous().numpy().tobytes())
    return digest.hexdigest()[:32]


def load_cached(cache_dir: Path, key: str) -> dict[str, Tensor] | None:
    path = cache_dir / f"{key}.pt"
    return torch.load(path, map_location="cpu", weights_only=True) if path.is_file() else None


def save_cached(cache_dir: Path, key: str, entry: dict) -> Path:
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_dir / f"{key}.pt"
    partial = path.with_suffix(f".{os.getpid()}.partial")
    torch.save(entry, partial)
    partial.replace(path)  # atomic: a reader never sees half a file
    return path


def describe_data(datamodule: Any) -> str:
    """``Name(arg=value, ...)`` of a datamodule's hyper-parameters, loader settings left out."""
    hparams = getattr(datamodule, "hparams", {})
    skip = ("batch_size", "num_workers", "shuffle_seed")
    keep = {k: v for k, v in dict(hparams).items() if k not in skip and not k.startswith("_")}
    return f"{type(datamodule).__name__}({', '.join(f'{k}={v}' for k, v in keep.items())})"
