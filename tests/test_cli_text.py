"""The text-to-image workflow from the command line: a caption encoder, an attribute classifier, StackGAN's two
stages with the text-image metrics, and samples from captions."""

from __future__ import annotations

import json

import pytest
import torch
import yaml

from lit_gans.commands.main import main
from tests.helpers import REPO

QUIET = ["--trainer.enable_progress_bar=false", "--trainer.enable_model_summary=false"]
TINY_DATA = ["--data.num_train=64", "--data.num_val=100", "--data.batch_size=8", "--data.captions_per_image=2"]
TINY_NETS = ["--model.z_dim=8", "--model.condition_dim=8", "--model.g_features=4", "--model.d_features=4"]
SHORT = ["--trainer.max_steps=2", "--trainer.val_check_interval=2", "--trainer.limit_val_batches=1", *QUIET]


def test_stackgan_alone_trains_its_offline_preset_and_samples_from_captions(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    tiny = [*TINY_NETS, "--model.text_encoder_steps=3", *TINY_DATA, "--data.image_size=16"]
    with pytest.raises(SystemExit):
        main(["fit", "--model", "StackGAN", *tiny, *SHORT, "--print_config"])
    config = yaml.safe_load(capsys.readouterr().out)
    assert config["data"]["class_path"] == "datamodules.ShapesCaptions"
    assert config["model"]["init_args"]["kl_weight"] == 2.0 and config["model"]["init_args"]["stage"] == 1
    main(["fit", "--model", "StackGAN", *tiny, *SHORT, f"--trainer.default_root_dir={tmp_path}"])
    assert "training its text encoder" in capsys.readouterr().err
    checkpoint = next(tmp_path.rglob("last.ckpt"))
    assert list(tmp_path.rglob("samples_*.png"))
    rows = next(tmp_path.rglob("grid_captions.txt")).read_text().splitlines()
    assert len(rows) == 8 and rows[0].startswith("row 1: ")  # 64 fixed samples, a caption for each row of 8
    main(["sample", f"--ckpt_path={checkpoint}", "--num_samples=4", "--captions=a large red circle", "--output=red.pt"])
    assert torch.load("red.pt").shape == (4, 3, 16, 16)
    main(
        [
            "sample",
            f"--ckpt_path={checkpoint}",
            "--num_samples=2",
            "--captions=[a red circle, a blue moon]",
            "--output=two.png",
        ]
    )
    captured = capsys.readouterr()
    assert "wrote (2, 3, 16, 16) samples" in captured.out and "never saw (read as unknown): moon" in captured.err
    main(["sample", f"--ckpt_path={checkpoint}", "--num_samples=3", "--output=bank.pt"])  # captions of its own
    assert torch.load("bank.pt").shape == (3, 3, 16, 16)


def test_encoder_classifier_two_stages_and_text_metrics(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    data32 = ["--data=ShapesCaptions", "--data.image_size=16", "--data.num_train=200", "--data.num_val=100"]
    main(["text-encoder", *data32, "--max_steps=20", "--output=encoder.pt"])
    assert "caption -> image among 100: top-1" in capsys.readouterr().out
    main(["classifier", *data32, "--epochs=1", "--width=8", "--output=attributes.pt"])
    assert "attribute classifier" in capsys.readouterr().out

    metrics = {
        "class_path": "lit_gans.callbacks.TextImageMetrics",
        "init_args": {"classifier": "attributes.pt", "num_samples": 100},
    }
    (tmp_path / "metrics.yaml").write_text(yaml.safe_dump({"trainer": {"callbacks": [metrics]}}))
    stage1 = ["--config", str(REPO / "configs" / "stackgan_shapes.yaml"), "--config=metrics.yaml"]
    stage1 += [*TINY_NETS, "--model.text_encoder=encoder.pt", *TINY_DATA, "--data.image_size=16", *SHORT]
    main(["fit", *stage1, "--trainer.default_root_dir=stage1"])
    assert "training its text encoder" not in capsys.readouterr().err  # the given one is used
    run = next((tmp_path / "stage1").rglob("text_metrics.jsonl")).parent
    record = json.loads((run / "text_metrics.jsonl").read_text().splitlines()[-1])
    assert {"r_precision", "r_precision_real", "colour_accuracy", "all_correct", "all_correct_real"} <= set(record)
    assert all(0 <= value <= 1 for name, value in record.items() if name != "step")

    stage1_ckpt = next((tmp_path / "stage1").rglob("last.ckpt"))
    stage2 = ["--config", str(REPO / "configs" / "stackgan_shapes_stage2.yaml"), f"--model.stage1_ckpt={stage1_ckpt}"]
    stage2 += ["--model.g_features=4", "--model.d_features=4", *TINY_DATA, "--data.image_size=32", *SHORT]
    main(["fit", *stage2, "--trainer.default_root_dir=stage2"])
    samples = list((tmp_path / "stage2").rglob("*.png"))
    assert any("stage1" in p.name for p in samples) and any(p.name.startswith("samples_") for p in samples)
    stage2_ckpt = next((tmp_path / "stage2").rglob("last.ckpt"))
    main(["sample", f"--ckpt_path={stage2_ckpt}", "--num_samples=2", "--captions=something green", "--output=g.pt"])
    assert torch.load("g.pt").shape == (2, 3, 32, 32)
