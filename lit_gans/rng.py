"""Random-number state, for exact resume and per-rank noise under DDP.

Lightning saves neither the global RNG states nor gives DDP ranks different streams (``seed_everything`` seeds every
rank alike), so each rank would draw the same latent noise and a resumed run would drift from an uninterrupted one.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import torch


def rng_state() -> dict[str, Any]:
    """The torch (CPU and CUDA), numpy and Python RNG states, in types that ``torch.load(weights_only=True)``
    accepts (numpy's state as plain lists)."""
    kind, keys, position, has_gauss, cached = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "numpy": [kind, keys.tolist(), int(position), int(has_gauss), float(cached)],
        "python": _to_lists(random.getstate()),
    }


def set_rng_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    kind, keys, position, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, np.array(keys, dtype=np.uint32), position, has_gauss, cached))
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))


def offset_seed_for_rank(rank: int) -> None:
    """Give rank ``r > 0`` its own torch stream, derived from the seed every rank shares (rank 0 keeps it)."""
    if rank > 0:
        torch.manual_seed((torch.initial_seed() + 1_000_003 * rank) % 2**63)


def _to_lists(value: Any) -> Any:
    return [_to_lists(v) for v in value] if isinstance(value, (tuple, list)) else value
