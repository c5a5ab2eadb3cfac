"""The semi-supervised setting (Salimans 2016, s.5; Odena 2016): a few labelled examples per class, every image
also used without its label."""

from __future__ import annotations

import torch
from torch import Tensor
from torch.utils.data import Dataset

from lit_gans.errors import LitGansError


def labelled_subset(labels: Tensor, per_class: int, seed: int) -> Tensor:
    """Indices of ``per_class`` examples of every class, the first of each class in a permutation drawn from
    ``seed``; ``[K * per_class]`` long, ordered by class."""
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
    chosen = []
    for k in labels.unique().tolist():
        of_class = order[labels[order] == k][:per_class]
        if len(of_class) < per_class:
            raise LitGansError(f"class {k} has {len(of_class)} examples, fewer than labels_per_class={per_class}")
        chosen.append(of_class)
    return torch.cat(chosen)


class SemiSupervisedDataset(Dataset):
    """Item ``i`` is ``(x_i, x_l, y_l)``: image ``i`` of ``dataset`` without its label, paired with labelled example
    ``l = labelled[i mod L]`` of the ``L = K * labels_per_class`` kept labels. The sampler shuffles ``i``, so every
    batch holds a batch of unlabelled images and a batch of (repeating) labelled ones. ``labelled`` holds the
    chosen indices, for a baseline trained on them alone."""

    def __init__(self, dataset: Dataset, labels: Tensor, labels_per_class: int, seed: int) -> None:
        if labels_per_class < 1:
            raise LitGansError(f"labels_per_class must be at least 1, got {labels_per_class}")
        self.dataset = dataset
        self.labelled = labelled_subset(labels, labels_per_class, seed)

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor, Tensor]:
        x = self.dataset[index][0]
        x_labelled, y_labelled = self.dataset[int(self.labelled[index % len(self.labelled)])][:2]
        return x, x_labelled, y_labelled

    def get_batch(self, indices: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Items ``indices [B]`` as one batch, equal to collating ``self[i]`` for each ``i``."""
        x = self.dataset.get_batch(indices)[0]
        x_labelled, y_labelled = self.dataset.get_batch(self.labelled[indices % len(self.labelled)])[:2]
        return x, x_labelled, y_labelled
