"""Pix2Pix and CycleGAN pieces: networks keep sizes, the PatchGAN's receptive field, the image pool, the learning-rate
schedule, the cycle and identity losses, and the translation metrics and grids."""

from __future__ import annotations

import json

import pytest
import torch
from lightning.pytorch import Callback
from PIL import Image
from torch import nn
from torch.testing import assert_close

from datamodules import ShapesPaired, ShapesUnpaired
from lit_gans import CycleGAN, LitGansError, Pix2Pix
from lit_gans.callbacks import LogSamples, TranslationMetrics, image_similarity
from lit_gans.image_pool import ImagePool
from lit_gans.metrics import ClassifierFeatures
from lit_gans.networks.patchgan import PatchGANDiscriminator, receptive_field
from lit_gans.networks.resnet import ResnetGenerator
from lit_gans.networks.unet import NoiseDropout, UNetGenerator
from lit_gans.translation import constant_then_linear
from tests.helpers import tiny_trainer


# --------------------------------------------------------------------------------------------------------------
# Networks
# --------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("size", [8, 16, 32, 64, 256])
def test_unet_keeps_the_size_of_powers_of_two(size):
    G = UNetGenerator(size, 3, 1, features=4)
    y = G(torch.randn(2, 3, size, size))
    assert y.shape == (2, 1, size, size)
    assert y.abs().max() <= 1  # tanh
    assert len(G.down) == size.bit_length() - 1  # halved down to 1x1: log2(size) encoder layers


@pytest.mark.parametrize("size", [4, 30, 48])
def test_unet_refuses_sizes_it_cannot_halve_to_one(size):
    with pytest.raises(LitGansError, match=f"power of two >= 8.*got {size}"):
        UNetGenerator(size, 3, 3, features=4)


def test_unet_noise_stays_on_in_eval_and_normalises_with_the_batch():
    G = UNetGenerator(64, 1, 1, features=4).eval()
    x = torch.randn(4, 1, 64, 64)
    assert not torch.equal(G(x), G(x))  # dropout is the noise z, also at test time
    norms = [m for m in G.modules() if isinstance(m, nn.BatchNorm2d)]
    assert norms and all(m.running_mean is None for m in norms)  # statistics of the batch at hand


@pytest.mark.parametrize("size, dropout_sizes", [(256, [4, 8, 16]), (128, [4, 8]), (64, [4]), (32, []), (8, [])])
def test_unet_dropout_sits_where_the_authors_code_puts_it(size, dropout_sizes):
    """The num_downs - 5 middle blocks of pix2pix's UnetGenerator: decoder outputs 4x4 up to 16x16 at 256 (the
    paper's three CD512), none below 64x64."""
    G = UNetGenerator(size, 1, 1, features=2)
    sizes = []
    hooks = [
        m.register_forward_hook(lambda m, i, o: sizes.append(o.shape[-1]))
        for m in G.modules()
        if isinstance(m, NoiseDropout)
    ]
    G(torch.randn(2, 1, size, size))
    assert sizes == dropout_sizes and len(hooks) == len(dropout_sizes)
    if not dropout_sizes:  # no noise: the same x gives the same G(x)
        x = torch.randn(2, 1, size, size)
        assert torch.equal(G(x), G(x))


def test_resnet_norms_instance_discards_the_input_scale_batch_keeps_it():
    """InstanceNorm after the bias-free first conv removes each image's per-channel scale: in one batch holding x and
    2x, G gives both the same output (up to the norm's eps), so a flat colour's brightness cannot reach it.
    BatchNorm normalises with the batch's statistics and keeps the difference. Why CycleGAN's Shapes preset, whose
    task is a colour, uses norm batch."""
    torch.manual_seed(0)
    x = torch.rand(4, 3, 16, 16)
    instance = ResnetGenerator(3, 3, features=4, n_blocks=1, norm="instance")
    out = instance(torch.cat([x, 2 * x]))
    assert_close(out[4:], out[:4], atol=1e-3, rtol=0)
    batch = ResnetGenerator(3, 3, features=4, n_blocks=1, norm="batch")
    out = batch(torch.cat([x, 2 * x]))
    assert (out[4:] - out[:4]).abs().mean() > 0.05
    assert all(m.track_running_stats for m in batch.modules() if isinstance(m, nn.BatchNorm2d))  # eval: per image
    with pytest.raises(LitGansError, match="norm must be 'instance' or 'batch'"):
        ResnetGenerator(3, 3, features=4, n_blocks=1, norm="layer")


def test_cyclegan_norm_reaches_both_generators_and_discriminators():
    model = tiny_cyclegan(norm="batch")
    for net in (*model.generator.values(), *model.discriminator.values()):
        kinds = {type(m) for m in net.modules() if isinstance(m, (nn.BatchNorm2d, nn.InstanceNorm2d))}
        assert kinds == {nn.BatchNorm2d}
    assert not any(isinstance(m, nn.BatchNorm2d) for m in tiny_cyclegan().modules())  # the paper's InstanceNorm


@pytest.mark.parametrize("height, width", [(32, 32), (64, 64), (36, 36), (32, 48)])
def test_resnet_generator_keeps_sizes_divisible_by_four(height, width):
    for n_blocks in (6, 9):
        G = ResnetGenerator(3, 3, features=4, n_blocks=n_blocks)
        assert G(torch.randn(2, 3, height, width)).shape == (2, 3, height, width)
    assert sum(isinstance(m, nn.ReflectionPad2d) for m in G.modules()) == 2 + 2 * 9
    with pytest.raises(LitGansError, match="divisible by 4"):
        G(torch.randn(1, 3, 30, 32))


def gradient_receptive_field(D: nn.Module, size: int = 160) -> tuple[int, int]:
    """Rows and columns of the input that one central output of ``D`` depends on (non-zero gradient)."""
    x = torch.zeros(1, D.in_channels, size, size, requires_grad=True)
    out = D(x)
    out[0, 0, out.shape[2] // 2, out.shape[3] // 2].backward()
    touched = x.grad[0].abs().sum(0) > 0  # [H, W]
    rows, cols = touched.any(1).nonzero(), touched.any(0).nonzero()
    return int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)


@pytest.mark.parametrize("n_layers, field", [(3, 70), (2, 34), (1, 16)])
def test_patchgan_receptive_field_is_computed_from_its_gradient(n_layers, field):
    torch.manual_seed(0)
    D = PatchGANDiscriminator(2, features=4, n_layers=n_layers, norm="batch").eval()
    for module in D.modules():  # positive weights: no accidental cancellation in the gradient
        if isinstance(module, nn.Conv2d):
            nn.init.uniform_(module.weight, 0.1, 1.0)
    # BatchNorm over a batch of one normalises per channel over the whole image, coupling every pixel: use the
    # network without its norms to read the convolutions' own field
    for name, module in list(D.net.named_children()):
        if isinstance(module, nn.BatchNorm2d):
            D.net._modules[name] = nn.Identity()
    assert gradient_receptive_field(D) == (field, field)
    assert receptive_field(D) == field


def test_patchgan_outputs_a_map_of_patch_logits():
    D = PatchGANDiscriminator(6, features=8)
    assert D(torch.randn(2, 6, 256, 256)).shape == (2, 1, 30, 30)  # the paper's 30x30 map for 256x256 inputs


# --------------------------------------------------------------------------------------------------------------
# Image pool
# --------------------------------------------------------------------------------------------------------------
def test_image_pool_stores_first_then_returns_stored_fakes_half_the_time():
    torch.manual_seed(0)
    pool = ImagePool(50)
    first = torch.arange(50.0).view(50, 1, 1, 1)
    assert torch.equal(pool.query(first[:30]), first[:30])  # filling: every fake returned as is
    assert torch.equal(pool.query(first[30:]), first[30:])
    seen = set(range(50))
    n = 4000
    new = (1000 + torch.arange(float(n))).view(n, 1, 1, 1)
    out = torch.cat([pool.query(chunk) for chunk in new.split(8)])
    from_pool = out.flatten() != new.flatten()
    # binomial(4000, 1/2): standard deviation 0.0079; 0.03 is about four of them
    assert_close(from_pool.double().mean().item(), 0.5, atol=0.03, rtol=0)
    # what comes from the pool is an older fake: one of the first 50 or one queried before it
    for i in from_pool.nonzero().flatten().tolist():
        value = int(out[i])
        assert value in seen and value != 1000 + i
        seen.add(1000 + i)
    assert pool.count == 50


def test_image_pool_off_and_its_state_round_trip():
    fakes = torch.randn(4, 3, 2, 2)
    assert torch.equal(ImagePool(0).query(fakes), fakes)
    pool = ImagePool(5)
    pool.query(torch.randn(3, 3, 2, 2))
    copy = ImagePool(5)
    copy.load_state_dict(pool.state_dict())
    assert copy.count == 3 and torch.equal(copy.images, pool.images)
    with pytest.raises(LitGansError, match="holds 5 images"):
        ImagePool(7).load_state_dict(pool.state_dict())


# --------------------------------------------------------------------------------------------------------------
# CycleGAN: schedule, losses, checkpointed pools
# --------------------------------------------------------------------------------------------------------------
def test_schedule_formula_is_constant_then_linear_to_zero():
    factors = [constant_then_linear(e, 3, 4) for e in range(9)]
    assert_close(factors, [1.0, 1.0, 1.0, 0.8, 0.6, 0.4, 0.2, 0.0, 0.0])


def tiny_cyclegan(**overrides) -> CycleGAN:
    args = dict(data_shape=(3, 16, 16), g_features=4, d_features=4, n_blocks=1, d_layers=1, pool_size=4)
    return CycleGAN(**{**args, **overrides})


class RecordLR(Callback):
    def __init__(self) -> None:
        self.lrs: list[tuple[float, float]] = []

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        self.lrs.append(tuple(opt.param_groups[0]["lr"] for opt in trainer.optimizers))


@pytest.mark.parametrize("name", ["CycleGAN", "Pix2Pix"])
def test_translation_models_train_at_constant_then_linearly_decaying_rate_and_stop_at_zero(tmp_path, name):
    """Both papers' code (--lr_policy linear): the base's schedule, for each model."""
    schedule = dict(n_epochs=2, n_epochs_decay=3, lr_g=1e-3, lr_d=4e-4)
    if name == "CycleGAN":
        model = tiny_cyclegan(**schedule)
        data = ShapesUnpaired(image_size=16, num_train=16, num_val=8, batch_size=8)
    else:
        model = Pix2Pix(data_shape=(3, 16, 16), g_features=4, d_features=4, d_layers=1, **schedule)
        data = ShapesPaired(image_size=16, num_train=16, num_val=8, batch_size=8)
    record = RecordLR()
    trainer = tiny_trainer(tmp_path, max_steps=-1, max_epochs=20, limit_val_batches=0, callbacks=[record])
    trainer.fit(model, data)
    assert trainer.current_epoch == 5  # stopped when the rate reached 0, not at max_epochs
    expected = [(lr_g * f, lr_d * f) for f in (1, 1, 0.75, 0.5, 0.25) for lr_g, lr_d in [(1e-3, 4e-4)]]
    assert_close(torch.tensor(record.lrs, dtype=torch.float64), torch.tensor(expected, dtype=torch.float64))


class Negate(nn.Module):
    def forward(self, x):
        return -x


def cycle_losses(model: CycleGAN, G: nn.Module, F: nn.Module, x, y) -> dict:
    model.generator = nn.ModuleDict({"G": G, "F": F})
    return model.g_step((x, y))


def test_cycle_and_identity_losses_vanish_for_identity_generators():
    torch.manual_seed(0)
    x, y = torch.rand(4, 3, 16, 16) * 2 - 1, torch.rand(4, 3, 16, 16) * 2 - 1
    out = cycle_losses(tiny_cyclegan(), nn.Identity(), nn.Identity(), x, y)
    assert_close(out["cycle"], torch.tensor(0.0))
    assert_close(out["identity"], torch.tensor(0.0))
    # G = F = negation: F(G(x)) = x, so no cycle error, but G(y) = -y is far from y: |-y - y| = 2|y|
    out = cycle_losses(tiny_cyclegan(), Negate(), Negate(), x, y)
    assert_close(out["cycle"], torch.tensor(0.0))
    assert_close(out["identity"], 2 * y.abs().mean() + 2 * x.abs().mean())
    gan = out["gan_G"] + out["gan_F"]
    assert_close(out["loss"], gan + 10 * out["cycle"] + 5 * out["identity"])  # lambda 10, identity 0.5 lambda


def test_image_pools_travel_in_checkpoints(tmp_path):
    model = tiny_cyclegan(pool_size=6)
    data = ShapesUnpaired(image_size=16, num_train=32, num_val=8, batch_size=4)
    trainer = tiny_trainer(tmp_path, max_steps=3, limit_val_batches=0)
    trainer.fit(model, data)
    assert model.fake_y_pool.count == 6  # 3 D steps of 4 fakes, the first 6 kept
    trainer.save_checkpoint(tmp_path / "c.ckpt")
    reloaded = CycleGAN.load_from_checkpoint(tmp_path / "c.ckpt", weights_only=True)
    for name in ("fake_x_pool", "fake_y_pool"):
        assert torch.equal(getattr(reloaded, name).images, getattr(model, name).images)


def test_pix2pix_l1_only_ablation_ignores_the_discriminator():
    torch.manual_seed(0)
    x, y = torch.rand(2, 3, 16, 16) * 2 - 1, torch.rand(2, 3, 16, 16) * 2 - 1
    model = Pix2Pix(data_shape=(3, 16, 16), g_features=4, d_features=4, d_layers=1, lambda_gan=0.0)
    out = model.g_step((x, y))
    assert_close(out["loss"], 100 * out["l1"])
    both = Pix2Pix(data_shape=(3, 16, 16), g_features=4, d_features=4, d_layers=1)
    torch.manual_seed(1)
    out = both.g_step((x, y))
    assert_close(out["loss"], out["gan"] + 100 * out["l1"])


def test_translation_models_have_no_latent_noise():
    model = tiny_cyclegan()
    with pytest.raises(LitGansError, match="translates images"):
        model.sample(4)
    with pytest.raises(LitGansError, match="X -> Y only"):
        Pix2Pix(data_shape=(3, 16, 16), g_features=4, d_features=4, d_layers=1).translate(
            torch.zeros(1, 3, 16, 16), inverse=True
        )


# --------------------------------------------------------------------------------------------------------------
# Metrics and grids
# --------------------------------------------------------------------------------------------------------------
def test_image_similarity_of_an_image_with_itself_and_with_a_known_offset():
    x = torch.rand(3, 3, 16, 16) * 2 - 1
    same = image_similarity(x, x)
    assert_close(same["l1"], torch.zeros(3))
    assert_close(same["ssim"], torch.ones(3))
    shifted = (x + 0.2).clamp(-1, 1)
    values = image_similarity(shifted, x)
    mse01 = (((shifted + 1) / 2 - (x + 1) / 2) ** 2).flatten(1).mean(1)
    assert_close(values["psnr"], -10 * torch.log10(mse01), rtol=1e-4, atol=1e-4)
    assert_close(values["l1"], (shifted - x).abs().flatten(1).mean(1))
    assert_close(same["colour"], torch.zeros(3))
    red = torch.full((2, 3, 8, 8), -1.0)
    red[:, 0, :4] = 1.0  # the top half of the red channel at 255: its mean is 127.5 levels, the others' 0
    assert_close(image_similarity(red, torch.full_like(red, -1.0))["colour"], torch.full((2,), 127.5 / 3))


def test_translation_metrics_against_the_known_answer(tmp_path, shapes_classifier):
    """On the offline unpaired task the true map is x -> -x: negation generators score l1 0, ssim 1, cycle 0 and
    FID ~0; identity generators score l1 = mean |x - (-x)| = 2 mean |x|."""
    data = ShapesUnpaired(image_size=16, num_train=16, num_val=40, batch_size=16)
    metrics = TranslationMetrics(extractor=ClassifierFeatures(shapes_classifier))
    model = tiny_cyclegan()
    model.generator = nn.ModuleDict({"G": Negate(), "F": Negate()})
    tiny_trainer(tmp_path, max_steps=1, limit_val_batches=None, callbacks=[metrics]).validate(model, data)
    values = metrics.last
    for direction in ("XtoY", "YtoX"):
        assert_close(values[f"{direction}/l1"], 0.0)
        assert_close(values[f"{direction}/ssim"], 1.0, atol=1e-4, rtol=0)
        assert_close(values[f"{direction}/colour"], 0.0, atol=1e-4, rtol=0)
        assert_close(values[f"{direction}/fid"], 0.0, atol=1e-3, rtol=0)
    assert_close(values["cycle"], 0.0)

    model.generator = nn.ModuleDict({"G": nn.Identity(), "F": nn.Identity()})
    tiny_trainer(tmp_path, max_steps=1, limit_val_batches=None, callbacks=[metrics]).validate(model, data)
    x = torch.stack([data.val_set[i][0] for i in range(40)])
    assert_close(metrics.last["XtoY/l1"], 2 * x.abs().mean().item(), rtol=1e-5, atol=1e-6)
    x01 = (x + 1) / 2  # the identity's colour error: |mean(x) - mean(1 - x)| per image and channel, in levels
    expected_colour = 255 * (2 * x01.mean((2, 3)) - 1).abs().mean().item()
    assert_close(metrics.last["XtoY/colour"], expected_colour, rtol=1e-4, atol=1e-3)
    assert metrics.last["XtoY/fid"] > 1.0  # black backgrounds judged against white ones
    lines = (tmp_path / "translation_metrics.jsonl").read_text().splitlines()
    assert len(lines) == 2 and json.loads(lines[0])["extractor"]["extractor"] == "classifier"


@pytest.mark.parametrize("model_name, panels", [("Pix2Pix", 3), ("CycleGAN", 6)])
def test_translation_grid_each_validation(tmp_path, model_name, panels):
    if model_name == "Pix2Pix":
        model = Pix2Pix(data_shape=(3, 16, 16), g_features=4, d_features=4, d_layers=1)
        data = ShapesPaired(image_size=16, num_train=32, num_val=8, batch_size=8)
    else:
        model, data = tiny_cyclegan(), ShapesUnpaired(image_size=16, num_train=32, num_val=8, batch_size=8)
    samples = LogSamples(num_translations=5)
    trainer = tiny_trainer(tmp_path, max_steps=2, val_check_interval=1, callbacks=[samples, TranslationMetrics()])
    trainer.fit(model, data)
    grids = sorted((tmp_path / "samples").glob("translations_step*.png"))
    assert [g.name for g in grids] == ["translations_step0000001.png", "translations_step0000002.png"]
    width, height = Image.open(grids[-1]).size
    assert (width, height) == (panels * 18 + 2, 5 * 18 + 2)  # a pair a row, 16 + 2 padding per tile


def test_ema_averages_both_cyclegan_generators(tmp_path):
    model = tiny_cyclegan(ema_decay=0.5)
    data = ShapesUnpaired(image_size=16, num_train=16, num_val=8, batch_size=4)
    tiny_trainer(tmp_path, max_steps=3, limit_val_batches=0).fit(model, data)
    assert set(model.generator_ema.keys()) == {"G", "F"}
    for name in ("G", "F"):
        average, current = model.generator_ema[name], model.generator[name]
        assert not torch.equal(next(average.parameters()), next(current.parameters()))
    x = data.val_set[0][0][None]
    assert_close(model.translate(x, inverse=True), model.generator_ema["F"].eval()(x))  # F's EMA copy translates
