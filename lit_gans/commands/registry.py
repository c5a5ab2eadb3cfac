"""The models and datamodules the command line offers, and "did you mean" for names a user mistypes."""

from __future__ import annotations

import difflib
import re
import sys
from collections.abc import Iterable
from pathlib import Path

from lightning.pytorch import LightningDataModule

from lit_gans.base import GANModule


def all_subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *all_subclasses(sub)]
    return found


def is_base_class(cls: type) -> bool:
    """A base other classes build on (``registry_base = True`` in its own body), not something to train."""
    return bool(cls.__dict__.get("registry_base", False))


def offered_models() -> dict[str, type]:
    """Short name -> class of every GAN in ``lit_gans`` that ``--model NAME`` offers."""
    classes = [c for c in all_subclasses(GANModule) if c.__module__.startswith("lit_gans") and not is_base_class(c)]
    return {c.__name__: c for c in sorted(classes, key=lambda c: c.__name__)}


def offered_datamodules() -> dict[str, type]:
    """Short name -> class of every datamodule in ``datamodules`` that ``--data NAME`` offers."""
    classes = [
        c
        for c in all_subclasses(LightningDataModule)
        if c.__module__.startswith("datamodules") and not is_base_class(c)
    ]
    return {c.__name__: c for c in sorted(classes, key=lambda c: c.__name__)}


def program() -> str:
    """How the user started the command line: ``lit-gans`` (installed) or ``python cli.py`` (a clone)."""
    return "lit-gans" if Path(sys.argv[0]).name.startswith("lit-gans") else "python cli.py"


def squashed(name: str) -> str:
    """``WGAN_GP``, ``wgan-gp`` and ``wgangp`` all read ``wgangp``."""
    return re.sub(r"[^0-9a-z]", "", name.lower())


def nearest(name: str, choices: Iterable[str], count: int = 3) -> list[str]:
    """The choices closest to ``name``: an exact match up to case and punctuation first, then by similarity."""
    choices = list(choices)
    same = [c for c in choices if squashed(c) == squashed(name)]
    if same:
        return same[:1]
    by_squashed = {squashed(c): c for c in choices}
    close = difflib.get_close_matches(squashed(name), list(by_squashed), n=count, cutoff=0.6)
    return [by_squashed[c] for c in close]


def did_you_mean(name: str, choices: Iterable[str], prefix: str = "") -> str:
    """``"; did you mean X?"`` (or ``X or Y``), or ``""`` when nothing is close."""
    close = nearest(name, choices)
    return f"; did you mean {' or '.join(prefix + c for c in close)}?" if close else ""
