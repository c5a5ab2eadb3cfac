"""What the MNIST benchmarks share: fit a preset on one thread for a CPU-time budget, then score its last checkpoint
with ``cli.py validate`` and ``configs/metrics/mnist_classifier.yaml`` (FID / IS / KID, classifier extractor).

A fit gets exactly its budget whatever the preset says: the preset's ``max_time``, ``max_steps`` and callbacks list
are replaced by one ``lit_gans.callbacks.CPUTimeLimit`` (CPU time of the process, so runs side by side do not eat
into each other's budget), with no validation during the fit; ``print_config`` checks that before every fit.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import torch
import yaml

REPO = Path(__file__).resolve().parents[1]
DCGAN_MNIST = "configs/dcgan_mnist.yaml"
METRICS_CONFIG = "configs/metrics/mnist_classifier.yaml"
# the objective family's paper presets, each on top of DCGAN_MNIST's networks and data
OBJECTIVES = {
    "WGAN": "configs/objectives/wgan.yaml",
    "WGANGP": "configs/objectives/wgan_gp.yaml",
    "WGANDiv": "configs/objectives/wgan_div.yaml",
    "DRAGAN": "configs/objectives/dragan.yaml",
    "LSGAN": "configs/objectives/lsgan.yaml",
    "SNGAN": "configs/objectives/sngan.yaml",
    "SAGAN": "configs/objectives/sagan.yaml",
}
ONE_THREAD = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
METRICS = ("fid", "is", "is_std", "kid", "kid_std")


def preset_args(configs: Sequence[str], root: str, split: str) -> list[str]:
    """``--config`` for each preset file (later ones override earlier), then the MNIST folder and split."""
    args = [arg for config in configs for arg in ("--config", config)]
    return [*args, "--data.root", root, "--data.split", split, "--trainer.enable_progress_bar", "false"]


def budget_args(seconds: float) -> list[str]:
    """Train for ``seconds`` of CPU time and nothing else: no wall-clock, step or epoch limit, no validation, and
    the callbacks list (a preset's own ``CPUTimeLimit`` included) replaced by one ``CPUTimeLimit(seconds)``. The
    validation interval goes back to Lightning's default (once an epoch): with a preset's ``val_check_interval``
    and ``check_val_every_n_epoch: null`` but no validation, the default ``ModelCheckpoint`` never saves."""
    limit = [{"class_path": "lit_gans.callbacks.CPUTimeLimit", "init_args": {"seconds": seconds}}]
    return [
        "--trainer.max_time",
        "null",
        "--trainer.max_steps",
        "-1",
        "--trainer.max_epochs",
        "-1",
        "--trainer.limit_val_batches",
        "0",
        "--trainer.val_check_interval",
        "1.0",
        "--trainer.check_val_every_n_epoch",
        "1",
        f"--trainer.callbacks={json.dumps(limit)}",
    ]


def run_cli(args: Sequence[str], log: Path) -> str:
    """``cli.py ARGS`` from the repository root on one thread, its output in ``log``; the output, or an error with
    the log's last lines."""
    log.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **ONE_THREAD}
    done = subprocess.run(
        [sys.executable, "cli.py", *args],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    log.write_text(done.stdout)
    if done.returncode:
        tail = "\n".join(done.stdout.splitlines()[-15:])
        raise RuntimeError(f"cli.py {args[0]} failed with exit code {done.returncode} (log: {log}):\n{tail}")
    return done.stdout


def check_budget(fit: Sequence[str], seconds: float, log: Path) -> None:
    """The config that ``cli.py fit ARGS`` would train with (``--print_config``) has exactly the budget of
    ``budget_args(seconds)``; a preset that set its own limits in a way the overrides miss raises."""
    trainer = yaml.safe_load(run_cli([*fit, "--print_config"], log))["trainer"]
    limits = [c for c in trainer.get("callbacks") or [] if str(c.get("class_path", "")).endswith("CPUTimeLimit")]
    in_force = {
        "CPUTimeLimit seconds": [c.get("init_args", {}).get("seconds") for c in limits],
        "max_time": trainer.get("max_time"),
        "max_steps": trainer.get("max_steps"),
        "max_epochs": trainer.get("max_epochs"),
        "limit_val_batches": trainer.get("limit_val_batches"),
        "val_check_interval": trainer.get("val_check_interval"),
        "check_val_every_n_epoch": trainer.get("check_val_every_n_epoch"),
    }
    wanted = {
        "CPUTimeLimit seconds": [seconds],
        "max_time": None,
        "max_steps": -1,
        "max_epochs": -1,
        "limit_val_batches": 0,
        "val_check_interval": 1.0,
        "check_val_every_n_epoch": 1,
    }
    if in_force != wanted:
        raise RuntimeError(f"the fit would not run on the budget asked for: {in_force}, wanted {wanted} ({log})")


def shown(path: Path) -> str:
    """``path`` relative to the repository when it is inside it."""
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def last_checkpoint(folder: Path) -> Path:
    checkpoints = list(folder.glob("lightning_logs/version_*/checkpoints/*.ckpt"))
    if not checkpoints:
        raise RuntimeError(f"the fit in {folder} wrote no checkpoint")
    return max(checkpoints, key=os.path.getmtime)


def fit_for_budget(
    configs: Sequence[str],
    folder: Path,
    cpu_minutes: float,
    root: str,
    split: str,
    seed: int | None = None,
    extra: Sequence[str] = (),
) -> Path:
    """Fit ``configs`` (then ``extra`` arguments) for ``cpu_minutes`` of one thread's CPU time into ``folder/fit``
    (its config checked to run on that budget); returns the last checkpoint."""
    seconds = 60 * cpu_minutes
    fit = ["fit", *preset_args(configs, root, split), *extra, *budget_args(seconds)]
    fit += ["--trainer.default_root_dir", str(folder / "fit")]
    if seed is not None:
        fit += ["--seed_everything", str(seed)]
    check_budget(fit, seconds, folder / "fit_config.log")
    run_cli(fit, folder / "fit.log")
    return last_checkpoint(folder / "fit")


def reuse_or_fit(
    configs: Sequence[str], folder: Path, cpu_minutes: float, root: str, split: str, refit: bool, extra=()
) -> Path:
    """The checkpoint of an earlier ``fit_for_budget`` in ``folder`` (seed 0), or a new fit (``refit``, or none)."""
    if not refit and list((folder / "fit").glob("lightning_logs/version_*/checkpoints/*.ckpt")):
        return last_checkpoint(folder / "fit")
    return fit_for_budget(configs, folder, cpu_minutes, root, split, seed=0, extra=extra)


def fit_and_score(
    configs: Sequence[str], run_dir: str | Path, cpu_minutes: float, root: str, split: str, seed: int | None = None
) -> dict:
    """Fit ``configs`` for ``cpu_minutes`` of one thread's CPU time into ``run_dir/fit``, then score the last
    checkpoint with ``METRICS_CONFIG`` into ``run_dir/validate``: the checkpoint's batch and G-step counts, the
    fit's and the scoring's wall seconds, the paths, and FID, IS, KID (with their stds)."""
    run_dir = REPO / run_dir
    common = preset_args(configs, root, split)
    start = time.perf_counter()
    checkpoint = fit_for_budget(configs, run_dir, cpu_minutes, root, split, seed)
    fit_seconds = time.perf_counter() - start
    validate = ["validate", *common, "--config", METRICS_CONFIG, "--ckpt_path", str(checkpoint)]
    validate += ["--trainer.default_root_dir", str(run_dir / "validate")]
    start = time.perf_counter()
    run_cli(validate, run_dir / "validate.log")
    validate_seconds = time.perf_counter() - start
    # ``validate`` of a checkpoint inside a run folder appends its metrics to that run's metrics.jsonl
    metrics_file = max(run_dir.rglob("metrics.jsonl"), key=os.path.getmtime)
    metrics = json.loads(metrics_file.read_text().splitlines()[-1])
    counters = torch.load(checkpoint, map_location="cpu", weights_only=True)["lit_gans"]
    return {
        "batches": counters["d_steps"],
        "g_steps": counters["g_steps"],
        "fit_seconds": round(fit_seconds),
        "validate_seconds": round(validate_seconds),
        "checkpoint": shown(checkpoint),
        "metrics_file": shown(metrics_file),
        **{name: metrics[name] for name in METRICS},
    }
