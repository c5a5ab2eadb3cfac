"""DDP on the CPU (gloo, 2 processes) for every model family: both ranks end with identical weights (EMA included),
draw different noise and data, and log identical (synchronised) metrics. Each case takes about 15 s."""

from __future__ import annotations

import pytest
import torch

from tests.helpers import run_in_repo


@pytest.mark.parametrize("family", ["gan", "dcgan"])
def test_two_rank_ddp_keeps_ranks_in_sync(tmp_path, family, shapes_classifier):
    done = run_in_repo("-m", "tests.ddp_run", str(tmp_path), family, shapes_classifier)
    assert done.returncode == 0, done.stderr[-3000:]
    rank0, rank1 = (torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    assert rank0["world_size"] == 2 and rank0["global_step"] == rank1["global_step"] == 6

    assert rank0["state_dict"].keys() == rank1["state_dict"].keys()
    for key, value in rank0["state_dict"].items():
        if "running_" in key or "num_batches_tracked" in key:
            continue  # BatchNorm statistics are per rank (no sync_batchnorm on the CPU)
        assert torch.equal(value, rank1["state_dict"][key]), f"{key} differs between ranks"
    if family == "gan":
        assert any(key.startswith("generator_ema.") for key in rank0["state_dict"])

    assert not torch.equal(rank0["noise"], rank1["noise"]), "both ranks drew the same latent noise"
    assert not torch.equal(rank0["first_batch"], rank1["first_batch"]), "both ranks trained on the same batch"

    expected = {"gan": {"val/modes", "val/high_quality", "val/reverse_kl"}, "dcgan": {"val/fid", "val/is", "val/kid"}}
    assert expected[family] <= set(rank0["metrics"])
    assert rank0["metrics"] == rank1["metrics"]


def test_cli_ddp_strategy_trains_with_the_default_callbacks_and_a_logger(tmp_path):
    """``--trainer.strategy ddp`` (plain: the CLI makes it tolerate the unused parameters of the D and G steps)
    with the CLI's sample and toy-metric callbacks and its TensorBoard logger."""
    args = (
        "fit --model GAN --data Toy --model.g_hidden [16] --model.d_hidden [16] --data.num_train 512 "
        "--data.batch_size 32 --trainer.accelerator cpu --trainer.strategy ddp --trainer.devices 2 "
        "--trainer.max_steps 6 --trainer.val_check_interval 3 --trainer.limit_val_batches 1 "
        "--trainer.enable_progress_bar false"
    ).split()
    done = run_in_repo("cli.py", *args, "--trainer.default_root_dir", str(tmp_path))
    assert done.returncode == 0, done.stderr[-3000:]
    version = tmp_path / "lightning_logs" / "version_0"
    assert sorted(p.name for p in (version / "samples").glob("*.png")) == [
        "samples_plot_step0000003.png",
        "samples_plot_step0000006.png",
    ]
    last = torch.load(version / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    assert last["global_step"] == 6


TWO_RANKS = (
    "--trainer.accelerator cpu --trainer.strategy ddp --trainer.devices 2 --trainer.max_steps 2 "
    "--trainer.val_check_interval 2 --trainer.limit_val_batches 1 --trainer.enable_progress_bar false"
)


def fit_on_two_ranks(tmp_path, arguments: str) -> tuple[str, dict]:
    """``cli.py fit ARGUMENTS`` on 2 CPU ranks for 2 steps: its stderr and the saved ``last.ckpt``."""
    args = f"fit {arguments} {TWO_RANKS}".split()
    done = run_in_repo("cli.py", *args, "--trainer.default_root_dir", str(tmp_path))
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stderr, torch.load(next(tmp_path.rglob("last.ckpt")), map_location="cpu", weights_only=True)


def test_stackgan_under_ddp_trains_its_text_encoder_once_for_both_ranks(tmp_path):
    """The text encoder trained before the first step is rank 0's, broadcast to rank 1 (a state dict over gloo)."""
    stderr, last = fit_on_two_ranks(
        tmp_path,
        "--model StackGAN --model.z_dim 8 --model.condition_dim 8 --model.g_features 4 --model.d_features 4 "
        "--model.text_encoder_steps 3 --data.image_size 16 --data.num_train 64 --data.num_val 16 --data.batch_size 8",
    )
    assert stderr.count("training its text encoder") == 1  # said by rank 0 only
    assert last["state_dict"]["text_encoder_ready"] and last["global_step"] == 2


def test_srgan_under_ddp_takes_rank_zeros_content_network(tmp_path):
    """SRGAN's content network, trained before the first step, is announced once and rank 0's is broadcast to rank 1
    (a state dict over gloo); the run trains and saves it."""
    stderr, last = fit_on_two_ranks(
        tmp_path,
        "--model SRGAN --model.content features --model.features 4 --model.blocks 1 --model.upsample_features 8 "
        "--model.d_features 4 --model.d_dense_features 8 --data.images.image_size 16 --data.images.num_train 64 "
        "--data.images.num_val 16 --data.images.batch_size 8 --data.batch_size 8",
    )
    assert stderr.count("training its content network") == 1  # said by rank 0 only
    assert last["state_dict"]["content_network_ready"] and last["global_step"] == 2


def test_context_encoder_trains_under_ddp_and_saves_each_ranks_random_state(tmp_path):
    _, last = fit_on_two_ranks(
        tmp_path,
        "--model ContextEncoder --model.mask random:0.5 --model.g_features 4 --model.d_features 4 "
        "--model.bottleneck 8 --data.image_size 16 --data.num_train 64 --data.num_val 16 --data.batch_size 8 "
        "--trainer.max_epochs 1",
    )
    assert last["global_step"] == 2 and len(last["lit_gans"]["rng_states"]) == 2
