"""Super-resolution pairs from any image datamodule: ``(I_LR, I_HR, ...)`` with ``I_LR`` made by downsampling
``I_HR`` by ``scale``, as SRGAN's paper makes its training pairs (Ledig et al. 2017, s.3.2: "bicubic kernel with
downsampling factor r = 4").

The downsampling is ``torch.nn.functional.interpolate(hr, size=(H / r, W / r), mode="bicubic", antialias=True,
align_corners=False)``: the cubic kernel with ``a = -0.5`` (PIL's and MATLAB ``imresize``'s), stretched by ``r`` so
that it also low-passes (antialias), then clamped to [-1, 1] (the cubic kernel overshoots at edges). The
high-resolution images are the wrapped datamodule's own, unchanged; what follows them in its items (MNIST's and
Shapes' labels) follows in the pairs, so ``(lr, hr, label)`` batches let SRGAN train its content network.

From the command line the wrapped datamodule is a nested class (its own options after it)::

    python cli.py fit --model SRGAN --data SuperResolution --data.scale 4 \\
        --data.images MNIST --data.images.root ../shared/data/mnist --data.images.split test
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import Dataset

from datamodules.base import GANDataModule
from lit_gans.errors import LitGansError


def bicubic_downsample(hr: Tensor, scale: int) -> Tensor:
    """``[N, C, H, W] -> [N, C, H / scale, W / scale]`` (or one image ``[C, H, W]``): antialiased bicubic
    downsampling, clamped to [-1, 1] (see the module docstring)."""
    single = hr.dim() == 3
    batch = hr[None] if single else hr
    height, width = batch.shape[-2:]
    if height % scale or width % scale:
        raise LitGansError(f"a {height}x{width} image does not divide by the scale {scale}")
    lr = F.interpolate(
        batch.float(), size=(height // scale, width // scale), mode="bicubic", antialias=True, align_corners=False
    ).clamp(-1, 1)
    return lr[0] if single else lr


class LowResolutionPairs(Dataset):
    """``source``'s items ``(hr, *rest)`` as ``(bicubic_downsample(hr), hr, *rest)``; keyed like ``source``."""

    def __init__(self, source: Dataset, scale: int) -> None:
        self.source, self.scale = source, scale
        self.keyed = getattr(source, "keyed", False)

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, index: int) -> tuple[Tensor, ...]:
        item = self.source[index]
        hr, rest = (item[0], tuple(item[1:])) if isinstance(item, (tuple, list)) else (item, ())
        return (bicubic_downsample(hr, self.scale), hr, *rest)


class BatchedLowResolutionPairs(LowResolutionPairs):
    """The same for a source held in memory: a whole batch at once (``get_batch``), downsampled in one call."""

    def get_batch(self, indices: Tensor) -> tuple[Tensor, ...]:
        hr, *rest = self.source.get_batch(indices)
        return (bicubic_downsample(hr, self.scale), hr, *rest)


def pairs_of(source: Dataset, scale: int) -> LowResolutionPairs:
    batched = hasattr(source, "get_batch") and not getattr(source, "keyed", False)
    return (BatchedLowResolutionPairs if batched else LowResolutionPairs)(source, scale)


class SuperResolution(GANDataModule):
    """``(I_LR, I_HR, ...)`` batches from the image datamodule ``images``: ``I_HR`` its images ``[N, C, H, W]``,
    ``I_LR`` their bicubic downsampling ``[N, C, H / scale, W / scale]``, both in [-1, 1]; its training and
    validation splits. Validation pairs correspond, so ``TranslationMetrics`` scores SR against HR (PSNR, SSIM).

    Args:
        images: the image datamodule whose images are the high-resolution targets (MNIST, Shapes, ImageFolder,
            CelebA, ...); on the command line ``--data.images NAME --data.images.OPTION VALUE``. Its batch size
            is used only where its own loader is (training a content network); the pairs use ``batch_size``.
        scale: the downsampling factor ``r`` (4 in the paper); the image size must divide by it.
        batch_size: pairs per batch (16 in the paper).
        num_workers: DataLoader worker processes (0: load in the main process).
        shuffle_seed: seed of the training order; None: the seed of ``seed_everything``.
    """

    paired_validation = True

    def __init__(
        self,
        images: GANDataModule,
        scale: int = 4,
        batch_size: int = 16,
        num_workers: int = 0,
        shuffle_seed: int | None = None,
    ) -> None:
        super().__init__(batch_size, num_workers, shuffle_seed)
        if not isinstance(images, GANDataModule):
            raise LitGansError(
                f"SuperResolution wraps an image datamodule (--data.images MNIST, Shapes, ImageFolder ...), got "
                f"{type(images).__name__}"
            )
        shape = tuple(images.data_shape)
        if len(shape) != 3:
            raise LitGansError(f"SuperResolution needs images (C, H, W); {type(images).__name__} gives {shape}")
        if scale < 2:
            raise LitGansError(f"--data.scale must be at least 2, got {scale}")
        if shape[1] % scale or shape[2] % scale:
            fitting = shape[1] // scale * scale
            raise LitGansError(
                f"{type(images).__name__}'s {shape[1]}x{shape[2]} images do not divide by --data.scale {scale}: pick "
                f"an image size that is a multiple of {scale} (e.g. --data.images.image_size {fitting})"
            )
        self.images, self.scale = images, scale
        # the wrapped datamodule as plain values (class path and its own hyper-parameters), not as an object
        self.save_hyperparameters(ignore=["images"])
        wrapped = {k: v for k, v in dict(getattr(images, "hparams", {})).items() if not k.startswith("_")}
        self.hparams["images"] = {
            "class_path": f"{type(images).__module__}.{type(images).__name__}",
            "init_args": wrapped,
        }

    @property
    def data_shape(self) -> tuple[int, int, int]:
        """``(C, H, W)`` of the high-resolution images (what G draws)."""
        return tuple(self.images.data_shape)

    @property
    def low_resolution_shape(self) -> tuple[int, int, int]:
        channels, height, width = self.data_shape
        return (channels, height // self.scale, width // self.scale)

    def prepare_data(self) -> None:
        self.images.prepare_data()

    def setup(self, stage: str | None = None) -> None:
        if self.train_set is not None:
            return
        self.images.setup(stage)
        self.train_set = pairs_of(self.images.train_set, self.scale)
        self.val_set = pairs_of(self.images.val_set, self.scale)
