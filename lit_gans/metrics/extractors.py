"""Feature extractors for FID/IS/KID: images in [-1, 1] -> ``(features [N, F], logits [N, K])``.

- ``InceptionV3Features``: the standard FID Inception (torch-fidelity's port of the TF 2015-12-05 graph, TF1 bilinear
  resize to 299, 2048-d pool features, 1008 ``logits_unbiased`` for IS). Weights from ``weights_path``, else
  ``$LIT_GANS_INCEPTION_WEIGHTS``, else the torch hub cache, else downloaded there as torchmetrics/torch-fidelity do.
- ``ClassifierFeatures``: a small classifier trained on the dataset itself (``python cli.py classifier ...``): its
  penultimate layer for FID/KID and its softmax for IS. Needs no download; numbers are comparable only between runs
  that use the same classifier file (its hash is part of the protocol).

``fingerprint()`` identifies the extractor and its weights (for the real-statistics cache), ``protocol()`` says
how images are fed to it (logged with the numbers).
"""

from __future__ import annotations

import hashlib
import os
import socket
from functools import cache
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lit_gans.errors import LitGansError

INCEPTION_ENV = "LIT_GANS_INCEPTION_WEIGHTS"
INCEPTION_URL = (
    "https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/weights-inception-2015-12-05-6726825d.pth"
)
# the names under which torch-fidelity / torchmetrics (and pytorch-fid) cache the same weights
INCEPTION_FILE_NAMES = ("weights-inception-2015-12-05-6726825d.pth", "pt_inception-2015-12-05-6726825d.pth")


@cache
def file_sha256(path: str, size: int, mtime: float) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_of(path: str | Path) -> str:
    stat = Path(path).stat()
    return file_sha256(str(Path(path).resolve()), stat.st_size, stat.st_mtime)


def to_uint8_rgb(images: Tensor) -> Tensor:
    """``[N, C, H, W]`` in [-1, 1] -> ``uint8 [N, 3, H, W]`` (grey repeated to three channels)."""
    pixels = ((images.float() + 1) * 127.5).round().clamp(0, 255).to(torch.uint8)
    return pixels.expand(-1, 3, -1, -1) if pixels.shape[1] == 1 else pixels


class FeatureExtractor(nn.Module):
    """Base: ``forward(images [N, C, H, W] in [-1, 1]) -> (features [N, F], logits [N, K])``; always in eval mode."""

    name: str = "extractor"

    def fingerprint(self) -> str:
        raise NotImplementedError

    def protocol(self) -> dict[str, Any]:
        raise NotImplementedError

    def train(self, mode: bool = True) -> FeatureExtractor:
        return super().train(False)


class InceptionV3Features(FeatureExtractor):
    """The FID Inception network.

    Args:
        weights_path: the weights file (``weights-inception-2015-12-05-6726825d.pth`` from torch-fidelity, or
            pytorch-fid's ``pt_inception-2015-12-05-6726825d.pth``). Default: ``$LIT_GANS_INCEPTION_WEIGHTS``,
            then the torch hub cache, then a download into it.
        download: allow that download (off: fail at once when no file is found).
        download_timeout: seconds before a stalled download gives up.
    """

    name = "inception-v3"

    def __init__(self, weights_path: str | None = None, download: bool = True, download_timeout: float = 60.0):
        super().__init__()
        from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

        path = find_inception_weights(weights_path, download, download_timeout)
        self.weights_path = str(path)
        self.net = FeatureExtractorInceptionV3(
            "inception-v3-compat", ["2048", "logits_unbiased"], feature_extractor_weights_path=self.weights_path
        )
        self.eval()

    @torch.no_grad()
    def forward(self, images: Tensor) -> tuple[Tensor, Tensor]:
        features, logits = self.net(to_uint8_rgb(images))
        return features, logits

    def fingerprint(self) -> str:
        return f"{self.name}:pool3-2048:logits_unbiased:{sha256_of(self.weights_path)}"

    def protocol(self) -> dict[str, Any]:
        return {
            "extractor": self.name,
            "weights": Path(self.weights_path).name,
            "weights_sha256": sha256_of(self.weights_path)[:16],
            "input": "quantised to uint8, grey repeated to RGB, TF1-compatible bilinear resize to 299x299",
            "features": "pool3, 2048-d (FID, KID)",
            "is_logits": "logits_unbiased, 1008 classes (IS)",
        }


def find_inception_weights(weights_path: str | None, download: bool, timeout: float) -> Path:
    """The Inception weights file: the argument, ``$LIT_GANS_INCEPTION_WEIGHTS``, the torch hub cache, a download."""
    explicit = weights_path or os.environ.get(INCEPTION_ENV)
    if explicit:
        if not Path(explicit).is_file():
            source = "weights_path" if weights_path else f"${INCEPTION_ENV}"
            raise LitGansError(f"Inception weights file {explicit} (from {source}) does not exist")
        return Path(explicit)
    cache_dir = Path(torch.hub.get_dir()) / "checkpoints"
    for name in INCEPTION_FILE_NAMES:
        if (cache_dir / name).is_file():
            return cache_dir / name
    how = (
        f"pass the weights file with --...extractor.init_args.weights_path FILE or set {INCEPTION_ENV}=FILE "
        f"({' or '.join(INCEPTION_FILE_NAMES)}, from {INCEPTION_URL}), or use ClassifierFeatures, which needs "
        "no download"
    )
    if not download:
        raise LitGansError(f"no Inception weights found in {cache_dir} and downloading is off: {how}")
    target = cache_dir / INCEPTION_FILE_NAMES[0]
    try:
        download_file(INCEPTION_URL, target, timeout)
    except Exception as error:  # offline: URLError, timeouts, DNS failures
        raise LitGansError(
            f"could not download the Inception weights ({type(error).__name__}: {error}): {how}"
        ) from None
    return target


def download_file(url: str, target: Path, timeout: float) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout)
    try:
        torch.hub.download_url_to_file(url, str(target), progress=False)
    finally:
        socket.setdefaulttimeout(previous)


def write_random_inception_weights(path: str | Path, seed: int = 0) -> Path:
    """Write a weights file with the FID Inception's exact keys and shapes and random values, built by constructing
    torch-fidelity's network with its weight loading switched off. It exercises and times the Inception pipeline
    offline (the time is the real network's); the features it gives mean nothing."""
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    empty = path.with_suffix(".empty.pth")
    torch.save({}, empty)
    load = FeatureExtractorInceptionV3.load_state_dict
    FeatureExtractorInceptionV3.load_state_dict = lambda self, state_dict, strict=True: None
    try:
        torch.manual_seed(seed)
        net = FeatureExtractorInceptionV3("random", ["2048"], feature_extractor_weights_path=str(empty))
    finally:
        FeatureExtractorInceptionV3.load_state_dict = load
        empty.unlink()
    torch.save(net.state_dict(), path)
    return path


class ClassifierFeatures(FeatureExtractor):
    """Features and logits of a dataset classifier written by ``python cli.py classifier``.

    Args:
        path: the classifier file.
    """

    name = "classifier"

    def __init__(self, path: str) -> None:
        super().__init__()
        from lit_gans.metrics.classifier import load_classifier

        self.path = path
        self.classifier, self.info = load_classifier(path)
        self.eval()

    @torch.no_grad()
    def forward(self, images: Tensor) -> tuple[Tensor, Tensor]:
        channels, size, _ = self.info["data_shape"]
        if images.shape[1] != channels:
            raise LitGansError(
                f"the classifier {self.path} takes {channels}-channel images, got {images.shape[1]} channels"
            )
        if images.shape[-2:] != (size, size):
            images = F.interpolate(images.float(), size=(size, size), mode="bilinear", antialias=True)
        return self.classifier.features_and_logits(images.float())

    def fingerprint(self) -> str:
        return f"{self.name}:{sha256_of(self.path)}"

    def protocol(self) -> dict[str, Any]:
        channels, size, _ = self.info["data_shape"]
        return {
            "extractor": self.name,
            "weights": Path(self.path).name,
            "weights_sha256": sha256_of(self.path)[:16],
            "trained_on": self.info["trained_on"],
            "classifier_val_accuracy": round(self.info["val_accuracy"], 4),
            "input": f"[-1, 1] float, {channels}x{size}x{size} (bilinear antialiased resize when different)",
            "features": f"penultimate layer, {self.info['feature_dim']}-d (FID, KID)",
            "is_logits": f"class logits, {self.info['num_classes']} classes (IS)",
        }
