"""What every lit-gans datamodule shares: batches of ``(x, label)`` with ``x`` scaled to [-1, 1] for images."""

from __future__ import annotations

from lightning.pytorch import LightningDataModule
from torch import Tensor
from torch.utils.data import DataLoader, Dataset

from lit_gans.errors import LitGansError


class UInt8ImageDataset(Dataset):
    """Images held as ``uint8 [N, C, H, W]`` (a quarter of float32's memory), served as float in [-1, 1]."""

    def __init__(self, images: Tensor, labels: Tensor) -> None:
        if images.ndim != 4 or len(images) != len(labels):
            raise ValueError(f"expected images [N, C, H, W] and N labels, got {tuple(images.shape)}, {len(labels)}")
        self.images, self.labels = images, labels

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        return self.images[index].float() / 127.5 - 1.0, self.labels[index]


class GANDataModule(LightningDataModule):
    """Base of the lit-gans datamodules: subclasses set ``train_set`` and ``val_set`` in ``setup`` and say their
    ``data_shape`` (``(C, H, W)`` or ``(D,)``) from their constructor arguments alone, so the CLI can link it to the
    model before any data is read."""

    def __init__(self, batch_size: int, num_workers: int) -> None:
        super().__init__()
        if batch_size < 1:
            raise LitGansError(f"batch_size must be at least 1, got {batch_size}")
        self.batch_size, self.num_workers = batch_size, num_workers
        self.train_set: Dataset | None = None
        self.val_set: Dataset | None = None

    @property
    def data_shape(self) -> tuple[int, ...]:
        raise NotImplementedError

    def train_dataloader(self) -> DataLoader:
        if len(self.train_set) < self.batch_size:
            raise LitGansError(
                f"{type(self).__name__} has {len(self.train_set)} training examples, fewer than one batch of "
                f"{self.batch_size}: lower --data.batch_size or add data"
            )
        # drop_last: BatchNorm needs more than one sample, and every step sees a full batch
        return self._loader(self.train_set, shuffle=True, drop_last=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader(self.val_set, shuffle=False, drop_last=False)

    def _loader(self, dataset: Dataset, shuffle: bool, drop_last: bool) -> DataLoader:
        return DataLoader(
            dataset,
            batch_size=self.batch_size,
            shuffle=shuffle,
            drop_last=drop_last,
            num_workers=self.num_workers,
            persistent_workers=self.num_workers > 0,
        )
