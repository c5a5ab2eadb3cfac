"""VAE (Kingma & Welling 2014) and VAE-GAN (Larsen et al. 2016): the ELBO's maths against closed forms, the VAE-GAN's
gradient routing and equilibrium rule, learning on tiny images, and the CLI with no data."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch.testing import assert_close
from torch.utils.data import DataLoader, TensorDataset

import lit_gans
from cli import main
from datamodules import Shapes
from lit_gans.losses import gaussian_kl_per_sample, reparameterize
from tests.gans.test_learning import CONTRAST, pixel_w1
from tests.helpers import tiny_trainer

QUIET = ["--trainer.enable_progress_bar=false", "--trainer.enable_model_summary=false"]


@pytest.fixture
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# ----------------------------------------------------------------------------------------------------------------------
# The ELBO's pieces
# ----------------------------------------------------------------------------------------------------------------------
def test_kl_closed_form_matches_monte_carlo():
    """KL(q || N(0, I)) = E_q[log q(z) - log p(z)], estimated with 200,000 draws a row; the estimate's standard error
    is below 0.01 for these KLs (0.5 to 3 nats): tolerance 0.03."""
    generator = torch.Generator().manual_seed(0)
    mu = torch.randn(4, 3, generator=generator)
    logvar = torch.randn(4, 3, generator=generator).clamp(-1.5, 1.5)
    eps = torch.randn(200_000, 4, 3, generator=generator)
    z = reparameterize(mu, logvar, eps)  # [S, 4, 3]
    log_q = (-0.5 * (eps.square() + logvar + math.log(2 * math.pi))).sum(-1)
    log_p = (-0.5 * (z.square() + math.log(2 * math.pi))).sum(-1)
    assert_close(gaussian_kl_per_sample(mu, logvar), (log_q - log_p).mean(0), rtol=0, atol=0.03)
    assert_close(gaussian_kl_per_sample(torch.zeros(2, 5), torch.zeros(2, 5)), torch.zeros(2))  # q = p: 0


def test_reparametrised_gradient_matches_closed_form():
    """For f(z) = z^2, E_q[f] = mu^2 + sigma^2: d/dmu = 2 mu, d/dlogvar = sigma^2. The autograd gradient of the
    400,000-sample mean of f(mu + sigma eps) has standard errors 2 sigma / sqrt(S) and sigma^2 sqrt(2 / S), below
    0.01 here: tolerance 0.03 absolute plus 2% relative."""
    generator = torch.Generator().manual_seed(1)
    mu = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
    logvar = torch.tensor([0.0, -1.0, 0.7], requires_grad=True)
    eps = torch.randn(400_000, 3, generator=generator)
    reparameterize(mu, logvar, eps).square().mean(0).sum().backward()
    assert_close(mu.grad, 2 * mu.detach(), rtol=0.02, atol=0.03)
    assert_close(logvar.grad, logvar.detach().exp(), rtol=0.02, atol=0.03)


def linear_gaussian_vae(w: float, b: float, s: float) -> lit_gans.VAE:
    """p(z) = N(0, 1), p(x|z) = N(w z + b, s^2) on 1D points: a linear decoder, with log p(x) = log N(x; b, w^2 + s^2)
    and the exact posterior N(m(x), v), v = 1 / (1 + w^2 / s^2), m(x) = v w (x - b) / s^2, which a linear encoder
    with a constant logvar represents."""
    model = lit_gans.VAE(data_shape=(1,), z_dim=1, network="mlp", hidden=(), likelihood="gaussian", gaussian_std=s)
    decoder = model.generator.net[0]  # Linear(1, 1)
    encoder = model.encoder.net[1]  # Linear(1, 2): (mu, logvar)
    v = 1 / (1 + w**2 / s**2)
    with torch.no_grad():
        decoder.weight.fill_(w), decoder.bias.fill_(b)
        encoder.weight.copy_(torch.tensor([[v * w / s**2], [0.0]]))
        encoder.bias.copy_(torch.tensor([-v * w * b / s**2, math.log(v)]))
    return model


def test_elbo_equals_log_evidence_at_the_exact_posterior_and_bounds_it_elsewhere():
    """On the linear Gaussian model the ELBO equals log p(x) when q is the exact posterior and is below it
    otherwise (by KL(q || posterior)). One-sample estimates averaged over 100,000 draws (standard error < 0.005):
    tolerance 0.02."""
    torch.manual_seed(0)
    w, b, s = 1.5, 0.3, 0.5
    model = linear_gaussian_vae(w, b, s)
    x = torch.tensor([[-1.0], [0.2], [2.5]])
    log_evidence = -0.5 * ((x[:, 0] - b) ** 2 / (w**2 + s**2) + math.log(2 * math.pi * (w**2 + s**2)))
    repeated = x.repeat(100_000, 1)  # [S * 3, 1]
    with torch.no_grad():
        terms = model.elbo_terms(repeated)
        elbo = terms["elbo"].reshape(-1, 3).mean(0)
        assert_close(elbo, log_evidence, rtol=0, atol=0.02)
        assert (terms["kl"] >= 0).all() and terms["reconstruction"].shape == terms["kl"].shape == (300_000,)
        model.encoder.net[1].bias[1] += 1.0  # a posterior variance e times too large
        worse = model.elbo_terms(repeated)["elbo"].reshape(-1, 3).mean(0)
    # the gap is KL(N(m, e v) || N(m, v)) = (e - 1 - 1) / 2 = 0.359 nats for every x
    assert_close(log_evidence - worse, torch.full((3,), (math.e - 2) / 2), rtol=0, atol=0.02)


def test_bernoulli_terms_have_their_signs_and_shapes():
    model = lit_gans.VAE(data_shape=(1, 16, 16), z_dim=4, features=4)
    x = torch.rand(5, 1, 16, 16) * 2 - 1
    terms = model.elbo_terms(x)
    assert {name: value.shape for name, value in terms.items()} == {n: (5,) for n in ("reconstruction", "kl", "elbo")}
    assert (terms["reconstruction"] > 0).all() and (terms["kl"] >= 0).all()
    assert_close(terms["elbo"], -(terms["reconstruction"] + terms["kl"]))
    samples = model.sample(3)
    assert samples.shape == (3, 1, 16, 16) and samples.abs().max() <= 1


# ----------------------------------------------------------------------------------------------------------------------
# VAE-GAN
# ----------------------------------------------------------------------------------------------------------------------
def tiny_vaegan(**arguments) -> lit_gans.VAEGAN:
    torch.manual_seed(0)
    return lit_gans.VAEGAN(data_shape=(1, 16, 16), z_dim=4, e_features=4, g_features=4, d_features=4, **arguments)


def grads(loss: torch.Tensor, module: torch.nn.Module) -> list[torch.Tensor | None]:
    return list(torch.autograd.grad(loss, list(module.parameters()), retain_graph=True, allow_unused=True))


def test_each_vaegan_group_gets_only_its_own_losses_gradient():
    """The encoder's loss (KL + L_llike) reaches no decoder weight, the decoder's (gamma L_llike + GAN) and the GAN
    term alone reach no encoder weight; each reaches its own network."""
    model = tiny_vaegan()
    x = torch.rand(6, 1, 16, 16) * 2 - 1
    losses = model.generator_losses(x)
    assert all(g is None for g in grads(losses["encoder"], model.generator))
    for name in ("decoder", "adversarial"):
        assert all(g is None for g in grads(losses[name], model.encoder)), name
    assert all(g is not None and g.abs().sum() > 0 for g in grads(losses["encoder"], model.encoder)[-1:])
    assert any(g is not None and g.abs().sum() > 0 for g in grads(losses["decoder"], model.generator))


def test_vaegan_discriminator_sees_data_reconstructions_and_prior_samples():
    """D's three batches: x, Dec(Enc(x)) (reparametrised) and Dec(z_p), recomputed with the same seed; D's loss is
    -mean log D(x) - 1/2 [mean log(1 - D(Dec(Enc(x)))) + mean log(1 - D(Dec(z_p)))]."""
    model = tiny_vaegan()
    x = torch.rand(6, 1, 16, 16) * 2 - 1
    seen: list[tuple[torch.Tensor, torch.Tensor]] = []
    hook = model.discriminator.register_forward_hook(lambda m, args, out: seen.append((args[0], out)))
    torch.manual_seed(5)
    loss = model.d_step((x, None))["loss"]
    hook.remove()
    torch.manual_seed(5)
    with torch.no_grad():
        mu, logvar = model.encode_distribution(x)
        reconstructed = model.generator(reparameterize(mu, logvar))
        prior = model.generator(torch.randn(6, 4))
    assert len(seen) == 3
    for (seen_input, _), expected in zip(seen, (x, reconstructed, prior)):
        assert_close(seen_input, expected)
    real, rec, pri = (out for _, out in seen)
    expected_loss = F.softplus(-real).mean() + 0.5 * (F.softplus(rec).mean() + F.softplus(pri).mean())
    assert_close(loss, expected_loss)


@pytest.mark.parametrize(
    ("equilibrium", "d_moves", "decoder_moves"),
    [(100.0, False, True), (-100.0, True, False), (0.68, True, True)],
    ids=["D winning: D skipped", "D losing: decoder skipped", "in the band: both"],
)
def test_equilibrium_rule_skips_updates(tmp_path, equilibrium, d_moves, decoder_moves):
    """margin 0: costs (about log 2 at the start) below ``equilibrium`` skip D's update, above it the decoder's;
    with equilibrium 0.68 at least one would be skipped, and then both update. The encoder always moves."""
    model = tiny_vaegan(margin=0.0 if equilibrium != 0.68 else 10.0, equilibrium=equilibrium)
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    data = TensorDataset(torch.rand(8, 1, 16, 16) * 2 - 1, torch.zeros(8))
    tiny_trainer(tmp_path, max_steps=1, limit_val_batches=0).fit(model, DataLoader(data, batch_size=8))

    def moved(prefix: str) -> bool:
        return any(not torch.equal(p, before[n]) for n, p in model.named_parameters() if n.startswith(prefix))

    assert (moved("discriminator."), moved("generator."), moved("encoder.")) == (d_moves, decoder_moves, True)


# ----------------------------------------------------------------------------------------------------------------------
# Learning, and the CLI
# ----------------------------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def low_contrast_shapes() -> TensorDataset:
    data = Shapes(image_size=16, channels=1, num_train=512, num_val=16, batch_size=512)
    data.setup("fit")
    images, labels = next(iter(data.train_dataloader()))
    return TensorDataset(CONTRAST * images, labels)


def reconstruction_error(model, images: torch.Tensor) -> float:
    return (model.reconstruct(images) - images).square().mean().item()


@pytest.mark.parametrize(
    ("cls", "arguments", "steps"),
    [
        (lit_gans.VAE, dict(z_dim=8, features=16, lr=2e-3), 200),
        (lit_gans.VAEGAN, dict(z_dim=8, e_features=16, g_features=16, d_features=16, lr_g=1e-3, lr_d=1e-3), 200),
    ],
    ids=["VAE", "VAEGAN"],
)
def test_model_moves_toward_the_data(tmp_path, cls, arguments, steps, low_contrast_shapes, one_thread):
    """As tests/gans/test_learning.py: on low-contrast 16 px shapes the samples' pixel W1 to the data falls, and so
    does the reconstructions' squared error."""
    real = low_contrast_shapes.tensors[0]
    torch.manual_seed(0)
    model = cls(data_shape=(1, 16, 16), **arguments)
    start_w1, start_error = pixel_w1(model.sample(256), real), reconstruction_error(model, real[:256])
    loader = DataLoader(low_contrast_shapes, batch_size=32, shuffle=True, drop_last=True)
    tiny_trainer(tmp_path, max_steps=steps, limit_val_batches=0, max_epochs=-1).fit(model, loader)
    end_w1, end_error = pixel_w1(model.sample(256), real), reconstruction_error(model, real[:256])
    # measured (one thread, seed 0): W1 fell to 0.24 (VAE) and 0.21 (VAE-GAN) of its start, the reconstruction
    # error to 0.21 and 0.13 of its start
    assert end_w1 < 0.65 * start_w1, f"pixel W1 to the data went from {start_w1:.3f} to {end_w1:.3f}"
    assert end_error < 0.5 * start_error, f"reconstruction MSE went from {start_error:.4f} to {end_error:.4f}"


@pytest.mark.parametrize("model", ["VAE", "VAEGAN"])
def test_model_alone_trains_its_offline_preset_and_samples(tmp_path, monkeypatch, capsys, model):
    """``fit --model VAE|VAEGAN`` with no data trains on Shapes (tiny overrides), writes samples and reconstructions
    grids and a checkpoint that ``cli.py sample`` reads."""
    monkeypatch.chdir(tmp_path)
    nets = ["--model.features=4"] if model == "VAE" else [f"--model.{n}_features=4" for n in "egd"]
    tiny = [*nets, "--data.num_train=32", "--data.num_val=8", "--data.image_size=16", "--data.batch_size=8"]
    short = ["--trainer.max_steps=2", "--trainer.val_check_interval=2", "--trainer.limit_val_batches=1", *QUIET]
    main(["fit", "--model", model, *tiny, *short, f"--trainer.default_root_dir={tmp_path}"])
    assert list(tmp_path.rglob("samples/samples_*.png")) and list(tmp_path.rglob("samples/reconstructions_*.png"))
    checkpoint = next(tmp_path.rglob("last.ckpt"))
    main(["sample", f"--ckpt_path={checkpoint}", "--num_samples=5", "--output=s.pt"])
    samples = torch.load(tmp_path / "s.pt")
    samples = samples["samples"] if isinstance(samples, dict) else samples
    assert samples.shape == (5, 1, 16, 16) and samples.abs().max() <= 1
