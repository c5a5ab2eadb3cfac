"""Small building blocks shared by the networks."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from lit_gans.errors import LitGansError


class Reshape(nn.Module):
    """``[N, prod(shape)] -> [N, *shape]``."""

    def __init__(self, shape: Sequence[int]) -> None:
        super().__init__()
        self.shape = tuple(shape)

    def forward(self, x: Tensor) -> Tensor:
        return x.view(x.shape[0], *self.shape)

    def extra_repr(self) -> str:
        return f"shape={self.shape}"


def check_shape(x: Tensor, expected: Sequence[int | None], name: str) -> None:
    """Raise a clear error unless ``x.shape`` matches ``expected`` (``None`` matches any size)."""
    expected = tuple(expected)
    if x.ndim != len(expected) or any(e is not None and e != s for e, s in zip(expected, x.shape)):
        wanted = "(" + ", ".join("N" if e is None else str(e) for e in expected) + ")"
        raise LitGansError(f"{name}: expected a tensor of shape {wanted}, got {tuple(x.shape)}")
