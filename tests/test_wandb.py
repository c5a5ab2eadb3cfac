"""W&B offline, with no network: losses, toy/image metrics and sample images end up in the run's files on disk,
through the Python API and through the CLI (``--trainer.logger WandbLogger``)."""

from __future__ import annotations

import json
import struct
import time
from pathlib import Path

from lightning.pytorch.loggers import WandbLogger

from datamodules import Toy
from lit_gans.callbacks import LogSamples, ToyMetrics, run_dir
from tests.helpers import run_in_repo, tiny_trainer
from tests.test_base import tiny_gan

OFFLINE = {"WANDB_MODE": "offline", "WANDB_SILENT": "true", "WANDB_DISABLE_GIT": "true", "WANDB_CONSOLE": "off"}


def only_run(folder):
    runs = list((folder / "wandb").glob("offline-run-*"))
    assert len(runs) == 1, f"expected one offline run in {folder / 'wandb'}, found {runs}"
    return runs[0]


def wandb_records(path: Path) -> list:
    """The records of an offline ``run-*.wandb`` file: W&B's LevelDB-style log (a 7-byte file header, then
    32 KiB blocks of records ``crc32 (4) | length (2) | type (1) | payload``, type 1 full, 2 first, 3 middle,
    4 last) whose payloads are ``wandb_internal_pb2.Record`` protobufs. A record still being written is left out."""
    from wandb.proto import wandb_internal_pb2

    data, block, position = path.read_bytes(), 32768, 7
    payloads, partial = [], b""
    while position + 7 <= len(data):
        if block - position % block < 7:  # a block's tail too short for a header is padding
            position += block - position % block
            continue
        _, length, kind = struct.unpack("<IHB", data[position : position + 7])
        if kind == 0 or position + 7 + length > len(data):
            break
        chunk = data[position + 7 : position + 7 + length]
        position += 7 + length
        partial = chunk if kind in (1, 2) else partial + chunk
        if kind in (1, 4):
            payloads.append(partial)
    records = []
    for payload in payloads:
        record = wandb_internal_pb2.Record()
        record.ParseFromString(payload)
        records.append(record)
    return records


def finished_run_records(path: Path, timeout: float = 60.0) -> list:
    """The run file's records once its ``exit`` record is on disk: W&B's service process writes the file and may
    still be flushing it after ``finish()`` returns (or after the CLI's process ends) on a loaded machine."""
    deadline = time.monotonic() + timeout
    while True:
        records = wandb_records(path)
        if any(record.WhichOneof("record_type") == "exit" for record in records):
            return records
        assert time.monotonic() < deadline, f"{path} has no exit record {timeout:.0f} s after the run finished"
        time.sleep(0.2)


def history_rows(path: Path) -> list[dict[str, str]]:
    """Each history record of the finished run file as ``{key: value_json}``."""
    return [
        {item.key or "/".join(item.nested_key): item.value_json for item in record.history.item}
        for record in finished_run_records(path)
        if record.WhichOneof("record_type") == "history"
    ]


def check_run(run_dir: Path, image_key: str) -> None:
    (history_file,) = run_dir.glob("run-*.wandb")
    rows = history_rows(history_file)
    logged = set().union(*rows)
    assert {"train/d/loss", "train/g/loss", "val/modes", "val/high_quality", "val/reverse_kl"} <= logged
    losses = [float(row["train/d/loss"]) for row in rows if "train/d/loss" in row]
    assert len(losses) == 4 and all(0 < loss < 10 for loss in losses)  # one per step, finite
    assert 0 <= float(next(row["val/modes"] for row in rows if "val/modes" in row)) <= 8
    images = [json.loads(row[f"{image_key}/filenames"]) for row in rows if f"{image_key}/filenames" in row]
    assert images, f"no {image_key} image in the history"
    for (name,) in images:
        assert (run_dir / "files" / name).is_file(), f"{name} is in the history but not on disk"


def test_wandb_offline_run_writes_losses_metrics_and_images(tmp_path, monkeypatch):
    for key, value in OFFLINE.items():
        monkeypatch.setenv(key, value)
    logger = WandbLogger(offline=True, save_dir=str(tmp_path), project="lit-gans-test")
    trainer = tiny_trainer(
        tmp_path,
        max_steps=4,
        logger=logger,
        log_every_n_steps=1,
        val_check_interval=4,
        callbacks=[LogSamples(num_points=200), ToyMetrics(num_samples=200)],
    )
    trainer.fit(tiny_gan(), Toy(distribution="ring", num_train=256, num_val=64, batch_size=32))
    logger.experiment.finish()
    check_run(only_run(tmp_path), "samples/samples_plot")


def test_wandb_logger_from_the_cli(tmp_path):
    args = (
        "fit --model GAN --data Toy --model.g_hidden [16] --model.d_hidden [16] --data.num_train 256 "
        "--data.batch_size 32 --trainer.max_steps 4 --trainer.val_check_interval 4 --trainer.log_every_n_steps 1 "
        "--trainer.enable_progress_bar false --trainer.logger WandbLogger --trainer.logger.offline true"
    ).split()
    done = run_in_repo(
        "cli.py",
        *args,
        "--trainer.logger.save_dir",
        str(tmp_path),
        "--trainer.default_root_dir",
        str(tmp_path),
        env=OFFLINE,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    run = only_run(tmp_path)
    check_run(run, "samples/samples_plot")
    # the run's own folder (<save_dir>/<project>/<run id>, beside its checkpoints), not the shared save_dir
    own = tmp_path / "lightning_logs" / run.name.rsplit("-", 1)[-1]
    assert (own / "config.yaml").is_file() and (own / "checkpoints" / "last.ckpt").is_file()
    assert list((own / "samples").glob("samples_plot_step*.png"))
    assert not (tmp_path / "config.yaml").exists() and not (tmp_path / "samples").exists()


def test_two_wandb_runs_in_one_folder_keep_their_own_files(tmp_path, monkeypatch):
    for key, value in OFFLINE.items():
        monkeypatch.setenv(key, value)
    folders = []
    for _ in range(2):
        logger = WandbLogger(offline=True, save_dir=str(tmp_path), project="shared")
        trainer = tiny_trainer(tmp_path, max_steps=2, logger=logger, callbacks=[LogSamples(num_points=50)])
        trainer.fit(tiny_gan(), Toy(distribution="ring", num_train=64, num_val=32, batch_size=32))
        logger.experiment.finish()
        folders.append(Path(run_dir(trainer)))
    assert folders[0] != folders[1] and folders[0].parent == folders[1].parent == tmp_path / "shared"
    for folder in folders:
        assert (folder / "samples" / "samples_plot_step0000002.png").is_file()


def test_wandb_logger_goes_offline_when_wandb_cannot_be_reached(monkeypatch):
    from jsonargparse import Namespace

    from cli import wandb_offline_without_network

    monkeypatch.delenv("WANDB_MODE", raising=False)
    config = Namespace(class_path="lightning.pytorch.loggers.WandbLogger", init_args=Namespace(offline=False))
    wandb_offline_without_network(config, reachable=lambda host, port: True)
    assert config.init_args.offline is False
    wandb_offline_without_network([config], reachable=lambda host, port: False)
    assert config.init_args.offline is True
    other = Namespace(class_path="lightning.pytorch.loggers.CSVLogger", init_args=Namespace(save_dir="x"))
    wandb_offline_without_network(other, reachable=lambda host, port: False)
    assert "offline" not in other.init_args
