import pytest
import torch
from PIL import Image

from datamodules import ImageFolder
from lit_gans import LitGansError


def make_folder(root, count=12):
    """Images of assorted sizes in two subfolders and the top level."""
    for i in range(count):
        folder = root / ("cats" if i % 3 == 0 else "dogs" if i % 3 == 1 else "")
        folder.mkdir(parents=True, exist_ok=True)
        colour = (i * 20, 255 - i * 20, 128)
        Image.new("RGB", (20 + i, 30), colour).save(folder / f"img{i:02d}.{'png' if i % 2 else 'jpg'}")
    (root / "notes.txt").write_text("not an image")


def test_recursive_folder_resized_and_cropped(tmp_path):
    make_folder(tmp_path)
    data = ImageFolder(root=str(tmp_path), image_size=16, batch_size=4)
    data.setup()
    assert len(data.train_set) + len(data.val_set) == 12 and len(data.val_set) == 1
    assert not set(data.train_set.files) & set(data.val_set.files)
    x, labels = next(iter(data.train_dataloader()))
    assert x.shape == (4, 3, 16, 16) and x.min() >= -1 and x.max() <= 1
    assert set(data.train_set.labels) == {0, 1}  # 'cats' -> 0, 'dogs' -> 1, top level -> 0
    grey = ImageFolder(root=str(tmp_path), image_size=8, channels=1)
    grey.setup()
    assert grey.train_set[0][0].shape == (1, 8, 8) and grey.data_shape == (1, 8, 8)


def test_corrupt_image_is_named(tmp_path):
    make_folder(tmp_path)
    (tmp_path / "dogs" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    with pytest.raises(LitGansError, match=r"cannot read image .*dogs/broken.png"):
        ImageFolder(root=str(tmp_path)).setup()
    data = ImageFolder(root=str(tmp_path), check_images=False, val_size=1)
    data.setup()
    index = [i for i, f in enumerate(data.train_set.files) if f.name == "broken.png"][0]
    with pytest.raises(LitGansError, match="broken.png"):
        data.train_set[index]


def test_missing_or_empty_folder(tmp_path):
    with pytest.raises(LitGansError, match="does not exist"):
        ImageFolder(root=str(tmp_path / "nope")).setup()
    (tmp_path / "empty").mkdir()
    with pytest.raises(LitGansError, match="no images"):
        ImageFolder(root=str(tmp_path / "empty")).setup()


def test_too_few_images_for_a_batch(tmp_path):
    make_folder(tmp_path, count=5)
    data = ImageFolder(root=str(tmp_path), batch_size=64)
    data.setup()
    with pytest.raises(LitGansError, match="fewer than one batch of 64"):
        data.train_dataloader()
    assert torch.is_tensor(data.val_set[0][0])
