"""The ``compile_networks`` and ``channels_last`` options, and ``benchmarks/gpu.sh``'s CPU dry run.

Compiled and channels-last training must compute what eager NCHW training computes: the same seed gives the same
weights after a few steps, to float32 round-off (kernels may sum in another order: 1e-4 absolute)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch

from datamodules import Shapes
from lit_gans import DCGAN, GAN, WGANGP, CycleGAN
from lit_gans.base import images_channels_last
from tests.helpers import REPO, tiny_trainer


def train(tmp_path, cls, steps: int = 4, **options):
    """``steps`` batches of ``cls`` with 2 D steps per G step."""
    torch.manual_seed(0)
    nets = {"g_hidden": (16,), "d_hidden": (16,)} if cls is GAN else {"g_features": 4, "d_features": 4}
    model = cls(data_shape=(3, 16, 16), n_critic=2, **nets, **options)
    data = Shapes(image_size=16, channels=3, num_train=32, num_val=8, batch_size=8, shuffle_seed=0)
    tiny_trainer(tmp_path, max_steps=steps, limit_val_batches=0).fit(model, data)
    return model


def assert_same_weights(a: torch.nn.Module, b: torch.nn.Module, atol: float = 1e-4) -> None:
    state_a, state_b = a.state_dict(), b.state_dict()
    assert list(state_a) == list(state_b)  # the options leave the checkpoint's keys alone
    for name in state_a:
        assert torch.allclose(state_a[name].float(), state_b[name].float(), atol=atol), name


@pytest.mark.parametrize("cls", [GAN, WGANGP])
def test_compiled_training_matches_eager(tmp_path, cls):
    # WGAN-GP: the gradient penalty's double backward goes through D's uncompiled call
    import torch._dynamo

    # from torch 2.11's default: this machine's torch re-checks requires_grad anyway, so the weights alone would not
    # catch a fit that leaves it on (on 2.11, CUDA, G's loss then had no graph)
    with torch._dynamo.config.patch(skip_tensor_guards_with_matching_dict_tags=True):
        eager = train(tmp_path / "eager", cls)
        compiled = train(tmp_path / "compiled", cls, compile_networks=True)
        assert torch._dynamo.config.skip_tensor_guards_with_matching_dict_tags is False
    assert all(net._compiled_call_impl is not None for net in compiled.trained_networks())
    assert eager.generator._compiled_call_impl is None
    assert compiled.g_steps == eager.g_steps > 0
    assert_same_weights(eager, compiled)


def test_channels_last_training_matches_eager_and_keeps_conv_weights_nhwc(tmp_path):
    eager = train(tmp_path / "eager", DCGAN)
    nhwc = train(tmp_path / "nhwc", DCGAN, channels_last=True)
    convs = [p for p in nhwc.parameters() if p.dim() == 4]
    assert convs and all(p.is_contiguous(memory_format=torch.channels_last) for p in convs)
    assert not all(p.is_contiguous(memory_format=torch.channels_last) for p in eager.parameters() if p.dim() == 4)
    assert_same_weights(eager, nhwc, atol=1e-5)
    # the channels-last weights load into a default model
    DCGAN(data_shape=(3, 16, 16), g_features=4, d_features=4).load_state_dict(nhwc.state_dict())


def test_channels_last_converts_image_batches_only():
    images, labels, points = torch.rand(2, 3, 16, 16), torch.tensor([0, 1]), torch.rand(2, 2)
    out_images, out_labels, out_points = images_channels_last((images, labels, points))
    assert out_images.is_contiguous(memory_format=torch.channels_last) and torch.equal(out_images, images)
    assert out_labels is labels and out_points is points


def test_trained_networks_lists_each_of_cyclegans_four():
    model = CycleGAN(data_shape=(3, 16, 16), g_features=4, d_features=4, n_blocks=1)
    networks = model.trained_networks()
    assert len(networks) == 4 and {id(n) for n in networks} == {
        id(n) for n in [*model.generator.values(), *model.discriminator.values()]
    }


def test_gpu_script_dry_run_on_the_cpu(tmp_path):
    """``benchmarks/gpu.sh --device cpu`` runs every setting (2 models x fp32/bf16 x compile x channels-last) and
    the Inception timing at toy sizes, and writes a JSON with a positive speed for each."""
    out = tmp_path / "gpu.json"
    env = {**os.environ, "PYTHON": sys.executable, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        ["bash", str(REPO / "benchmarks" / "gpu.sh"), "--device", "cpu", "--out", str(out)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(out.read_text())
    settings = {(s["loop"], s["model"], s["precision"], s["compile"], s["channels_last"]) for s in report["training"]}
    # lit-gans: 2 models x 2 precisions x compile x channels-last; 3 baselines: eager DCGAN x 2 precisions x NHWC
    assert len(settings) == len(report["training"]) == 16 + 3 * 4
    for setting in report["training"]:
        assert "error" not in setting and setting["batches_per_second"] > 0, setting
    assert report["inception"]["images_per_second"] > 0
    assert len(report["of_hand_written"]) == 3 * 4 and all(r["ratio"] > 0 for r in report["of_hand_written"])


@pytest.mark.parametrize(
    "device, channels_last, warns", [("cuda", True, True), ("cuda", False, False), ("cpu", True, False)]
)
def test_compile_with_channels_last_on_cuda_warns_at_fit_start(device, channels_last, warns):
    """Inductor failed on torch 2.11 + CUDA with both options (benchmarks/README.md, "On a GPU"): the fit says so
    there, and only there. The device is set by hand (no GPU here); compiling wraps the networks lazily."""
    import warnings

    import torch._dynamo

    model = DCGAN(
        data_shape=(3, 16, 16), g_features=4, d_features=4, compile_networks=True, channels_last=channels_last
    )
    model._device = torch.device(device, 0) if device == "cuda" else torch.device(device)
    with (
        torch._dynamo.config.patch(skip_tensor_guards_with_matching_dict_tags=True),
        warnings.catch_warnings(record=True) as caught,
    ):
        warnings.simplefilter("always")
        model.on_fit_start()
    said = [str(w.message) for w in caught if "compile_networks with channels_last" in str(w.message)]
    assert len(said) == (1 if warns else 0), said
    assert model.generator._compiled_call_impl is not None
