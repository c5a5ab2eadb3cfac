"""``OneDimensionalTheory``: on a GAN fit on Toy gaussian1d it logs d_error, jsd, value and value_at_optimum and
writes the figure; with a G and D set by hand its values are the closed forms; on 2D data it does nothing."""

from __future__ import annotations

import math

import pytest
import torch
from lightning.pytorch.loggers import TensorBoardLogger
from PIL import Image
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from torch import nn
from torch.testing import assert_close

import lit_gans.callbacks.theory as theory
from datamodules import Toy
from lit_gans import GAN
from lit_gans.callbacks import OneDimensionalTheory
from lit_gans.callbacks.theory import theory_figure, theory_state
from tests.helpers import tiny_trainer

NAMES = {"val/theory/d_error", "val/theory/jsd", "val/theory/value", "val/theory/value_at_optimum"}


@pytest.mark.parametrize("z_dim", [1, 3])
def test_logs_the_four_values_and_writes_the_figure_on_gaussian1d(tmp_path, z_dim):
    callback = OneDimensionalTheory(num_samples=2_000)
    model = GAN(data_shape=(1,), z_dim=z_dim, g_hidden=(8,), d_hidden=(8,), activation="tanh")
    data = Toy("gaussian1d", num_train=128, num_val=32, batch_size=32)
    logger = TensorBoardLogger(tmp_path, name="run")
    trainer = tiny_trainer(tmp_path, max_steps=4, logger=logger, callbacks=[callback])
    trainer.fit(model, data)
    assert NAMES <= set(trainer.callback_metrics)
    v = callback.last
    assert 0 <= v["jsd"] <= math.log(2) and 0 <= v["d_error"] <= 1
    assert_close(v["value_at_optimum"], -math.log(4) + 2 * v["jsd"], atol=1e-9, rtol=0)
    assert v["value"] <= v["value_at_optimum"] + 1e-6  # D* maximises V(., G) (to the grid's accuracy)
    png = tmp_path / "run" / "version_0" / "samples" / "theory_step0000004.png"
    assert callback.last_path == png and Image.open(png).size == (640, 420)
    events = EventAccumulator(str(png.parents[1]), size_guidance={"images": 0}).Reload()
    assert "samples/theory" in events.Tags()["images"]


def test_values_are_the_closed_forms_for_a_hand_set_g_and_d():
    # G(z) = z - 1 pushes N(0, 1) onto p_data = N(-1, 1) exactly: JSD 0, D* = 1/2; D's logit 0 is D = 1/2
    model = GAN(data_shape=(1,), z_dim=1, g_hidden=(4,), d_hidden=(4,))
    model.generator = nn.Linear(1, 1)
    model.discriminator = nn.Linear(1, 1)
    with torch.no_grad():
        model.generator.weight.fill_(1.0), model.generator.bias.fill_(-1.0)
        model.discriminator.weight.zero_(), model.discriminator.bias.zero_()
    state = theory_state(model, Toy("gaussian1d").distribution)
    assert state.exact and len(state.z_lines) == 17
    assert_close(state.x_lines, state.z_lines - 1)
    zero = torch.tensor(0.0, dtype=torch.float64)
    assert_close(state.p_g, state.p_data, atol=1e-5, rtol=0)  # interpolation between G(z) points 0.003 apart
    assert_close(state.values["jsd"], zero, atol=1e-8, rtol=0)
    assert_close(state.values["d_error"], zero, atol=1e-5, rtol=0)
    minus_log4 = torch.tensor(-math.log(4), dtype=torch.float64)
    assert_close(state.values["value"], minus_log4, atol=1e-6, rtol=0)
    assert_close(state.values["value_at_optimum"], minus_log4, atol=1e-6, rtol=0)
    # G(z) = 2 z + 1 instead: p_g = N(1, 4), and D = D* is the error-free discriminator
    with torch.no_grad():
        model.generator.weight.fill_(2.0), model.generator.bias.fill_(1.0)
    state = theory_state(model, Toy("gaussian1d").distribution)
    x = state.x
    p_g = torch.exp(-0.5 * ((x - 1) / 2) ** 2) / (2 * math.sqrt(2 * math.pi))
    assert state.exact and float(state.values["jsd"]) > 0.1
    assert_close(state.p_g, p_g, atol=1e-5, rtol=0)
    assert theory_figure(state, "test").shape == (420, 640, 3)


def test_silent_and_free_on_2d_ring_data(tmp_path, monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("the theory ran on 2D data")

    monkeypatch.setattr(theory, "theory_state", never)
    callback = OneDimensionalTheory()
    model = GAN(data_shape=(2,), z_dim=2, g_hidden=(8,), d_hidden=(8,))
    data = Toy("ring", num_train=64, num_val=32, batch_size=32)
    trainer = tiny_trainer(tmp_path, max_steps=2, callbacks=[callback])
    trainer.fit(model, data)
    assert not {name for name in trainer.callback_metrics if name.startswith("val/theory")}
    assert callback.last == {} and callback.last_path is None
    assert not list(tmp_path.rglob("theory_*.png"))


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["--data", "Toy", "--data.distribution", "gaussian1d"], {"z_dim": 1, "activation": "tanh"}),
        (["--data=Toy", "--data.distribution=gaussian1d", "--model.z_dim=2"], {"z_dim": 2, "activation": "tanh"}),
        (["--data", "Toy", "--data.distribution", "ring"], {"z_dim": 100, "activation": "leaky_relu"}),
    ],
)
def test_gan_on_named_1d_data_takes_the_tutorial_preset(capsys, argv, expected):
    """``fit --model GAN --data Toy --data.distribution gaussian1d`` (no --config) trains the 1D tutorial's preset;
    later arguments still win, and other toy data keep GAN's defaults."""
    import yaml

    from lit_gans.commands.main import main

    with pytest.raises(SystemExit):
        main(["fit", "--model", "GAN", *argv, "--print_config"])
    config = yaml.safe_load(capsys.readouterr().out)["model"]["init_args"]
    assert {key: config[key] for key in expected} == expected
