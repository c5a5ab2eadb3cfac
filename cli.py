"""lit-gans command line.

    python cli.py fit --model DCGAN --data MNIST --data.root ../shared/data/mnist --data.split test
    python cli.py fit --config configs/dcgan_mnist.yaml
    python cli.py sample --ckpt_path RUN/checkpoints/last.ckpt --num_samples 64 --output samples.png

``fit``, ``validate`` and the other Lightning subcommands come from LightningCLI in subclass mode: ``--model`` and
``--data`` take the name of any class that ``lit_gans`` and ``datamodules`` import. ``sample`` is lit-gans' own.
"""

from __future__ import annotations

import importlib
import sys
import warnings
from pathlib import Path

import torch
import yaml
from jsonargparse import ArgumentParser
from lightning.pytorch import LightningDataModule
from lightning.pytorch.cli import LightningCLI

import datamodules
import lit_gans
from lit_gans.base import GANModule, checkpoint_info, class_path
from lit_gans.callbacks import LogSamples, image_grid, toy_plot, write_png
from lit_gans.errors import LitGansError

DEFAULT_MODEL = "lit_gans.DCGAN"
DEFAULT_DATA = "datamodules.Shapes"


def all_subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *all_subclasses(sub)]
    return found


def registry_text() -> str:
    models = sorted({c.__name__ for c in all_subclasses(GANModule) if c.__module__.startswith("lit_gans")})
    data = sorted({c.__name__ for c in all_subclasses(LightningDataModule) if c.__module__.startswith("datamodules")})
    data = [d for d in data if d != "GANDataModule"]
    return (
        f"models (--model NAME): {', '.join(models)}. datamodules (--data NAME): {', '.join(data)}. "
        "Defaults: --model DCGAN --data Shapes (drawn procedurally, no download). "
        "Sample from a checkpoint: python cli.py sample --ckpt_path CKPT --num_samples N --output FILE(.pt|.png). "
        "A step is one batch: --trainer.max_steps counts batches (D steps); G steps = steps // n_critic."
    )


class LitGansCLI(LightningCLI):
    def add_arguments_to_parser(self, parser) -> None:
        # the data decides the shape of what G draws: (C, H, W) for images, (D,) for toy points
        parser.link_arguments(
            "data", "model.init_args.data_shape", compute_fn=lambda data: data.data_shape, apply_on="instantiate"
        )

    def parse_arguments(self, parser, args) -> None:
        super().parse_arguments(parser, args)
        subcommand = self.config.get("subcommand")
        ckpt_path = subcommand and self.config[subcommand].get("ckpt_path")
        if ckpt_path and ckpt_path not in ("last", "best", "hpc", "registry") and Path(ckpt_path).is_file():
            saved = checkpoint_info(read_checkpoint(ckpt_path), ckpt_path)["model"]
            chosen = resolve_class(self.config[subcommand]["model"]["class_path"])
            if saved != class_path(chosen):
                raise LitGansError(
                    f"{ckpt_path} holds a {saved.rsplit('.', 1)[-1]} but --model is {chosen.__name__}: "
                    f"pass --model {saved.rsplit('.', 1)[-1]} or a {chosen.__name__} checkpoint"
                )


def with_default_classes(args: list[str]) -> list[str]:
    """Put ``--model=DCGAN`` / ``--data=Shapes`` right after the subcommand when neither the command line nor a
    ``--config`` file names a class. (Not parser defaults: jsonargparse carries a default class's ``init_args``
    over to the class the user picks, so ``--data MNIST`` would inherit Shapes' ``image_size``.)"""
    if not args or args[0] not in LitGansCLI.subcommands():
        return args
    named = set()
    for i, arg in enumerate(args[1:], start=1):
        key, has_value, value = arg.partition("=")
        if key in ("--model", "--data"):
            named.add(key[2:])
        elif key in ("--config", "-c"):
            path = value if has_value else (args[i + 1] if i + 1 < len(args) else "")
            config = yaml.safe_load(Path(path).read_text()) if Path(path).is_file() else None
            named |= {k for k in ("model", "data") if isinstance(config, dict) and k in config}
    defaults = [f"--{key}={cls}" for key, cls in (("model", DEFAULT_MODEL), ("data", DEFAULT_DATA)) if key not in named]
    return [args[0], *defaults, *args[1:]]


def resolve_class(path: str) -> type:
    module, _, name = path.rpartition(".")
    if not module:
        for candidate in all_subclasses(GANModule):
            if candidate.__name__ == name:
                return candidate
        raise LitGansError(f"unknown model {name!r}")
    return getattr(importlib.import_module(module), name)


def read_checkpoint(path: str | Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise LitGansError(f"checkpoint {path} does not exist")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise LitGansError(f"{path} is not a readable checkpoint ({type(error).__name__}: {error})") from None


def load_gan(path: str | Path) -> GANModule:
    """Any lit-gans checkpoint -> its GAN, on the CPU, in eval mode."""
    cls = resolve_class(checkpoint_info(read_checkpoint(path), str(path))["model"])
    return cls.load_from_checkpoint(path, map_location="cpu", weights_only=True).eval()


def sample_command(argv: list[str]) -> None:
    parser = ArgumentParser(prog="cli.py sample", description="Write samples of a trained lit-gans model.")
    parser.add_argument("--ckpt_path", type=str, required=True, help="a checkpoint written by `cli.py fit`")
    parser.add_argument("--num_samples", type=int, default=64, help="how many samples")
    parser.add_argument("--output", type=str, required=True, help=".pt (float tensor in [-1, 1]) or .png (grid/plot)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the latent noise")
    parser.add_argument("--nrow", type=int, default=None, help="images per grid row (PNG only)")
    args = parser.parse_args(argv)
    output = Path(args.output)
    if output.suffix not in (".pt", ".png"):
        raise LitGansError(f"--output must end in .pt or .png, got {output}")
    if args.num_samples < 1:
        raise LitGansError(f"--num_samples must be at least 1, got {args.num_samples}")
    model = load_gan(args.ckpt_path)
    samples = model.sample(args.num_samples, generator=torch.Generator().manual_seed(args.seed)).cpu()
    output.parent.mkdir(parents=True, exist_ok=True)
    if output.suffix == ".pt":
        torch.save(samples, output)
    elif samples.ndim == 4:
        write_png(image_grid(samples, args.nrow), output)
    else:
        write_png(toy_plot(samples, title=f"{type(model).__name__}: {args.num_samples} samples"), output)
    print(f"wrote {tuple(samples.shape)} samples to {output}")


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    try:
        if args and args[0] == "sample":
            sample_command(args[1:])
            return
        warnings.filterwarnings("ignore", message="LightningCLI's args parameter is intended")
        LitGansCLI(
            GANModule,
            LightningDataModule,
            subclass_mode_model=True,
            subclass_mode_data=True,
            args=with_default_classes(args),
            trainer_defaults={"callbacks": [LogSamples()]},
            save_config_kwargs={"overwrite": True},
            parser_kwargs={"description": "lit-gans. " + registry_text()},
        )
    except Exception as error:
        cause = user_error(error)
        if cause is None:
            raise
        print(f"error: {cause}", file=sys.stderr)
        sys.exit(2)


def user_error(error: BaseException | None) -> LitGansError | None:
    """The ``LitGansError`` behind ``error``, if any (jsonargparse wraps errors raised while it builds classes)."""
    seen = 0
    while error is not None and seen < 20:
        if isinstance(error, LitGansError):
            return error
        error, seen = error.__cause__ or error.__context__, seen + 1
    return None


assert lit_gans and datamodules  # imported for their registries: every GAN and datamodule class is now known

if __name__ == "__main__":
    main()
