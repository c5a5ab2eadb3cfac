import math

import pytest
import torch
from torch.testing import assert_close

from datamodules import Shapes
from datamodules.shapes import ShapesDataset, render
from lit_gans.errors import LitGansError


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


def test_scale_range_and_rotate_change_only_those_factors():
    """The same seed draws the same shapes, positions' uniforms and colours; sizes land in ``scale_range``, and
    ``rotate=False`` turns every shape to pi: squares upright (axis-aligned edges), triangles pointing up."""
    default = ShapesDataset(256, 32, 3, seed=0)
    easy = ShapesDataset(256, 32, 3, seed=0, scale_range=(0.6, 0.9), rotate=False)
    assert torch.equal(default.labels, easy.labels)
    assert torch.equal(default.factors[:, 5:], easy.factors[:, 5:])  # colours
    assert easy.factors[:, 1].min() >= 0.6 and easy.factors[:, 1].max() <= 0.9
    assert default.factors[:, 1].min() >= 0.4 and default.factors[:, 1].max() <= 0.8
    assert_close(easy.factors[:, 2], torch.full((256,), math.pi))
    upright = torch.tensor([[1, 0.8, math.pi, 0.0, 0.0, 1.0, 1.0, 1.0]])  # a square centred, circumradius 0.8
    square = render(upright, 64, 1)[0, 0].float() / 255
    rows = square.mean(1)
    assert rows[32] > 0.5 and square[32].gt(0.99).sum() == square[:, 32].gt(0.99).sum()  # as wide as tall
    assert ((rows > 0.01) & (rows < 0.99 * rows.max())).sum() <= 2  # flat top and bottom edges: no ramp of rows
    pointing_up = torch.tensor([[2, 0.8, math.pi, 0.0, 0.0, 1.0, 1.0, 1.0]])
    triangle = render(pointing_up, 64, 1)[0, 0].float().sum(1)  # ink per row, top to bottom
    filled = triangle.nonzero().flatten()
    assert triangle[filled[0]] < triangle[filled[-1]]  # narrow at the top, wide at the bottom


def test_shapes_refuses_a_scale_range_it_cannot_draw():
    with pytest.raises(LitGansError, match="scale_range"):
        Shapes(scale_range=(0.8, 0.4))
    with pytest.raises(LitGansError, match="scale_range"):
        Shapes(scale_range=(0.5, 1.2))
