"""`cli.py translate`: a Pix2Pix or CycleGAN checkpoint over an image or a folder, written as PNGs that hold exactly
what `model.translate` gives for the input read as the training data is read; one-line errors checked before any
work."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from cli import main
from datamodules.folder import open_image
from datamodules.translation import to_tensor
from lit_gans.commands.checkpoints import load_gan
from tests.test_cli import QUIET, deny_writes_in, fail_message
from tests.test_cli_translation import TINY_CYCLEGAN, TINY_PIX2PIX

SIZE = 16  # the training image size: every output is SIZE x SIZE whatever the input's size
SHORT = ["--trainer.max_steps=2", "--trainer.limit_val_batches=0", "--trainer.max_epochs=1"]
SMALL_SHAPES = [f"--data.image_size={SIZE}", "--data.num_train=16", "--data.num_val=4", "--data.batch_size=4"]


def train(model: str, tiny: list[str], root: Path, extra: tuple[str, ...] = ()) -> Path:
    """A checkpoint of ``model`` after 2 steps on its offline Shapes task (``extra`` arguments last)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        args = [*tiny, *SMALL_SHAPES, *QUIET, *SHORT, f"--trainer.default_root_dir={root}", *extra]
        main(["fit", f"--model={model}", *args])
    return next((root / "lightning_logs" / "version_0" / "checkpoints").glob("*.ckpt"))


@pytest.fixture(scope="module")
def pix2pix_checkpoint(tmp_path_factory) -> Path:
    return train("Pix2Pix", TINY_PIX2PIX, tmp_path_factory.mktemp("pix2pix"))


@pytest.fixture(scope="module")
def noisy_pix2pix_checkpoint(tmp_path_factory) -> Path:
    """At 64x64 the U-Net has dropout (the authors' rule puts none below 64x64), so its translations are noisy."""
    return train("Pix2Pix", TINY_PIX2PIX, tmp_path_factory.mktemp("pix2pix64"), extra=("--data.image_size=64",))


@pytest.fixture(scope="module")
def cyclegan_checkpoint(tmp_path_factory) -> Path:
    return train("CycleGAN", TINY_CYCLEGAN, tmp_path_factory.mktemp("cyclegan"))


def write_image(path: Path, size: tuple[int, int], mode: str = "RGB", seed: int = 0) -> Path:
    """A random image of ``size`` (width, height)."""
    channels = 3 if mode == "RGB" else 1
    pixels = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], channels), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels[..., 0] if channels == 1 else pixels).save(path)
    return path


def expected_pngs(checkpoint: Path, sources: list[Path], inverse: bool = False, seed: int = 0) -> list[np.ndarray]:
    """What the written PNGs must hold: ``model.translate`` of the inputs read as validation images, in one batch
    after seeding the noise (Pix2Pix's dropout stays on) as the command does, to ``[0, 255]``."""
    model = load_gan(checkpoint)
    x = torch.stack([to_tensor(open_image(source, "RGB"), 3, SIZE) for source in sources])  # [N, 3, SIZE, SIZE]
    torch.manual_seed(seed)
    y = model.translate(x, inverse=inverse)
    return list((((y + 1) / 2).clamp(0, 1) * 255).permute(0, 2, 3, 1).numpy())


def assert_png_matches(written: Path, expected: np.ndarray) -> None:
    picture = np.asarray(Image.open(written).convert("RGB"), dtype=np.float32)
    assert picture.shape == (SIZE, SIZE, 3)
    assert np.abs(picture - expected).max() <= 0.5 + 1e-3  # uint8 rounding only


def test_pix2pix_translates_a_folder_recursively(pix2pix_checkpoint, tmp_path, capsys):
    inputs = tmp_path / "in"
    grey = write_image(inputs / "sub" / "grey.jpg", (10, 30), mode="L", seed=2)  # grey in, RGB like the training
    wide = write_image(inputs / "wide.png", (24, 20), seed=1)
    (inputs / "notes.txt").write_text("not an image")
    main(["translate", f"--ckpt_path={pix2pix_checkpoint}", f"--input={inputs}", f"--output={tmp_path / 'out'}"])
    assert f"wrote 2 images to {tmp_path / 'out'}" in capsys.readouterr().out
    written = sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*.*"))
    assert written == ["sub/grey.png", "wide.png"]
    expected = expected_pngs(pix2pix_checkpoint, [grey, wide])  # one batch, in sorted order
    assert_png_matches(tmp_path / "out" / "sub" / "grey.png", expected[0])
    assert_png_matches(tmp_path / "out" / "wide.png", expected[1])


def test_pix2pix_noise_follows_the_seed(noisy_pix2pix_checkpoint, pix2pix_checkpoint, tmp_path):
    source = write_image(tmp_path / "in.png", (SIZE, SIZE), seed=4)
    for name, seed in (("a", 0), ("b", 0), ("c", 1)):
        main([*main_args(noisy_pix2pix_checkpoint, source, tmp_path / name), f"--seed={seed}"])
    a, b, c = (np.asarray(Image.open(tmp_path / name / "in.png")) for name in "abc")
    assert a.shape == (64, 64, 3) and np.array_equal(a, b) and not np.array_equal(a, c)
    for name, seed in (("d", 0), ("e", 1)):  # at 16x16 no dropout: no noise, whatever the seed
        main([*main_args(pix2pix_checkpoint, source, tmp_path / name), f"--seed={seed}"])
    d, e = (np.asarray(Image.open(tmp_path / name / "in.png")) for name in "de")
    assert np.array_equal(d, e)


def main_args(checkpoint: Path, source: Path, output: Path) -> list[str]:
    return ["translate", f"--ckpt_path={checkpoint}", f"--input={source}", f"--output={output}"]


def test_cyclegan_translates_one_image_both_ways(cyclegan_checkpoint, tmp_path, capsys):
    source = write_image(tmp_path / "photo.jpg", (20, 20), seed=3)
    main(main_args(cyclegan_checkpoint, source, tmp_path / "ab"))
    main([*main_args(cyclegan_checkpoint, source, tmp_path / "ba"), "--direction=BtoA"])
    assert capsys.readouterr().out.count("wrote 1 images to") == 2
    assert_png_matches(tmp_path / "ab" / "photo.png", expected_pngs(cyclegan_checkpoint, [source])[0])
    assert_png_matches(tmp_path / "ba" / "photo.png", expected_pngs(cyclegan_checkpoint, [source], inverse=True)[0])
    g, f = (np.asarray(Image.open(tmp_path / d / "photo.png")) for d in ("ab", "ba"))
    assert not np.array_equal(g, f)  # --direction picks the other network


def test_cyclegan_batches_do_not_change_the_result(cyclegan_checkpoint, tmp_path):
    """Eval mode and no noise: an image's translation does not depend on the others in its batch."""
    inputs = tmp_path / "in"
    for i in range(3):
        write_image(inputs / f"{i}.png", (SIZE, SIZE), seed=10 + i)
    for batch_size in (1, 3):
        main([*main_args(cyclegan_checkpoint, inputs, tmp_path / f"out{batch_size}"), f"--batch_size={batch_size}"])
    for i in range(3):
        one, three = (np.asarray(Image.open(tmp_path / f"out{b}" / f"{i}.png")) for b in (1, 3))
        assert np.array_equal(one, three)


def error_line(capsys, *argv: str) -> str:
    message = fail_message(capsys, ["translate", *argv])
    assert message.startswith("error: ") and message.count("\n") == 1, message
    return message


def test_translate_errors_before_any_work(pix2pix_checkpoint, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    good = write_image(tmp_path / "in" / "good.png", (SIZE, SIZE))
    ckpt, source, out = f"--ckpt_path={pix2pix_checkpoint}", f"--input={good.parent}", "--output=out"
    assert "checkpoint nothing.ckpt does not exist" in error_line(capsys, "--ckpt_path=nothing.ckpt", source, out)
    assert "Pix2Pix learns one direction" in error_line(capsys, ckpt, source, out, "--direction=BtoA")
    assert "--input missing does not exist" in error_line(capsys, ckpt, "--input=missing", out)
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.md").write_text("")
    assert "--input folder empty holds no images" in error_line(capsys, ckpt, "--input=empty", out)
    assert "readme.md is not an image" in error_line(capsys, ckpt, f"--input={tmp_path / 'empty' / 'readme.md'}", out)
    (tmp_path / "file").write_text("")
    assert "--output file is a file; give a folder" in error_line(capsys, ckpt, source, "--output=file")
    assert "file is a file, not a folder" in error_line(capsys, ckpt, source, "--output=file/out")
    (tmp_path / "locked").mkdir()
    with monkeypatch.context() as patch:
        deny_writes_in(patch, tmp_path / "locked")
        assert "no permission to write in locked" in error_line(capsys, ckpt, source, "--output=locked/out")
    # sorted after good.png: neither is translated before the broken one is found
    (tmp_path / "in" / "z_broken.png").write_bytes(b"\x89PNG not really")
    assert "z_broken.png" in error_line(capsys, ckpt, source, out)
    truncated = write_image(tmp_path / "z_truncated.png", (64, 64)).read_bytes()  # a valid header, half the data
    (tmp_path / "in" / "z_broken.png").write_bytes(truncated[: len(truncated) // 2])
    assert "z_broken.png" in error_line(capsys, ckpt, source, out)
    assert not (tmp_path / "out").exists()
    (tmp_path / "in" / "z_broken.png").unlink()
    write_image(tmp_path / "in" / "good.jpg", (SIZE, SIZE))
    assert "would both be written to out/good.png" in error_line(capsys, ckpt, source, out)
    assert not (tmp_path / "out").exists()


def test_translate_refuses_a_model_that_does_not_translate(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    toy = ["--model=GAN", "--model.z_dim=2", "--model.g_hidden=[4]", "--model.d_hidden=[4]", "--data=Toy"]
    main(["fit", *toy, "--data.num_train=32", "--data.num_val=8", "--data.batch_size=16", *QUIET, *SHORT])
    checkpoint = next((tmp_path / "runs" / "gan_toy" / "lightning_logs" / "version_0" / "checkpoints").glob("*.ckpt"))
    write_image(tmp_path / "in.png", (SIZE, SIZE))
    message = error_line(capsys, f"--ckpt_path={checkpoint}", "--input=in.png", "--output=out")
    assert "holds a GAN, not an image-to-image model" in message


def test_to_picture_maps_minus_one_to_one_onto_uint8_and_keeps_grey_single_channel():
    from lit_gans.commands.translate import to_picture

    grey = torch.tensor([-1.0, 0.0, 1.0, 2.0]).view(1, 1, 4)  # [C=1, H=1, W=4], out of range clamped
    assert to_picture(grey).tolist() == [[0, 128, 255, 255]] and to_picture(grey).dtype == np.uint8
    assert to_picture(torch.zeros(3, 2, 5)).shape == (2, 5, 3)
