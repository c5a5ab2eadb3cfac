"""The conditional models from the command line: trained by name on their offline preset, sampled with conditions."""

from __future__ import annotations

import pytest
import torch
from PIL import Image

from cli import main

QUIET = ["--trainer.enable_progress_bar=false", "--trainer.enable_model_summary=false"]
TINY = ["--model.g_features=4", "--model.d_features=4", "--model.z_dim=4", "--data.image_size=16"]
TINY += ["--data.num_train=400", "--data.num_val=16", "--data.batch_size=16", "--trainer.max_steps=3"]
TINY += ["--trainer.val_check_interval=3", "--trainer.limit_val_batches=1"]


def fit(model: str, tmp_path, monkeypatch, *extra: str):
    monkeypatch.chdir(tmp_path)
    main(["fit", f"--model={model}", *TINY, *QUIET, f"--trainer.default_root_dir={tmp_path}", *extra])
    run = tmp_path / "lightning_logs" / "version_0"
    return run, next((run / "checkpoints").glob("*.ckpt"))


def test_infogan_by_name_logs_traversals_and_samples_codes(tmp_path, monkeypatch, capsys):
    run, checkpoint = fit("InfoGAN", tmp_path, monkeypatch, "--model.q_hidden=8")
    for tag in ("samples", "traversal_c2", "traversal_c3"):  # written at the validation (and at the end)
        assert (run / "samples" / f"{tag}_step0000003.png").is_file()
    main(["sample", f"--ckpt_path={checkpoint}", "--grid=traversal_c3", "--output=traversal.png"])
    # the offline preset's 3 categorical values: 3 rows of 10 tiles of 16 + 2 pixels of padding
    assert Image.open("traversal.png").size == (10 * 18 + 2, 3 * 18 + 2)
    main(["sample", f"--ckpt_path={checkpoint}", "--num_samples=5", "--categorical=2", "--output=coded.pt"])
    main(["sample", f"--ckpt_path={checkpoint}", "--num_samples=5", "--continuous=[0.5, -1.0]", "--output=c.pt"])
    assert torch.load("coded.pt").shape == (5, 3, 16, 16) and torch.load("c.pt").shape == (5, 3, 16, 16)
    assert "wrote (30, 3, 16, 16) samples" in capsys.readouterr().out


def test_cgan_by_name_samples_a_class(tmp_path, monkeypatch, capsys):
    run, checkpoint = fit("CGAN", tmp_path, monkeypatch)
    grid = Image.open(run / "samples" / "samples_step0000003.png")
    assert grid.size == (33 * 18 + 2, 3 * 18 + 2)  # a row per shape class, 33 of the 100 fixed samples each
    main(["sample", f"--ckpt_path={checkpoint}", "--num_samples=4", "--labels=1", "--output=one.pt"])
    main(["sample", f"--ckpt_path={checkpoint}", "--num_samples=3", "--labels=[0, 1, 2]", "--output=each.pt"])
    assert torch.load("one.pt").shape == (4, 3, 16, 16) and torch.load("each.pt").shape == (3, 3, 16, 16)
    with pytest.raises(SystemExit):
        main(["sample", f"--ckpt_path={checkpoint}", "--labels=5", "--output=bad.pt"])
    assert "each in 0..2; got 5" in capsys.readouterr().err


def test_sgan_by_name_logs_validation_accuracy(tmp_path, monkeypatch):
    run, _ = fit(
        "SGAN",
        tmp_path,
        monkeypatch,
        "--data.labels_per_class=5",
        "--trainer.logger=CSVLogger",
        "--trainer.logger.save_dir=.",
    )
    metrics = (tmp_path / "lightning_logs" / "version_0" / "metrics.csv").read_text()
    assert "val/accuracy" in metrics


def sample_error(capsys, checkpoint, *args: str) -> str:
    """The stderr of a `sample` that must fail: one `error: ...` line, no traceback."""
    with pytest.raises(SystemExit) as exit_info:
        main(["sample", f"--ckpt_path={checkpoint}", "--num_samples=64", "--output=bad.pt", *args])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") == 1 and err.startswith("error: "), err
    return err


def test_infogan_codes_of_the_wrong_size_or_range_are_one_short_line(tmp_path, monkeypatch, capsys):
    _, checkpoint = fit("InfoGAN", tmp_path, monkeypatch, "--model.q_hidden=8")  # 3 categories, 2 continuous codes
    assert "InfoGAN has 2 continuous codes" in sample_error(capsys, checkpoint, "--continuous=[0.5, 1, 2]")
    assert "got 3 values" in sample_error(capsys, checkpoint, "--continuous=[0.5, 1, 2]")
    assert "got 1 value" in sample_error(capsys, checkpoint, "--continuous=[0.5]")  # not broadcast to both codes
    message = sample_error(capsys, checkpoint, "--categorical=12")
    assert "InfoGAN has 3 categories: categorical codes lie in 0..2, got 12" in message and len(message) < 120
    assert "-1" in sample_error(capsys, checkpoint, "--categorical=-1")
    assert not (tmp_path / "bad.pt").exists()


def test_cgan_labels_of_the_wrong_count_or_range_are_one_short_line(tmp_path, monkeypatch, capsys):
    _, checkpoint = fit("CGAN", tmp_path, monkeypatch)  # 3 classes
    many = "--labels=[" + ", ".join(["1"] * 40) + "]"
    message = sample_error(capsys, checkpoint, "--num_samples=3", many)
    assert "labels must be one class or 3 classes (one a sample), got 40 labels" in message and len(message) < 120
    message = sample_error(capsys, checkpoint, "--labels=[" + ", ".join(["0"] * 63 + ["7"]) + "]")
    assert "each in 0..2; got 7" in message and len(message) < 120
