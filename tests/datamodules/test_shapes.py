import math

import pytest
import torch
from torch.testing import assert_close

from datamodules import Shapes
from datamodules.shapes import ShapesDataset, render


def images(dataset):
    return torch.stack([dataset[i][0] for i in range(len(dataset))])


@pytest.mark.parametrize("size, channels", [(16, 1), (32, 3), (64, 3)])
def test_shapes_shape_range_and_labels(size, channels):
    data = Shapes(image_size=size, channels=channels, num_train=40, num_val=8)
    data.setup()
    x, labels = images(data.train_set), data.train_set.labels
    assert data.data_shape == (channels, size, size)
    assert x.shape == (40, channels, size, size) and x.dtype == torch.float32
    assert x.min() == -1 and x.max() <= 1 and x.max() > 0  # black background, bright shapes
    assert set(labels.tolist()) <= {0, 1, 2}
    assert len(data.val_set) == 8


def test_shapes_are_deterministic_given_the_seed():
    a, b, c = ShapesDataset(16, 32, 3, seed=0), ShapesDataset(16, 32, 3, seed=0), ShapesDataset(16, 32, 3, seed=1)
    assert torch.equal(a.images, b.images) and torch.equal(a.factors, b.factors)
    assert not torch.equal(a.images, c.images)
    data = Shapes(num_train=16, num_val=16, seed=0)
    data.setup()
    assert not torch.equal(data.train_set.images, data.val_set.images)  # validation is drawn from seed + 1


@pytest.mark.parametrize(
    "shape, area",
    [
        (0, lambda r: math.pi * r**2),  # circle of radius r
        (1, lambda r: 2 * r**2),  # square inscribed in it: side r * sqrt(2)
        (2, lambda r: 3 * math.sqrt(3) / 4 * r**2),  # equilateral triangle with circumradius r
    ],
)
def test_drawn_area_matches_the_closed_form(shape, area):
    """Image side 2 in shape units, so coverage = area / 4; anti-aliasing keeps it exact to about a pixel's rim."""
    radius, size = 0.6, 256
    factors = torch.tensor([[shape, radius, 0.3, 0.1, -0.2, 1.0, 1.0, 1.0]])
    coverage = render(factors, size, 1).float().mean() / 255
    assert_close(coverage, torch.tensor(area(radius) / 4), rtol=0.01, atol=0)
