"""What every command needs to find a model: classes by name, and checkpoints read with one-line errors."""

from __future__ import annotations

import importlib
from pathlib import Path

import torch

from lit_gans.base import GANModule, checkpoint_info
from lit_gans.commands.registry import all_subclasses
from lit_gans.errors import LitGansError


def resolve_class(path: str) -> type:
    module, _, name = path.rpartition(".")
    if not module:
        for candidate in all_subclasses(GANModule):
            if candidate.__name__ == name:
                return candidate
        raise LitGansError(f"unknown model {name!r}")
    return getattr(importlib.import_module(module), name)


def read_checkpoint(path: str | Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise LitGansError(f"checkpoint {path} does not exist")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise LitGansError(f"{path} is not a readable checkpoint ({type(error).__name__}: {error})") from None


def load_gan(path: str | Path) -> GANModule:
    """Any lit-gans checkpoint -> its GAN, on the CPU, in eval mode."""
    cls = resolve_class(checkpoint_info(read_checkpoint(path), str(path))["model"])
    return cls.load_from_checkpoint(path, map_location="cpu", weights_only=True).eval()
