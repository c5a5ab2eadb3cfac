"""MNIST layouts on small idx files written here, and the real test split from ../shared when it is there."""

import gzip
import time
import urllib.error
import urllib.request

import numpy as np
import pytest
import torch

from cli import main
from datamodules import MNIST
from lit_gans import LitGansError
from tests.helpers import SHARED_MNIST


def write_idx(folder, prefix, images, labels, compress):
    """The idx format: magic (0, 0, dtype 0x08 = ubyte, ndim), big-endian sizes, then the bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    blobs = {
        f"{prefix}-images-idx3-ubyte": bytes([0, 0, 8, 3]) + np.array(images.shape, ">i4").tobytes() + images.tobytes(),
        f"{prefix}-labels-idx1-ubyte": bytes([0, 0, 8, 1]) + np.array(labels.shape, ">i4").tobytes() + labels.tobytes(),
    }
    for name, blob in blobs.items():
        opener = gzip.open if compress else open
        with opener(folder / (name + (".gz" if compress else "")), "wb") as f:
            f.write(blob)


@pytest.fixture
def fake_digits():
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, (30, 28, 28), dtype=np.uint8), (np.arange(30) % 10).astype(np.uint8)


@pytest.mark.parametrize("layout", ["torchvision", "flat-gz", "flat"])
def test_reads_both_layouts_gzipped_or_not(tmp_path, fake_digits, layout):
    images, labels = fake_digits
    folder = tmp_path / "MNIST" / "raw" if layout == "torchvision" else tmp_path
    write_idx(folder, "train", images, labels, compress=layout != "flat")
    data = MNIST(root=str(tmp_path), split="train", val_size=10, batch_size=4)
    data.setup()
    assert len(data.train_set) == 20 and len(data.val_set) == 10
    x, y = data.train_set[3]
    assert torch.equal(((x[0] + 1) * 127.5).round().to(torch.uint8), torch.from_numpy(images[3]))
    assert y == 3


def test_pads_to_32_and_resizes_to_other_sizes(tmp_path, fake_digits):
    write_idx(tmp_path, "t10k", *fake_digits, compress=True)
    data = MNIST(root=str(tmp_path), split="test", image_size=32, val_size=5)
    data.setup()
    assert data.data_shape == (1, 32, 32)
    x = data.train_set[0][0]
    assert x.shape == (1, 32, 32)  # the 28x28 digit untouched inside a black 2-pixel border
    assert torch.equal(((x[0, 2:30, 2:30] + 1) * 127.5).round().to(torch.uint8), torch.from_numpy(fake_digits[0][0]))
    border = torch.ones(32, 32, dtype=torch.bool)
    border[2:30, 2:30] = False
    assert (x[0][border] == -1).all()
    for size, resize in ((64, "auto"), (32, "bilinear")):
        data = MNIST(root=str(tmp_path), split="test", image_size=size, resize=resize, val_size=5)
        data.setup()
        assert data.train_set[0][0].shape == (1, size, size) and (data.train_set[0][0][0, 0] > -1).any()
    with pytest.raises(LitGansError, match="cannot pad"):
        MNIST(root=str(tmp_path), image_size=16, resize="pad")


def test_missing_files_name_the_paths_and_the_way_out(tmp_path, fake_digits):
    with pytest.raises(LitGansError) as error:
        MNIST(root=str(tmp_path / "nowhere")).setup()
    message = str(error.value)
    assert "nowhere/MNIST/raw/train-images-idx3-ubyte" in message and "--data.download true" in message
    write_idx(tmp_path, "t10k", *fake_digits, compress=True)
    with pytest.raises(LitGansError, match="the test split is there: pass --data.split test"):
        MNIST(root=str(tmp_path), split="train").setup()


def test_failed_download_is_one_error_line(tmp_path, monkeypatch, capsys):
    """Offline: every request torchvision makes fails at once (the test never touches the network); the user sees
    one ``error:`` line naming the download, the hosts and the folder to put the files in, and no traceback."""
    requests = []

    def offline(request, *args, **kwargs):
        requests.append(getattr(request, "full_url", request))
        raise urllib.error.URLError("offline")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    root = tmp_path / "empty"
    argv = ["fit", "--model=DCGAN", "--data=MNIST", f"--data.root={root}", "--data.download=true"]
    argv += [f"--trainer.default_root_dir={tmp_path}", "--trainer.logger=false"]
    argv += ["--trainer.enable_progress_bar=false", "--trainer.enable_model_summary=false"]
    start = time.monotonic()
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert time.monotonic() - start < 60
    assert exit_info.value.code == 2
    assert requests, "the download was never attempted"
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    message = lines[0]
    assert "MNIST download failed" in message and "offline" in message
    assert "ossci-datasets.s3.amazonaws.com" in message
    assert str(root / "MNIST" / "raw") in message and "--data.root" in message


def test_download_skipped_when_the_split_is_there(tmp_path, fake_digits, monkeypatch):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("offline")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    write_idx(tmp_path, "train", *fake_digits, compress=True)
    data = MNIST(root=str(tmp_path), download=True, val_size=10)
    data.prepare_data()
    data.setup()
    assert len(data.train_set) == 20


@pytest.mark.skipif(not SHARED_MNIST.is_dir(), reason="the real MNIST test split lives in ../shared/data/mnist")
def test_real_mnist_test_split():
    data = MNIST(root=str(SHARED_MNIST), split="test", batch_size=100)
    data.setup()
    assert (len(data.train_set), len(data.val_set)) == (9_000, 1_000)
    x, y = next(iter(data.train_dataloader()))
    assert x.shape == (100, 1, 28, 28)
    assert x.min() == -1 and x.max() == 1
    everything = torch.cat([data.train_set.labels, data.val_set.labels])
    assert torch.bincount(everything).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    # a digit's ink covers roughly a fifth of the frame
    ink = (data.train_set.images > 127).float().mean()
    assert 0.1 < ink < 0.25
