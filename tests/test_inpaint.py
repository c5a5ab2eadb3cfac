"""``lit_gans.inpaint`` against closed forms (Yeh et al.'s importance weights, the prior term, Poisson blending),
the latent search with gradients only on z, and ``cli.py inpaint`` on a tiny DCGAN checkpoint with its one-line
errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image

from cli import main
from lit_gans import DCGAN, GAN, VAE, Pix2Pix
from lit_gans.errors import LitGansError
from lit_gans.gans import ContextEncoder
from lit_gans.inpaint import (
    center_mask,
    graph_laplacian,
    importance_weights,
    inpainting_loss,
    left_mask,
    make_mask,
    masked,
    poisson_blend,
    random_mask,
    search,
)
from tests.test_cli import fail_message

torch.set_num_threads(1)
SIZE, Z = 16, 8


def test_masks_mark_known_pixels_with_one():
    center = center_mask(2, (8, 8))
    assert center.shape == (2, 1, 8, 8)
    assert center[0, 0, 2:6, 2:6].sum() == 0 and center.sum() == 2 * (64 - 16)
    left = left_mask(1, (4, 6))
    torch.testing.assert_close(left[0, 0], torch.tensor([[0.0, 0, 0, 1, 1, 1]]).expand(4, 6))
    rand = random_mask(4, (64, 64), 0.8, torch.Generator().manual_seed(0))
    # 16384 Bernoulli(0.2) draws: the known fraction is 0.2 within 4 standard deviations (4 * 0.0031)
    torch.testing.assert_close(rand.mean(), torch.tensor(0.2), rtol=0, atol=0.0125)
    torch.testing.assert_close(make_mask("random:0.8", 4, (64, 64), torch.Generator().manual_seed(0)), rand)


def test_mask_files_tensor_and_image(tmp_path):
    left = left_mask(1, (6, 8))
    torch.save(left[0, 0] * 3, tmp_path / "m.pt")  # nonzero = known
    torch.testing.assert_close(make_mask(str(tmp_path / "m.pt"), 2, (6, 8)), left.expand(2, 1, 6, 8))
    Image.fromarray((left[0, 0] * 255).byte().numpy()).save(tmp_path / "m.png")  # white = known
    torch.testing.assert_close(make_mask(str(tmp_path / "m.png"), 1, (6, 8)), left)


def test_importance_weights_closed_form_on_a_left_hole():
    # 3x3 window, the left 4 of 8 columns missing: only column 4 (the first known) sees missing pixels, 3 of 9
    # in its window (column 3, rows i-1..i+1), 2 of 9 at the top and bottom rows (outside the image counts as known)
    weights = importance_weights(left_mask(1, (8, 8)), window=3)[0, 0]
    expected = torch.zeros(8, 8)
    expected[:, 4] = 3 / 9
    expected[[0, -1], 4] = 2 / 9
    torch.testing.assert_close(weights, expected, rtol=0, atol=1e-7)
    # the paper's 7x7 window: a known pixel 1, 2 or 3 columns right of a full-height hole sees 21, 14, 7 of 49
    # missing pixels in mid-image rows; 0 from column 4 + 3 = 7 on, and 0 in the hole
    weights = importance_weights(left_mask(1, (16, 16)), window=7)[0, 0]
    torch.testing.assert_close(weights[8, 6:12], torch.tensor([0.0, 0, 21 / 49, 14 / 49, 7 / 49, 0]), rtol=0, atol=1e-7)


def test_loss_is_weighted_l1_plus_lambda_log_one_minus_d():
    fake, images = torch.randn(3, 2, 4, 4), torch.randn(3, 2, 4, 4)
    weights, logits = torch.rand(3, 1, 4, 4), torch.randn(3, 1)
    total, contextual = inpainting_loss(fake, images, weights, logits, lam=0.003)
    expected_context = (weights * (fake - images)).abs().sum((1, 2, 3))
    torch.testing.assert_close(contextual, expected_context, rtol=1e-6, atol=1e-6)
    # log(1 - D(G(z))) with D = sigmoid(logit)
    prior = torch.log(1 - torch.sigmoid(logits.double())).squeeze(1).float()
    torch.testing.assert_close(total, expected_context + 0.003 * prior, rtol=1e-6, atol=1e-6)


def tiny_dcgan(seed: int = 0) -> DCGAN:
    torch.manual_seed(seed)
    return DCGAN(data_shape=(1, SIZE, SIZE), z_dim=Z, g_features=4, d_features=4).eval()


def test_search_gradient_reaches_only_z():
    model = tiny_dcgan()
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    images = torch.rand(2, 1, SIZE, SIZE) * 2 - 1
    model.train()  # the search must still run G and D in eval mode and restore training mode
    z, loss = search(model, images, center_mask(2, (SIZE, SIZE)), steps=5, lr=0.03, starts=2, lam=0.003)
    assert z.shape == (2, Z) and loss.shape == (2,)
    assert model.generator.training and model.discriminator.training
    for name, p in model.named_parameters():
        assert p.grad is None, name
        assert p.requires_grad, name
        torch.testing.assert_close(p.detach(), before[name], rtol=0, atol=0)
    # and the objective does reach z: a nonzero gradient through G and D
    model.eval()
    latent = torch.randn(2, Z, requires_grad=True)
    fake = model.generate(latent)
    weights = importance_weights(center_mask(2, (SIZE, SIZE)))
    total, _ = inpainting_loss(fake, images, weights, model.discriminator(fake), lam=0.003)
    (grad,) = torch.autograd.grad(total.sum(), latent)
    assert grad.abs().sum() > 0


def linear_gan() -> GAN:
    """A fixed G: ``tanh(A z + b)`` reshaped to 8x8, injective on the 48 known pixels of a center mask."""
    torch.manual_seed(3)
    return GAN(data_shape=(1, 8, 8), z_dim=4, g_hidden=(), d_hidden=(4,)).eval()


def test_search_recovers_a_known_latent_and_fills_the_hole():
    model = linear_gan()
    z_true = torch.randn(3, 4, generator=torch.Generator().manual_seed(1))
    truth = model.sample_from(z_true)
    mask = center_mask(3, (8, 8))
    z, _ = search(model, masked(truth, mask), mask, steps=600, lr=0.01, starts=2, lam=0.0)
    # Adam's sign-like steps on an L1 loss hover within a few lr of the minimum
    torch.testing.assert_close(z, z_true, rtol=0, atol=0.05)
    torch.testing.assert_close(model.sample_from(z) * (1 - mask), truth * (1 - mask), rtol=0, atol=0.05)


def test_poisson_blend_with_a_shifted_generation_gives_the_truth():
    # G(z) = y + c everywhere: the gradients agree, so the blend restores y exactly in the hole
    y = torch.rand(2, 3, 12, 12, dtype=torch.float64) * 2 - 1
    for mask in (center_mask(2, (12, 12)), left_mask(2, (12, 12)), random_mask(2, (12, 12), 0.8)):
        mask = mask.double()
        blended = poisson_blend(masked(y, mask), y + 0.37, mask)
        torch.testing.assert_close(blended, y, rtol=0, atol=1e-8)


def test_poisson_blend_reproduces_a_ramp_and_solves_the_discrete_equations():
    rows = torch.arange(10, dtype=torch.float64)
    ramp = (0.1 * rows[:, None] - 0.05 * rows[None, :]).expand(1, 1, 10, 10)  # linear: Laplacian 0 inside
    mask = center_mask(1, (10, 10)).double()
    blended = poisson_blend(masked(ramp, mask), torch.zeros_like(ramp), mask)  # G flat: Laplace's equation
    torch.testing.assert_close(blended, ramp, rtol=0, atol=1e-8)
    # any G: x = y on known pixels, L x = L G in the hole
    y, g = torch.randn(2, 2, 9, 9, dtype=torch.float64), torch.randn(2, 2, 9, 9, dtype=torch.float64)
    mask = random_mask(2, (9, 9), 0.6, torch.Generator().manual_seed(2)).double()
    x = poisson_blend(y, g, mask)
    torch.testing.assert_close(x * mask, y * mask, rtol=0, atol=0)
    hole = 1 - mask
    torch.testing.assert_close(graph_laplacian(x) * hole, graph_laplacian(g) * hole, rtol=0, atol=1e-8)


@pytest.fixture
def dcgan_checkpoint(tiny_dcgan_checkpoint) -> Path:
    """A tiny DCGAN after 3 batches on 1-channel 16x16 Shapes (``SIZE``, ``Z``), shared with the other commands'
    tests."""
    return tiny_dcgan_checkpoint


def test_cli_writes_a_grid_and_a_tensor(dcgan_checkpoint, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    ckpt = f"--ckpt_path={dcgan_checkpoint}"
    images = torch.rand(3, 1, SIZE, SIZE) * 2 - 1
    torch.save(images, "x.pt")
    main(["inpaint", ckpt, "--images=x.pt", "--mask=center", "--steps=5", "--starts=2", "--output=g.png"])
    assert Image.open("g.png").size == (3 * 18 + 2, 3 * 18 + 2)  # rows: masked, G(z*), blended
    main(["inpaint", ckpt, "--images=x.pt", "--mask=random:0.8", "--steps=5", "--output=o.pt"])
    masked_input, fake, blended = torch.load("o.pt")
    assert fake.shape == (3, 1, SIZE, SIZE)
    known = masked_input != -1  # the masked input is -1 in the hole (and almost surely nowhere else)
    torch.testing.assert_close(blended[known], images[known], rtol=0, atol=1e-6)
    torch.save(left_mask(1, (SIZE, SIZE)), "m.pt")
    Image.fromarray(((images[0, 0] + 1) * 127.5).round().byte().numpy()).save("one.png")
    main(["inpaint", ckpt, "--images=one.png", "--mask=m.pt", "--steps=3", "--lam=0", "--output=one.png.pt"])
    assert torch.load("one.png.pt").shape == (3, 1, 1, SIZE, SIZE)
    assert capsys.readouterr().out.count("inpainted") == 3
    torch.save(torch.rand(2, 1, 8, 8), "small.pt")
    err = fail_message(capsys, ["inpaint", ckpt, "--images=small.pt", "--output=o.png"])
    assert "--images are [1, 8, 8], G draws [1, 16, 16]" in err and len(err.strip().splitlines()) == 1, err
    err = fail_message(capsys, ["inpaint", ckpt, "--images=x.pt", "--mask=diagonal", "--output=o.png"])
    assert "--mask must be center, left, random:P or an existing file" in err
    err = fail_message(capsys, ["inpaint", ckpt, "--images=x.pt", "--output=o.gif"])
    assert "--output must end in .png or .pt" in err


@pytest.mark.parametrize(
    ("model", "argv", "message"),
    [
        (lambda: Pix2Pix(data_shape=(1, SIZE, SIZE), g_features=4, d_features=4, d_layers=1), [], "Pix2Pix translates"),
        (lambda: GAN(data_shape=(2,), z_dim=2, g_hidden=(4,), d_hidden=(4,)), [], "draws points [2], not images"),
        (lambda: VAE(data_shape=(1, SIZE, SIZE), z_dim=4, features=4), [], "no discriminator for the prior loss"),
    ],
)
def test_cli_says_in_one_line_why_a_model_cannot(model, argv, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("lit_gans.commands.inpaint.load_gan", lambda path: model().eval())
    err = fail_message(capsys, ["inpaint", "--ckpt_path=any.ckpt", *argv, "--images=x.pt", "--output=o.png"])
    assert message in err and len(err.strip().splitlines()) == 1, err


def test_cli_inpaints_with_a_vae_at_lambda_zero(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    torch.manual_seed(0)
    vae = VAE(data_shape=(1, SIZE, SIZE), z_dim=4, features=4).eval()
    monkeypatch.setattr("lit_gans.commands.inpaint.load_gan", lambda path: vae)
    torch.save(torch.rand(2, 1, SIZE, SIZE) * 2 - 1, "x.pt")
    main(["inpaint", "--ckpt_path=any.ckpt", "--images=x.pt", "--lam=0", "--steps=3", "--output=o.pt"])
    assert torch.load("o.pt").shape == (3, 2, 1, SIZE, SIZE)


@pytest.fixture(scope="module")
def context_encoder_checkpoint(tmp_path_factory) -> Path:
    """A tiny ContextEncoder (centre holes) after 2 batches on 1-channel 16x16 Shapes, saved."""
    from datamodules import Shapes
    from tests.helpers import tiny_trainer

    root = tmp_path_factory.mktemp("tiny_context_encoder")
    torch.manual_seed(0)
    model = ContextEncoder(
        data_shape=(1, SIZE, SIZE), mask="center", overlap=1, g_features=4, d_features=4, bottleneck=8
    )
    data = Shapes(image_size=SIZE, channels=1, num_train=16, num_val=8, batch_size=8)
    trainer = tiny_trainer(root, max_steps=2, limit_val_batches=0)
    trainer.fit(model, data)
    trainer.save_checkpoint(root / "ce.ckpt")
    return root / "ce.ckpt"


def test_cli_fills_with_a_context_encoder_prediction(context_encoder_checkpoint, tmp_path, monkeypatch, capsys):
    """A ContextEncoder checkpoint is filled by its prediction, pasted (or Poisson-blended with --blend), not by the
    latent search; another mask than the trained one runs with a one-line note."""
    monkeypatch.chdir(tmp_path)
    ckpt = f"--ckpt_path={context_encoder_checkpoint}"
    images = torch.rand(3, 1, SIZE, SIZE) * 2 - 1
    torch.save(images, "x.pt")
    main(["inpaint", ckpt, "--images=x.pt", "--mask=center", "--output=c.pt"])
    out = capsys.readouterr().out
    assert "note:" not in out and "inpainted 3 images" in out
    shown, prediction, pasted = torch.load("c.pt")
    mask = center_mask(3, (SIZE, SIZE))
    model = ContextEncoder.load_from_checkpoint(context_encoder_checkpoint, weights_only=True)
    torch.testing.assert_close(prediction, model.fill(images, mask), rtol=0, atol=1e-6)
    torch.testing.assert_close(pasted, mask * images + (1 - mask) * prediction, rtol=0, atol=1e-6)
    torch.testing.assert_close(shown, masked(images, mask), rtol=0, atol=0)
    main(["inpaint", ckpt, "--images=x.pt", "--mask=left", "--blend", "--output=l.pt"])
    assert "note: this ContextEncoder was trained on center holes; filling --mask left holes" in capsys.readouterr().out
    _, prediction, blended = torch.load("l.pt")
    mask = left_mask(3, (SIZE, SIZE))
    torch.testing.assert_close(blended, poisson_blend(images, prediction, mask), rtol=0, atol=1e-6)
    assert (blended - (mask * images + (1 - mask) * prediction)).abs().max() > 1e-3  # blended, not pasted
    main(["inpaint", ckpt, "--images=x.pt", "--mask=random:0.8", "--output=r.png"])
    assert Image.open("r.png").size == (3 * 18 + 2, 3 * 18 + 2)  # rows: masked, prediction, pasted


def test_a_mask_file_that_holds_no_tensor_is_named(tmp_path):
    not_a_tensor, garbage = tmp_path / "labels.pt", tmp_path / "garbage.pt"
    torch.save({"labels": [1, 2]}, not_a_tensor)
    garbage.write_bytes(b"not a pickle")
    with pytest.raises(LitGansError, match=r"mask .*labels.pt holds a dict, not a tensor"):
        make_mask(str(not_a_tensor), 1, (8, 8))
    with pytest.raises(LitGansError, match=r"mask .*garbage.pt is not a readable tensor"):
        make_mask(str(garbage), 1, (8, 8))
