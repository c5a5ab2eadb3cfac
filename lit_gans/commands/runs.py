"""Where runs live and how a resumed run finds its folder.

Every ``fit`` writes under ``runs/<model>_<data>/lightning_logs/version_N/`` unless ``--trainer.default_root_dir``
says otherwise (then ``<that>/lightning_logs/version_N/``): its ``config.yaml``, logs, ``samples/`` and
``checkpoints/last.ckpt``. A resumed run (``--ckpt_path``) continues in the folder of its checkpoint."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from lit_gans.errors import LitGansError

RUNS = Path("runs")
LOGGER_NAME = "lightning_logs"  # Lightning's default logger's folder name


def default_root_dir(model_class_path: str, data_class_path: str) -> str:
    """``runs/<model>_<data>`` in lower case: ``runs/dcgan_mnist``."""
    model, data = (path.rsplit(".", 1)[-1].lower() for path in (model_class_path, data_class_path))
    return str(RUNS / f"{model}_{data}")


@dataclass(frozen=True)
class RunFolder:
    """``<save_dir>/<name>/version_<version>``: a logger's run folder, where ``checkpoints/`` lies."""

    save_dir: Path
    name: str
    version: int

    @property
    def path(self) -> Path:
        return self.save_dir / self.name / f"version_{self.version}"


def run_folder_of(checkpoint: str | Path) -> RunFolder | None:
    """The run folder of a checkpoint at ``<save_dir>/<name>/version_N/checkpoints/<file>.ckpt``; ``None`` for a
    checkpoint kept anywhere else."""
    checkpoint = Path(checkpoint)
    folder = checkpoint.parent.parent
    match = re.fullmatch(r"version_(\d+)", folder.name)
    if checkpoint.parent.name != "checkpoints" or match is None:
        return None
    return RunFolder(folder.parent.parent, folder.parent.name, int(match.group(1)))


def newest_checkpoint(root_dir: str | Path, name: str = LOGGER_NAME) -> Path:
    """``--ckpt_path last``: ``last.ckpt`` of the newest run under ``root_dir`` that has one (else that run's newest
    checkpoint), or a one-line error saying none exists."""
    runs = sorted(
        (p for p in (Path(root_dir) / name).glob("version_*") if re.fullmatch(r"version_\d+", p.name)),
        key=lambda p: int(p.name.split("_")[1]),
        reverse=True,
    )
    for run in runs:
        last = run / "checkpoints" / "last.ckpt"
        if last.is_file():
            return last
        found = sorted((run / "checkpoints").glob("*.ckpt"), key=lambda p: p.stat().st_mtime)
        if found:
            return found[-1]
    raise LitGansError(
        f"--ckpt_path last: no checkpoint under {Path(root_dir) / name} to resume (train first, or pass "
        "--ckpt_path PATH.ckpt, or the run's --trainer.default_root_dir)"
    )
