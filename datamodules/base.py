"""What every lit-gans datamodule shares: batches of ``(x, label)`` with ``x`` scaled to [-1, 1] for images, in an
order that a resumed run replays exactly."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from typing import Any, ClassVar

import torch
from lightning.pytorch import LightningDataModule
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, Sampler, TensorDataset

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

    def get_batch(self, indices: Tensor) -> tuple[Tensor, Tensor]:
        """Items ``indices [B]`` as one batch, equal to collating ``self[i]`` for each ``i``."""
        return self.images[indices].float() / 127.5 - 1.0, self.labels[indices]


class InMemoryDataset(TensorDataset):
    """A ``TensorDataset`` that also serves a batch by one index per tensor (``get_batch``)."""

    def get_batch(self, indices: Tensor) -> tuple[Tensor, ...]:
        return tuple(tensor[indices] for tensor in self.tensors)


class BatchFetcher(Dataset):
    """``dataset`` read a batch at a time: item ``indices [B]`` is ``dataset.get_batch(indices)``. With a sampler that
    yields index batches and ``batch_size=None``, a ``DataLoader`` then costs one indexing per tensor a batch
    instead of ``B`` item reads and their collation."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, indices: Tensor) -> Any:
        return self.dataset.get_batch(indices)


def as_batch(batch: Any) -> Any:
    """The collate function of a ``BatchFetcher`` loader: the batch as ``get_batch`` made it, tuples as lists (as
    ``default_collate`` returns them)."""
    return list(batch) if isinstance(batch, tuple) else batch


class EpochShuffleSampler(Sampler[int]):
    """A permutation of ``range(size)`` that depends only on ``(seed, epoch)``, never on the global RNG, so a resumed
    run sees the same order; ``resume_at(epoch, k)`` drops the first ``k`` indices of that epoch's pass (the
    examples a checkpointed run had already trained on). Lightning calls ``set_epoch`` before each epoch (under DDP
    through its sampler wrapper, which then gives each rank every world-size-th index).

    With ``batch_size``, it yields that permutation cut into ``size // batch_size`` index tensors ``[batch_size]``
    (the last incomplete batch dropped) for a ``BatchFetcher``: the same batches, in the same order, as the
    indices one at a time batched by a ``DataLoader`` with ``drop_last``; under DDP each rank then gets every
    world-size-th batch."""

    def __init__(self, size: int, seed: int, keyed: bool = False, batch_size: int | None = None) -> None:
        self.size, self.seed, self.epoch, self.keyed, self.batch_size = size, seed, 0, keyed, batch_size
        self._resume: tuple[int, int] | None = None

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def resume_at(self, epoch: int, num_done: int) -> None:
        self._resume = (epoch, num_done)

    def permutation(self, epoch: int) -> Tensor:
        return torch.randperm(self.size, generator=torch.Generator().manual_seed(self.seed * 100_003 + epoch))

    def __iter__(self) -> Iterator[int] | Iterator[Tensor]:
        # a generator: the order is drawn at the first ``next``, after Lightning's ``set_epoch`` (a DataLoader
        # without batching calls ``iter(sampler)`` as soon as its iterator is made, which a resumed fit does first)
        start = 0
        if self._resume is not None and self._resume[0] == self.epoch:
            start, self._resume = self._resume[1], None
        order = self.permutation(self.epoch)[start:]
        if self.keyed:  # keys >= size, unique per (seed, epoch, index): see ``GANDataModule``
            order = order + (self.seed * 100_003 + self.epoch + 1) * self.size
        if self.batch_size is not None:
            yield from order[: len(order) - len(order) % self.batch_size].split(self.batch_size)
        else:
            yield from order.tolist()

    def __len__(self) -> int:
        return self.size if self.batch_size is None else self.size // self.batch_size


class GANDataModule(LightningDataModule):
    """Base of the lit-gans datamodules: subclasses set ``train_set`` and ``val_set`` in ``setup`` and say their
    ``data_shape`` (``(C, H, W)`` or ``(D,)``) from their constructor arguments alone, so the CLI can link it to the
    model before any data is read.

    The training order is a function of ``shuffle_seed`` (by default the seed of ``seed_everything``, the same on
    every DDP rank) and the epoch. The datamodule counts the batches trained in the current epoch and saves
    ``{"epoch", "batches"}`` in checkpoints, so a run resumed mid-epoch continues with the very next batch (single
    process; under DDP a mid-epoch resume replays the epoch's order from its start).

    Random augmentation (crops, flips, the partner drawn for an unpaired image) must not draw from the global RNG,
    which the training steps use and checkpoints restore: a training set with ``keyed = True`` is indexed with keys
    ``k = (seed * 100003 + epoch + 1) * len + i`` instead of ``i``; it reads item ``k % len`` and seeds its draws
    with ``k`` (``datamodules.translation.key_generator``), so they depend only on the seed, the epoch and the
    item, in any worker and after a resume. Validation indices stay plain (``k < len``: no augmentation).

    Args:
        batch_size: examples per batch; a training step is one batch, and an epoch's last incomplete training
            batch is dropped.
        num_workers: DataLoader worker processes (0: load in the main process).
        shuffle_seed: seed of the training order (a permutation per epoch, from this seed and the epoch); None
            (default): the seed given to ``seed_everything`` (``--seed_everything``), else 0.
    """

    registry_base: ClassVar[bool] = True  # a base to build on: the CLI does not offer it as a datamodule

    def __init__(self, batch_size: int, num_workers: int, shuffle_seed: int | None = None) -> None:
        super().__init__()
        if batch_size < 1:
            raise LitGansError(f"batch_size must be at least 1, got {batch_size}")
        self.batch_size, self.num_workers, self.shuffle_seed = batch_size, num_workers, shuffle_seed
        self.train_set: Dataset | None = None
        self.val_set: Dataset | None = None
        self._train_sampler: EpochShuffleSampler | None = None
        self._progress = {"epoch": 0, "batches": 0}  # batches trained in the current epoch
        self._resume: dict[str, int] | None = None

    @property
    def data_shape(self) -> tuple[int, ...]:
        raise NotImplementedError

    def train_dataloader(self) -> DataLoader:
        if len(self.train_set) < self.batch_size:
            raise LitGansError(
                f"{type(self).__name__} has {len(self.train_set)} training examples, fewer than one batch of "
                f"{self.batch_size}: lower --data.batch_size or add data"
            )
        keyed = getattr(self.train_set, "keyed", False)
        # a training set held in memory serves a batch by slicing (``get_batch``), not item by item
        batched = hasattr(self.train_set, "get_batch") and not keyed
        size = len(self.train_set)
        self._train_sampler = EpochShuffleSampler(size, self.order_seed(), keyed, self.batch_size if batched else None)
        self._apply_resume()
        if batched:  # the sampler yields whole batches: no batching, no collation in the loader
            return self._loader(BatchFetcher(self.train_set), self._train_sampler, drop_last=False, batched=True)
        # drop_last: BatchNorm needs more than one sample, and every step sees a full batch
        return self._loader(self.train_set, self._train_sampler, drop_last=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader(self.val_set, None, drop_last=False)

    def _loader(self, dataset: Dataset, sampler: Sampler | None, drop_last: bool, batched: bool = False) -> DataLoader:
        """A loader of ``batch_size`` items, or, ``batched``, of the batches ``sampler`` yields whole (the sampler
        drops the last incomplete one)."""
        return DataLoader(
            dataset,
            batch_size=None if batched else self.batch_size,
            sampler=sampler,
            drop_last=drop_last,
            collate_fn=as_batch if batched else None,
            num_workers=self.num_workers,
            persistent_workers=self.num_workers > 0,
            # workers' seeds come from this generator, not from the global RNG that the training steps draw from
            generator=torch.Generator().manual_seed(self.order_seed()),
        )

    def order_seed(self) -> int:
        if self.shuffle_seed is None:
            self.shuffle_seed = int(os.environ.get("PL_GLOBAL_SEED", 0))
        return self.shuffle_seed

    # ----------------------------------------------------------------------------------------------------------
    # Resume: count the batches trained in this epoch, save them, skip them when resuming
    # ----------------------------------------------------------------------------------------------------------
    def on_before_batch_transfer(self, batch: Any, dataloader_idx: int) -> Any:
        trainer = self._trainer_or_none()
        if trainer is not None and trainer.training:
            epoch = trainer.current_epoch
            if epoch != self._progress["epoch"]:
                self._progress = {"epoch": epoch, "batches": 0}
            self._progress["batches"] += 1
        return batch

    def state_dict(self) -> dict[str, Any]:
        return {"train_progress": dict(self._progress), "shuffle_seed": self.order_seed()}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self._resume = dict(state_dict.get("train_progress", {})) or None
        self.shuffle_seed = state_dict.get("shuffle_seed", self.shuffle_seed)
        if self._train_sampler is not None:
            self._train_sampler.seed = self.order_seed()
        self._apply_resume()

    def _apply_resume(self) -> None:
        trainer = self._trainer_or_none()
        if self._resume is None or self._train_sampler is None:
            return
        if trainer is not None and trainer.world_size > 1:
            self._resume = None  # the distributed sampler wrapper lists every index: replay the epoch instead
            return
        epoch, batches = self._resume["epoch"], self._resume["batches"]
        self._train_sampler.resume_at(epoch, batches * self.batch_size)
        self._progress, self._resume = {"epoch": epoch, "batches": batches}, None
        # Lightning warns that a plain DataLoader cannot resume mid-epoch; this one does
        warnings.filterwarnings("ignore", message="You're resuming from a checkpoint that ended before the epoch")

    def _trainer_or_none(self):
        return getattr(self, "trainer", None)
