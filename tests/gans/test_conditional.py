"""CGAN, ACGAN, InfoGAN and SGAN: conditions reach the nets, the auxiliary objectives learn, sampling takes them."""

from __future__ import annotations

import math

import pytest
import torch
import yaml
from torch.testing import assert_close

import lit_gans
from datamodules import Shapes, Toy
from datamodules.semi_supervised import SemiSupervisedDataset, labelled_subset
from lit_gans.ema import BiasCorrectedAverage
from lit_gans.errors import LitGansError
from lit_gans.layers import GaussianNoise, WeightNormLinear
from lit_gans.networks.conditional import base_networks
from lit_gans.optim import AdamEpsInSqrt
from tests.helpers import REPO, tiny_trainer


def grey_shapes(**overrides) -> Shapes:
    options = dict(image_size=16, channels=1, num_train=512, num_val=64, batch_size=32)
    return Shapes(**{**options, **overrides})


# ---------------------------------------------------------------------------------------------------------------
# labels reach both nets
# ---------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("network, data_shape", [("mlp", (1, 16, 16)), ("conv", (1, 16, 16)), ("mlp", (2,))])
def test_cgan_labels_reach_generator_and_discriminator(network, data_shape):
    torch.manual_seed(0)
    model = lit_gans.CGAN(data_shape=data_shape, num_classes=3, network=network, z_dim=4, g_features=4, d_features=4)
    model.eval()
    z = torch.randn(5, 4)
    zeros, twos = torch.zeros(5, dtype=torch.long), torch.full((5,), 2)
    with torch.no_grad():
        assert not torch.allclose(model.generator(z, zeros), model.generator(z, twos))
        x = torch.randn(5, *data_shape)
        assert not torch.allclose(model.discriminator(x, zeros), model.discriminator(x, twos))
        # z still matters under a fixed label
        assert not torch.allclose(model.generator(z, twos), model.generator(torch.randn(5, 4), twos))


def test_conditional_sampling_takes_labels():
    torch.manual_seed(0)
    model = lit_gans.CGAN(data_shape=(1, 16, 16), num_classes=3, z_dim=4, g_hidden=(8,), d_hidden=(8,))
    assert model.draw_conditions(4, labels=2)["labels"].tolist() == [2, 2, 2, 2]
    assert model.draw_conditions(3, labels=[0, 2, 1])["labels"].tolist() == [0, 2, 1]
    drawn = model.draw_conditions(300, generator=torch.Generator().manual_seed(0))["labels"]
    assert set(drawn.tolist()) == {0, 1, 2}
    latent = model.sample_latent(4, generator=torch.Generator().manual_seed(1))
    assert_close(
        model.sample(4, generator=torch.Generator().manual_seed(1), labels=1),
        model.sample_from(latent, labels=torch.ones(4, dtype=torch.long)),
    )
    with pytest.raises(LitGansError, match="0..2"):
        model.sample(2, labels=3)
    with pytest.raises(LitGansError, match="labels"):
        model.sample(2, colour=1)
    with pytest.raises(LitGansError, match="unconditional"):
        lit_gans.GAN(data_shape=(2,), z_dim=2, g_hidden=(4,), d_hidden=(4,)).sample(2, labels=1)


def test_class_grid_has_one_class_a_row():
    model = lit_gans.ACGAN(data_shape=(1, 16, 16), num_classes=3, z_dim=4, g_features=4, d_features=4)
    labels = model.fixed_conditions()["labels"]
    assert labels.tolist()[:33] == [0] * 33 and labels.tolist()[33:66] == [1] * 33  # 100 fixed samples, 33 a row
    images, per_row = model.sample_grids()["samples"]
    assert per_row == 33 and images.shape == (99, 1, 16, 16)


# ---------------------------------------------------------------------------------------------------------------
# the auxiliary objectives learn
# ---------------------------------------------------------------------------------------------------------------
def class_cross_entropy(model: lit_gans.ACGAN, points: torch.Tensor, labels: torch.Tensor) -> float:
    with torch.no_grad():
        return torch.nn.functional.cross_entropy(model.discriminator(points)[1], labels).item()


def test_acgan_class_loss_falls_on_a_learnable_task(tmp_path):
    # the ring's 8 components as classes: D's class head must tell them apart from the points alone
    torch.manual_seed(0)
    data = Toy("ring", 2048, 512, batch_size=64)
    data.setup()
    model = lit_gans.ACGAN(
        data_shape=(2,), num_classes=8, network="mlp", z_dim=4, g_hidden=(32,), d_hidden=(32,), lr_g=2e-3, lr_d=2e-3
    )
    points, labels = data.val_set.tensors
    before = class_cross_entropy(model, points, labels)
    tiny_trainer(tmp_path, max_steps=150, limit_val_batches=0).fit(model, data)
    after = class_cross_entropy(model, points, labels)
    assert before > 1.5  # about log 8 = 2.08 at the start
    assert after < 0.5 * before, (before, after)


@pytest.mark.parametrize("on_fakes", [True, False])
def test_acgan_d_class_loss_takes_fakes_only_when_asked(on_fakes):
    # L_C of the D step: CE(real) + CE(fake) in the paper's form, CE(real) alone with d_class_loss_on_fakes=False
    torch.manual_seed(0)
    model = lit_gans.ACGAN(
        data_shape=(2,),
        num_classes=4,
        network="mlp",
        z_dim=3,
        g_hidden=(8,),
        d_hidden=(8,),
        d_class_loss_on_fakes=on_fakes,
    )
    real, labels = torch.randn(16, 2), torch.randint(0, 4, (16,))
    torch.manual_seed(1)
    class_loss = model.d_step((real, labels))["class_loss"]
    torch.manual_seed(1)  # the same fake labels and latents, drawn again
    fake_labels = torch.randint(0, 4, (16,))
    fake = model.generator(model.sample_latent(16), fake_labels)
    with torch.no_grad():
        real_part = torch.nn.functional.cross_entropy(model.discriminator(real)[1], labels)
        fake_part = torch.nn.functional.cross_entropy(model.discriminator(fake)[1], fake_labels)
    assert_close(class_loss.detach(), real_part + fake_part if on_fakes else real_part)


def test_infogan_q_recovers_the_categorical_code(tmp_path):
    torch.manual_seed(0)
    data = grey_shapes()
    model = lit_gans.InfoGAN(
        data_shape=data.data_shape,
        num_categories=4,
        num_continuous=1,
        network="mlp",
        z_dim=4,
        g_hidden=(64,),
        d_hidden=(64,),
        q_hidden=16,
    )
    tiny_trainer(tmp_path, max_steps=150, limit_val_batches=0).fit(model, data)
    codes = model.draw_conditions(400, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        images = model.sample_from(model.sample_latent(400, torch.Generator().manual_seed(6)), **codes)
        model.discriminator.eval()
        predicted = model.discriminator(images)[1][:, :4].argmax(1)
    accuracy = (predicted == codes["categorical"]).float().mean().item()
    assert accuracy > 0.6, accuracy  # chance is 0.25; measured about 0.95-1.0


@pytest.mark.parametrize("image_size, channels", [(28, 1), (32, 3)])
def test_infogan_paper_networks_shapes(image_size, channels):
    # appendix C.1: D's body ends in FC-1024, which Q shares; G starts with FC-1024
    model = lit_gans.InfoGAN(
        data_shape=(channels, image_size, image_size), num_categories=10, num_continuous=2, network="infogan"
    )
    x = torch.randn(4, channels, image_size, image_size)
    D = model.discriminator
    assert D.features(x).shape == (4, 1024)
    logits, q = D(x)
    assert logits.shape == (4,) and q.shape == (4, 10 + 2 * 2)  # K logits, then a mean and a log-std per code
    assert model.sample(4).shape == (4, channels, image_size, image_size)
    with pytest.raises(LitGansError, match="infogan"):
        lit_gans.CGAN(data_shape=(1, 28, 28), network="infogan")  # no label channel in these nets
    with pytest.raises(LitGansError, match="BatchNorm"):
        lit_gans.SGAN(data_shape=(1, 28, 28), network="infogan")  # SGAN's per-sample D norm is not in these nets


def test_infogan_q_batch_norm_normalises_q_hidden_layer():
    # FC-128-BN-lReLU (table 1): in training, each of Q's hidden units has batch mean 0 and variance 1 before the
    # LeakyReLU (BatchNorm's affine starts at weight 1, bias 0; biased variance, eps 1e-5: tolerance 1e-3)
    torch.manual_seed(0)
    model = lit_gans.InfoGAN(data_shape=(1, 28, 28), network="infogan", q_hidden=128, q_batch_norm=True)
    head = model.discriminator.auxiliary_head
    assert sum(isinstance(layer, torch.nn.BatchNorm1d) for layer in head) == 1
    captured = {}
    head[-2].register_forward_hook(lambda module, inputs, output: captured.update(hidden=inputs[0]))
    model.discriminator(torch.randn(32, 1, 28, 28))
    hidden = captured["hidden"]
    assert hidden.shape == (32, 128)
    assert_close(hidden.mean(0), torch.zeros(128), atol=1e-3, rtol=0)
    assert_close(hidden.var(0, unbiased=False), torch.ones(128), atol=1e-3, rtol=0)
    plain = lit_gans.InfoGAN(data_shape=(1, 28, 28), network="infogan", q_hidden=128).discriminator.auxiliary_head
    assert not any(isinstance(layer, torch.nn.BatchNorm1d) for layer in plain)


def test_infogan_uniform_noise_prior():
    # U(-1, 1): inside [-1, 1], mean 0 and variance 1/3 (200 x 62 draws: standard errors 0.003 and 0.002)
    model = lit_gans.InfoGAN(data_shape=(2,), network="mlp", noise_prior="uniform", g_hidden=(8,), d_hidden=(8,))
    z = model.sample_latent(200, generator=torch.Generator().manual_seed(0))
    assert z.shape == (200, 62) and z.abs().max() <= 1
    assert abs(z.mean().item()) < 0.02 and abs(z.var().item() - 1 / 3) < 0.015
    assert model.fixed_latent.abs().max() <= 1  # the grids' fixed latents come from the same prior
    with pytest.raises(LitGansError, match="noise_prior"):
        lit_gans.InfoGAN(data_shape=(2,), network="mlp", noise_prior="laplace")


def test_infogan_traversal_sweeps_one_code():
    torch.manual_seed(0)
    model = lit_gans.InfoGAN(
        data_shape=(1, 16, 16), num_categories=3, num_continuous=2, z_dim=4, g_features=4, d_features=4
    )
    grid = model.traversal(code=1, steps=5)
    assert grid.shape == (15, 1, 16, 16)
    rows = grid.view(3, 5, -1)
    assert not torch.allclose(rows[0, 0], rows[0, -1])  # the swept code changes the image along a row
    assert not torch.allclose(rows[0, 0], rows[1, 0])  # the categorical code changes it across rows
    grids = model.sample_grids()
    assert set(grids) == {"samples", "traversal_c2", "traversal_c3"}
    assert grids["traversal_c2"][0].shape == (30, 1, 16, 16) and grids["traversal_c2"][1] == 10
    with pytest.raises(LitGansError, match="code"):
        model.traversal(code=2)


# ---------------------------------------------------------------------------------------------------------------
# the semi-supervised setting
# ---------------------------------------------------------------------------------------------------------------
def test_labelled_subset_keeps_labels_per_class():
    labels = torch.tensor([0, 1, 2] * 20)
    chosen = labelled_subset(labels, per_class=4, seed=0)
    assert len(chosen) == 12 and len(set(chosen.tolist())) == 12
    assert torch.bincount(labels[chosen]).tolist() == [4, 4, 4]
    assert_close(chosen, labelled_subset(labels, per_class=4, seed=0))  # deterministic given the seed
    with pytest.raises(LitGansError, match="fewer"):
        labelled_subset(labels, per_class=21, seed=0)


def test_semi_supervised_items_pair_every_image_with_a_labelled_one():
    data = grey_shapes(labels_per_class=3)
    data.setup()
    train = data.train_set
    assert isinstance(train, SemiSupervisedDataset) and len(train) == 512
    inner = train.dataset
    seen = set()
    for i in range(len(train)):
        x, x_labelled, y_labelled = train[i]
        assert_close(x, inner[i][0])
        j = int(train.labelled[i % 9])
        assert_close(x_labelled, inner[j][0])
        assert y_labelled == inner[j][1]
        seen.add(j)
    assert len(seen) == 9  # only the 3 x 3 kept labels are ever shown
    assert len(data.val_set[0]) == 2  # validation keeps (x, y)


def test_sgan_logs_validation_accuracy_and_learns_from_few_labels(tmp_path):
    torch.manual_seed(0)
    # circle / square / triangle at 16x16: 10 labels a class overfit in this budget (val 0.44), 100 generalise
    data = grey_shapes(labels_per_class=100)
    model = lit_gans.SGAN(
        data_shape=data.data_shape, num_classes=3, z_dim=8, g_features=8, d_features=8, lr_g=2e-3, lr_d=2e-3
    )
    # 320 steps: 0.55 to 0.61 over seeds 0-3 (at 160 the scale-aware critic, whose first conv now has a bias, had
    # 0.39 to 0.48, the old one 0.50 to 0.53)
    trainer = tiny_trainer(tmp_path, max_steps=320, limit_val_batches=None)
    trainer.fit(model, data)
    accuracy = trainer.callback_metrics["val/accuracy"].item()
    assert accuracy > 0.5, accuracy  # three classes: chance is 1/3


# ---------------------------------------------------------------------------------------------------------------
# SGAN as the authors' MNIST code has it (openai/improved-gan train_mnist_feature_matching.py)
# ---------------------------------------------------------------------------------------------------------------
TINY_IMPROVED = dict(network="improved_gan", z_dim=4, g_hidden=(16,), d_hidden=(16, 8))


def test_improved_gan_networks_match_the_authors_layout():
    model = lit_gans.SGAN(data_shape=(1, 28, 28), network="improved_gan")
    D, G = model.discriminator, model.generator
    dense = [m for m in D.modules() if isinstance(m, WeightNormLinear)]
    assert [(m.in_features, m.out_features) for m in dense] == [
        (784, 1000),
        (1000, 500),
        (500, 250),
        (250, 250),
        (250, 250),
        (250, 10),
    ]
    assert [m.train_scale for m in dense] == [False] * 5 + [True]  # only the output layer trains its scale
    assert [m.sigma for m in D.modules() if isinstance(m, GaussianNoise)] == [0.3] + [0.5] * 5
    x = torch.rand(6, 1, 28, 28) * 2 - 1
    assert D.features(x).shape == (6, 250) and D(x).shape == (6, 10)  # features: the last hidden layer
    D.eval()
    assert torch.equal(D(x), D(x))  # no noise at test time
    D.train()
    assert not torch.equal(D(x), D(x))
    widths = [m.out_features for m in G.modules() if isinstance(m, (torch.nn.Linear, WeightNormLinear))]
    assert widths == [500, 500, 784]
    assert not any(isinstance(m, torch.nn.BatchNorm1d) and m.affine for m in G.modules())  # BN without scale
    images = G(torch.rand(6, 100))
    assert images.shape == (6, 1, 28, 28) and images.min() >= -1 and images.max() <= 1
    with pytest.raises(LitGansError, match="improved_gan"):
        lit_gans.SGAN(data_shape=(1, 28, 28), network="conv", d_hidden_noise=0.5)


def test_sgan_uniform01_noise_prior():
    model = lit_gans.SGAN(data_shape=(1, 16, 16), noise_prior="uniform01", **TINY_IMPROVED)
    z = model.sample_latent(5000)
    assert z.min() >= 0 and z.max() <= 1
    assert_close(z.mean(), torch.tensor(0.5), atol=0.01, rtol=0)  # standard error 0.29 / sqrt(20,000) = 2e-3
    assert model.fixed_latent.min() >= 0


class LogitsAsInput(torch.nn.Module):
    """A stand-in D whose class logits are its flattened input: hand-made logits pass straight through."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flatten(1)


def test_sgan_unlabelled_term_is_half_the_closed_form_at_lambda_half():
    model = lit_gans.SGAN(data_shape=(3,), num_classes=3, network="mlp", lambda_unsupervised=0.5, z_dim=2)
    model.discriminator = LogitsAsInput()
    # logits log(z_k): Z = sum_k z_k, D(x) = Z / (Z + 1)
    unlabelled = torch.tensor([[1.0, 2.0, 1.0], [0.5, 0.25, 0.25]]).log()  # Z = 4, 1
    fakes = torch.tensor([[1.0, 1.0, 1.0], [3.0, 4.0, 1.0]]).log()  # Z = 3, 8
    model.draw_fake = lambda n: fakes
    labelled, labels = torch.tensor([[2.0, 1.0, 1.0], [1.0, 1.0, 2.0]]).log(), torch.tensor([0, 2])
    out = model.d_step((unlabelled, labelled, labels))
    # -log D(x) = log((Z + 1) / Z), -log(1 - D(G(z))) = log(Z + 1), each averaged over its batch
    closed_form = (math.log(5 / 4) + math.log(2 / 1)) / 2 + (math.log(4) + math.log(9)) / 2
    supervised = -math.log(0.5)  # p(y | x) = 2 / 4 for both labelled rows
    assert_close(out["unsupervised"], torch.tensor(closed_form))
    assert_close(out["supervised"], torch.tensor(supervised))
    assert_close(out["loss"], torch.tensor(supervised + 0.5 * closed_form))


def test_bias_corrected_average_is_the_normalised_weighted_history():
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.BatchNorm1d(2))
    rate, history = 0.3, []
    average = BiasCorrectedAverage(net, rate)
    for _ in range(6):
        with torch.no_grad():
            for p in net.parameters():
                p.add_(torch.randn_like(p))
        net(torch.randn(4, 3))  # moves BatchNorm's running statistics (float buffers, averaged too)
        history.append({k: v.clone() for k, v in net.state_dict().items()})
        average.update_(net)
    t = len(history)
    weights = [rate * (1 - rate) ** (t - i) for i in range(1, t + 1)]  # the zero-started a_t's weights
    correction = 1 - (1 - rate) ** t
    averaged = average.module.state_dict()
    for key in history[0]:
        if history[0][key].is_floating_point():
            expected = sum(w * h[key] for w, h in zip(weights, history, strict=True)) / correction
            assert_close(averaged[key], expected, rtol=1e-5, atol=1e-6)
        else:  # num_batches_tracked: copied
            assert torch.equal(averaged[key], history[-1][key])
    assert int(average.count) == t
    fresh = BiasCorrectedAverage(net, 1e-4)
    fresh.update_(net)  # the first update is the current weights, whatever the rate
    assert_close(fresh.module.state_dict(), net.state_dict())


def test_sgan_classifies_with_the_average_which_survives_checkpoints(tmp_path):
    torch.manual_seed(0)
    data = grey_shapes(labels_per_class=2, num_train=64, num_val=16, batch_size=16)
    model = lit_gans.SGAN(
        data_shape=data.data_shape, num_classes=3, d_average_rate=0.1, adam_eps_in_sqrt=True, **TINY_IMPROVED
    )
    trainer = tiny_trainer(tmp_path, max_steps=3)
    trainer.fit(model, data)
    assert int(model.discriminator_average.count) == 3  # one update per D step
    assert all(isinstance(opt.optimizer, AdamEpsInSqrt) for opt in model.optimizers())  # adam_eps_in_sqrt
    dense = [m for m in model.discriminator.modules() if isinstance(m, WeightNormLinear)]
    assert all(bool(m.initialized) for m in dense) and not torch.equal(dense[0].scale, torch.ones(16))
    x = torch.rand(8, 1, 16, 16) * 2 - 1
    with torch.no_grad():  # an average that calls everything class 2, far from D itself
        model.discriminator_average.module.net[-1].bias.copy_(torch.tensor([0.0, 0.0, 1e4]))
    assert model.classify(x).tolist() == [2] * 8
    assert not torch.equal(model.classify(x, current=True), model.classify(x))

    path = tmp_path / "sgan.ckpt"
    trainer.save_checkpoint(path)
    reloaded = lit_gans.SGAN.load_from_checkpoint(path, weights_only=True)
    assert_close(reloaded.discriminator_average.state_dict(), model.discriminator_average.state_dict())
    assert reloaded.classify(x).tolist() == [2] * 8
    # a resumed run continues the average's count and does not redo the data-dependent initialisation
    scales = [m.scale.clone() for m in dense[:-1]]
    resumed = lit_gans.SGAN(
        data_shape=data.data_shape, num_classes=3, d_average_rate=0.1, adam_eps_in_sqrt=True, **TINY_IMPROVED
    )
    tiny_trainer(tmp_path, max_steps=5).fit(resumed, data, ckpt_path=path)
    assert int(resumed.discriminator_average.count) == 5
    resumed_dense = [m for m in resumed.discriminator.modules() if isinstance(m, WeightNormLinear)]
    for before, layer in zip(scales, resumed_dense[:-1], strict=True):
        assert torch.equal(layer.scale, before)  # fixed scales: set once by the init, kept


def test_infogan_reads_its_code_from_the_average_which_survives_checkpoints(tmp_path):
    torch.manual_seed(0)
    data = grey_shapes()
    arguments = dict(data_shape=data.data_shape, num_categories=4, num_continuous=1, network="mlp", z_dim=4)
    model = lit_gans.InfoGAN(**arguments, g_hidden=(16,), d_hidden=(16,), q_hidden=8, d_average_rate=0.1)
    trainer = tiny_trainer(tmp_path, max_steps=3, limit_val_batches=0)
    trainer.fit(model, data)
    assert int(model.discriminator_average.count) == 3  # one update per D step
    x = torch.rand(8, 1, 16, 16) * 2 - 1
    with torch.no_grad():
        model.discriminator.eval()
        current = model.discriminator(x)[1][:, :4].argmax(1)
    assert torch.equal(model.categorical_code(x, current=True), current)
    with torch.no_grad():  # an average whose Q (4 code logits, a mean and a log-std) calls everything code 3
        model.discriminator_average.module.auxiliary_head[-1].bias.copy_(torch.tensor([0.0, 0.0, 0.0, 1e4, 0.0, 0.0]))
    assert model.categorical_code(x).tolist() == [3] * 8
    path = tmp_path / "infogan.ckpt"
    trainer.save_checkpoint(path)
    reloaded = lit_gans.InfoGAN.load_from_checkpoint(path, weights_only=True)
    assert reloaded.categorical_code(x).tolist() == [3] * 8
    # a resumed run continues the average (its count and its values), not a fresh copy of D
    resumed = lit_gans.InfoGAN(**arguments, g_hidden=(16,), d_hidden=(16,), q_hidden=8, d_average_rate=0.1)
    tiny_trainer(tmp_path, max_steps=5, limit_val_batches=0).fit(resumed, data, ckpt_path=path)
    assert int(resumed.discriminator_average.count) == 5
    assert resumed.categorical_code(x).tolist() == [3] * 8  # the planted bias, decayed by 2 updates, still rules
    with pytest.raises(LitGansError, match="d_average_rate must lie in"):
        lit_gans.InfoGAN(**arguments, d_average_rate=2.0)


def test_infogan_leaky_slope_reaches_d_body_and_q():
    model = lit_gans.InfoGAN(data_shape=(1, 28, 28), network="infogan", leaky_slope=0.01, q_batch_norm=True)
    slopes = {m.negative_slope for m in model.discriminator.modules() if isinstance(m, torch.nn.LeakyReLU)}
    assert slopes == {0.01}  # conv 64, conv 128, FC 1024 and Q's FC 128 (openai/InfoGAN's leaky_rectify)
    with pytest.raises(LitGansError, match="d_leaky_slope applies to network='infogan' only"):
        base_networks("conv", (1, 28, 28), 8, (16,), (16,), 4, 4, d_leaky_slope=0.01)


def test_mnist_presets_carry_the_authors_settings():
    def init_args(name: str) -> dict:
        return yaml.safe_load((REPO / "configs" / name).read_text())["model"]["init_args"]

    infogan = yaml.safe_load((REPO / "configs" / "infogan_mnist.yaml").read_text())
    assert infogan["data"]["init_args"]["batch_size"] == 128
    assert init_args("infogan_mnist.yaml") | {"q_batch_norm": True, "leaky_slope": 0.01} == init_args(
        "infogan_mnist.yaml"
    )
    assert init_args("acgan_mnist.yaml")["d_class_loss_on_fakes"] is False
    sgan = yaml.safe_load((REPO / "configs" / "sgan_mnist.yaml").read_text())
    assert (
        sgan["model"]["init_args"]
        | {
            "network": "improved_gan",
            "lambda_unsupervised": 0.5,
            "noise_prior": "uniform01",
            "d_average_rate": 1e-4,
            "lr_g": 3e-3,
            "lr_d": 3e-3,
            "betas_g": [0.5, 0.999],
            "betas_d": [0.5, 0.999],
            "adam_eps_in_sqrt": True,
            "feature_matching_reduction": "mean",
        }
        == sgan["model"]["init_args"]
    )
    assert sgan["data"]["init_args"]["batch_size"] == 100 and sgan["data"]["init_args"]["labels_per_class"] == 10
