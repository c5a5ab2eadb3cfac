"""The lit-gans command line: ``python cli.py ...`` in a clone, ``lit-gans ...`` once installed (the same ``main``).

    lit-gans fit --model DCGAN --data MNIST --data.root data --data.download true
    lit-gans fit --config configs/dcgan_mnist.yaml
    lit-gans sample --ckpt_path RUN/checkpoints/last.ckpt --num_samples 64 --output samples.png
    lit-gans translate --ckpt_path RUN/checkpoints/last.ckpt --input photos/ --output translated/
    lit-gans classifier --data MNIST --data.root data --output mnist.pt
    lit-gans text-encoder --data ShapesCaptions --output encoders/shapes.pt

``fit`` and ``validate`` come from LightningCLI in subclass mode: ``--model`` and ``--data`` take the name of any
class that ``lit_gans`` and ``datamodules`` import. ``sample``, ``translate``, ``classifier`` (train the dataset
classifier that ``ClassifierFeatures`` uses for FID/IS without a download) and ``text-encoder`` (the caption encoder
of the text-to-image models) are lit-gans' own (``COMMANDS``).
"""

from __future__ import annotations

import os
import socket
import sys
import time
import warnings
from pathlib import Path

import torch
import yaml
from jsonargparse import Namespace
from lightning.fabric.utilities.exceptions import MisconfigurationException
from lightning.pytorch import LightningDataModule, LightningModule, Trainer
from lightning.pytorch.cli import LightningCLI, SaveConfigCallback
from lightning.pytorch.loggers import WandbLogger

import datamodules
import lit_gans
from lit_gans.base import GANModule, checkpoint_info, class_path
from lit_gans.callbacks import LogSamples, OneDimensionalTheory, RunCheckpoint, ToyMetrics, TranslationMetrics, run_dir
from lit_gans.commands import COMMANDS
from lit_gans.commands.checkpoints import read_checkpoint, resolve_class
from lit_gans.commands.parse_errors import OPTIMIZER_HINT, LitGansParser
from lit_gans.commands.paths import ensure_writable_dir
from lit_gans.commands.registry import all_subclasses, is_base_class, offered_datamodules, offered_models, program
from lit_gans.commands.runs import LOGGER_NAME, default_root_dir, newest_checkpoint, run_folder_of
from lit_gans.errors import LitGansError
from lit_gans.gans.sgan import SGAN

DEFAULT_MODEL = "lit_gans.DCGAN"
DEFAULT_DATA = "datamodules.Shapes"
PACKAGE = Path(lit_gans.__file__).resolve().parent  # the presets ship inside it: lit_gans/configs/


def registry_text() -> str:
    models, data, cli = offered_models(), offered_datamodules(), program()
    without_presets = [name for name, cls in models.items() if not getattr(cls, "offline_preset", None)]
    others = f" ({', '.join(without_presets)} have none: Shapes with their own defaults)" if without_presets else ""
    return (
        f"models (--model NAME): {', '.join(models)}. datamodules (--data NAME): {', '.join(data)}. "
        "Defaults: fit alone trains the demo, DCGAN on Shapes (drawn procedurally, no download); a model named "
        f"without --data trains its offline preset, a Shapes task that ends by itself{others}. "
        f"Sample from a checkpoint: {cli} sample --ckpt_path CKPT --num_samples N --output FILE(.pt|.png). "
        f"Translate images: {cli} translate --ckpt_path CKPT --input DIR_OR_IMAGE --output DIR. "
        f"Train a dataset classifier for FID/IS: {cli} classifier --data NAME ... --output FILE. "
        f"Latent walks, arithmetic, inversion: {cli} latent --ckpt_path CKPT --mode interpolate|arithmetic|invert "
        "--output FILE. "
        f"Fill masked pixels (Yeh et al.): {cli} inpaint --ckpt_path CKPT --images X --mask center|left|random:P|FILE "
        "--output FILE(.png|.pt). "
        f"Train a caption encoder for StackGAN: {cli} text-encoder --data ShapesCaptions --output FILE. "
        f"A model's options: {cli} fit --model.help NAME (or fit --model NAME --help). "
        "A step is one batch: --trainer.max_steps counts batches (D steps); G steps = steps // n_critic."
    )


class LitGansCLI(LightningCLI):
    @staticmethod
    def subcommands() -> dict[str, set[str]]:
        # `test` and `predict` are not offered: `validate` measures a checkpoint, `sample` and `translate` draw
        return {key: value for key, value in LightningCLI.subcommands().items() if key in ("fit", "validate")}

    def add_arguments_to_parser(self, parser) -> None:
        # the data decides the shape of what G draws: (C, H, W) for images, (D,) for toy points
        parser.link_arguments(
            "data", "model.init_args.data_shape", compute_fn=lambda data: data.data_shape, apply_on="instantiate"
        )
        # --checkpoint.save_top_k and friends: last.ckpt always (end of fit, every validation, Ctrl-C), the best by FID
        parser.add_lightning_class_args(RunCheckpoint, "checkpoint")

    def parse_arguments(self, parser, args) -> None:
        super().parse_arguments(parser, args)
        subcommand = self.config.get("subcommand")
        if subcommand is None:
            return
        config = self.config[subcommand]
        if config.get("optimizer") is not None or config.get("lr_scheduler") is not None:
            raise LitGansError(f"--optimizer and --lr_scheduler are not lit-gans options: {OPTIMIZER_HINT}")
        model, data, trainer = config["model"]["class_path"], config["data"]["class_path"], config["trainer"]
        if trainer.get("default_root_dir") is None:
            trainer["default_root_dir"] = default_root_dir(model, data)
        ensure_writable_dir(trainer["default_root_dir"], "--trainer.default_root_dir")
        check_device_and_precision(trainer)
        ckpt_path = config.get("ckpt_path")
        if ckpt_path == "last":
            ckpt_path = config["ckpt_path"] = str(newest_checkpoint(*logger_folder(trainer)))
        if ckpt_path and ckpt_path not in ("best", "hpc", "registry"):
            checkpoint = read_checkpoint(ckpt_path)  # one line when it is missing or unreadable
            saved = checkpoint_info(checkpoint, ckpt_path)["model"]
            chosen = resolve_class(model)
            if saved != class_path(chosen):
                raise LitGansError(
                    f"{ckpt_path} holds a {saved.rsplit('.', 1)[-1]} but --model is {chosen.__name__}: "
                    f"pass --model {saved.rsplit('.', 1)[-1]}, or no --model to take the checkpoint's own"
                )
            continue_in_run_folder(trainer, ckpt_path, checkpoint.get("global_step", 0))
        data_args = config["data"].get("init_args") or {}
        if issubclass(resolve_class(model), SGAN) and data_args.get("labels_per_class") is None:
            print(
                "warning: SGAN without --data.labels_per_class K learns from every label (fully supervised); "
                "pass e.g. --data.labels_per_class 10 for 100 MNIST labels",
                file=sys.stderr,
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

    def _instantiate_trainer(self, config: dict, callbacks: list) -> Trainer:
        if config.get("enable_checkpointing") is False:  # the user turned checkpoints off: no RunCheckpoint then
            callbacks = [c for c in callbacks if not isinstance(c, RunCheckpoint)]
        return super()._instantiate_trainer(config, callbacks)

    def after_fit(self) -> None:
        # flush and close W&B runs here (offline runs too), rather than in an atexit hook racing interpreter exit
        for logger in self.trainer.loggers:
            if isinstance(logger, WandbLogger) and logger._experiment is not None:
                logger.experiment.finish()
        stopped = [c for c in self.trainer.callbacks if isinstance(c, RunCheckpoint) and c.interrupted_at is not None]
        if stopped:
            sys.exit(130)  # the shell's code for Ctrl-C; the checkpoint's path is printed already


class SaveRunConfig(SaveConfigCallback):
    """``config.yaml`` in the run's own folder (``run_dir``: ``version_N`` of TensorBoard and CSV, the run's
    ``<save_dir>/<project>/<id>`` for W&B), so two runs never overwrite each other's."""

    def setup(self, trainer: Trainer, pl_module: LightningModule, stage: str) -> None:
        if self.already_saved:
            return
        folder = Path(run_dir(trainer))  # on every rank: a collective under DDP
        if trainer.is_global_zero:
            folder.mkdir(parents=True, exist_ok=True)
            self.parser.save(self.config, str(folder / self.config_filename), overwrite=True)
        self.already_saved = True


def logger_folder(trainer_config) -> tuple[str, str]:
    """``(save_dir, name)`` under which the configured logger keeps its ``version_N`` runs: the logger's own when it
    sets them (CSV, TensorBoard), else the trainer's root and Lightning's ``lightning_logs``."""
    logger = trainer_config.get("logger")
    init_args = logger.get("init_args") if isinstance(logger, Namespace) else None
    save_dir = (init_args.get("save_dir") if init_args is not None else None) or trainer_config["default_root_dir"]
    name = (init_args.get("name") if init_args is not None else None) or LOGGER_NAME
    return str(save_dir), str(name)


def continue_in_run_folder(trainer_config, ckpt_path: str, step: int) -> None:
    """A run resumed (or validated) from ``<save_dir>/<name>/version_N/checkpoints/X.ckpt`` writes on into
    ``version_N`` when the logger is the default one, or a TensorBoard or CSV logger of that ``<save_dir>/<name>``
    with no version of its own; otherwise it says that the logger decides where it writes."""
    run = run_folder_of(ckpt_path)
    logger = trainer_config.get("logger")
    if run is not None and logger in (None, True):
        trainer_config["logger"] = logger = Namespace(
            class_path="lightning.pytorch.loggers.TensorBoardLogger",
            init_args=Namespace(save_dir=str(run.save_dir), name=run.name, version=None),
        )
    init_args = logger.get("init_args") if isinstance(logger, Namespace) else None
    versioned = str(logger.get("class_path", "")).endswith(("TensorBoardLogger", "CSVLogger")) if init_args else False
    same_logger = run is not None and versioned
    same_logger = same_logger and Path(*logger_folder(trainer_config)).resolve() == (run.save_dir / run.name).resolve()
    if same_logger and init_args.get("version") is None:
        init_args["version"] = run.version
    same_folder = same_logger and init_args.get("version") == run.version
    where = f"writing on in {run.path}" if same_folder else "writing where the logger says (a new version folder)"
    print(f"from {ckpt_path} (step {step}): {where}", file=sys.stderr)


def check_device_and_precision(trainer_config) -> None:
    """One line for a GPU asked of a machine without one, and a warning for half precision on the CPU."""
    accelerator = str(trainer_config.get("accelerator") or "auto").lower()
    if accelerator in ("gpu", "cuda") and not torch.cuda.is_available():
        raise LitGansError(
            f"--trainer.accelerator {accelerator}: this machine has no CUDA GPU (torch.cuda.is_available() is False); "
            "leave it out (auto) or pass cpu"
        )
    on_cpu = accelerator == "cpu" or (accelerator == "auto" and not torch.cuda.is_available())
    precision = str(trainer_config.get("precision") or "32")
    if not (on_cpu and precision.startswith(("16", "bf16"))):
        return
    if precision.startswith("16"):
        print(
            f"warning: --trainer.precision {precision} runs as bf16 on the CPU (Lightning has no fp16 there)",
            file=sys.stderr,
        )
    if not cpu_has_bfloat16():
        print(
            f"warning: --trainer.precision {precision}: this CPU has no bfloat16 instructions (AVX512-BF16 or AMX), so "
            "bf16 is emulated and much slower than 32-true; time it with benchmarks/cpu_precision.py",
            file=sys.stderr,
        )


def cpu_has_bfloat16() -> bool:
    """Native bfloat16 arithmetic on this CPU (with it bf16-mixed DCGAN takes 0.6x the CPU time of 32-true here,
    benchmarks/cpu_precision.py)."""
    checks = (getattr(torch.cpu, name, None) for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported"))
    return any(check() for check in checks if check is not None)


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
    ``--config`` file names a class. (Not parser defaults: jsonargparse carries a default class's ``init_args`` over
    to the class the user picks, so ``--data MNIST`` would inherit Shapes' ``image_size``.) A model named without
    data gets its ``offline_preset`` (every model has one; DCGAN's is the demo) as the first ``--config``
    instead: its offline task, network sizes and training length, which later arguments override; naming neither
    model nor data gets DCGAN's, the demo. A ``--ckpt_path`` with no class named
    brings its run's own config (``config.yaml`` beside its ``checkpoints/``), or failing that the model and data
    classes it records."""
    if not args or args[0] not in LitGansCLI.subcommands():
        return args
    named, model, data, ckpt_path = set(), None, None, None
    data_options: dict[str, str] = {}
    for i, arg in enumerate(args[1:], start=1):
        key, has_value, value = arg.partition("=")
        value = value if has_value else (args[i + 1] if i + 1 < len(args) else "")
        if key in ("--model", "--data"):
            named.add(key[2:])
            model = value if key == "--model" else model
            data = value if key == "--data" else data
            refuse_base_class(key, value)
        elif key.startswith("--data."):
            data_options[key[len("--data.") :]] = value
        elif key in ("--config", "-c"):
            config = yaml.safe_load(Path(value).read_text()) if Path(value).is_file() else None
            named |= {k for k in ("model", "data") if isinstance(config, dict) and k in config}
        elif key == "--ckpt_path":
            ckpt_path = value
    if not named and ckpt_path not in (None, "last", "best", "hpc", "registry"):
        return [args[0], *checkpoint_config(ckpt_path), *args[1:]]
    # no data named: the model's offline preset; no model named either: the default model's (DCGAN: the demo); both
    # named, with no --config: the model's preset for that data, if it has one (GAN on Toy gaussian1d)
    if "data" not in named:
        preset = offline_preset(model if "model" in named else DEFAULT_MODEL)
    elif "model" in named and not any(a.partition("=")[0] in ("--config", "-c") for a in args):
        preset = data_preset(model, data, data_options)
    else:
        preset = None
    if preset is not None:
        return [args[0], f"--config={preset}", *args[1:]]
    defaults = [f"--{key}={cls}" for key, cls in (("model", DEFAULT_MODEL), ("data", DEFAULT_DATA)) if key not in named]
    return [args[0], *defaults, *args[1:]]


def refuse_base_class(key: str, name: str) -> None:
    """``--model NonSaturatingGAN`` (a base other models build on) is one line naming what to pick instead."""
    base = LightningDataModule if key == "--data" else GANModule
    offered = offered_datamodules() if key == "--data" else offered_models()
    short = name.rsplit(".", 1)[-1]
    if short not in offered and any(c.__name__ == short and is_base_class(c) for c in all_subclasses(base)):
        kind = "datamodule" if key == "--data" else "model"
        raise LitGansError(f"{short} is a base class, not a {kind} to train: pick one of {', '.join(offered)}")


def checkpoint_config(ckpt_path: str) -> list[str]:
    """The arguments that rebuild the run of ``ckpt_path``: ``--config <run>/config.yaml`` when the run folder has
    one, else the model and data classes (and the data's arguments) the checkpoint records."""
    checkpoint = read_checkpoint(ckpt_path)
    run = run_folder_of(ckpt_path)
    if run is not None and (run.path / "config.yaml").is_file():
        return [f"--config={run.path / 'config.yaml'}"]
    model = checkpoint_info(checkpoint, ckpt_path)["model"]
    data = dict(checkpoint.get("datamodule_hyper_parameters") or {})
    data_class = data.pop("_class_path", None)
    if data_class is None:
        raise LitGansError(f"{ckpt_path} does not say which data it was trained on: pass --data NAME (and its options)")
    data_config = {"data": {"class_path": data_class, "init_args": data}}
    return [f"--model={model}", f"--config={yaml.safe_dump(data_config, default_flow_style=True, width=10**6)}"]


def offline_preset(model: str | None) -> Path | None:
    """The ``offline_preset`` of the model class named ``model`` (short or full name), as a path in this checkout."""
    try:
        cls = resolve_class(model) if model else None
    except (LitGansError, ImportError, AttributeError):
        return None  # an unknown name: LightningCLI reports it
    preset = getattr(cls, "offline_preset", None)
    return PACKAGE / preset if preset else None


def data_preset(model: str, data: str, data_options: dict[str, str]) -> Path | None:
    """The preset the model class named ``model`` keeps for ``data`` with ``data_options`` (its ``data_presets``:
    ``{"Toy distribution=gaussian1d": path}``, the data's class name and the options that must match), or None."""
    try:
        cls = resolve_class(model)
    except (LitGansError, ImportError, AttributeError):
        return None
    for signature, preset in getattr(cls, "data_presets", {}).items():
        name, *conditions = signature.split()
        options = dict(condition.split("=", 1) for condition in conditions)
        if data.rsplit(".", 1)[-1] == name and all(data_options.get(k) == v for k, v in options.items()):
            return PACKAGE / preset
    return None


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    choose_threads()
    try:
        if args and args[0] in COMMANDS:
            COMMANDS[args[0]](args[1:])
            return
        if args and args[0] in ("test", "predict"):
            raise LitGansError(
                f"{args[0]} is not a lit-gans command: `validate` measures a checkpoint (the metric callbacks), "
                "`sample` and `translate` draw from one"
            )
        warnings.filterwarnings("ignore", message="LightningCLI's args parameter is intended")
        LitGansCLI(
            GANModule,
            LightningDataModule,
            subclass_mode_model=True,
            subclass_mode_data=True,
            args=with_default_classes(model_help(args)),
            trainer_defaults={"callbacks": [LogSamples(), ToyMetrics(), OneDimensionalTheory(), TranslationMetrics()]},
            save_config_callback=SaveRunConfig,
            save_config_kwargs={"overwrite": True},
            parser_class=LitGansParser,
            # options are spelt in full: `--trainer.max_step 5` is an error with a suggestion, not a prefix
            parser_kwargs={
                "description": "lit-gans. " + registry_text(),
                "allow_abbrev": False,
                **{command: {"allow_abbrev": False} for command in LitGansCLI.subcommands()},
            },
        )
    except Exception as error:
        cause = user_error(error)
        if cause is None:
            raise
        print(f"error: {cause}", file=sys.stderr)
        sys.exit(2)


def choose_threads(environ: dict[str, str] | None = None) -> int | None:
    """Torch's thread count for this run, unless ``OMP_NUM_THREADS`` sets it: ``$LIT_GANS_THREADS`` is ``auto`` (the
    default: the cores this process may use that other processes leave idle right now, at least one; torch's
    default of one thread a core crawls when another process shares them), ``torch`` (leave torch's default) or a
    number."""
    environ = os.environ if environ is None else environ
    choice = environ.get("LIT_GANS_THREADS", "auto").strip().lower()
    if "OMP_NUM_THREADS" in environ or choice == "torch":
        return None
    if choice == "auto":
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
        threads = max(1, min(cores, round(idle_cores(cores))))
    elif choice.isdigit() and int(choice) > 0:
        threads = int(choice)
    else:
        raise LitGansError(f"LIT_GANS_THREADS must be auto, torch or a positive number, got {choice!r}")
    torch.set_num_threads(threads)
    return threads


def idle_cores(cores: int, window: float = 0.2) -> float:
    """How many of ``cores`` other processes leave idle: the machine's idle share over ``window`` seconds
    (``/proc/stat``) times ``cores``; where there is no ``/proc/stat``, ``cores`` minus the 1-minute load average."""

    def idle_and_total() -> tuple[int, int]:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return fields[3] + fields[4], sum(fields)  # idle + iowait, all

    try:
        idle_before, total_before = idle_and_total()
        time.sleep(window)
        idle_after, total_after = idle_and_total()
    except (OSError, ValueError, IndexError):
        return cores - os.getloadavg()[0]
    return cores * (idle_after - idle_before) / max(1, total_after - total_before)


def model_help(args: list[str]) -> list[str]:
    """``fit --model NAME --help`` shows NAME's options (``--model.help NAME``), as a user expects; ``fit --help``
    stays the trainer's and data's help."""
    if len(args) < 2 or not {"--help", "-h"} & set(args):
        return args
    for key in ("--model", "--data"):
        for i, arg in enumerate(args):
            name, has_value, value = arg.partition("=")
            if name == key and (has_value or i + 1 < len(args)):
                return [args[0], f"{key}.help", value if has_value else args[i + 1]]
    return args


def user_error(error: BaseException | None) -> LitGansError | None:
    """The ``LitGansError`` behind ``error``, if any (jsonargparse wraps errors raised while it builds classes)."""
    seen = 0
    while error is not None and seen < 20:
        if isinstance(error, LitGansError):
            return error
        if isinstance(error, MisconfigurationException):  # Lightning's check of a trainer argument
            return LitGansError(str(error).strip().splitlines()[0])
        error, seen = error.__cause__ or error.__context__, seen + 1
    return None


assert lit_gans and datamodules  # imported for their registries: every GAN and datamodule class is now known
