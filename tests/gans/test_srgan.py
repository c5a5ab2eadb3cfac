"""SRGAN and its SRResNet baseline: PixelShuffle stage shapes, D on small images, the frozen content network, the
lambda_adv 0 baseline, init_ckpt, learning (PSNR beats bicubic upsampling), and the command line."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F
import yaml
from lightning.pytorch import Callback
from PIL import Image

from cli import main
from datamodules import Shapes, ShapesPaired, SuperResolution
from lit_gans.callbacks.translation import image_similarity
from lit_gans.commands.checkpoints import load_gan, read_checkpoint
from lit_gans.errors import LitGansError
from lit_gans.gans.srgan import SRGAN
from lit_gans.losses import feature_content_loss
from lit_gans.networks.srresnet import SRGANDiscriminator, SRResNetGenerator, discriminator_strides
from tests.helpers import tiny_trainer
from tests.test_cli import QUIET, fail_message

TINY = dict(features=4, blocks=1, upsample_features=8, d_features=4, d_dense_features=8)
CLASSIFIER_CONFIG = {"data_shape": [3, 16, 16], "num_classes": 3, "width": 4, "feature_dim": 8}


def tiny_data(size: int = 16, scale: int = 4, **shapes) -> SuperResolution:
    source = Shapes(image_size=size, num_train=48, num_val=8, batch_size=16, **shapes)  # 16: phi's batches
    return SuperResolution(source, scale=scale, batch_size=8)


# ----------------------------------------------------------------------------------------------------------------
# Networks
# ----------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("scale, stages", [(2, 1), (4, 2), (8, 3)])
@pytest.mark.parametrize("channels", [1, 3])
def test_pixel_shuffle_stages_upscale_by_scale(scale, stages, channels):
    generator = SRResNetGenerator(channels, scale, features=8, blocks=2)
    shuffles = [m for m in generator.modules() if isinstance(m, torch.nn.PixelShuffle)]
    assert len(shuffles) == stages and all(m.upscale_factor == 2 for m in shuffles)
    lr = torch.randn(2, channels, 5, 7)
    x = generator.blocks(generator.head(lr))
    for i, stage in enumerate(generator.upsample):  # each stage doubles h and w: [N, U / 4, 2^i h, 2^i w]
        x = stage(x)
        assert tuple(x.shape) == (2, 8, 5 * 2 ** (i + 1), 7 * 2 ** (i + 1))
    sr = generator(lr)
    assert tuple(sr.shape) == (2, channels, 5 * scale, 7 * scale)
    assert sr.abs().max() <= 1  # tanh: the data's range, even for wild inputs
    assert generator(100 * lr).abs().max() <= 1


@pytest.mark.parametrize("scale", [1, 3, 6])
def test_a_scale_that_is_not_a_power_of_two_is_refused(scale):
    with pytest.raises(LitGansError, match="power of two"):
        SRResNetGenerator(3, scale)
    with pytest.raises(LitGansError, match="multiple of 4"):
        SRResNetGenerator(3, 4, upsample_features=10)


@pytest.mark.parametrize(
    "size, strides", [(28, [2, 2, 2, 1]), (64, [2, 2, 2, 2]), (96, [2, 2, 2, 2]), (16, [2, 2, 1, 1])]
)
def test_discriminator_judges_small_images(size, strides):
    """The paper's four stride-2 convolutions, the last ones at stride 1 where the map would drop below 4 px."""
    assert discriminator_strides(size) == strides
    discriminator = SRGANDiscriminator(1, size, features=4, dense_features=8)
    convs = [m for m in discriminator.features if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [4, 4, 8, 8, 16, 16, 32, 32]  # the paper's 64 .. 512, scaled
    assert [c.stride[0] for c in convs[1::2]] == strides
    assert tuple(discriminator(torch.randn(3, 1, size, size)).shape) == (3, 1)
    with pytest.raises(LitGansError, match="expected a tensor"):
        discriminator(torch.randn(3, 1, size + 4, size + 4))


# ----------------------------------------------------------------------------------------------------------------
# The content loss and its frozen network
# ----------------------------------------------------------------------------------------------------------------
def test_feature_content_loss_is_zero_for_identical_images_and_phi_gets_no_gradient():
    model = SRGAN(data_shape=(3, 16, 16), content_network_config=CLASSIFIER_CONFIG, **TINY)
    hr = torch.rand(4, 3, 16, 16) * 2 - 1
    assert model.content_loss(hr, hr).item() == 0
    assert tuple(model.phi(hr).shape) == (4, 16, 4, 4)  # block 3's pre-activation: 4 width maps at S / 4
    assert model.phi(hr).min() < 0  # pre-activation: before the ReLU
    sr = model.generator(torch.rand(4, 3, 4, 4) * 2 - 1)
    loss = model.content_loss(sr, hr)
    assert loss > 0
    loss.backward()
    assert all(p.grad is None and not p.requires_grad for p in model.content_network.parameters())
    assert all(p.grad is not None for p in model.generator.parameters())
    assert feature_content_loss(torch.ones(2, 3), torch.zeros(2, 3), rescale=0.5).item() == pytest.approx(0.25)


class WatchContentNetwork(Callback):
    """Records, at every training batch, whether phi is in train mode or has trainable parameters."""

    def __init__(self) -> None:
        self.seen: list[tuple[bool, bool]] = []

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        network = pl_module.content_network
        self.seen.append((network.training, any(p.requires_grad for p in network.parameters())))


def test_content_network_stays_frozen_and_in_eval_mode_through_a_fit(tmp_path, shapes_classifier):
    model = SRGAN(data_shape=(3, 16, 16), content_network=shapes_classifier, **TINY)
    before = {k: v.clone() for k, v in model.content_network.state_dict().items()}
    watch = WatchContentNetwork()
    tiny_trainer(tmp_path, max_steps=3, callbacks=[watch], limit_val_batches=1, val_check_interval=2).fit(
        model, tiny_data()
    )
    assert len(watch.seen) == 3 and watch.seen == [(False, False)] * 3
    after = model.content_network.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # BatchNorm statistics included
    optimized = {id(p) for opt in model.trainer.optimizers for group in opt.param_groups for p in group["params"]}
    assert not optimized & {id(p) for p in model.content_network.parameters()}


def test_without_a_file_the_content_network_is_trained_and_saved(tmp_path):
    model = SRGAN(data_shape=(3, 16, 16), **TINY)
    assert model.content_network is None and not model.content_network_ready
    trainer = tiny_trainer(tmp_path, max_steps=2, limit_val_batches=0, enable_checkpointing=True)
    trainer.fit(model, tiny_data())
    assert model.content_network_ready and model.hparams.content_network_config["num_classes"] == 3
    trainer.save_checkpoint(tmp_path / "model.ckpt")
    loaded = load_gan(tmp_path / "model.ckpt")  # rebuilt from the checkpoint alone
    for key, value in model.content_network.state_dict().items():
        torch.testing.assert_close(loaded.content_network.state_dict()[key], value)
    fresh = SRGAN(data_shape=(3, 16, 16), content_network_config=model.hparams.content_network_config, **TINY)
    changed = [
        not torch.equal(v, fresh.content_network.state_dict()[k]) for k, v in model.content_network.state_dict().items()
    ]
    assert any(changed)  # trained, not left at its initialisation


def test_feature_content_without_labelled_images_asks_for_a_file(tmp_path):
    model = SRGAN(data_shape=(3, 16, 16), scale=2, **TINY)
    with pytest.raises(LitGansError, match="--model.content_network FILE"):
        tiny_trainer(tmp_path, max_steps=1).fit(model, ShapesPaired(image_size=16, num_train=16, num_val=4))
    with pytest.raises(LitGansError, match="content network was trained on"):
        SRGAN(data_shape=(1, 16, 16), content_network_config=CLASSIFIER_CONFIG, **TINY)
    with pytest.raises(LitGansError, match="does not exist"):
        SRGAN(data_shape=(3, 16, 16), content_network=str(tmp_path / "missing.pt"), **TINY)


# ----------------------------------------------------------------------------------------------------------------
# The SRResNet baseline and the adversarial term
# ----------------------------------------------------------------------------------------------------------------
def g_loss_and_grads(model: SRGAN, batch) -> tuple[torch.Tensor, list[torch.Tensor]]:
    model.zero_grad(set_to_none=True)
    loss = model.g_step(batch)["loss"]
    loss.backward()
    return loss.detach(), [p.grad.clone() for p in model.generator.parameters()]


@pytest.mark.parametrize("lambda_adv", [0.0, 1e-3])
def test_lambda_adv_zero_makes_g_independent_of_d(lambda_adv):
    model = SRGAN(data_shape=(3, 16, 16), content="pixel", lambda_adv=lambda_adv, **TINY)
    batch = (torch.rand(4, 3, 4, 4) * 2 - 1, torch.rand(4, 3, 16, 16) * 2 - 1)
    loss, grads = g_loss_and_grads(model, batch)
    d_grads = [p.grad for p in model.discriminator.parameters()]
    with torch.no_grad():
        for p in model.discriminator.parameters():
            p.add_(torch.randn_like(p))
    loss_other_d, grads_other_d = g_loss_and_grads(model, batch)
    if lambda_adv == 0:
        assert all(g is None for g in d_grads)
        torch.testing.assert_close(loss_other_d, loss, atol=0, rtol=0)
        for a, b in zip(grads, grads_other_d):
            torch.testing.assert_close(a, b, atol=0, rtol=0)
        assert model.d_step(batch)["loss"].item() == 0  # D is not trained
    else:  # the check can fail: with the adversarial term, D shapes G's loss
        assert any(g is not None for g in d_grads) and loss_other_d != loss


def test_srresnet_leaves_d_untouched_through_a_fit(tmp_path):
    model = SRGAN(data_shape=(3, 16, 16), content="pixel", lambda_adv=0.0, **TINY)
    d_before = [p.clone() for p in model.discriminator.parameters()]
    g_before = [p.clone() for p in model.generator.parameters()]
    tiny_trainer(tmp_path, max_steps=3, limit_val_batches=0).fit(model, tiny_data())
    assert all(torch.equal(a, b) for a, b in zip(d_before, model.discriminator.parameters()))
    assert not all(torch.equal(a, b) for a, b in zip(g_before, model.generator.parameters()))


def test_init_ckpt_copies_g(tmp_path):
    baseline = SRGAN(data_shape=(3, 16, 16), content="pixel", lambda_adv=0.0, **TINY)
    trainer = tiny_trainer(tmp_path / "srresnet", max_steps=2, limit_val_batches=0)
    trainer.fit(baseline, tiny_data())
    trainer.save_checkpoint(tmp_path / "srresnet.ckpt")

    class GAtStart(Callback):
        def on_train_start(self, trainer, pl_module):
            self.state = {k: v.clone() for k, v in pl_module.generator.state_dict().items()}

    start = GAtStart()
    model = SRGAN(
        data_shape=(3, 16, 16), content="pixel", init_ckpt=str(tmp_path / "srresnet.ckpt"), ema_decay=0.9, **TINY
    )
    assert not torch.equal(model.generator.head[0].weight, baseline.generator.head[0].weight)
    tiny_trainer(tmp_path / "srgan", max_steps=1, limit_val_batches=0, callbacks=[start]).fit(model, tiny_data())
    for key, value in baseline.generator.state_dict().items():
        torch.testing.assert_close(start.state[key], value, atol=0, rtol=0)
    wider = SRGAN(data_shape=(3, 16, 16), content="pixel", **{**TINY, "features": 8})
    with pytest.raises(LitGansError, match="does not fit this SRGAN's.*features=4"):
        wider.load_initial_generator(str(tmp_path / "srresnet.ckpt"))


def test_a_resumed_run_keeps_its_own_g_not_the_init_ckpt(tmp_path):
    """``init_ckpt`` starts a fresh fit only: resuming a run that began from it continues the run's trained G."""
    baseline = SRGAN(data_shape=(3, 16, 16), content="pixel", lambda_adv=0.0, **TINY)
    trainer = tiny_trainer(tmp_path / "srresnet", max_steps=2, limit_val_batches=0)
    trainer.fit(baseline, tiny_data())
    trainer.save_checkpoint(tmp_path / "srresnet.ckpt")
    arguments = dict(data_shape=(3, 16, 16), content="pixel", init_ckpt=str(tmp_path / "srresnet.ckpt"), **TINY)
    run = SRGAN(**arguments)
    trainer = tiny_trainer(tmp_path / "run", max_steps=3, limit_val_batches=0)
    trainer.fit(run, tiny_data())
    trainer.save_checkpoint(tmp_path / "run.ckpt")

    class GAtStart(Callback):
        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
            if not hasattr(self, "state"):
                self.state = {k: v.clone() for k, v in pl_module.generator.state_dict().items()}

    start = GAtStart()
    resumed = tiny_trainer(tmp_path / "resumed", max_steps=5, limit_val_batches=0, callbacks=[start])
    resumed.fit(SRGAN(**arguments), tiny_data(), ckpt_path=tmp_path / "run.ckpt")
    for key, value in run.generator.state_dict().items():
        torch.testing.assert_close(start.state[key], value, atol=0, rtol=0)
    assert not torch.equal(start.state["head.0.weight"], baseline.generator.state_dict()["head.0.weight"])


def test_scales_of_data_and_model_must_agree(tmp_path):
    model = SRGAN(data_shape=(3, 16, 16), scale=4, content="pixel", **TINY)
    with pytest.raises(LitGansError, match="--data.scale 2 but --model.scale is 4"):
        tiny_trainer(tmp_path, max_steps=1).fit(model, tiny_data(scale=2))
    with pytest.raises(LitGansError, match="does not divide by scale"):
        SRGAN(data_shape=(3, 18, 18), scale=4)


def test_translate_panels_and_sample():
    model = SRGAN(data_shape=(1, 32, 32), scale=4, content="pixel", **TINY)
    lr, hr = torch.rand(3, 1, 8, 8) * 2 - 1, torch.rand(3, 1, 32, 32) * 2 - 1
    assert tuple(model.translate(lr).shape) == (3, 1, 32, 32) and model.input_shape == (1, 8, 8)
    panels = model.translation_panels(lr, hr)
    assert [tuple(p.shape) for p in panels] == [(3, 1, 32, 32)] * 3
    torch.testing.assert_close(panels[0][:, :, ::4, ::4], lr)  # nearest: each LR pixel a 4x4 block
    with pytest.raises(LitGansError, match="cli.py translate"):
        model.sample(4)


# ----------------------------------------------------------------------------------------------------------------
# Learning: the SRResNet beats bicubic upsampling in PSNR
# ----------------------------------------------------------------------------------------------------------------
def test_srresnet_learns_to_beat_bicubic_upsampling(tmp_path):
    """Measured (Shapes 32 px grey, 8 px inputs, 64 validation images): untrained G 6.8 dB, nearest 19.7 dB,
    bicubic 22.0 dB; after 300 steps 24.0 dB, 600 steps (this test) 26.9 dB, 1,000 steps 28.1 dB
    (6.5 s per 300 steps on one thread). The margin: 1.5 dB over bicubic, 10 dB over the untrained G."""
    data = SuperResolution(Shapes(image_size=32, channels=1, num_train=512, num_val=64), scale=4, batch_size=16)
    model = SRGAN(
        data_shape=(1, 32, 32), features=16, blocks=2, upsample_features=32, d_features=4, d_dense_features=8,
        content="pixel", lambda_adv=0.0, lr_g=1e-3,
    )  # fmt: skip
    data.setup("fit")
    lr = torch.stack([data.val_set[i][0] for i in range(64)])
    hr = torch.stack([data.val_set[i][1] for i in range(64)])

    def psnr(images: torch.Tensor) -> float:
        return image_similarity(images, hr)["psnr"].mean().item()

    untrained = psnr(model.translate(lr))
    bicubic = psnr(F.interpolate(lr, scale_factor=4, mode="bicubic").clamp(-1, 1))
    tiny_trainer(tmp_path, max_steps=600, limit_val_batches=0, max_epochs=-1).fit(model, data)
    trained = psnr(model.translate(lr))
    assert trained > bicubic + 1.5 and trained > untrained + 10, (untrained, bicubic, trained)


# ----------------------------------------------------------------------------------------------------------------
# The command line
# ----------------------------------------------------------------------------------------------------------------
def test_offline_default_fits_then_translates_and_refuses_to_sample(tmp_path, monkeypatch, capsys):
    """``fit --model SRGAN`` alone: the Shapes 64 -> 16 px preset (here 16 -> 4 px, tiny nets), the paper's SRGAN-MSE
    variant (no content network to train); then ``translate`` on the checkpoint writes HR-sized PNGs and ``sample``
    says what to run."""
    monkeypatch.chdir(tmp_path)
    tiny = ["--model.features=4", "--model.blocks=1", "--model.upsample_features=8", "--model.d_features=4"]
    tiny += ["--model.d_dense_features=8", "--data.images.num_train=64", "--data.images.num_val=8"]
    tiny += ["--data.images.image_size=16", "--data.batch_size=8"]
    short = ["--trainer.max_steps=2", "--trainer.val_check_interval=2", "--trainer.limit_val_batches=1", *QUIET]
    with pytest.raises(SystemExit):
        main(["fit", "--model", "SRGAN", *tiny, *short, "--print_config"])
    config = yaml.safe_load(capsys.readouterr().out)
    assert config["data"]["class_path"] == "datamodules.SuperResolution"
    assert config["data"]["init_args"]["images"]["class_path"] == "datamodules.Shapes"
    assert config["model"]["init_args"]["content"] == "pixel" and config["model"]["init_args"]["lambda_adv"] == 1e-3
    main(["fit", "--model", "SRGAN", *tiny, *short, f"--trainer.default_root_dir={tmp_path}"])
    checkpoint = next(tmp_path.rglob("last.ckpt"))
    run = checkpoint.parent.parent
    assert (run / "samples" / "translations_step0000002.png").is_file()
    record = json.loads((run / "translation_metrics.jsonl").read_text().splitlines()[-1])
    assert {"XtoY/psnr", "XtoY/ssim"} <= set(record)
    assert read_checkpoint(checkpoint)["hyper_parameters"]["content_network_config"] is None  # no classifier made

    (tmp_path / "in").mkdir()
    Image.new("RGB", (12, 12), (200, 30, 30)).save(tmp_path / "in" / "red.png")
    main(["translate", f"--ckpt_path={checkpoint}", "--input=in", "--output=out"])
    assert Image.open(tmp_path / "out" / "red.png").size == (16, 16)
    capsys.readouterr()
    message = fail_message(capsys, ["sample", f"--ckpt_path={checkpoint}", "--output=samples.png"])
    assert "draws no noise" in message and "cli.py translate" in message
