"""The files lit-gans' commands write besides checkpoints (dataset classifiers, attribute classifiers, text
encoders): ``{tag: info, "state_dict": weights}`` in one ``torch.save``, read back with ``weights_only`` and a
one-line error for a missing, unreadable or foreign file; and the plain tensors commands read (``load_tensor_file``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from lit_gans.errors import LitGansError


def save_tagged(path: str | Path, tag: str, info: dict[str, Any], state_dict: dict[str, Any]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({tag: info, "state_dict": state_dict}, path)
    return path


def load_tagged(path: str | Path, tag: str, what: str, command: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(info, state_dict)`` of a file saved under ``tag``; ``what`` names the kind of file and ``command`` (e.g.
    ``cli.py classifier --data NAME ... --output FILE``) how to make one, in the errors."""
    path = Path(path)
    if not path.is_file():
        raise LitGansError(f"{what} {path} does not exist: train one with `python {command}`")
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise LitGansError(f"{path} is not a readable {what} ({type(error).__name__}: {error})") from None
    if not isinstance(saved, dict) or tag not in saved:
        raise LitGansError(f"{path} is not a {what}: it was not written by `{' '.join(command.split()[:2])}`")
    return saved[tag], saved["state_dict"]


def load_tensor_file(path: Path, what: str) -> Tensor:
    """The tensor saved in the existing ``.pt`` file ``path`` (read with ``weights_only``); ``what`` names it in the
    one-line errors for an unreadable file or one that holds something else (``--images``, ``mask``)."""
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise LitGansError(f"{what} {path} is not a readable tensor ({type(error).__name__})") from None
    if not isinstance(saved, Tensor):
        raise LitGansError(f"{what} {path} holds a {type(saved).__name__}, not a tensor")
    return saved
