"""The command line for image-to-image models: `fit --model CycleGAN` / `--model Pix2Pix` with no other argument pick
their offline task, and `--data Paired|Unpaired --data.root DIR` train on folders in the standard layouts."""

from __future__ import annotations

import json

import pytest
import yaml

from cli import main
from tests.datamodules.test_translation_data import aligned_folder, two_folders, unpaired_folder
from tests.helpers import REPO
from tests.test_cli import QUIET, fail_message

TINY_PIX2PIX = ["--model.g_features=4", "--model.d_features=4", "--model.d_layers=1"]
TINY_CYCLEGAN = ["--model.g_features=4", "--model.d_features=4", "--model.n_blocks=1", "--model.d_layers=1"]
SHORT = [
    "--trainer.max_steps=2",
    "--trainer.val_check_interval=2",
    "--trainer.limit_val_batches=1",
    "--trainer.max_epochs=1",
]


@pytest.mark.parametrize(
    "model, data, checks",
    [
        ("CycleGAN", "datamodules.ShapesUnpaired", {"n_blocks": 6, "norm": "batch", "lambda_identity": 0.0}),
        ("Pix2Pix", "datamodules.ShapesPaired", {"g_features": 32, "d_layers": 2}),
    ],
)
def test_model_alone_picks_its_offline_preset(capsys, monkeypatch, tmp_path, model, data, checks):
    monkeypatch.chdir(tmp_path)  # the preset is found from any folder
    with pytest.raises(SystemExit):
        main(
            ["fit", "--model", model, "--model.lambda_l1=50" if model == "Pix2Pix" else "--model.pool_size=7"]
            + ["--print_config"]
        )
    config = yaml.safe_load(capsys.readouterr().out)
    assert config["model"]["class_path"] == f"lit_gans.{model}" and config["data"]["class_path"] == data
    assert checks.items() <= config["model"]["init_args"].items()
    assert config["model"]["init_args"]["lambda_l1" if model == "Pix2Pix" else "pool_size"] in (50, 7)  # overrides
    init_args = config["model"]["init_args"]
    assert config["trainer"]["max_epochs"] == init_args["n_epochs"] + init_args["n_epochs_decay"]  # the schedule's end


def test_model_with_data_does_not_get_the_preset(capsys, monkeypatch):
    monkeypatch.chdir(REPO)
    with pytest.raises(SystemExit):
        main(["fit", "--model=CycleGAN", "--data=Unpaired", "--data.root=somewhere", "--print_config"])
    config = yaml.safe_load(capsys.readouterr().out)
    assert config["data"]["class_path"] == "datamodules.Unpaired"
    assert config["model"]["init_args"]["n_blocks"] == 9  # the paper's default, not the preset's


def test_fit_cyclegan_with_no_data_argument(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    small = ["--data.num_train=32", "--data.num_val=8", "--data.image_size=16"]
    main(
        [
            "fit",
            "--model=CycleGAN",
            *TINY_CYCLEGAN,
            *small,
            *QUIET,
            *SHORT,
            "--trainer.logger=CSVLogger",
            "--trainer.logger.save_dir=runs/cyclegan_shapes",
        ]
    )
    run = tmp_path / "runs" / "cyclegan_shapes" / "lightning_logs" / "version_0"
    assert (run / "samples" / "translations_step0000002.png").is_file()
    record = json.loads((run / "translation_metrics.jsonl").read_text().splitlines()[-1])
    assert {"XtoY/l1", "XtoY/psnr", "XtoY/ssim", "YtoX/l1", "cycle"} <= set(record)
    header = (run / "metrics.csv").read_text().splitlines()[0].split(",")
    assert "val/cycle" in header
    checkpoint = next((run / "checkpoints").glob("*.ckpt"))
    message = fail_message_sample(checkpoint)
    assert "translates images" in message


def fail_message_sample(checkpoint) -> str:
    import io
    from contextlib import redirect_stderr

    err = io.StringIO()
    with redirect_stderr(err), pytest.raises(SystemExit):
        main(["sample", f"--ckpt_path={checkpoint}", "--output=x.png"])
    return err.getvalue()


@pytest.mark.parametrize("layout", ["aligned", "folders"])
def test_fit_pix2pix_on_paired_folders(tmp_path, monkeypatch, layout):
    root = tmp_path / "data"
    if layout == "aligned":
        aligned_folder(root)
    else:
        two_folders(root, [f"{i}.png" for i in range(10)], [f"{i}.png" for i in range(10)])
    monkeypatch.chdir(tmp_path)
    data = ["--data=Paired", f"--data.root={root}", "--data.image_size=16", "--data.batch_size=2"]
    main(["fit", "--model=Pix2Pix", *TINY_PIX2PIX, *data, *QUIET, *SHORT])
    run = tmp_path / "runs" / "pix2pix_paired" / "lightning_logs" / "version_0"
    assert (run / "samples" / "translations_step0000002.png").is_file()
    record = json.loads((run / "translation_metrics.jsonl").read_text().splitlines()[-1])
    assert {"XtoY/l1", "XtoY/psnr", "XtoY/ssim", "XtoY/colour"} == set(record) - {"step"}


def test_fit_cyclegan_on_unpaired_folders(tmp_path, monkeypatch):
    root = unpaired_folder(tmp_path / "data")
    monkeypatch.chdir(tmp_path)
    data = ["--data=Unpaired", f"--data.root={root}", "--data.image_size=16", "--data.batch_size=2"]
    main(["fit", "--model=CycleGAN", *TINY_CYCLEGAN, *data, *QUIET, *SHORT])
    run = tmp_path / "runs" / "cyclegan_unpaired" / "lightning_logs" / "version_0"
    record = json.loads((run / "translation_metrics.jsonl").read_text().splitlines()[-1])
    assert {"cycle_x", "cycle_y", "cycle"} == set(record) - {"step"}  # unpaired folders: no target to compare


def test_bad_paired_folder_through_the_cli(capsys, tmp_path):
    two_folders(tmp_path, ["a.png", "b.png"], ["a.png", "c.png"])
    argv = ["fit", "--model=Pix2Pix", "--data=Paired", f"--data.root={tmp_path}", "--data.image_size=16", *QUIET]
    message = fail_message(capsys, [*argv, f"--trainer.default_root_dir={tmp_path}"])
    assert "A and B do not match" in message and "b.png" in message and "c.png" in message


def test_cyclegan_under_two_rank_ddp(tmp_path):
    """Plain ``ddp`` from the CLI on the CPU: the translation grid and metrics work, and the checkpoint keeps each
    rank's own image pools (DDP would overwrite module buffers with rank 0's; the pools are not buffers)."""
    import torch

    from tests.helpers import run_in_repo

    args = (
        "fit --model CycleGAN --model.g_features 4 --model.d_features 4 --model.n_blocks 1 --model.d_layers 1 "
        "--model.pool_size 6 --data.image_size 16 --data.num_train 64 --data.num_val 16 --data.batch_size 4 "
        "--trainer.accelerator cpu --trainer.strategy ddp --trainer.devices 2 --trainer.max_steps 4 "
        "--trainer.val_check_interval 2 --trainer.limit_val_batches 2 --trainer.enable_progress_bar false "
        "--trainer.logger CSVLogger"
    ).split()
    done = run_in_repo(str(REPO / "cli.py"), *args, "--trainer.logger.save_dir", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    run = tmp_path / "lightning_logs" / "version_0"
    assert (run / "samples" / "translations_step0000004.png").is_file()
    assert "val/cycle" in (run / "metrics.csv").read_text().splitlines()[0].split(",")
    checkpoint = torch.load(next((run / "checkpoints").glob("*.ckpt")), weights_only=True)
    pools = checkpoint["lit_gans"]["image_pools"]
    assert len(pools) == 2 and all(p["fake_y"]["count"] == 6 for p in pools)
    assert not torch.equal(pools[0]["fake_y"]["images"], pools[1]["fake_y"]["images"])  # each rank its own fakes
