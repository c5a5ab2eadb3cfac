"""The installed ``lit-gans`` command is ``cli.py``'s main, its presets ship inside the package, and the CLI's thread
default leaves torch alone only when asked."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import time

import pytest
import tomllib
import torch

import cli
import lit_gans.commands.main as main_module
from lit_gans.commands.main import PACKAGE, choose_threads, idle_cores
from lit_gans.commands.registry import offered_models
from lit_gans.errors import LitGansError
from tests.helpers import REPO


def test_the_console_script_is_the_cli():
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    module, _, name = scripts["lit-gans"].partition(":")
    assert getattr(importlib.import_module(module), name) is cli.main


def test_every_preset_ships_inside_the_package():
    """Every model's offline preset resolves inside ``lit_gans`` (an installed copy has no clone), and the
    wheel's package-data globs cover every preset file."""
    presets = {name: cls.offline_preset for name, cls in offered_models().items()}
    assert all(presets.values()), [name for name, preset in presets.items() if not preset]  # every model has one
    assert len(set(presets.values())) == len(presets)  # and each its own
    assert all((PACKAGE / preset).is_file() for preset in presets.values())
    globs = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["lit_gans"]
    shipped = {path for pattern in globs for path in PACKAGE.glob(pattern)}
    assert shipped == set((PACKAGE / "configs").rglob("*.yaml"))
    assert (REPO / "configs").resolve() == PACKAGE / "configs"  # the clone's configs/ is the same folder


@pytest.fixture
def restore_threads():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def test_thread_choice(restore_threads, monkeypatch):
    assert choose_threads({"OMP_NUM_THREADS": "2"}) is None  # the user's OpenMP setting wins
    assert choose_threads({"LIT_GANS_THREADS": "torch"}) is None
    assert choose_threads({"LIT_GANS_THREADS": "3"}) == 3 == torch.get_num_threads()
    with pytest.raises(LitGansError, match="LIT_GANS_THREADS"):
        choose_threads({"LIT_GANS_THREADS": "many"})
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0, 1, 2, 3})
    for idle, expected in ((3.9, 4), (3.0, 3), (1.2, 1), (0.1, 1)):  # the idle cores, at least one
        monkeypatch.setattr(main_module, "idle_cores", lambda cores: idle)
        assert choose_threads({}) == expected == torch.get_num_threads()


def test_idle_cores_sees_a_busy_neighbour():
    """A process spinning on one core takes about one core out of the idle count."""
    cores = len(os.sched_getaffinity(0))
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.3)
        busy = idle_cores(cores, window=0.5)
    finally:
        spinner.kill()
    assert 0 <= busy <= cores - 0.7
