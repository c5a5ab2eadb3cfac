"""Nothing lost: every fit ends with ``last.ckpt`` of its last step, Ctrl-C saves the last completed step and its
grid, ``--ckpt_path last`` resumes the newest run, a checkpoint alone brings its model, data and run folder back, and
the best checkpoints by FID are kept beside ``last.ckpt``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import torch
import yaml
from lightning.pytorch import Callback

from cli import main
from lit_gans.callbacks import RunCheckpoint
from tests.helpers import REPO
from tests.test_cli import QUIET, TINY_DCGAN, fail_message

RUN = ("runs", "dcgan_shapes", "lightning_logs")  # where a plain `fit --model DCGAN` writes: runs/<model>_<data>
# a preset's kind of schedule: one validation every 1,000 steps, so a short fit never validates
RARE_VALIDATION = ["--trainer.val_check_interval=1000", "--trainer.check_val_every_n_epoch=null"]


def saved_step(path) -> int:
    return torch.load(path, map_location="cpu", weights_only=True)["global_step"]


def test_every_fit_ends_with_a_checkpoint_of_its_last_step(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    main(["fit", *TINY_DCGAN, *QUIET, *RARE_VALIDATION, "--trainer.max_steps=5"])
    run = tmp_path.joinpath(*RUN, "version_0")
    assert [p.name for p in (run / "checkpoints").iterdir()] == ["last.ckpt"]
    assert saved_step(run / "checkpoints" / "last.ckpt") == 5
    assert (run / "config.yaml").is_file() and (run / "samples" / "samples_step0000005.png").is_file()


class InterruptAt(Callback):
    """Sends this process SIGINT (what Ctrl-C does) after training step ``step``."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_end(self, trainer, *args) -> None:
        if trainer.global_step == self.step:
            os.kill(os.getpid(), signal.SIGINT)


def test_ctrl_c_saves_the_last_completed_step_and_its_grid(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    interrupt = {"class_path": "tests.test_checkpoints.InterruptAt", "init_args": {"step": 3}}
    (tmp_path / "interrupt.yaml").write_text(yaml.safe_dump({"trainer": {"callbacks": [interrupt]}}))
    handler = signal.getsignal(signal.SIGINT)
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", "--config=interrupt.yaml", *TINY_DCGAN, *QUIET, "--trainer.max_steps=1000"])
    assert exit_info.value.code == 130
    assert signal.getsignal(signal.SIGINT) is handler  # the handler is the user's again
    run = tmp_path.joinpath(*RUN, "version_0")
    assert saved_step(run / "checkpoints" / "last.ckpt") == 3
    assert (run / "samples" / "samples_step0000003.png").is_file()
    err = capsys.readouterr().err
    assert "interrupted: step 3 saved to" in err and "--ckpt_path" in err and "Traceback" not in err

    main(["fit", *TINY_DCGAN, *QUIET, "--ckpt_path=last", "--trainer.max_steps=5"])  # resumes step 3, same folder
    assert saved_step(run / "checkpoints" / "last.ckpt") == 5
    assert not tmp_path.joinpath(*RUN, "version_1").exists()


@pytest.mark.slow
def test_ctrl_c_on_the_command_line(tmp_path):
    """A real SIGINT to `cli.py fit`: exit code 130, the step it had completed saved, the path printed."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    args = [*TINY_DCGAN, *QUIET, "--trainer.max_steps=100000", "--trainer.log_every_n_steps=1"]
    process = subprocess.Popen(
        [
            sys.executable,
            str(REPO / "cli.py"),
            "fit",
            *args,
            "--trainer.logger=CSVLogger",
            "--trainer.logger.save_dir=.",
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    metrics = tmp_path / "lightning_logs" / "version_0" / "metrics.csv"
    deadline = time.monotonic() + 120
    while not (metrics.is_file() and len(metrics.read_text().splitlines()) > 3):  # a few steps are done
        assert process.poll() is None and time.monotonic() < deadline, process.communicate()[1][-3000:]
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err[-3000:]
    last = tmp_path / "lightning_logs" / "version_0" / "checkpoints" / "last.ckpt"
    assert saved_step(last) >= 3 and "saved to ./lightning_logs/version_0/checkpoints/last.ckpt" in err
    assert "Traceback" not in err


def test_ckpt_path_last_looks_where_the_logger_writes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    csv = ["--trainer.logger=CSVLogger", "--trainer.logger.save_dir=logs"]
    main(["fit", *TINY_DCGAN, *QUIET, *csv, "--trainer.max_steps=2"])
    main(["fit", *TINY_DCGAN, *QUIET, *csv, "--ckpt_path=last", "--trainer.max_steps=4"])
    assert saved_step(tmp_path / "logs" / "lightning_logs" / "version_0" / "checkpoints" / "last.ckpt") == 4


def test_ckpt_path_last_without_a_run_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    message = fail_message(capsys, ["fit", *TINY_DCGAN, *QUIET, "--ckpt_path=last"])
    assert "--ckpt_path last: no checkpoint under runs/dcgan_shapes/lightning_logs" in message
    assert message.count("\n") == 1


def test_a_checkpoint_alone_brings_back_its_model_data_and_run_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    toy = ["--model=WGAN", "--model.z_dim=2", "--model.g_hidden=[8]", "--model.d_hidden=[8]", "--data=Toy"]
    toy += ["--data.distribution=ring", "--data.num_train=64", "--data.num_val=32", "--data.batch_size=16"]
    main(["fit", *toy, *QUIET, "--trainer.max_steps=3"])
    run = tmp_path / "runs" / "wgan_toy" / "lightning_logs" / "version_0"
    checkpoint = run / "checkpoints" / "last.ckpt"
    main(["fit", f"--ckpt_path={checkpoint}", "--trainer.max_steps=6"])  # no --model, no --data
    assert saved_step(checkpoint) == 6 and not run.with_name("version_1").exists()
    assert yaml.safe_load((run / "config.yaml").read_text())["model"]["class_path"].endswith("WGAN")

    main(["validate", f"--ckpt_path={checkpoint}"])  # writes on in the same folder, named by the true step
    assert (run / "samples" / "samples_plot_step0000006.png").is_file()
    assert not run.with_name("version_1").exists() and not list((run / "samples").glob("*step0000000*"))


def test_best_checkpoints_by_fid_beside_last(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    small = ["--data.image_size=16", "--data.num_train=64", "--data.num_val=32", "--data.batch_size=16"]
    main(["classifier", "--data=Shapes", *small, "--epochs=1", "--width=4", "--output=classifier.pt"])
    metrics = {
        "class_path": "lit_gans.callbacks.ImageMetrics",
        "init_args": {
            "extractor": {"class_path": "lit_gans.metrics.ClassifierFeatures", "init_args": {"path": "classifier.pt"}},
            "metrics": ["fid"],
            "num_fake": 16,
            "num_real": 16,
            "batch_size": 16,
            "cache_dir": "cache",
        },
    }
    (tmp_path / "metrics.yaml").write_text(yaml.safe_dump({"trainer": {"callbacks": [metrics]}}))
    tiny = ["--model=DCGAN", "--model.g_features=4", "--model.d_features=4", "--data=Shapes", *small]
    validate_often = ["--trainer.val_check_interval=2", "--trainer.check_val_every_n_epoch=null"]
    main(["fit", "--config=metrics.yaml", *tiny, *QUIET, *validate_often, "--trainer.max_steps=8"])
    main(
        ["fit", "--config=metrics.yaml", *tiny, *QUIET, *validate_often, "--trainer.max_steps=8"]
        + ["--checkpoint.save_top_k=2"]
    )
    for version, kept in (("version_0", 1), ("version_1", 2)):
        names = sorted(p.name for p in tmp_path.joinpath(*RUN, version, "checkpoints").iterdir())
        best = [n for n in names if n.startswith("best-step")]
        assert "last.ckpt" in names and len(best) == kept, names
        assert all(n.split("-fid")[1].removesuffix(".ckpt").replace(".", "").isdigit() for n in best)


def test_no_checkpoint_callback_when_checkpointing_is_off(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    main(["fit", *TINY_DCGAN, *QUIET, "--trainer.max_steps=2", "--trainer.enable_checkpointing=false"])
    assert not list(tmp_path.rglob("*.ckpt"))


def test_run_checkpoint_arguments_are_checked():
    with pytest.raises(ValueError, match="save_top_k"):
        RunCheckpoint(save_top_k=-2)
