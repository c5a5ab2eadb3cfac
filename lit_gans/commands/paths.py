"""Output paths checked before any work: a command that will write a file or a folder first makes sure it can, so a
bad ``--output`` costs one error line, not a trained model or a translated folder. Nothing is created here."""

from __future__ import annotations

import os
from pathlib import Path

from lit_gans.errors import LitGansError


def nearest_existing(path: Path) -> Path:
    """``path`` itself if it exists, else its closest existing ancestor (``.`` for a relative path at worst)."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path(".")


def check_creatable(path: Path, what: str) -> None:
    """``path`` (missing) and every missing folder on the way to it can be created: its closest existing ancestor
    is a writable folder."""
    ancestor = nearest_existing(path.parent)
    if not ancestor.is_dir():
        raise LitGansError(f"{what} {path} cannot be written: {ancestor} is a file, not a folder")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise LitGansError(f"{what} {path} cannot be written: no permission to write in {ancestor}")


def ensure_writable_file(path: str | Path, what: str = "--output") -> Path:
    """``path`` as a file that can be written (created, or overwritten), with the folders leading to it; a one-line
    ``LitGansError`` naming ``what`` (the argument) otherwise."""
    path = Path(path).expanduser()
    if path.is_dir():
        raise LitGansError(f"{what} {path} is a folder; give a file name")
    if path.exists():
        if not os.access(path, os.W_OK):
            raise LitGansError(f"{what} {path} exists and cannot be overwritten (no write permission)")
        return path
    check_creatable(path, what)
    return path


def ensure_writable_dir(path: str | Path, what: str = "--output") -> Path:
    """``path`` as a folder that exists or can be created, and that files can be written into."""
    path = Path(path).expanduser()
    if path.exists() and not path.is_dir():
        raise LitGansError(f"{what} {path} is a file; give a folder")
    if path.is_dir():
        if not os.access(path, os.W_OK | os.X_OK):
            raise LitGansError(f"{what} {path} cannot be written: no permission to write in it")
        return path
    check_creatable(path, what)
    return path
