"""lit-gans command line.

    python cli.py fit --model DCGAN --data MNIST --data.root ../shared/data/mnist --data.split test
    python cli.py fit --config configs/dcgan_mnist.yaml
    python cli.py sample --ckpt_path RUN/checkpoints/last.ckpt --num_samples 64 --output samples.png
    python cli.py classifier --data MNIST --data.root ../shared/data/mnist --data.split test --output mnist.pt

``fit``, ``validate`` and the other Lightning subcommands come from LightningCLI in subclass mode: ``--model`` and
``--data`` take the name of any class that ``lit_gans`` and ``datamodules`` import. ``sample`` and ``classifier``
(train the dataset classifier that ``ClassifierFeatures`` uses for FID/IS without a download) are lit-gans' own.
"""

from __future__ import annotations

import os
import socket
import sys
import warnings
from pathlib import Path

import yaml
from lightning.pytorch import LightningDataModule
from lightning.pytorch.cli import LightningCLI
from lightning.pytorch.loggers import WandbLogger

import datamodules
import lit_gans
from lit_gans.base import GANModule, checkpoint_info, class_path
from lit_gans.callbacks import LogSamples, ToyMetrics, TranslationMetrics
from lit_gans.commands import COMMANDS
from lit_gans.commands.checkpoints import all_subclasses, read_checkpoint, resolve_class
from lit_gans.errors import LitGansError

DEFAULT_MODEL = "lit_gans.DCGAN"
DEFAULT_DATA = "datamodules.Shapes"


def registry_text() -> str:
    models = sorted({c.__name__ for c in all_subclasses(GANModule) if c.__module__.startswith("lit_gans")})
    data = sorted({c.__name__ for c in all_subclasses(LightningDataModule) if c.__module__.startswith("datamodules")})
    data = [d for d in data if d != "GANDataModule"]
    return (
        f"models (--model NAME): {', '.join(models)}. datamodules (--data NAME): {', '.join(data)}. "
        "Defaults: --model DCGAN --data Shapes (drawn procedurally, no download); --model Pix2Pix or CycleGAN "
        "without --data trains on its offline Shapes task (ShapesPaired, ShapesUnpaired) from its preset. "
        "Sample from a checkpoint: python cli.py sample --ckpt_path CKPT --num_samples N --output FILE(.pt|.png). "
        "Train a dataset classifier for FID/IS: python cli.py classifier --data NAME ... --output FILE. "
        "A step is one batch: --trainer.max_steps counts batches (D steps); G steps = steps // n_critic."
    )


class LitGansCLI(LightningCLI):
    def add_arguments_to_parser(self, parser) -> None:
        # the data decides the shape of what G draws: (C, H, W) for images, (D,) for toy points
        parser.link_arguments(
            "data", "model.init_args.data_shape", compute_fn=lambda data: data.data_shape, apply_on="instantiate"
        )

    def before_instantiate_classes(self) -> None:
        # One DDP wrapper around the whole GAN leaves G's parameters without gradients in the D step (and D's in
        # the G step): plain "ddp" raises on unused parameters, so it means the variant that tolerates them.
        subcommand = self.config.get("subcommand")
        trainer = (self.config[subcommand] if subcommand else self.config).get("trainer")
        if trainer is not None and trainer.get("strategy") == "ddp":
            trainer["strategy"] = "ddp_find_unused_parameters_true"
        if trainer is not None:
            wandb_offline_without_network(trainer.get("logger"))

    def after_fit(self) -> None:
        # flush and close W&B runs here (offline runs too), rather than in an atexit hook racing interpreter exit
        for logger in self.trainer.loggers:
            if isinstance(logger, WandbLogger) and logger._experiment is not None:
                logger.experiment.finish()

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


WANDB_HOST = ("api.wandb.ai", 443)


def wandb_offline_without_network(logger_config, reachable=None) -> None:
    """Switch ``WandbLogger`` entries of the trainer's logger config to ``offline`` when W&B cannot be reached (and
    neither the config nor ``$WANDB_MODE`` says otherwise), so a run without network logs to disk instead of waiting
    for a connection; ``wandb sync`` uploads it later."""
    entries = logger_config if isinstance(logger_config, list) else [logger_config]
    wandb = [e for e in entries if hasattr(e, "get") and str(e.get("class_path", "")).endswith("WandbLogger")]
    pending = [e for e in wandb if e.get("init_args") is not None and e["init_args"].get("offline") is not True]
    if not pending or os.environ.get("WANDB_MODE"):
        return
    if not (reachable or host_reachable)(*WANDB_HOST):
        for entry in pending:
            entry["init_args"]["offline"] = True
        print(
            f"W&B: {WANDB_HOST[0]} cannot be reached, logging offline (upload later with `wandb sync`)", file=sys.stderr
        )


def host_reachable(host: str, port: int, timeout: float = 3.0) -> bool:
    try:
        socket.create_connection((host, port), timeout=timeout).close()
        return True
    except OSError:
        return False


def with_default_classes(args: list[str]) -> list[str]:
    """Put ``--model=DCGAN`` / ``--data=Shapes`` right after the subcommand when neither the command line nor a
    ``--config`` file names a class. (Not parser defaults: jsonargparse carries a default class's ``init_args``
    over to the class the user picks, so ``--data MNIST`` would inherit Shapes' ``image_size``.) A model named
    without data that has an ``offline_preset`` (Pix2Pix, CycleGAN: their data are not DCGAN's) gets that preset as
    the first ``--config`` instead: its offline task, network sizes and training length, which later arguments
    override."""
    if not args or args[0] not in LitGansCLI.subcommands():
        return args
    named, model = set(), None
    for i, arg in enumerate(args[1:], start=1):
        key, has_value, value = arg.partition("=")
        value = value if has_value else (args[i + 1] if i + 1 < len(args) else "")
        if key in ("--model", "--data"):
            named.add(key[2:])
            model = value if key == "--model" else model
        elif key in ("--config", "-c"):
            config = yaml.safe_load(Path(value).read_text()) if Path(value).is_file() else None
            named |= {k for k in ("model", "data") if isinstance(config, dict) and k in config}
    preset = offline_preset(model) if "data" not in named else None
    if preset is not None:
        return [args[0], f"--config={preset}", *args[1:]]
    defaults = [f"--{key}={cls}" for key, cls in (("model", DEFAULT_MODEL), ("data", DEFAULT_DATA)) if key not in named]
    return [args[0], *defaults, *args[1:]]


def offline_preset(model: str | None) -> Path | None:
    """The ``offline_preset`` of the model class named ``model`` (short or full name), as a path in this checkout."""
    try:
        cls = resolve_class(model) if model else None
    except (LitGansError, ImportError, AttributeError):
        return None  # an unknown name: LightningCLI reports it
    preset = getattr(cls, "offline_preset", None)
    return Path(__file__).resolve().parent / preset if preset else None


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    try:
        if args and args[0] in COMMANDS:
            COMMANDS[args[0]](args[1:])
            return
        warnings.filterwarnings("ignore", message="LightningCLI's args parameter is intended")
        LitGansCLI(
            GANModule,
            LightningDataModule,
            subclass_mode_model=True,
            subclass_mode_data=True,
            args=with_default_classes(args),
            trainer_defaults={"callbacks": [LogSamples(), ToyMetrics(), TranslationMetrics()]},
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
