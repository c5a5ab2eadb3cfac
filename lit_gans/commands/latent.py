"""``cli.py latent``: a trained G's latent space (``lit_gans.latent``): interpolation grids and GIFs, concept
arithmetic, and inversion of real images.

Latents of "samples" are those of ``cli.py sample --num_samples POOL --seed SEED``: draw that grid, pick indices on
it (row-major from 0), and pass them here with the same ``--pool`` and ``--seed``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Optional, Union

import numpy as np
import torch
from PIL import Image
from torch import Tensor

from datamodules.folder import open_image
from datamodules.translation import to_tensor
from lit_gans.base import GANModule
from lit_gans.callbacks import image_grid, write_png
from lit_gans.commands.checkpoints import load_gan
from lit_gans.commands.parse_errors import CommandParser
from lit_gans.commands.paths import ensure_writable_file
from lit_gans.errors import LitGansError
from lit_gans.latent import (
    arithmetic,
    classifier_features,
    classify,
    concept_vector,
    discriminator_features,
    generated,
    interpolation_path,
    invert,
    top_exemplars,
    variants,
)
from lit_gans.metrics.classifier import load_classifier
from lit_gans.saved_files import load_tensor_file

SUFFIXES = {"interpolate": (".png", ".gif", ".pt"), "arithmetic": (".png", ".pt"), "invert": (".png", ".pt")}


def latent_command(argv: list[str]) -> None:
    parser = CommandParser(
        prog="cli.py latent",
        description="Walk, add and invert a trained lit-gans G's latents (DCGAN section 6). Samples' latents are "
        "those of `cli.py sample --num_samples POOL --seed SEED`: indices count row by row from 0 on that grid.",
    )
    parser.add_argument("--ckpt_path", type=str, required=True, help="a checkpoint written by `cli.py fit`")
    parser.add_argument(
        "--mode",
        type=Literal["interpolate", "arithmetic", "invert"],
        required=True,
        help="interpolate (a row per path, or a GIF), arithmetic (a - b + c on concept means), invert (images -> z)",
    )
    parser.add_argument("--output", type=str, required=True, help=".png grid, .gif (interpolate), .pt (tensors)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sample pool, the starts and the noise")
    parser.add_argument("--pool", type=int, default=64, help="how many samples' latents the indices refer to")
    parser.add_argument(
        "--labels", type=Optional[int], default=None, help="CGAN/ACGAN: the class of every sample (required)"
    )
    # interpolate
    parser.add_argument("--method", type=Literal["slerp", "lerp"], default="slerp", help="interpolate: the path")
    parser.add_argument("--steps", type=int, default=8, help="interpolate: frames per segment; invert: Adam steps")
    parser.add_argument(
        "--indices",
        type=Optional[list[int]],
        default=None,
        help="interpolate: the pool samples to walk through, in order (one path, e.g. [3,17,40]); without it "
        "--paths random pairs",
    )
    parser.add_argument("--paths", type=int, default=8, help="interpolate: random pairs without --indices")
    # arithmetic
    for term in ("a", "b", "c"):
        parser.add_argument(
            f"--{term}",
            type=Optional[Union[int, list[int]]],
            default=None,
            help=f"arithmetic: the {term} in a - b + c: pool indices of its exemplars, or with --classifier one class",
        )
    parser.add_argument("--exemplars", type=int, default=3, help="arithmetic with --classifier: exemplars a concept")
    parser.add_argument("--variants", type=int, default=8, help="arithmetic: noisy variants of the result")
    parser.add_argument("--noise", type=float, default=0.25, help="arithmetic: U(-noise, noise) on the variants")
    # invert
    parser.add_argument(
        "--images", type=Optional[str], default=None, help="invert: a .pt tensor [N, C, H, W] in [-1, 1], or an image"
    )
    parser.add_argument("--starts", type=int, default=4, help="invert: random starts per image, the best kept")
    parser.add_argument("--lr", type=float, default=0.05, help="invert: Adam's step size on z")
    parser.add_argument(
        "--classifier",
        type=Optional[str],
        default=None,
        help="a `cli.py classifier` file: arithmetic picks exemplars by its classes; invert adds its features' loss",
    )
    parser.add_argument("--feature_weight", type=float, default=1.0, help="invert: weight of the feature loss")
    parser.add_argument(
        "--d_features",
        type=bool,
        default=False,
        help="invert: compare D's last hidden features (instead of a --classifier's) in the feature loss",
    )
    args = parser.parse_args(argv)

    output = Path(args.output)
    if output.suffix not in SUFFIXES[args.mode]:
        raise LitGansError(f"--mode {args.mode} writes {' or '.join(SUFFIXES[args.mode])}; got --output {output}")
    for name in ("pool", "paths", "steps", "starts", "exemplars", "variants"):
        if getattr(args, name) < 1:
            raise LitGansError(f"--{name} must be at least 1, got {getattr(args, name)}")
    ensure_writable_file(output)  # before loading the model
    if args.classifier is not None and not Path(args.classifier).is_file():
        raise LitGansError(f"classifier file {args.classifier} does not exist (train one: cli.py classifier ...)")
    model = load_gan(args.ckpt_path)
    shape = checked_model(model, args.labels, images_needed=args.mode == "invert" or output.suffix != ".pt")
    conditions = {} if args.labels is None else {"labels": args.labels}
    torch.manual_seed(args.seed)
    if args.mode == "interpolate":
        samples, nrow = interpolate(model, args, conditions)
        if output.suffix == ".gif":
            write_gif(samples, nrow, output)
            print(f"wrote {samples.shape[1]} frames of {samples.shape[0]} paths to {output}")
            return
        samples = samples.flatten(0, 1)
    elif args.mode == "arithmetic":
        samples, nrow = concept_arithmetic(model, args, conditions)
    else:
        samples, nrow = inversion(model, args, conditions, shape)
    output.parent.mkdir(parents=True, exist_ok=True)
    if output.suffix == ".pt":
        torch.save(samples, output)
    else:
        write_png(image_grid(samples, nrow), output)
    print(f"wrote {tuple(samples.shape)} to {output}")


def checked_model(model: GANModule, labels: int | None, images_needed: bool) -> tuple[int, ...]:
    """What G draws, ``(C, H, W)`` or ``(D,)``; a one-line error for a model these tools cannot use."""
    name = type(model).__name__
    if not model.latent_input:
        raise LitGansError(f"{name} translates images and has no latent z: `cli.py latent` needs a noise-driven G")
    if type(model).draw_conditions is not GANModule.draw_conditions and labels is None:
        try:
            model.draw_conditions(1, labels=0)
        except LitGansError:
            raise LitGansError(f"{name}'s conditions (codes, captions) are not supported by `cli.py latent`") from None
        raise LitGansError(f"{name} is conditional: pass the class of every sample with --labels N")
    conditions = {} if labels is None else {"labels": labels}
    model.draw_conditions(1, **conditions)  # checks the class against the model (or says it takes none)
    shape = tuple(model.hparams.get("data_shape") or model.sample(1, **conditions)[0].shape)
    if images_needed and len(shape) != 3:
        raise LitGansError(f"{name} draws points {list(shape)}, not images: only --mode interpolate|arithmetic to .pt")
    return shape


def pool_latents(model: GANModule, args) -> Tensor:
    """``[pool, Z]``: the latents of `cli.py sample --num_samples POOL --seed SEED` (the same draws)."""
    return model.sample_latent(args.pool, torch.Generator().manual_seed(args.seed))


def interpolate(model: GANModule, args, conditions: dict) -> tuple[Tensor, int]:
    """``[paths, frames, ...]`` samples along each path and the frames a row."""
    latents = pool_latents(model, args)
    if args.indices is not None:
        if len(args.indices) < 2:
            raise LitGansError(f"--indices needs at least 2 samples to walk between, got {args.indices}")
        ends = [latents[torch.as_tensor(check_indices(args.indices, args.pool, "--indices"))]]
    else:
        pairs = torch.randperm(args.pool, generator=torch.Generator().manual_seed(args.seed + 1))
        if args.pool < 2 * args.paths:
            raise LitGansError(f"--paths {args.paths} random pairs need --pool at least {2 * args.paths}")
        ends = [latents[pairs[2 * p : 2 * p + 2]] for p in range(args.paths)]
    paths = torch.stack([interpolation_path(end, args.steps, args.method) for end in ends])  # [P, frames, Z]
    frames = paths.shape[1]
    samples = generated(model, paths.flatten(0, 1), **conditions)
    return samples.view(len(ends), frames, *samples.shape[1:]), frames


def check_indices(indices: list[int], pool: int, what: str) -> list[int]:
    outside = [i for i in indices if not 0 <= i < pool]
    if outside:
        raise LitGansError(f"{what} must be indices in 0..{pool - 1} of the sample pool (--pool {pool}), got {outside}")
    return indices


def concept_arithmetic(model: GANModule, args, conditions: dict) -> tuple[Tensor, int]:
    """The grid: a row of exemplars for each of a, b, c, then ``G(mean a), G(mean b), G(mean c)`` and the
    variants of ``mean a - mean b + mean c``."""
    if args.a is None or args.b is None or args.c is None:
        raise LitGansError("--mode arithmetic needs --a, --b and --c (pool indices, or classes with --classifier)")
    latents = pool_latents(model, args)
    terms = []
    if args.classifier is not None:
        probabilities = classify(load_checked_classifier(args.classifier), generated(model, latents, **conditions))
        for term in (args.a, args.b, args.c):
            if not isinstance(term, int):
                raise LitGansError(f"with --classifier each of --a, --b, --c is one class, got {term}")
            terms.append(top_exemplars(probabilities, term, args.exemplars))
    else:
        terms = [
            torch.as_tensor(check_indices([t] if isinstance(t, int) else t, args.pool, "--a/--b/--c"))
            for t in (args.a, args.b, args.c)
        ]
    means = torch.stack([concept_vector(latents, term) for term in terms])  # [3, Z]
    result = variants(arithmetic(*means), args.variants, args.noise, torch.Generator().manual_seed(args.seed + 2))
    width = max(3 + args.variants, *(len(term) for term in terms))
    rows = [
        torch.cat([latents[term], torch.full((width - len(term), latents.shape[1]), float("nan"))]) for term in terms
    ]
    rows.append(torch.cat([means, result, torch.full((width - 3 - args.variants, latents.shape[1]), float("nan"))]))
    grid = torch.cat(rows)  # [4 * width, Z]; NaN marks an empty tile
    empty = grid.isnan().any(1)
    samples = generated(model, torch.nan_to_num(grid), **conditions)
    samples[empty] = -1.0  # black tiles
    return samples, width


def load_checked_classifier(path: str):
    return load_classifier(path)[0]


def inversion(model: GANModule, args, conditions: dict, shape: tuple[int, ...]) -> tuple[Tensor, int]:
    """Rows of up to 8 originals, each followed by its reconstructions; prints the mean pixel MSE."""
    if args.images is None:
        raise LitGansError("--mode invert needs --images (a .pt tensor [N, C, H, W] in [-1, 1], or an image file)")
    images = read_images(Path(args.images), shape)
    features = None
    if args.d_features and args.classifier is not None:
        raise LitGansError("--d_features and --classifier both name the feature loss: give one")
    if args.d_features:
        features = discriminator_features(model)
    elif args.classifier is not None:
        features = classifier_features(load_checked_classifier(args.classifier))
    given = model.draw_conditions(len(images), **conditions)
    latents, errors = invert(
        model,
        images,
        args.steps,
        args.lr,
        args.starts,
        features,
        args.feature_weight,
        torch.Generator().manual_seed(args.seed),
        given,
    )
    reconstructions = model.sample_from(latents, **given)
    print(f"inverted {len(images)} images: pixel MSE {errors.mean().item():.4f} (per image {fmt(errors)})")
    if Path(args.output).suffix == ".pt":
        return torch.stack([images, reconstructions]), len(images)
    per_row = min(8, len(images))
    rows = []
    for start in range(0, len(images), per_row):
        chunk = slice(start, start + per_row)
        pad = per_row - len(images[chunk])
        blank = torch.full((pad, *shape), -1.0)
        rows += [torch.cat([images[chunk], blank]), torch.cat([reconstructions[chunk], blank])]
    return torch.cat(rows), per_row


def fmt(errors: Tensor) -> str:
    shown = ", ".join(f"{e:.4f}" for e in errors[:8].tolist())
    return shown + (", ..." if len(errors) > 8 else "")


def read_images(path: Path, shape: tuple[int, ...]) -> Tensor:
    """``[N, C, H, W]`` in [-1, 1] from a ``.pt`` tensor or one image file (resized to G's size)."""
    if not path.is_file():
        raise LitGansError(f"--images {path} does not exist")
    if path.suffix == ".pt":
        images = load_tensor_file(path, "--images")  # [N, C, H, W] or one image [C, H, W]
        images = images[None] if images.ndim == 3 else images
    else:
        try:
            images = to_tensor(open_image(path, "L" if shape[0] == 1 else "RGB"), shape[0], shape[1:])[None]
        except Exception as error:
            raise LitGansError(f"--images {path} is not a readable image ({type(error).__name__})") from None
    if tuple(images.shape[1:]) != shape:
        raise LitGansError(f"--images are {list(images.shape[1:])}, G draws {list(shape)}")
    if images.min() < -1.001 or images.max() > 1.001:
        raise LitGansError(f"--images must be in [-1, 1], got [{images.min().item():.3g}, {images.max().item():.3g}]")
    return images.float()


def write_gif(samples: Tensor, nrow_frames: int, path: Path, ms: int = 120) -> None:
    """``samples [paths, frames, C, H, W]`` -> a GIF whose frame ``t`` is the grid of every path at step ``t``,
    played forth and back."""
    paths = samples.shape[0]
    nrow = max(1, int(np.ceil(paths**0.5)))
    pictures = [Image.fromarray(image_grid(samples[:, t], nrow)) for t in range(samples.shape[1])]
    pictures += pictures[-2:0:-1]
    path.parent.mkdir(parents=True, exist_ok=True)
    pictures[0].save(path, save_all=True, append_images=pictures[1:], duration=ms, loop=0)
