"""Two-domain datamodules: the pix2pix and CycleGAN folder layouts, CelebA split by an attribute, the offline Shapes
tasks, and the errors a user meets with bad folders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch.testing import assert_close

from datamodules import CelebA, Paired, ShapesPaired, ShapesUnpaired, Unpaired
from datamodules.base import EpochShuffleSampler
from lit_gans import LitGansError


def pattern(seed: int, height: int = 20, width: int = 20) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def write_side_by_side(path: Path, seed: int) -> None:
    """An A|B image whose B half is the negative of its A half."""
    a = pattern(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.concatenate([a, 255 - a], axis=1)).save(path)


def aligned_folder(root: Path) -> Path:
    for split, count in (("train", 6), ("val", 2), ("test", 3)):
        for i in range(count):
            write_side_by_side(root / split / f"{split}_{i}.png", seed=hash((split, i)) % 1000)
    return root


def test_aligned_layout_splits_halves_and_keeps_test_images_out_of_training(tmp_path):
    data = Paired(str(aligned_folder(tmp_path)), image_size=16, load_size=20, batch_size=2)
    data.setup("fit")
    train_files = {item[0].parent.name for item in data.train_set.items}
    assert train_files == {"train"} and len(data.train_set) == 6  # test/ never enters training
    assert {item[0].parent.name for item in data.val_set.items} == {"val"}
    x, y = data.val_set[0]  # validation: resized, no jitter
    assert x.shape == y.shape == (3, 16, 16)
    for key in (6, 7, 100, 12345):  # training keys: random crops and flips, the same on both sides
        x, y = data.train_set[key]
        assert x.shape == (3, 16, 16)
        assert_close(y, -x, atol=0.01, rtol=0)  # B = 255 - A survives the joint jitter
    assert torch.equal(data.train_set[7][0], data.train_set[7][0])  # a key always draws the same jitter
    flipped = Paired(str(tmp_path), direction="BtoA", image_size=16, load_size=20)
    flipped.setup("fit")
    assert_close(flipped.val_set[0][0], data.val_set[0][1])


def test_aligned_layout_without_val_validates_on_test(tmp_path):
    aligned_folder(tmp_path)
    for path in (tmp_path / "val").iterdir():
        path.unlink()
    (tmp_path / "val").rmdir()
    data = Paired(str(tmp_path), image_size=16)
    data.setup("fit")
    assert {item[0].parent.name for item in data.val_set.items} == {"test"}
    assert {item[0].parent.name for item in data.train_set.items} == {"train"}


def two_folders(root: Path, names_a: list[str], names_b: list[str]) -> Path:
    for folder, names in (("A", names_a), ("B", names_b)):
        (root / folder).mkdir(parents=True)
        for name in names:
            Image.fromarray(pattern(hash(name) % 1000)).save(root / folder / name)
    return root


def test_two_folder_layout_matches_by_name(tmp_path):
    names = [f"{i:03d}.png" for i in range(20)]
    data = Paired(str(two_folders(tmp_path, names, names)), image_size=16, val_size=2)
    data.setup("fit")
    assert len(data.train_set) == 18 and len(data.val_set) == 2
    for a, b in data.train_set.items + data.val_set.items:
        assert a.name == b.name and a.parent.name == "A" and b.parent.name == "B"


def test_unmatched_pairs_name_the_first_unmatched_files(tmp_path):
    two_folders(tmp_path, ["1.png", "2.png", "3.png"], ["1.png", "2.png", "4.png"])
    data = Paired(str(tmp_path), image_size=16)
    with pytest.raises(LitGansError, match=r"A and B do not match.*A/3.png.*B/4.png"):
        data.setup("fit")


def test_missing_or_empty_domain_folders_are_named(tmp_path):
    (tmp_path / "A").mkdir()
    Image.fromarray(pattern(0)).save(tmp_path / "A" / "1.png")
    with pytest.raises(LitGansError, match=f"domain B folder {tmp_path / 'B'} does not exist"):
        Paired(str(tmp_path), image_size=16).setup("fit")
    (tmp_path / "B").mkdir()
    with pytest.raises(LitGansError, match=f"domain B folder {tmp_path / 'B'} holds no images"):
        Paired(str(tmp_path), image_size=16).setup("fit")
    with pytest.raises(LitGansError, match="does not exist"):
        Paired(str(tmp_path / "nowhere"), image_size=16).setup("fit")


def unpaired_folder(root: Path, counts=(("trainA", 5), ("trainB", 3), ("testA", 2), ("testB", 2))) -> Path:
    for folder, count in counts:
        (root / folder).mkdir(parents=True)
        for i in range(count):
            Image.fromarray(pattern(hash((folder, i)) % 1000)).save(root / folder / f"{i}.jpg")
    return root


def test_unpaired_layout_draws_b_independently_of_a(tmp_path):
    data = Unpaired(str(unpaired_folder(tmp_path)), image_size=16, load_size=18, flip=False)
    data.setup("fit")
    assert len(data.train_set) == 5 and len(data.val_set) == 2  # an epoch goes through the larger domain
    domain_b = [data.train_set.load(p, 18) for p in data.train_set.domain_y]

    def b_index(key: int) -> int:  # which B image (some crop of it) came with the key
        y = data.train_set[key][1]

        def distance(b: torch.Tensor) -> float:
            return min((y - b[:, r : r + 16, c : c + 16]).abs().max().item() for r in range(3) for c in range(3))

        return min(range(3), key=lambda j: distance(domain_b[j]))

    sampler = EpochShuffleSampler(5, seed=0, keyed=True)
    partners = []
    for epoch in range(8):
        sampler.set_epoch(epoch)
        keys = list(sampler)
        assert sorted(k % 5 for k in keys) == list(range(5))
        partners.append(b_index(next(k for k in keys if k % 5 == 0)))  # A image 0's partner this epoch
    assert len(set(partners)) > 1  # a fresh draw of B every epoch, not a fixed pairing
    assert domain_b[0].shape == (3, 18, 18)


def test_unpaired_missing_test_folder_is_named(tmp_path):
    unpaired_folder(tmp_path, (("trainA", 2), ("trainB", 2), ("testA", 1)))
    with pytest.raises(LitGansError, match=f"{tmp_path / 'testB'} does not exist"):
        Unpaired(str(tmp_path), image_size=16).setup("fit")


def test_corrupt_image_is_named(tmp_path):
    unpaired_folder(tmp_path)
    (tmp_path / "trainB" / "broken.jpg").write_bytes(b"not an image")
    with pytest.raises(LitGansError, match="broken.jpg"):
        Unpaired(str(tmp_path), image_size=16).setup("fit")


ATTRIBUTES = ["5_o_Clock_Shadow", "Eyeglasses", "Smiling"]


def fake_celeba(root: Path) -> Path:
    """torchvision's CelebA layout with 8 tiny faces: partitions 0,0,0,0,0,1,1,2; Eyeglasses on 1, 3, 5."""
    folder = root / "celeba"
    (folder / "img_align_celeba").mkdir(parents=True)
    rows, partition = [], []
    for i in range(8):
        name = f"{i + 1:06d}.jpg"
        Image.fromarray(pattern(i, height=30, width=24)).save(folder / "img_align_celeba" / name)
        glasses = 1 if i in (1, 3, 5) else -1
        rows.append(f"{name} -1 {glasses:2d}  1")
        partition.append(f"{name} {[0, 0, 0, 0, 0, 1, 1, 2][i]}")
    (folder / "list_attr_celeba.txt").write_text("8\n" + " ".join(ATTRIBUTES) + "\n" + "\n".join(rows) + "\n")
    (folder / "list_eval_partition.txt").write_text("\n".join(partition) + "\n")
    return root


def test_celeba_images_with_attributes(tmp_path):
    data = CelebA(str(fake_celeba(tmp_path)), image_size=16, crop_size=20, batch_size=2)
    data.setup("fit")
    assert len(data.train_set) == 5 and len(data.val_set) == 2  # test partition left out
    image, attributes = data.train_set[1]
    assert image.shape == (3, 16, 16) and -1 <= image.min() and image.max() <= 1
    assert attributes.tolist() == [0, 1, 1]
    assert data.data_shape == (3, 16, 16)


def test_celeba_split_by_attribute_into_two_unpaired_domains(tmp_path):
    data = CelebA(str(fake_celeba(tmp_path)), image_size=16, attribute="Eyeglasses", batch_size=2)
    data.setup("fit")
    assert [p.name for p in data.train_set.domain_x] == ["000001.jpg", "000003.jpg", "000005.jpg"]
    assert [p.name for p in data.train_set.domain_y] == ["000002.jpg", "000004.jpg"]
    assert [p.name for p in data.val_set.domain_y] == ["000006.jpg"]
    x, y = next(iter(data.train_dataloader()))
    assert x.shape == y.shape == (2, 3, 16, 16)
    with pytest.raises(LitGansError, match="unknown CelebA attribute 'Glasses'.*Eyeglasses"):
        CelebA(str(tmp_path), attribute="Glasses").setup("fit")
    with pytest.raises(LitGansError, match="CelebA not found"):
        CelebA(str(tmp_path / "celeba" / "img_align_celeba")).setup("fit")


def test_offline_tasks_have_known_answers():
    paired = ShapesPaired(image_size=32, num_train=32, num_val=8)
    paired.setup()
    outline = torch.stack([paired.val_set[i][0] for i in range(8)]).amax(1, keepdim=True) > -0.9  # lit pixels
    filled = torch.stack([paired.val_set[i][1] for i in range(8)]).amax(1, keepdim=True) > -0.9
    near_filled = torch.nn.functional.max_pool2d(filled.float(), 5, 1, 2) > 0  # within two pixels of the shape
    assert not (outline & ~near_filled).any()  # the outline is the shape's edge
    assert filled.sum() > outline.sum()  # and the shapes are filled inside
    unpaired = ShapesUnpaired(image_size=16, num_train=32, num_val=8)
    unpaired.setup()
    x, y = unpaired.val_set[3]
    assert_close(y, -x)  # the negative
    x, y = unpaired.train_set[3]
    assert not torch.allclose(y, -x)  # training pairs are unpaired


def test_unpaired_shapes_colours_differ_by_channel_so_no_channel_swap_maps_x_onto_y():
    """X's colour ranges differ per channel (red 0.7..1, green 0.35..1, blue 0.35..0.6 by default): the shapes'
    flat interiors stay inside them, so a translation that swapped two channels would leave Y's colours."""
    data = ShapesUnpaired(image_size=32, num_train=256, num_val=8)
    data.setup()
    x = torch.stack([data.train_set[i][0] for i in range(256)]) / 2 + 0.5  # [N, 3, S, S] in [0, 1]
    interior = x.amax(1, keepdim=True) >= x.amax((1, 2, 3), keepdim=True)[..., :1, :1, :1] - 1e-6  # full coverage
    interior = interior.expand_as(x)
    for channel, (low, high) in enumerate([(0.7, 1.0), (0.35, 1.0), (0.35, 0.6)]):
        values = x[:, channel][interior[:, channel]]
        assert values.min() >= low - 1 / 255 and values.max() <= high + 1 / 255
        assert values.max() - values.min() > 0.8 * (high - low)  # and they fill the range
    with pytest.raises(LitGansError, match="colour_ranges"):
        ShapesUnpaired(colour_ranges=((0.7, 1.0), (0.35, 1.2), (0.3, 0.6)))
