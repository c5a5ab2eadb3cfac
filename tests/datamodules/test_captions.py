import pytest
import torch
from PIL import Image

from datamodules import CaptionFolder, ShapesCaptions
from datamodules.captions import ATTRIBUTE_VALUES, ATTRIBUTES, position_phrase
from lit_gans import LitGansError
from lit_gans.text import Vocabulary, tokenize

COLOURS = ["red", "green", "blue", "yellow", "purple", "orange", "black", "white", "grey", "brown"]


def make_images(root, count=20):
    """``count`` solid-colour images of assorted sizes in two nested subfolders; image ``i`` is ``{rel: colour}``."""
    images = {}
    for i in range(count):
        rel = f"{'birds' if i % 2 else 'flowers/sub'}/img{i:02d}.{'png' if i % 3 else 'jpg'}"
        colour = (i * 12, 250 - i * 12, 100 if i % 2 else 200)
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (18 + i, 24), colour).save(root / rel)
        images[rel] = colour
    return images


def captions_of(images):
    """One to three captions per image (mixed case and punctuation), each naming the image's index."""
    captions = {}
    for i, rel in enumerate(images):
        texts = [f"A {COLOURS[i % 10].title()} thing, Number {i}!", f"picture {i} of a {COLOURS[(i + 3) % 10]} thing"]
        captions[rel] = texts[: 1 + i % 2] + (["the third caption"] if i % 5 == 0 else [])
    return captions


def write_beside(root, captions, folder=None):
    for rel, lines in captions.items():
        path = ((folder or root) / rel).with_suffix(".txt")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n\n")


def check_items(data, captions, images):
    """Items and tokens match the captions given: every training caption once, the first of each validation
    image's captions, each with its own image."""
    data.setup()
    root = data.root
    vocabulary = Vocabulary(data.vocabulary)
    train = [f.relative_to(root).as_posix() for f in data.train_set.files]
    val = [f.relative_to(root).as_posix() for f in data.val_set.files]
    assert sorted(train + val) == sorted(images) and not set(train) & set(val)
    assert len(data.train_set) == sum(len(captions[rel]) for rel in train)
    assert len(data.val_set) == len(val)
    expected = [" ".join(tokenize(c)) for rel in train for c in captions[rel]]
    assert vocabulary.decode(data.train_set.tokens) == expected
    known = [" ".join(w if w in vocabulary.index else "<unk>" for w in tokenize(captions[rel][0])) for rel in val]
    assert vocabulary.decode(data.val_set.tokens) == known  # the training vocabulary: a validation index is <unk>
    assert (data.val_set.tokens == 1).any()
    for dataset, files in ((data.train_set, train), (data.val_set, val)):
        for i in (0, len(dataset) - 1):
            image, tokens = dataset[i]
            assert image.shape == (3, 16, 16) and tokens.shape == (data.max_length,) and tokens.dtype == torch.long
            assert image.min() >= -1 and image.max() <= 1
            colour = torch.tensor(images[files[int(dataset.image_of[i])]]) / 127.5 - 1
            assert torch.allclose(image.mean(dim=(1, 2)), colour, atol=0.05)  # the caption's own image
            assert torch.equal(tokens, dataset.tokens[i])


def test_captions_beside_images(tmp_path):
    images = make_images(tmp_path)
    captions = captions_of(images)
    write_beside(tmp_path, captions)
    data = CaptionFolder(root=str(tmp_path), image_size=16, batch_size=4, shuffle_seed=0)
    assert data.data_shape == (3, 16, 16)
    check_items(data, captions, images)
    assert len(data.val_set) == 2  # a tenth of 20 images
    x, tokens = next(iter(data.train_dataloader()))
    assert x.shape == (4, 3, 16, 16) and tokens.shape == (4, 18)
    assert next(iter(data.val_dataloader()))[1].shape == (2, 18)
    grey = CaptionFolder(root=str(tmp_path), image_size=8, channels=1, max_length=4)
    grey.setup()
    assert grey.train_set[0][0].shape == (1, 8, 8) and grey.train_set[0][1].shape == (4,)
    with pytest.raises(LitGansError, match="channels=2"):
        CaptionFolder(root=str(tmp_path), channels=2)


def test_captions_folder_and_captions_file(tmp_path):
    images = make_images(tmp_path / "images", count=12)
    captions = captions_of(images)
    write_beside(tmp_path / "images", captions, folder=tmp_path / "text")  # a mirrored folder, like CUB's text_c10
    check_items(
        CaptionFolder(root=str(tmp_path / "images"), captions=str(tmp_path / "text"), image_size=16), captions, images
    )

    lines = []
    for i, (rel, texts) in enumerate(captions.items()):
        for text in texts:
            lines.append(f"{rel}\t{text}" if i % 2 else f"./{rel} | {text}")
    lines.insert(3, "")
    (tmp_path / "captions.tsv").write_text("\n".join(lines) + "\n")
    data = CaptionFolder(root=str(tmp_path / "images"), captions=str(tmp_path / "captions.tsv"), image_size=16)
    check_items(data, captions, images)
    assert max(len(c) for c in captions.values()) == 3  # several lines for one image


def test_errors_name_the_path(tmp_path):
    images = make_images(tmp_path, count=6)
    captions = captions_of(images)
    write_beside(tmp_path, captions)
    (tmp_path / "birds" / "img03.txt").unlink()
    (tmp_path / "birds" / "img05.txt").unlink()
    with pytest.raises(LitGansError, match=r"2 of 6 images .*birds/img03\.jpg, needs .*birds/img03\.txt"):
        CaptionFolder(root=str(tmp_path)).setup()

    (tmp_path / "birds" / "img03.txt").write_text("a caption\n")
    (tmp_path / "birds" / "img05.txt").write_text("\n  \n")
    with pytest.raises(LitGansError, match=r"caption file .*birds/img05\.txt holds no caption"):
        CaptionFolder(root=str(tmp_path)).vocabulary

    lines = [f"{rel}\t{texts[0]}" for rel, texts in captions.items()]
    file = tmp_path / "captions.txt"
    file.write_text("\n".join(lines[:2] + ["birds/nope.jpg\ta bird"] + lines[2:]))
    with pytest.raises(LitGansError, match=r"line 3 of captions file .*captions\.txt names 'birds/nope\.jpg'"):
        CaptionFolder(root=str(tmp_path), captions=str(file)).setup()
    file.write_text("\n".join(lines[:4] + ["birds/img01.png a bird"] + lines[4:]))
    with pytest.raises(LitGansError, match=r"line 5 of captions file .* no separator"):
        CaptionFolder(root=str(tmp_path), captions=str(file)).setup()
    file.write_text("\n".join(lines[1:]))
    with pytest.raises(LitGansError, match=r"1 of 6 images .*never names 'flowers/sub/img00\.jpg'"):
        CaptionFolder(root=str(tmp_path), captions=str(file)).setup()

    with pytest.raises(LitGansError, match=r"captions path .*missing\.txt does not exist"):
        CaptionFolder(root=str(tmp_path), captions=str(tmp_path / "missing.txt")).setup()
    with pytest.raises(LitGansError, match="does not exist"):
        CaptionFolder(root=str(tmp_path / "nope")).setup()


def test_vocabulary_before_setup_without_images(tmp_path, monkeypatch):
    images = make_images(tmp_path, count=12)
    captions = captions_of(images)
    val_rel = "birds/img01.png"  # the first image (sorted) is always a validation image
    captions[val_rel] = ["a zebra of a thing", "number zebra"]
    write_beside(tmp_path, captions)
    (tmp_path / "birds" / "img03.jpg").write_bytes(b"\x89PNG\r\n\x1a\n not really")

    def no_opening(*args, **kwargs):
        raise AssertionError("the vocabulary opened an image")

    data = CaptionFolder(root=str(tmp_path), image_size=16, min_word_count=2)
    with monkeypatch.context() as patch:
        patch.setattr(Image, "open", no_opening)
        words = data.vocabulary
        assert data.vocabulary is words  # cached
        data.setup()  # the split reads caption files only; images are opened per item
    assert words[:2] == ["<pad>", "<unk>"] and "thing" in words and "zebra" not in words
    counts = {}
    for rel in images:
        if rel != val_rel:
            for word in (w for c in captions[rel] for w in tokenize(c)):
                counts[word] = counts.get(word, 0) + 1
    assert set(words[2:]) == {w for w, c in counts.items() if c >= 2}  # training captions, min_word_count
    assert data.train_set.files[0] != tmp_path / val_rel and data.val_set.files[0] == tmp_path / val_rel
    assert Vocabulary(words).decode(data.val_set.tokens[:1]) == ["a <unk> of a thing"]
    assert data.val_set.tokens[0, 1] == 1
    broken = [i for i, f in enumerate(data.train_set.files) if f.name == "img03.jpg"][0]
    with pytest.raises(LitGansError, match="cannot read image .*img03.jpg"):
        data.train_set[int((data.train_set.image_of == broken).nonzero()[0])]


@pytest.fixture(scope="module")
def shapes():
    data = ShapesCaptions(image_size=32, num_train=200, num_val=20, captions_per_image=3, seed=3, batch_size=8)
    data.setup()
    return data


def test_shapes_captions_state_what_they_say(shapes):
    vocabulary = Vocabulary(shapes.vocabulary)
    data = shapes.train_set
    captions = vocabulary.decode(data.tokens)
    assert len(captions) == 600 and "<unk>" not in " ".join(captions)
    attributes, stated = data.attributes[data.image_of], data.stated
    for caption, values, mask in zip(captions, attributes.tolist(), stated.tolist()):
        words = caption.split()
        for a, name in enumerate(ATTRIBUTES[:3]):  # shape, colour, size
            named = set(ATTRIBUTE_VALUES[name]) & set(words)
            assert named == ({ATTRIBUTE_VALUES[name][values[a]]} if mask[a] else set()), (caption, name)
        assert mask[3] == mask[4]  # a position names both row and column
        if mask[3]:
            assert caption.endswith(position_phrase(values[3], values[4])), caption
        else:
            assert "in" not in words, caption
    assert stated.all(dim=1).float().mean() > 0.1 and (~stated).any(dim=0).all()  # full captions and omissions


def test_shapes_captions_are_seeded_and_batched(shapes):
    again = ShapesCaptions(image_size=32, num_train=200, num_val=20, captions_per_image=3, seed=3)
    again.setup()
    assert torch.equal(again.train_set.tokens, shapes.train_set.tokens)
    assert torch.equal(again.train_set.images, shapes.train_set.images)
    assert torch.equal(again.val_set.tokens, shapes.val_set.tokens)
    other = ShapesCaptions(image_size=32, num_train=200, num_val=20, captions_per_image=3, seed=4)
    other.setup()
    assert not torch.equal(other.train_set.images, shapes.train_set.images)
    images, tokens, attributes, stated = next(iter(shapes.train_dataloader()))
    assert images.shape == (8, 3, 32, 32) and images.min() >= -1 and images.max() <= 1
    assert tokens.shape == (8, 10) and tokens.dtype == torch.long
    assert attributes.shape == (8, 5) and stated.shape == (8, 5) and stated.dtype == torch.bool
    assert len(shapes.val_set) == 20 and shapes.data_shape == (3, 32, 32)


def test_shapes_drawn_in_their_named_bin(shapes):
    images = shapes.train_set.images.float() / 127.5 - 1  # [N, 3, S, S]
    mask = images.amax(dim=1) > -0.5  # the shape, on black
    size = images.shape[-1]
    coordinates = torch.arange(size).float() + 0.5
    area = mask.sum(dim=(1, 2)).float()
    assert (area > 0).all()
    row = (mask.sum(dim=2) * coordinates).sum(dim=1) / area  # centroid's y, pixels
    column = (mask.sum(dim=1) * coordinates).sum(dim=1) / area
    bins = torch.stack([row, column], dim=1).div(size / 3).floor().long()
    assert torch.equal(bins, shapes.train_set.attributes[:, 3:5])
