"""``lit_gans.latent`` against closed forms (lerp, slerp on a great circle, averaged arithmetic), inversion of a fixed
G with gradients only on z, and ``cli.py latent`` on a tiny DCGAN checkpoint with its one-line errors."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
from PIL import Image

from cli import main
from lit_gans import CGAN, DCGAN, GAN, Pix2Pix
from lit_gans.latent import (
    arithmetic,
    classifier_features,
    concept_vector,
    discriminator_features,
    interpolation_path,
    invert,
    lerp,
    slerp,
    top_exemplars,
    variants,
)
from lit_gans.metrics.classifier import SmallConvClassifier, save_classifier
from tests.test_cli import fail_message

torch.set_num_threads(1)
SIZE, Z = 16, 8


def great_circle(theta: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Unit vectors ``e1`` and ``cos(theta) e1 + sin(theta) e2`` in R^4, ``[1, 4]`` each."""
    a = torch.tensor([[1.0, 0.0, 0.0, 0.0]], dtype=torch.float64)
    b = torch.tensor([[math.cos(theta), math.sin(theta), 0.0, 0.0]], dtype=torch.float64)
    return a, b


def test_lerp_endpoints_and_midpoint():
    a, b = torch.randn(5, 3, dtype=torch.float64), torch.randn(5, 3, dtype=torch.float64)
    torch.testing.assert_close(lerp(a, b, 0.0), a, rtol=0, atol=0)
    torch.testing.assert_close(lerp(a, b, 1.0), b, rtol=0, atol=1e-15)
    torch.testing.assert_close(lerp(a, b, 0.5), (a + b) / 2, rtol=0, atol=1e-15)
    t = torch.linspace(0, 1, 5, dtype=torch.float64)  # one t a row
    torch.testing.assert_close(lerp(a, b, t), a + t[:, None] * (b - a), rtol=0, atol=1e-15)


@pytest.mark.parametrize("theta", [0.3, 1.0, 2.5])
def test_slerp_follows_the_great_circle(theta):
    a, b = great_circle(theta)
    torch.testing.assert_close(slerp(a, b, 0.0), a, rtol=0, atol=1e-12)
    torch.testing.assert_close(slerp(a, b, 1.0), b, rtol=0, atol=1e-12)
    t = torch.linspace(0, 1, 11, dtype=torch.float64)
    path = slerp(a.expand(11, -1), b.expand(11, -1), t)
    # closed form: the point at angle t * theta from e1 in the (e1, e2) plane, norm 1 throughout
    expected = torch.zeros(11, 4, dtype=torch.float64)
    expected[:, 0], expected[:, 1] = torch.cos(t * theta), torch.sin(t * theta)
    torch.testing.assert_close(path, expected, rtol=0, atol=1e-12)
    torch.testing.assert_close(path.norm(dim=1), torch.ones(11, dtype=torch.float64), rtol=0, atol=1e-12)
    # the midpoint is theta / 2 from each end; lerp's midpoint has norm cos(theta / 2)
    mid = slerp(a, b, 0.5)
    torch.testing.assert_close(torch.arccos((mid * a).sum()), torch.tensor(theta / 2, dtype=torch.float64))
    torch.testing.assert_close(lerp(a, b, 0.5).norm(), torch.tensor(math.cos(theta / 2), dtype=torch.float64))


def test_slerp_of_parallel_and_opposite_rows_falls_back_to_lerp():
    a = torch.tensor([[1.0, 2.0, 3.0], [1.0, 0.0, 0.0]])
    b = torch.tensor([[2.0, 4.0, 6.0], [-1.0, 0.0, 0.0]])  # parallel (norm 2x), opposite
    out = slerp(a, b, 0.25)
    torch.testing.assert_close(out, lerp(a, b, 0.25), rtol=0, atol=1e-6)
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("method", ["lerp", "slerp"])
def test_interpolation_path_lengths_and_knots(method):
    latents = torch.randn(3, Z)
    path = interpolation_path(latents, steps=4, method=method)
    assert path.shape == ((3 - 1) * 4 + 1, Z)
    torch.testing.assert_close(path[[0, 4, 8]], latents, rtol=0, atol=1e-6)  # every latent is a knot of the path
    assert interpolation_path(latents[:2], steps=1, method=method).shape == (2, Z)


def test_concepts_are_means_of_exemplars_and_arithmetic_matches_a_hand_computation():
    latents = torch.tensor([[1.0, 0.0], [3.0, 2.0], [0.0, 4.0], [2.0, 2.0], [-1.0, 1.0]])
    # a = mean of rows 0, 1 = (2, 1); b = mean of rows 2, 3 = (1, 3); c = mean of row 4 = (-1, 1)
    a = concept_vector(latents, [0, 1])
    b = concept_vector(latents, torch.tensor([False, False, True, True, False]))
    c = concept_vector(latents, [4])
    torch.testing.assert_close(a, torch.tensor([2.0, 1.0]), rtol=0, atol=0)
    torch.testing.assert_close(b, torch.tensor([1.0, 3.0]), rtol=0, atol=0)
    # (2, 1) - (1, 3) + (-1, 1) = (0, -1), from the means or from the exemplar sets themselves
    torch.testing.assert_close(arithmetic(a, b, c), torch.tensor([0.0, -1.0]), rtol=0, atol=0)
    torch.testing.assert_close(arithmetic(latents[:2], latents[2:4], latents[4:]), torch.tensor([0.0, -1.0]))
    noisy = variants(torch.tensor([0.0, -1.0]), 500, noise=0.25, generator=torch.Generator().manual_seed(0))
    assert noisy.shape == (500, 2)
    assert ((noisy - torch.tensor([0.0, -1.0])).abs() <= 0.25).all()  # U(-0.25, 0.25): mean 0, sd 0.25 / sqrt 3
    torch.testing.assert_close(noisy.mean(0), torch.tensor([0.0, -1.0]), rtol=0, atol=0.03)  # 4.6 sd of the mean
    torch.testing.assert_close(noisy.std(0), torch.full((2,), 0.25 / math.sqrt(3)), rtol=0.1, atol=0)


def test_top_exemplars_are_the_most_confident_of_their_class():
    p = torch.tensor([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8], [0.95, 0.05], [0.45, 0.55]])
    assert sorted(top_exemplars(p, 0, 2).tolist()) == [0, 3]
    assert sorted(top_exemplars(p, 1, 2).tolist()) == [2, 4]
    with pytest.raises(ValueError, match="only 2 of 5 samples are classified as 1"):
        top_exemplars(p, 1, 3)


def tiny_dcgan(seed: int = 0) -> DCGAN:
    torch.manual_seed(seed)
    return DCGAN(data_shape=(1, SIZE, SIZE), z_dim=Z, g_features=4, d_features=4).eval()


def test_inversion_recovers_a_known_latent_of_a_fixed_g_and_leaves_g_untouched():
    model = tiny_dcgan()
    before = {name: p.detach().clone() for name, p in model.generator.named_parameters()}
    z_true = torch.randn(3, Z, generator=torch.Generator().manual_seed(1))
    target = model.sample_from(z_true)
    first_guess = model.sample_from(torch.randn(3, Z, generator=torch.Generator().manual_seed(2)))
    start_error = (first_guess - target).pow(2).flatten(1).mean(1)
    found, errors = invert(model, target, steps=300, lr=0.05, starts=3, generator=torch.Generator().manual_seed(3))
    # the reported error is that of the latent returned
    torch.testing.assert_close(errors, (model.sample_from(found) - target).pow(2).flatten(1).mean(1))
    assert (errors < 0.05 * start_error).all(), (errors, start_error)  # the error falls by 20x or more
    torch.testing.assert_close(model.sample_from(found), target, rtol=0, atol=1e-3)
    # and the latent itself (|z| ~ 3; measured within 0.02 of it, so not another latent that draws the same image)
    torch.testing.assert_close(found, z_true, rtol=0, atol=0.05)
    for name, p in model.generator.named_parameters():
        assert p.grad is None, name  # only z was optimised
        assert p.requires_grad, name  # restored
        torch.testing.assert_close(p, before[name], rtol=0, atol=0)
    assert not model.generator.training  # eval mode as it was (load_gan gives eval models)


def test_inversion_with_a_feature_loss_reports_pixel_error():
    model = tiny_dcgan()
    torch.manual_seed(0)
    classifier = SmallConvClassifier(1, 3, width=4, feature_dim=8).eval().requires_grad_(False)
    target = model.sample_from(torch.randn(2, Z))
    found, errors = invert(model, target, steps=30, lr=0.05, starts=2, feature_fn=classifier_features(classifier))
    assert found.shape == (2, Z) and errors.shape == (2,)
    torch.testing.assert_close(errors, (model.sample_from(found) - target).pow(2).flatten(1).mean(1))


def test_inversion_with_d_features_sends_no_gradient_to_g_or_d():
    model = tiny_dcgan()
    target = model.sample_from(torch.randn(2, Z, generator=torch.Generator().manual_seed(1)))
    found, errors = invert(model, target, steps=20, lr=0.05, starts=2, feature_fn=discriminator_features(model))
    assert found.shape == (2, Z)
    for p in [*model.generator.parameters(), *model.discriminator.parameters()]:
        assert p.grad is None


@pytest.fixture
def dcgan_checkpoint(tiny_dcgan_checkpoint) -> Path:
    """A tiny DCGAN after 3 batches on 1-channel 16x16 Shapes (``SIZE``, ``Z``), shared with the other commands'
    tests."""
    return tiny_dcgan_checkpoint


def test_cli_interpolates_to_png_and_gif(dcgan_checkpoint, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    ckpt = f"--ckpt_path={dcgan_checkpoint}"
    main(["latent", ckpt, "--mode=interpolate", "--paths=3", "--steps=4", "--output=walk.png"])
    assert Image.open("walk.png").size == (5 * 18 + 2, 3 * 18 + 2)  # 3 paths of 4 + 1 frames, 16 px + 2 padding
    main(["latent", ckpt, "--mode=interpolate", "--indices=[0, 5, 9]", "--method=lerp", "--steps=3", "--output=w.gif"])
    gif = Image.open("w.gif")
    assert gif.n_frames == 2 * 7 - 2  # 7 frames forth, 5 back
    main(["latent", ckpt, "--mode=interpolate", "--indices=[0, 5]", "--steps=4", "--output=walk.pt"])
    walk = torch.load("walk.pt")
    assert walk.shape == (5, 1, SIZE, SIZE)
    # the ends are the pool samples 0 and 5: those of `cli.py sample --num_samples 64 --seed 0`
    main(["sample", ckpt, "--num_samples=64", "--seed=0", "--output=pool.pt"])
    torch.testing.assert_close(walk[[0, -1]], torch.load("pool.pt")[[0, 5]], rtol=0, atol=1e-5)
    assert "wrote 7 frames of 1 paths to w.gif" in capsys.readouterr().out


def test_cli_arithmetic_by_indices_and_by_classifier(dcgan_checkpoint, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    ckpt = f"--ckpt_path={dcgan_checkpoint}"
    main(
        [
            "latent",
            ckpt,
            "--mode=arithmetic",
            "--a=[1,2,3]",
            "--b=[4,5,6]",
            "--c=[7,8]",
            "--variants=5",
            "--output=a.png",
        ]
    )
    assert Image.open("a.png").size == (8 * 18 + 2, 4 * 18 + 2)  # rows a, b, c, then 3 means + 5 variants
    main(
        [
            "latent",
            ckpt,
            "--mode=arithmetic",
            "--a=[1,2,3]",
            "--b=[4,5,6]",
            "--c=[7,8]",
            "--variants=5",
            "--output=a.pt",
        ]
    )
    grid = torch.load("a.pt")
    assert grid.shape == (32, 1, SIZE, SIZE)
    torch.testing.assert_close(grid[[16 + 6, 16 + 7]], torch.full((2, 1, SIZE, SIZE), -1.0))  # c's empty tiles
    write_classifier("c.pt", always=0)  # every sample is a 0, all equally confident
    args = ["--mode=arithmetic", "--classifier=c.pt", "--pool=32", "--exemplars=2", "--noise=0", "--variants=1"]
    main(["latent", ckpt, *args, "--a=0", "--b=0", "--c=0", "--output=k.pt"])
    # width 4 (3 means + 1 variant); a = b = c, so with no noise a - b + c is the mean of c's exemplars
    grid = torch.load("k.pt")
    assert grid.shape == (16, 1, SIZE, SIZE)
    torch.testing.assert_close(grid[12 + 3], grid[12 + 2], rtol=0, atol=1e-5)
    err = fail_message(capsys, ["latent", ckpt, *args, "--a=1", "--b=0", "--c=0", "--output=k.pt"])
    assert "only 0 of 32 samples are classified as 1" in err


def write_classifier(path: str, always: int | None = None) -> None:
    """A tiny 2-class classifier file for 1-channel SIZE images: random, or one that says ``always``."""
    torch.manual_seed(0)
    classifier = SmallConvClassifier(1, 2, width=4, feature_dim=8).eval()
    if always is not None:
        with torch.no_grad():
            classifier.head.weight.zero_()
            classifier.head.bias.copy_(torch.nn.functional.one_hot(torch.tensor(always), 2).float())
    save_classifier(classifier, {"data_shape": [1, SIZE, SIZE], "num_classes": 2, "width": 4, "feature_dim": 8}, path)


def test_cli_inverts_images_with_and_without_features(dcgan_checkpoint, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    ckpt = f"--ckpt_path={dcgan_checkpoint}"
    main(["sample", ckpt, "--num_samples=3", "--seed=7", "--output=targets.pt"])
    write_classifier("c.pt")
    main(["latent", ckpt, "--mode=invert", "--images=targets.pt", "--steps=20", "--starts=2", "--output=inv.png"])
    assert Image.open("inv.png").size == (3 * 18 + 2, 2 * 18 + 2)  # the originals' row, then the reconstructions'
    main(["latent", ckpt, "--mode=invert", "--images=targets.pt", "--steps=20", "--classifier=c.pt", "--output=i.pt"])
    pair = torch.load("i.pt")
    assert pair.shape == (2, 3, 1, SIZE, SIZE)
    torch.testing.assert_close(pair[0], torch.load("targets.pt"))
    main(["latent", ckpt, "--mode=invert", "--images=targets.pt", "--steps=5", "--d_features=true", "--output=d.pt"])
    assert torch.load("d.pt").shape == (2, 3, 1, SIZE, SIZE)
    Image.fromarray(((torch.load("targets.pt")[0, 0] + 1) * 127.5).round().byte().numpy()).save("one.png")
    main(["latent", ckpt, "--mode=invert", "--images=one.png", "--steps=5", "--starts=1", "--output=one_inv.png"])
    assert capsys.readouterr().out.count("inverted") == 4
    both = ["--d_features=true", "--classifier=c.pt", "--output=x.pt"]
    err = fail_message(capsys, ["latent", ckpt, "--mode=invert", "--images=targets.pt", *both])
    assert "--d_features and --classifier both name the feature loss" in err


@pytest.mark.parametrize(
    ("model", "argv", "message"),
    [
        (lambda: Pix2Pix(data_shape=(1, SIZE, SIZE), g_features=4, d_features=4, d_layers=1), [], "Pix2Pix translates"),
        (lambda: GAN(data_shape=(2,), z_dim=2, g_hidden=(4,), d_hidden=(4,)), ["--mode=invert"], "draws points [2]"),
        (lambda: GAN(data_shape=(2,), z_dim=2, g_hidden=(4,), d_hidden=(4,)), [], "draws points [2], not images"),
        (lambda: CGAN(data_shape=(1, SIZE, SIZE), num_classes=3, g_hidden=(8,), d_hidden=(8,)), [], "--labels N"),
        (lambda: CGAN(data_shape=(1, SIZE, SIZE), num_classes=3, g_hidden=(8,), d_hidden=(8,)), ["--labels=5"], "0..2"),
        (tiny_dcgan, ["--labels=1"], "DCGAN is unconditional"),
    ],
)
def test_cli_says_in_one_line_why_a_model_cannot(model, argv, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("lit_gans.commands.latent.load_gan", lambda path: model().eval())
    argv = argv if any(a.startswith("--mode") for a in argv) else ["--mode=interpolate", *argv]
    err = fail_message(capsys, ["latent", "--ckpt_path=any.ckpt", *argv, "--images=x.pt", "--output=o.png"])
    assert message in err and len(err.strip().splitlines()) == 1, err


def test_cli_errors_before_loading_the_model(dcgan_checkpoint, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    ckpt = f"--ckpt_path={dcgan_checkpoint}"
    err = fail_message(
        capsys, ["latent", ckpt, "--mode=invert", "--images=x.pt", "--classifier=no.pt", "--output=o.png"]
    )
    assert "classifier file no.pt does not exist" in err
    err = fail_message(capsys, ["latent", ckpt, "--mode=arithmetic", "--output=o.gif"])
    assert "--mode arithmetic writes .png or .pt" in err
    err = fail_message(capsys, ["latent", ckpt, "--mode=invert", "--images=missing.pt", "--output=o.png"])
    assert "--images missing.pt does not exist" in err
    err = fail_message(
        capsys, ["latent", ckpt, "--mode=arithmetic", "--a=[1]", "--b=[2]", "--c=[99]", "--output=o.png"]
    )
    assert "indices in 0..63" in err


def test_cli_walks_a_conditional_model_at_the_given_class(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    torch.manual_seed(0)
    cgan = CGAN(data_shape=(1, SIZE, SIZE), num_classes=3, g_hidden=(8,), d_hidden=(8,)).eval()
    monkeypatch.setattr("lit_gans.commands.latent.load_gan", lambda path: cgan)
    main(["latent", "--ckpt_path=any.ckpt", "--mode=interpolate", "--labels=2", "--indices=[0,3]", "--output=w.pt"])
    walk = torch.load("w.pt")
    assert walk.shape == (8 + 1, 1, SIZE, SIZE)
    # the ends: pool samples 0 and 3 of class 2
    ends = cgan.sample_latent(64, torch.Generator().manual_seed(0))[[0, 3]]
    torch.testing.assert_close(walk[[0, -1]], cgan.sample_from(ends, labels=torch.tensor([2, 2])), rtol=0, atol=1e-5)
