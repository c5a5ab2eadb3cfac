"""Every constructor argument of every model and datamodule the CLI offers has a help line.

jsonargparse takes each argument's ``--help`` text from the Google-style ``Args:`` sections of the class's docstring
and, for the arguments forwarded through ``**kwargs``, of its bases' docstrings. ``python cli.py fit --model.help
NAME`` (and ``--data.help NAME``) prints what these parsers hold.
"""

from __future__ import annotations

import jsonargparse
import pytest

import datamodules
import lit_gans
from lit_gans.commands.registry import offered_datamodules, offered_models

MODELS = list(offered_models().values())  # what --model NAME offers: no base classes
DATA = list(offered_datamodules().values())


def arguments_without_help(cls: type, key: str) -> list[str]:
    """The constructor arguments of ``cls`` (those reached through ``**kwargs`` included) that ``--help`` would show
    without a description, as jsonargparse builds them for ``--model.help`` / ``--data.help``."""
    parser = jsonargparse.ArgumentParser(exit_on_error=False)
    parser.add_class_arguments(cls, key)
    arguments = [a for a in parser._actions if a.dest.startswith(f"{key}.")]
    assert arguments, f"{cls.__name__} has no constructor arguments in its parser"
    return [a.dest[len(key) + 1 :] for a in arguments if not (a.help or "").strip()]


def test_the_registry_is_found():
    assert {c.__name__ for c in MODELS} >= {"DCGAN", "WGANGP", "WGANDiv", "DRAGAN", "CycleGAN", "Pix2Pix", "SGAN"}
    assert {c.__name__ for c in DATA} >= {"Shapes", "ShapesPaired", "ShapesUnpaired", "MNIST", "Toy", "CelebA"}
    assert lit_gans and datamodules


@pytest.mark.parametrize("cls", MODELS, ids=lambda c: c.__name__)
def test_every_model_argument_has_help(cls):
    missing = arguments_without_help(cls, "model")
    assert not missing, f"{cls.__name__}: no help for {', '.join(missing)}"


@pytest.mark.parametrize("cls", DATA, ids=lambda c: c.__name__)
def test_every_datamodule_argument_has_help(cls):
    missing = arguments_without_help(cls, "data")
    assert not missing, f"{cls.__name__}: no help for {', '.join(missing)}"


def test_arguments_documented_together_are_split():
    """``Args:`` lines naming two arguments (``lr_g, lr_d: ...``) document neither: each needs its own entry."""
    parser = jsonargparse.ArgumentParser(exit_on_error=False)
    parser.add_class_arguments(lit_gans.WGANGP, "model")
    helps = {a.dest: a.help for a in parser._actions}
    for name in ("lr_g", "lr_d", "betas_g", "betas_d", "g_features", "d_features", "g_hidden", "d_hidden"):
        assert helps[f"model.{name}"], name
