"""``cli.py translate``: run a trained image-to-image model (Pix2Pix, CycleGAN, SRGAN) over an image or a folder of
images.

Each input is read as the translation datamodules read validation images (``datamodules.translation.to_tensor``:
converted to the model's channels, RGB or grey, and resized bilinearly to the model's input shape, aspect ignored, no
crop: the checkpoint's ``data_shape`` ``(C, H, W)``, or for a super-resolution model its low-resolution
``input_shape`` ``(C, H / r, W / r)``), translated in eval mode on the CPU in batches of ``--batch_size`` (in sorted
order, the noise of Pix2Pix's dropout drawn from ``--seed``), and written as a PNG of ``H x W`` under ``--output``
with its path relative to ``--input`` (``in/a/b.jpg -> out/a/b.png``; folders are searched recursively). Everything
that can fail (checkpoint, model, every image, the output folder) is checked before the first image is translated.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import numpy as np
import torch
from torch import Tensor

from datamodules.folder import IMAGE_SUFFIXES, open_image
from datamodules.translation import to_tensor, verify_images
from lit_gans.callbacks import write_png
from lit_gans.commands.checkpoints import load_gan
from lit_gans.commands.parse_errors import CommandParser
from lit_gans.commands.paths import ensure_writable_dir
from lit_gans.errors import LitGansError
from lit_gans.gans.context_encoder import ContextEncoder
from lit_gans.translation import TranslationGAN

SUFFIXES_TEXT = ", ".join(sorted(IMAGE_SUFFIXES))


def input_images(source: Path, output: Path) -> dict[Path, Path]:
    """``{input file: output name relative to --output}`` for one image or every image under a folder (recursive,
    sorted; files already under ``output`` are skipped, so a second run into a subfolder does not re-translate)."""
    if not source.exists():
        raise LitGansError(f"--input {source} does not exist")
    if source.is_file():
        if source.suffix.lower() not in IMAGE_SUFFIXES:
            raise LitGansError(f"--input {source} is not an image ({SUFFIXES_TEXT})")
        files, root = [source], source.parent
    else:
        resolved_output = output.resolve()
        files = sorted(
            path
            for path in source.rglob("*")
            if path.suffix.lower() in IMAGE_SUFFIXES
            and path.is_file()
            and resolved_output not in path.resolve().parents
        )
        if not files:
            raise LitGansError(f"--input folder {source} holds no images ({SUFFIXES_TEXT})")
        root = source
    sources: dict[Path, Path] = {}  # output name -> input file
    for path in files:
        name = path.relative_to(root).with_suffix(".png")
        if name in sources:
            raise LitGansError(f"{sources[name]} and {path} would both be written to {output / name}: rename one")
        if (output / name).resolve() == path.resolve():
            raise LitGansError(f"writing {output / name} would overwrite the input image: choose another --output")
        sources[name] = path
    return {path: name for name, path in sources.items()}


def translation_model(ckpt_path: str, inverse: bool) -> TranslationGAN:
    """The checkpoint's model, on the CPU in eval mode; a one-line error unless it translates in that direction."""
    model = load_gan(ckpt_path)
    name = type(model).__name__
    if not isinstance(model, TranslationGAN):
        raise LitGansError(
            f"{ckpt_path} holds a {name}, not an image-to-image model: translate needs a Pix2Pix, CycleGAN or SRGAN "
            "checkpoint (use `cli.py sample` for the others)"
        )
    if isinstance(model, ContextEncoder):
        raise LitGansError(
            f"{ckpt_path} holds a ContextEncoder, which fills holes: run `cli.py inpaint --ckpt_path CKPT --images X "
            "--mask center|left|random:P --output Y`"
        )
    if inverse and not model.bidirectional:
        raise LitGansError(
            f"{name} learns one direction (X -> Y) only: --direction BtoA needs a CycleGAN checkpoint (or a {name} "
            "trained with --data.direction BtoA, run with AtoB)"
        )
    channels = model.hparams["data_shape"][0]
    if channels not in (1, 3):
        raise LitGansError(f"{ckpt_path}: {name} was trained on {channels}-channel images; translate reads 1 or 3")
    return model


def check_decodable(files: list[Path], mode: str) -> None:
    """Decode every image once (a header check misses truncated data), so a broken file is named before any
    output is written."""
    verify_images(files)
    for path in files:
        open_image(path, mode)


def to_picture(image: Tensor) -> np.ndarray:
    """``[C, H, W]`` in [-1, 1] -> ``uint8 [H, W, C]`` (``[H, W]`` for grey): ``round((x + 1) / 2 * 255)``."""
    picture = (((image.float().cpu() + 1) / 2).clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0)
    return picture[..., 0].numpy() if picture.shape[-1] == 1 else picture.numpy()


def translate_command(argv: list[str]) -> None:
    parser = CommandParser(
        prog="cli.py translate",
        description="Translate an image, or every image in a folder (recursively), with a Pix2Pix, CycleGAN or SRGAN "
        "checkpoint: one PNG per input under --output, at the training image size (SRGAN: inputs resized to its "
        "low-resolution input size, outputs at the training size), with the input's relative path.",
    )
    parser.add_argument("--ckpt_path", type=str, required=True, help="a Pix2Pix, CycleGAN or SRGAN checkpoint")
    parser.add_argument("--input", type=str, required=True, help="an image file, or a folder searched recursively")
    parser.add_argument("--output", type=str, required=True, help="the folder to write the PNGs into")
    parser.add_argument(
        "--direction",
        type=Literal["AtoB", "BtoA"],
        default="AtoB",
        help="AtoB: G, the X -> Y map of the training batches (x, y); BtoA: CycleGAN's inverse map F (Y -> X)",
    )
    parser.add_argument("--batch_size", type=int, default=16, help="images translated at once")
    parser.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed of Pix2Pix's noise (its dropout stays on at test time, as in the paper): the same seed, batch "
        "size and inputs give the same images; CycleGAN draws no noise",
    )
    args = parser.parse_args(argv)
    if args.batch_size < 1:
        raise LitGansError(f"--batch_size must be at least 1, got {args.batch_size}")
    if not Path(args.ckpt_path).is_file():
        raise LitGansError(f"checkpoint {args.ckpt_path} does not exist")
    output = ensure_writable_dir(args.output)
    targets = input_images(Path(args.input).expanduser(), output)
    inverse = args.direction == "BtoA"
    model = translation_model(args.ckpt_path, inverse)
    # what G reads: the training images' shape, or a super-resolution model's low-resolution input (SRGAN)
    channels, height, width = getattr(model, "input_shape", model.hparams["data_shape"])
    mode = "RGB" if channels == 3 else "L"
    files = list(targets)
    check_decodable(files, mode)

    with torch.random.fork_rng(devices=[]):  # seeds the noise without touching the caller's RNG
        torch.manual_seed(args.seed)
        for start in range(0, len(files), args.batch_size):
            batch = files[start : start + args.batch_size]
            x = torch.stack([to_tensor(open_image(path, mode), channels, (height, width)) for path in batch])
            translated = model.translate(x, inverse=inverse)  # [B, C, H, W] in [-1, 1]
            for path, image in zip(batch, translated):
                write_png(to_picture(image), output / targets[path])
    print(f"wrote {len(files)} images to {output}")
