"""The command line: fit then sample end to end, the help text, and clear errors for bad input."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import torch
import yaml
from PIL import Image

from cli import main
from tests.helpers import REPO, run_in_repo

TINY_DCGAN = [
    "--model=DCGAN",
    "--model.g_features=4",
    "--model.d_features=4",
    "--model.z_dim=8",
    "--data=Shapes",
    "--data.image_size=28",
    "--data.channels=1",
    "--data.num_train=64",
    "--data.num_val=16",
    "--data.batch_size=16",
]
QUIET = ["--trainer.enable_progress_bar=false", "--trainer.enable_model_summary=false"]
CSV = ["--trainer.logger=CSVLogger", "--trainer.logger.save_dir=.", "--trainer.log_every_n_steps=1"]


def run_cli(*args: str, cwd) -> subprocess.CompletedProcess:
    return run_in_repo(str(REPO / "cli.py"), *args, cwd=cwd, env={"PYTHONUNBUFFERED": "1"}, timeout=300)


def fail_message(capsys, argv: list[str]) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code != 0
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return captured.err


@pytest.mark.slow
def test_fit_then_sample_end_to_end(tmp_path):
    fit = run_cli("fit", *TINY_DCGAN, *QUIET, *CSV, "--trainer.max_steps=5", cwd=tmp_path)
    assert fit.returncode == 0, fit.stderr[-3000:]
    run = tmp_path / "lightning_logs" / "version_0"
    checkpoints = list((run / "checkpoints").glob("*.ckpt"))
    assert [c.name for c in checkpoints] == ["last.ckpt"]
    assert (run / "samples" / "samples_step0000005.png").is_file()  # the final grid, beside the CSV logs
    assert (run / "metrics.csv").is_file() and (run / "config.yaml").is_file()

    sample = run_cli("sample", f"--ckpt_path={checkpoints[0]}", "--num_samples=10", "--output=out/s.pt", cwd=tmp_path)
    assert sample.returncode == 0, sample.stderr[-3000:]
    samples = torch.load(tmp_path / "out" / "s.pt")
    assert samples.shape == (10, 1, 28, 28) and samples.dtype == torch.float32
    assert samples.min() >= -1 and samples.max() <= 1
    png = run_cli("sample", f"--ckpt_path={checkpoints[0]}", "--num_samples=9", "--output=grid.png", cwd=tmp_path)
    assert png.returncode == 0, png.stderr[-3000:]
    assert Image.open(tmp_path / "grid.png").size == (3 * 30 + 2, 3 * 30 + 2)  # 3 x 3 tiles of 28 + 2 padding


def test_fit_and_sample_toy_in_process(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    main(
        ["fit", "--model=GAN", "--model.z_dim=4", "--model.g_hidden=[16]", "--model.d_hidden=[16]", "--data=Toy"]
        + ["--data.distribution=ring", "--data.num_train=128", "--data.num_val=64", "--data.batch_size=32"]
        + [*QUIET, "--trainer.max_steps=4"]
    )
    run = tmp_path / "runs" / "gan_toy" / "lightning_logs" / "version_0"  # runs/<model>_<data>: the default place
    assert (run / "samples" / "samples_plot_step0000004.png").is_file()
    checkpoint = next((run / "checkpoints").glob("*.ckpt"))
    main(["sample", f"--ckpt_path={checkpoint}", "--num_samples=50", "--output=points.pt"])
    assert torch.load("points.pt").shape == (50, 2)
    main(["sample", f"--ckpt_path={checkpoint}", "--num_samples=50", "--output=points.png"])
    assert Image.open("points.png").size[0] > 100
    assert "wrote (50, 2) samples" in capsys.readouterr().out


def test_help_lists_models_and_datamodules(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    for name in ("DCGAN", "GAN", "MNIST", "Shapes", "Toy", "ImageFolder", "cli.py sample"):
        assert name in text


@pytest.mark.parametrize(
    "argv, model, data, image_size",
    [
        ([], "lit_gans.DCGAN", "datamodules.Shapes", 32),
        (["--data=MNIST"], "lit_gans.DCGAN", "datamodules.MNIST", 28),
        (["--model=GAN", "--data=Toy"], "lit_gans.GAN", "datamodules.Toy", None),
        (["--config=configs/demo.yaml"], "lit_gans.DCGAN", "datamodules.Shapes", 32),
    ],
)
def test_default_classes_do_not_leak_their_arguments(capsys, monkeypatch, argv, model, data, image_size):
    monkeypatch.chdir(REPO)
    with pytest.raises(SystemExit):
        main(["fit", *argv, "--print_config"])
    config = yaml.safe_load(capsys.readouterr().out)
    assert (config["model"]["class_path"], config["data"]["class_path"]) == (model, data)
    assert config["data"]["init_args"].get("image_size") == image_size


def test_unknown_model_name(capsys):
    message = fail_message(capsys, ["fit", "--model=NoSuchGAN"])
    assert "NoSuchGAN" in message


def test_unknown_datamodule_name(capsys):
    message = fail_message(capsys, ["fit", "--data=NoSuchData"])
    assert "NoSuchData" in message


def test_n_critic_below_one(capsys):
    assert "n_critic must be at least 1" in fail_message(capsys, ["fit", *TINY_DCGAN, "--model.n_critic=0"])


def test_image_size_the_network_cannot_build(capsys, tmp_path):
    argv = ["fit", *TINY_DCGAN, "--data.image_size=30", f"--trainer.default_root_dir={tmp_path}"]
    assert "DCGAN cannot build image_size=30" in fail_message(capsys, argv)


def test_missing_mnist(capsys, tmp_path):
    argv = ["fit", "--data=MNIST", f"--data.root={tmp_path}", f"--trainer.default_root_dir={tmp_path}", *QUIET]
    message = fail_message(capsys, argv)
    assert "MNIST train split not found" in message and "--data.download true" in message


def test_corrupt_image_in_folder(capsys, tmp_path):
    Image.new("RGB", (40, 40)).save(tmp_path / "fine.png")
    (tmp_path / "bad.jpg").write_bytes(b"garbage")
    argv = ["fit", "--data=ImageFolder", f"--data.root={tmp_path}", f"--trainer.default_root_dir={tmp_path}", *QUIET]
    assert "bad.jpg" in fail_message(capsys, argv)


def test_checkpoint_of_another_model(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    main(["fit", *TINY_DCGAN, *QUIET, "--trainer.max_steps=1"])
    checkpoint = next(
        (tmp_path / "runs" / "dcgan_shapes" / "lightning_logs" / "version_0" / "checkpoints").glob("*.ckpt")
    )
    message = fail_message(capsys, ["fit", "--model=GAN", f"--ckpt_path={checkpoint}", *QUIET])
    assert "holds a DCGAN but --model is GAN" in message
    not_a_checkpoint = ["sample", f"--ckpt_path={REPO / 'cli.py'}", "--output=x.pt"]
    assert "not a readable checkpoint" in fail_message(capsys, not_a_checkpoint)
    torch.save({"state_dict": {}}, tmp_path / "foreign.ckpt")
    foreign = ["sample", "--ckpt_path=foreign.ckpt", "--output=x.pt"]
    assert "foreign.ckpt was not written by lit-gans" in fail_message(capsys, foreign)
    (tmp_path / "junk.ckpt").write_bytes(b"junk")
    assert "not a readable checkpoint" in fail_message(capsys, ["sample", "--ckpt_path=junk.ckpt", "--output=x.pt"])
    assert "must end in .pt or .png" in fail_message(capsys, ["sample", f"--ckpt_path={checkpoint}", "--output=x.jpg"])


def deny_writes_in(monkeypatch, folder) -> None:
    """Make ``os.access`` say ``folder`` is not writable (as it says to a user in a read-only folder; the tests may
    run as root, whom permission bits do not stop)."""
    real_access = os.access
    locked = Path(folder).resolve()

    def access(path, mode, **kwargs) -> bool:
        return Path(path).resolve() != locked and real_access(path, mode, **kwargs)

    monkeypatch.setattr(os, "access", access)


def test_sample_output_is_checked_before_the_checkpoint_is_loaded(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("a file, not a folder")
    missing = ["sample", "--ckpt_path=never_read.ckpt"]  # loading it would fail with "does not exist"
    message = fail_message(capsys, [*missing, "--output=notes.txt/grid.png"])
    assert "--output notes.txt/grid.png cannot be written: notes.txt is a file, not a folder" in message
    assert message.count("\n") == 1
    (tmp_path / "samples.pt").mkdir()
    assert "--output samples.pt is a folder" in fail_message(capsys, [*missing, "--output=samples.pt"])
    (tmp_path / "locked").mkdir()
    deny_writes_in(monkeypatch, tmp_path / "locked")
    message = fail_message(capsys, [*missing, f"--output={tmp_path / 'locked' / 'new' / 's.pt'}"])
    assert f"no permission to write in {tmp_path / 'locked'}" in message


def test_classifier_output_is_checked_before_anything_trains(capsys, tmp_path, monkeypatch):
    from lit_gans.metrics import classifier

    def no_training(*args, **kwargs):
        raise AssertionError("the classifier trained although its output cannot be written")

    monkeypatch.setattr(classifier, "train_classifier", no_training)
    (tmp_path / "existing_file").write_text("")
    argv = ["classifier", "--data=Shapes", "--data.image_size=16", f"--output={tmp_path / 'existing_file' / 'c.pt'}"]
    assert "existing_file is a file, not a folder" in fail_message(capsys, argv)


def test_classifier_command_then_metrics_from_a_yaml_config(tmp_path, monkeypatch, capsys):
    """`cli.py classifier` writes a classifier that an ImageMetrics callback, configured in YAML, uses in a fit."""
    monkeypatch.chdir(tmp_path)
    data = [
        "--data=Shapes",
        "--data.image_size=16",
        "--data.num_train=128",
        "--data.num_val=64",
        "--data.batch_size=32",
    ]
    main(["classifier", *data, "--epochs=1", "--width=8", "--output=classifier.pt"])
    assert "wrote classifier.pt: Shapes(" in capsys.readouterr().out
    config = {
        "trainer": {
            "callbacks": [
                {
                    "class_path": "lit_gans.callbacks.ImageMetrics",
                    "init_args": {
                        "extractor": {
                            "class_path": "lit_gans.metrics.ClassifierFeatures",
                            "init_args": {"path": "classifier.pt"},
                        },
                        "num_fake": 20,
                        "num_real": 20,
                        "batch_size": 20,
                        "is_splits": 2,
                        "kid_subsets": 2,
                        "cache_dir": "cache",
                    },
                }
            ]
        }
    }
    (tmp_path / "metrics.yaml").write_text(yaml.safe_dump(config))
    main(
        [
            "fit",
            "--config=metrics.yaml",
            *data,
            "--model=DCGAN",
            "--model.g_features=4",
            "--model.d_features=4",
            *QUIET,
            *CSV,
            "--trainer.max_steps=2",
            "--trainer.val_check_interval=2",
        ]
    )
    version = tmp_path / "lightning_logs" / "version_0"
    header = (version / "metrics.csv").read_text().splitlines()[0].split(",")
    assert {"val/fid", "val/is", "val/kid"} <= set(header)
    assert (version / "metrics_protocol.json").is_file()
    assert list((version / "samples").glob("*.png")), "the default LogSamples callback was dropped"
    assert "needs an image datamodule" in fail_message(capsys, ["classifier", "--data=Toy", "--output=x.pt"])


def test_missing_inception_weights_offline(capsys, tmp_path, monkeypatch):
    from lit_gans.metrics import extractors

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(extractors.INCEPTION_ENV, raising=False)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    argv = [
        "fit",
        *TINY_DCGAN,
        *QUIET,
        "--trainer.max_steps=1",
        "--config",
        str(REPO / "configs" / "metrics" / "inception.yaml"),
        "--trainer.callbacks.init_args.extractor.init_args.download=false",
    ]
    message = fail_message(capsys, argv)
    assert "no Inception weights found" in message and "LIT_GANS_INCEPTION_WEIGHTS" in message


@pytest.mark.parametrize("config", sorted(str(p.relative_to(REPO)) for p in (REPO / "configs").rglob("*.yaml")))
def test_every_config_parses(config, capsys, monkeypatch):
    """Each preset (alone, or with a datamodule when it names only the model) gives a valid full config."""
    monkeypatch.chdir(REPO)
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", f"--config={config}", "--print_config"])
    assert exit_info.value.code == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed["model"]["class_path"].startswith("lit_gans.")


LATENT_MODELS = ["GAN", "DCGAN", "LSGAN", "WGAN", "WGANGP", "WGANDiv", "DRAGAN", "SNGAN", "SAGAN"]
CONDITIONAL_MODELS = ["CGAN", "ACGAN", "InfoGAN", "SGAN"]


@pytest.mark.parametrize("model", LATENT_MODELS + CONDITIONAL_MODELS)
def test_every_model_alone_trains_its_offline_preset(tmp_path, monkeypatch, capsys, model):
    """``fit --model NAME`` with no data trains the model's Shapes preset (upright large shapes, EMA of G); tiny
    overrides of the preset's sizes and length make it a two-step run."""
    monkeypatch.chdir(tmp_path)  # the preset is found from any folder
    mlp, conv = ["--model.g_hidden=[8]", "--model.d_hidden=[8]"], ["--model.g_features=4", "--model.d_features=4"]
    nets = mlp if model == "GAN" else conv
    tiny = [*nets, "--data.num_train=64", "--data.num_val=8", "--data.image_size=16", "--data.batch_size=8"]
    if model == "SGAN":
        tiny.append("--data.labels_per_class=2")
    short = ["--trainer.max_steps=2", "--trainer.val_check_interval=2", "--trainer.limit_val_batches=1", *QUIET]
    with pytest.raises(SystemExit):
        main(["fit", "--model", model, *tiny, *short, "--print_config"])
    config = yaml.safe_load(capsys.readouterr().out)
    assert config["model"]["class_path"] == f"lit_gans.{model}" and config["data"]["class_path"] == "datamodules.Shapes"
    assert config["model"]["init_args"]["ema_decay"] == 0.99 and config["data"]["init_args"]["rotate"] is False
    assert config["data"]["init_args"]["image_size"] == 16  # the overrides win over the preset
    main(["fit", "--model", model, *tiny, *short, f"--trainer.default_root_dir={tmp_path}"])
    assert list(tmp_path.rglob("last.ckpt")) and list(tmp_path.rglob("samples_*.png"))


@pytest.mark.parametrize("model", ["ProGAN", "MSGGAN"])
def test_growing_and_multiscale_models_alone_train_their_offline_preset(tmp_path, monkeypatch, capsys, model):
    """``fit --model ProGAN`` / ``MSGGAN`` with no data train their Shapes preset at 32x32 (here 16x16, tiny nets,
    ProGAN's phases a batch long so that it grows within the run)."""
    monkeypatch.chdir(tmp_path)
    tiny = ["--model.z_dim=8", "--model.fmap_base=32", "--model.fmap_max=8", "--data.num_train=64", "--data.num_val=8"]
    tiny += ["--data.image_size=16", "--data.batch_size=8"]
    if model == "ProGAN":
        tiny += ["--model.stabilise_kimg=0.008", "--model.fade_kimg=0.008"]
    short = ["--trainer.max_steps=4", "--trainer.val_check_interval=2", "--trainer.limit_val_batches=1", *QUIET]
    with pytest.raises(SystemExit):
        main(["fit", "--model", model, *tiny, *short, "--print_config"])
    config = yaml.safe_load(capsys.readouterr().out)
    assert config["model"]["class_path"] == f"lit_gans.{model}" and config["data"]["class_path"] == "datamodules.Shapes"
    assert config["model"]["init_args"]["ema_decay"] == 0.999 and config["model"]["init_args"]["fmap_max"] == 8
    main(["fit", "--model", model, *tiny, *short, f"--trainer.default_root_dir={tmp_path}"])
    assert list(tmp_path.rglob("last.ckpt")) and list(tmp_path.rglob("samples_*.png"))
