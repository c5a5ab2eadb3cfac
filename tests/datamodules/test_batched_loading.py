"""In-memory training sets are served a batch at a time (one index per tensor), and those batches are exactly the
ones the item-by-item path makes: same order, same values, same types, after a mid-epoch resume too."""

import pytest
import torch
from torch.utils.data import DataLoader

from datamodules import Shapes, Toy
from datamodules.base import BatchFetcher, EpochShuffleSampler


def item_by_item(data) -> list:
    """The training batches as a DataLoader over single items makes them (the path before batched loading)."""
    sampler = EpochShuffleSampler(len(data.train_set), data.order_seed())
    return list(DataLoader(data.train_set, batch_size=data.batch_size, sampler=sampler, drop_last=True))


DATA = {
    "toy": lambda: Toy("ring", num_train=1000, num_val=10, batch_size=64),
    "shapes": lambda: Shapes(image_size=16, channels=3, num_train=200, num_val=10, batch_size=32),
    "shapes_semi_supervised": lambda: Shapes(
        image_size=16, channels=1, num_train=200, num_val=10, batch_size=32, labels_per_class=5
    ),
}


@pytest.mark.parametrize("name", DATA)
def test_batched_loader_gives_the_item_by_item_batches(name):
    data = DATA[name]()
    data.setup()
    loader = data.train_dataloader()
    assert isinstance(loader.dataset, BatchFetcher)  # the fast path is the one in use
    fast, slow = list(loader), item_by_item(data)
    assert len(fast) == len(slow) == len(loader) == len(data.train_set) // data.batch_size
    for a, b in zip(fast, slow):
        assert type(a) is type(b) and len(a) == len(b)
        for x, y in zip(a, b):
            assert x.dtype == y.dtype and torch.equal(x, y)


def test_batched_sampler_resumes_mid_epoch_at_the_next_batch():
    data = DATA["shapes"]()
    data.setup()
    whole = list(data.train_dataloader())
    sampler = EpochShuffleSampler(len(data.train_set), data.order_seed(), batch_size=data.batch_size)
    sampler.resume_at(0, 2 * data.batch_size)  # two batches already trained
    rest = [data.train_set.get_batch(indices)[0] for indices in sampler]
    assert len(rest) == len(whole) - 2
    assert all(torch.equal(x, batch[0]) for x, batch in zip(rest, whole[2:]))


def test_each_epoch_has_its_own_order():
    sampler = EpochShuffleSampler(10, seed=0, batch_size=3)
    first = torch.cat(list(sampler))
    sampler.set_epoch(1)
    second = torch.cat(list(sampler))
    assert len(first) == len(second) == 9 and len(sampler) == 3  # the last incomplete batch is dropped
    assert len(set(first.tolist())) == 9 and not torch.equal(first, second)
