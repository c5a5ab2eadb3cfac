"""``cli.py text-encoder``: train the caption encoder of the text-to-image models (``lit_gans.text_encoder``)."""

from __future__ import annotations

from datamodules.base import GANDataModule
from lit_gans.commands.parse_errors import CommandParser
from lit_gans.commands.paths import ensure_writable_file
from lit_gans.networks.text import TextEncoderKind


def text_encoder_command(argv: list[str]) -> None:
    from lit_gans.text_encoder import save_text_encoder, train_text_encoder

    parser = CommandParser(
        prog="cli.py text-encoder",
        description="Train a caption encoder with an image encoder (a contrastive matching loss) on captioned data "
        "and save both; StackGAN loads it frozen (--model.text_encoder FILE), the metrics use both halves.",
    )
    parser.add_subclass_arguments(
        GANDataModule, "data", required=True, help="a captioned datamodule: ShapesCaptions or CaptionFolder"
    )
    parser.add_argument("--output", type=str, required=True, help="where to write the encoder (.pt)")
    parser.add_argument(
        "--kind", type=TextEncoderKind, default="rnn", help="rnn (a GRU over words) or bow (bag of words)"
    )
    parser.add_argument("--epochs", type=int, default=1, help="passes over the training (image, caption) pairs")
    parser.add_argument("--max_steps", type=int, default=None, help="stop after this many batches (default: no limit)")
    parser.add_argument("--lr", type=float, default=2e-3, help="peak learning rate (one-cycle schedule)")
    parser.add_argument("--embedding_dim", type=int, default=128, help="size of the joint embedding")
    parser.add_argument("--seed", type=int, default=0, help="seed of the initialisation")
    config = parser.parse_args(argv)
    ensure_writable_file(config.output)
    datamodule = parser.instantiate(config).data
    matcher, info = train_text_encoder(
        datamodule,
        config.kind,
        config.epochs,
        config.lr,
        config.embedding_dim,
        seed=config.seed,
        max_steps=config.max_steps,
    )
    path = save_text_encoder(matcher, info, config.output)
    retrieval = info["retrieval"]
    consistent = f", consistent {retrieval['consistent']:.3f}" if "consistent" in retrieval else ""
    print(
        f"wrote {path}: {config.kind} encoder, {info['steps']} steps on {info['trained_on']}; caption -> image among "
        f"{retrieval['pool']}: top-1 {retrieval['top1']:.3f}{consistent}"
    )
