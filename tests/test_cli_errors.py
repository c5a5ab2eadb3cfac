"""Every everyday mistake on the command line is one ``error:`` line (exit code 2, no traceback, no usage dump) that
names the mistake and, for a misspelt name, the nearest right one."""

from __future__ import annotations

import pytest
import torch

from cli import main
from tests.test_cli import QUIET, TINY_DCGAN, deny_writes_in, fail_message

ONE_STEP = [*QUIET, "--trainer.max_steps=1"]


def one_line(capsys, argv: list[str]) -> str:
    message = fail_message(capsys, argv)
    lines = message.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), message[-2000:]
    return lines[0]


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["--model=DCGA"], "unknown model 'DCGA'; did you mean DCGAN"),
        (["--model=wgangp"], "did you mean WGANGP?"),
        (["--model=WGAN_GP"], "did you mean WGANGP?"),
        (["--data=Mnist"], "unknown datamodule 'Mnist'; did you mean MNIST?"),
        (["--model.lr_gg=1"], "DCGAN has no option --model.lr_gg; did you mean --model.lr_g"),
        (["--modle.lr_g=1"], "unknown option --modle.lr_g; did you mean --model.lr_g"),
        (["--trainer.max_step=5"], "unknown option --trainer.max_step; did you mean --trainer.max_steps"),
        (["--data.imagesize=3"], "Shapes has no option --data.imagesize; did you mean --data.image_size?"),
        (["--model.lr_g=abc"], "--model.lr_g takes a float, got 'abc'"),
        (["--trainer.max_steps=-5"], "`max_steps` must be a non-negative integer or -1"),
        (["--optimizer=Adam"], "the optimizers are model arguments (--model.lr_g"),
        (["--lr_scheduler=StepLR"], "the optimizers are model arguments"),
        (["--ckpt_path=missing.ckpt", "--model=DCGAN"], "checkpoint missing.ckpt does not exist"),
        (["--model=NonSaturatingGAN"], "NonSaturatingGAN is a base class, not a model to train: pick one of ACGAN"),
        (["--model=TranslationGAN"], "TranslationGAN is a base class"),
        (["--data=TranslationDataModule"], "TranslationDataModule is a base class, not a datamodule"),
    ],
)
def test_fit_mistakes_are_one_line(capsys, tmp_path, monkeypatch, argv, expected):
    monkeypatch.chdir(tmp_path)
    assert expected in one_line(capsys, ["fit", *ONE_STEP, *argv])


@pytest.mark.skipif(torch.cuda.is_available(), reason="asks for a GPU where there is none")
def test_a_gpu_on_a_machine_without_one(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    line = one_line(capsys, ["fit", "--trainer.accelerator=gpu", *ONE_STEP])
    assert "this machine has no CUDA GPU" in line and "pass cpu" in line


def test_unwritable_default_root_dir_before_any_work(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a_file").write_text("not a folder")
    line = one_line(capsys, ["fit", "--trainer.default_root_dir=a_file/run", *ONE_STEP])
    assert "--trainer.default_root_dir a_file/run cannot be written: a_file is a file" in line
    (tmp_path / "locked").mkdir()
    deny_writes_in(monkeypatch, tmp_path / "locked")
    assert "no permission" in one_line(capsys, ["fit", "--trainer.default_root_dir=locked", *ONE_STEP])
    assert not (tmp_path / "runs").exists()


def test_command_option_mistakes_are_one_line(capsys):
    sample = ["sample", "--ckpt_path=x.ckpt", "--output=x.png"]
    assert "--num_samples takes an int, got 'abc'" in one_line(capsys, [*sample, "--num_samples=abc"])
    assert "unknown option --ckpt_pat; did you mean --ckpt_path?" in one_line(capsys, ["sample", "--ckpt_pat=x"])


@pytest.mark.parametrize("command", ["test", "predict", "tset"])
def test_commands_that_are_not_offered(capsys, command):
    line = one_line(capsys, [command])
    assert ("is not a lit-gans command" in line) if command != "tset" else ("unknown command 'tset'" in line)


def test_model_help_is_the_natural_help(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", "--model", "WGANGP", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "--model.lambda_gp" in out and "--model.d_norm" in out and "--trainer.max_steps" not in out


def test_sgan_without_labels_per_class_warns_in_one_line(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    tiny = ["--model.g_features=4", "--model.d_features=4", "--model.z_dim=4", "--data.image_size=16"]
    data = ["--data.num_train=32", "--data.num_val=16", "--data.batch_size=16"]
    main(["fit", "--model=SGAN", "--data=Shapes", *tiny, *data, *ONE_STEP])
    warnings = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning: SGAN")]
    assert len(warnings) == 1 and "--data.labels_per_class" in warnings[0]


@pytest.mark.parametrize("native", [True, False])
@pytest.mark.parametrize("precision", ["bf16-mixed", "16-mixed"])
def test_half_precision_on_the_cpu_says_what_it_costs(capsys, tmp_path, monkeypatch, precision, native):
    import lit_gans.commands.main as cli

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(cli, "cpu_has_bfloat16", lambda: native)
    main(["fit", *TINY_DCGAN, f"--trainer.precision={precision}", "--trainer.accelerator=cpu", *ONE_STEP])
    warnings = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning: --trainer.prec")]
    emulated = [line for line in warnings if "emulated and much slower than 32-true" in line]
    as_bf16 = [line for line in warnings if "runs as bf16 on the CPU" in line]
    assert len(emulated) == (0 if native else 1) and len(as_bf16) == (precision == "16-mixed")
