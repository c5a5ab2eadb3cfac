"""``SuperResolution``: (I_LR, I_HR, label) pairs from any image datamodule, I_LR the antialiased bicubic
downsampling of I_HR; sizes, errors and the command-line form ``--data.images NAME``."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import yaml
from PIL import Image

from cli import main
from datamodules import MNIST, Shapes, SuperResolution, Toy
from datamodules.super_resolution import bicubic_downsample
from lit_gans.errors import LitGansError


def test_a_constant_image_stays_constant():
    """The antialiased bicubic weights sum to 1: a constant image downsamples to the same constant (float32
    rounding only)."""
    for value in (-1.0, -0.3, 0.0, 0.75, 1.0):
        hr = torch.full((2, 3, 32, 32), value)
        torch.testing.assert_close(bicubic_downsample(hr, 4), torch.full((2, 3, 8, 8), value), atol=1e-6, rtol=0)


def test_downsampling_matches_pil_bicubic():
    """torch's antialiased bicubic is PIL's ``resize(BICUBIC)`` (the cubic kernel a = -0.5, stretched by the
    factor): on a random 8-bit image they agree to within 1 grey level (PIL rounds to 8 bits; 1 level is 2/255 in
    [-1, 1] units; the clamp to [-1, 1] is PIL's clip to 0..255)."""
    rng = np.random.default_rng(0)
    picture = rng.integers(0, 256, size=(32, 32), dtype=np.uint8)
    pil = np.asarray(Image.fromarray(picture).resize((8, 8), Image.BICUBIC), dtype=np.float32) / 127.5 - 1
    hr = torch.from_numpy(picture.astype(np.float32) / 127.5 - 1)[None, None]
    torch.testing.assert_close(bicubic_downsample(hr, 4)[0, 0], torch.from_numpy(pil), atol=2 / 255 + 1e-6, rtol=0)


def test_downsampling_is_not_a_plain_subsampling():
    """Antialiasing: a one-pixel checkerboard (the highest frequency) is nearly erased, where taking every 4th pixel
    would keep a constant +1."""
    row = torch.tensor([1.0, -1.0]).repeat(16)
    checkerboard = row[None, :] * row[:, None]  # [32, 32] of +-1
    lr = bicubic_downsample(checkerboard[None, None], 4)
    assert lr.abs().max() < 0.05 and checkerboard[::4, ::4].min() == 1


@pytest.mark.parametrize("scale", [2, 4])
def test_pairs_sizes_labels_and_targets(scale):
    source = Shapes(image_size=32, channels=3, num_train=40, num_val=8)
    data = SuperResolution(source, scale=scale, batch_size=8)
    data.setup("fit")
    assert data.data_shape == (3, 32, 32) and data.low_resolution_shape == (3, 32 // scale, 32 // scale)
    lr, hr, label = data.train_set[3]
    image, expected_label = source.train_set[3]
    assert lr.shape == (3, 32 // scale, 32 // scale) and torch.equal(hr, image) and label == expected_label
    torch.testing.assert_close(lr, bicubic_downsample(image, scale), atol=0, rtol=0)
    batch = next(iter(data.train_dataloader()))
    assert [tuple(t.shape) for t in batch] == [(8, 3, 32 // scale, 32 // scale), (8, 3, 32, 32), (8,)]
    torch.testing.assert_close(batch[0], bicubic_downsample(batch[1], scale), atol=0, rtol=0)
    val = next(iter(data.val_dataloader()))
    assert tuple(val[0].shape) == (8, 3, 32 // scale, 32 // scale) and tuple(val[1].shape) == (8, 3, 32, 32)
    assert SuperResolution.paired_validation


def test_batched_reads_equal_item_reads():
    data = SuperResolution(Shapes(image_size=16, num_train=20, num_val=4), scale=4)
    data.setup("fit")
    indices = torch.tensor([5, 0, 17])
    batched = data.train_set.get_batch(indices)
    items = [data.train_set[int(i)] for i in indices]
    for position, tensor in enumerate(batched):
        torch.testing.assert_close(tensor, torch.stack([torch.as_tensor(item[position]) for item in items]))


def test_errors_are_clear():
    with pytest.raises(LitGansError, match="do not divide by --data.scale 4.*image_size 28"):
        SuperResolution(Shapes(image_size=30), scale=4)
    with pytest.raises(LitGansError, match="at least 2"):
        SuperResolution(Shapes(image_size=32), scale=1)
    with pytest.raises(LitGansError, match="needs images"):
        SuperResolution(Toy(), scale=2)
    with pytest.raises(LitGansError, match="does not divide by the scale 3"):
        bicubic_downsample(torch.zeros(1, 1, 16, 16), 3)


def test_hyper_parameters_are_plain_values():
    """The wrapped datamodule is saved as its class path and arguments (checkpoints load with weights_only)."""
    data = SuperResolution(MNIST(root="somewhere", split="test"), scale=4)
    assert data.hparams["images"]["class_path"] == "datamodules.mnist.MNIST"
    assert data.hparams["images"]["init_args"]["root"] == "somewhere" and data.hparams["scale"] == 4


def test_the_command_line_form(capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    args = ["fit", "--model", "SRGAN", "--data", "SuperResolution", "--data.scale", "4", "--data.images", "MNIST"]
    with pytest.raises(SystemExit):
        main([*args, "--data.images.root", "digits", "--data.images.split", "test", "--print_config"])
    config = yaml.safe_load(capsys.readouterr().out)
    data = config["data"]
    assert data["class_path"] == "datamodules.SuperResolution" and data["init_args"]["scale"] == 4
    assert data["init_args"]["images"]["class_path"] == "datamodules.MNIST"
    assert data["init_args"]["images"]["init_args"]["root"] == "digits"
    assert config["model"]["class_path"] == "lit_gans.SRGAN"
