"""``cli.py sample``: samples of a trained model, as a tensor file or a PNG grid."""

from __future__ import annotations

from pathlib import Path
from typing import Optional, Union

import torch

from lit_gans.callbacks import image_grid, toy_plot, write_png
from lit_gans.commands.checkpoints import load_gan
from lit_gans.commands.parse_errors import CommandParser
from lit_gans.commands.paths import ensure_writable_file
from lit_gans.errors import LitGansError


def sample_command(argv: list[str]) -> None:
    parser = CommandParser(prog="cli.py sample", description="Write samples of a trained lit-gans model.")
    parser.add_argument("--ckpt_path", type=str, required=True, help="a checkpoint written by `cli.py fit`")
    parser.add_argument("--num_samples", type=int, default=64, help="how many samples")
    parser.add_argument("--output", type=str, required=True, help=".pt (float tensor in [-1, 1]) or .png (grid/plot)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the latent noise")
    parser.add_argument("--nrow", type=int, default=None, help="images per grid row (PNG only)")
    parser.add_argument(
        "--labels",
        type=Optional[Union[int, list[int]]],
        default=None,
        help="CGAN/ACGAN: one class for all samples (--labels 3), or one each (--labels [0,1,2])",
    )
    parser.add_argument(
        "--categorical", type=Optional[int], default=None, help="InfoGAN: the categorical code, in 0..K-1"
    )
    parser.add_argument(
        "--continuous",
        type=Optional[list[float]],
        default=None,
        help="InfoGAN: one value for each continuous code, as many values as the model has codes (--continuous "
        "[0.5,-1] for 2 codes; a single value is not spread over several codes)",
    )
    parser.add_argument(
        "--captions",
        type=Optional[Union[str, list[str]]],
        default=None,
        help="StackGAN: one caption for all samples (--captions 'a large red circle in the top left'), or one each "
        "(--captions '[a red circle, something blue]'); without it, captions the model kept from its validation data",
    )
    parser.add_argument(
        "--grid",
        type=Optional[str],
        default=None,
        help="write one of the model's own grids instead of --num_samples samples: 'samples' (the fixed batch; a "
        "class a row for CGAN/ACGAN), 'traversal_c2', 'traversal_c3' (InfoGAN: a categorical value a row, the "
        "continuous code swept from -2 to 2 along it)",
    )
    args = parser.parse_args(argv)
    output = Path(args.output)
    if output.suffix not in (".pt", ".png"):
        raise LitGansError(f"--output must end in .pt or .png, got {output}")
    if args.num_samples < 1:
        raise LitGansError(f"--num_samples must be at least 1, got {args.num_samples}")
    ensure_writable_file(output)  # before loading the model and drawing the samples
    model = load_gan(args.ckpt_path)
    conditions = {
        name: value
        for name, value in (
            ("labels", args.labels),
            ("categorical", args.categorical),
            ("continuous", args.continuous),
            ("captions", args.captions),
        )
        if value is not None
    }
    nrow = args.nrow
    if args.grid is not None:
        grids = model.sample_grids()
        if args.grid not in grids:
            raise LitGansError(f"{type(model).__name__} has the grids {', '.join(grids)}; got --grid {args.grid}")
        samples, per_row = grids[args.grid]
        samples, nrow = samples.cpu(), nrow or per_row
    else:
        generator = torch.Generator().manual_seed(args.seed)
        samples = model.sample(args.num_samples, generator=generator, **conditions).cpu()
    output.parent.mkdir(parents=True, exist_ok=True)
    if output.suffix == ".pt":
        torch.save(samples, output)
    elif samples.ndim == 4:
        write_png(image_grid(samples, nrow), output)
    else:
        write_png(toy_plot(samples, title=f"{type(model).__name__}: {args.num_samples} samples"), output)
    note = model.sampling_note()
    if note:
        print(f"note: {note}")
    print(f"wrote {tuple(samples.shape)} samples to {output}")
