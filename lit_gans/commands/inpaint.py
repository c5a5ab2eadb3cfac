"""``cli.py inpaint``: fill the missing pixels of images with a trained G (``lit_gans.inpaint``: Yeh et al. 2017's
latent search, then Poisson blending), or with a Context Encoder's prediction (Pathak et al. 2016: one forward pass,
pasted into the hole, or Poisson-blended with ``--blend``)."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor

from lit_gans.base import GANModule
from lit_gans.callbacks import image_grid, write_png
from lit_gans.commands.checkpoints import load_gan
from lit_gans.commands.latent import read_images
from lit_gans.commands.parse_errors import CommandParser
from lit_gans.commands.paths import ensure_writable_file
from lit_gans.errors import LitGansError
from lit_gans.gans.context_encoder import ContextEncoder
from lit_gans.inpaint import inpaint, make_mask, masked, paste, poisson_blend

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")


def inpaint_command(argv: list[str]) -> None:
    parser = CommandParser(
        prog="cli.py inpaint",
        description="Fill masked pixels with a trained lit-gans G (Yeh et al. 2017): several latents per image are "
        "optimised against the known pixels (importance-weighted L1) plus lambda log(1 - D(G(z))), the best kept, "
        "then Poisson-blended into the known pixels. A ContextEncoder checkpoint (Pathak et al. 2016) fills in one "
        "forward pass instead: its prediction pasted into the hole (--blend: Poisson-blended); the search options "
        "do not apply to it.",
    )
    parser.add_argument("--ckpt_path", type=str, required=True, help="a checkpoint written by `cli.py fit`")
    parser.add_argument(
        "--images",
        type=str,
        required=True,
        help="a .pt tensor [N, C, H, W] in [-1, 1], an image file, or a folder of image files (G's size)",
    )
    parser.add_argument(
        "--mask",
        type=str,
        default="center",
        help="center (the central half-side square), left (the left half), random:P (each pixel missing with "
        "probability P, e.g. random:0.8), or a file (.pt, nonzero = known; or an image, white = known)",
    )
    parser.add_argument(
        "--output",
        type=str,
        required=True,
        help=".png grid (rows: masked input, G(z*), blended; for a ContextEncoder: masked input, its prediction, "
        "pasted or blended) or .pt [3, N, C, H, W]",
    )
    parser.add_argument("--steps", type=int, default=1500, help="Adam iterations on z (the paper: 1500)")
    parser.add_argument("--lr", type=float, default=0.03, help="Adam's step size on z (the paper: 0.03)")
    parser.add_argument("--starts", type=int, default=4, help="random latents per image, the best kept")
    parser.add_argument("--lam", type=float, default=0.003, help="weight of the prior loss log(1 - D(G(z))); 0: none")
    parser.add_argument("--window", type=int, default=7, help="side of the importance-weighting window (odd)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the starts and of random masks")
    parser.add_argument(
        "--blend",
        action="store_true",
        help="ContextEncoder only: Poisson-blend its prediction into the known pixels instead of pasting it",
    )
    args = parser.parse_args(argv)

    output = Path(args.output)
    if output.suffix not in (".png", ".pt"):
        raise LitGansError(f"--output must end in .png or .pt, got {output}")
    for name in ("steps", "starts", "window"):
        if getattr(args, name) < 1:
            raise LitGansError(f"--{name} must be at least 1, got {getattr(args, name)}")
    if args.window % 2 == 0:
        raise LitGansError(f"--window must be odd, got {args.window}")
    if args.lam < 0:
        raise LitGansError(f"--lam must be at least 0, got {args.lam}")
    ensure_writable_file(output)  # before loading the model
    model = load_gan(args.ckpt_path)
    context_encoder = isinstance(model, ContextEncoder)
    shape = model.data_shape if context_encoder else checked_model(model, args.lam)
    images = load_images(Path(args.images), shape)
    generator = torch.Generator().manual_seed(args.seed)
    mask = make_mask(args.mask, len(images), shape[1:], generator)
    if context_encoder:
        if args.mask != model.mask:
            print(f"note: this ContextEncoder was trained on {model.mask} holes; filling --mask {args.mask} holes")
        fake = model.fill(images, mask).cpu()
        blended = poisson_blend(images, fake, mask) if args.blend else paste(images, fake, mask)
    else:
        fake, blended = inpaint(
            model,
            images,
            mask,
            steps=args.steps,
            lr=args.lr,
            starts=args.starts,
            lam=args.lam,
            window=args.window,
            generator=generator,
        )
    shown = masked(images, mask)
    output.parent.mkdir(parents=True, exist_ok=True)
    if output.suffix == ".pt":
        torch.save(torch.stack([shown, fake, blended]), output)
    else:
        per_row = min(8, len(images))
        rows = []
        for start in range(0, len(images), per_row):
            chunk = slice(start, start + per_row)
            blank = torch.full((per_row - len(images[chunk]), *shape), -1.0)
            rows += [torch.cat([part[chunk], blank]) for part in (masked(images, mask, 0.0), fake, blended)]
        write_png(image_grid(torch.cat(rows), per_row), output)
    known = mask.mean().item()
    print(f"inpainted {len(images)} images ({100 * (1 - known):.0f}% of pixels missing) to {output}")


def checked_model(model: GANModule, lam: float) -> tuple[int, ...]:
    """G's ``(C, H, W)``; a one-line error for a model whose G cannot be searched for images."""
    name = type(model).__name__
    if not model.latent_input:
        raise LitGansError(f"{name} translates images and has no latent z: `cli.py inpaint` needs a noise-driven G")
    if type(model).draw_conditions is not GANModule.draw_conditions:
        raise LitGansError(f"{name} is conditional: `cli.py inpaint` searches unconditional G's only")
    shape = tuple(model.hparams.get("data_shape") or model.sample(1)[0].shape)
    if len(shape) != 3:
        raise LitGansError(f"{name} draws points {list(shape)}, not images: nothing to inpaint")
    if lam != 0 and getattr(model, "discriminator", None) is None:
        raise LitGansError(f"{name} has no discriminator for the prior loss log(1 - D(G(z))): pass --lam 0")
    return shape


def load_images(path: Path, shape: tuple[int, ...]) -> Tensor:
    """``[N, C, H, W]`` in [-1, 1]: a ``.pt`` tensor, one image, or every image file of a folder (sorted)."""
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise LitGansError(f"--images {path} holds no image files ({', '.join(IMAGE_SUFFIXES)})")
        return torch.cat([read_images(file, shape) for file in files])
    return read_images(path, shape)
