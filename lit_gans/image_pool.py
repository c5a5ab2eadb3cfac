"""The history of generated images that CycleGAN's discriminators learn from (Shrivastava et al. 2017, s.2.3;
Zhu et al. 2017, s.4: "a buffer that stores the 50 previously created images").

D is updated on a mix of the newest fakes and older ones, so it does not forget what G drew before and G cannot
oscillate between modes that D alternately rejects. Until the pool is full every fake is stored and returned; then
each incoming fake is, with probability 1/2, swapped with a random stored one (the stored one is returned, the new
one kept), else returned as is. Draws use torch's global generator, whose state checkpoints save.

Not a module buffer on purpose: under DDP each rank keeps its own pool, and DDP would overwrite buffers with rank 0's
before every step. The model saves every rank's pool in its checkpoints (``state_dict`` / ``load_state_dict``).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from lit_gans.errors import LitGansError


class ImagePool:
    """``query(fakes [N, C, H, W]) -> [N, C, H, W]``: a mix of ``fakes`` and stored older fakes (detached).

    Args:
        size: how many fakes it holds (50 in CycleGAN); 0 turns it off (``query`` returns its input).
    """

    def __init__(self, size: int) -> None:
        if size < 0:
            raise LitGansError(f"the image pool size must be >= 0 (0 turns it off), got {size}")
        self.size = size
        self.images: Tensor | None = None  # [count, C, H, W], count <= size
        self.count = 0

    @torch.no_grad()
    def query(self, fakes: Tensor) -> Tensor:
        fakes = fakes.detach()
        if self.size == 0:
            return fakes
        if self.images is None:
            self.images = fakes.new_zeros(self.size, *fakes.shape[1:])
        self.images = self.images.to(fakes.device)
        out = fakes.clone()
        for i, fake in enumerate(fakes):
            if self.count < self.size:  # filling up: keep it, return it
                self.images[self.count] = fake
                self.count += 1
            elif torch.rand(()) < 0.5:  # full: return a random stored fake, keep the new one in its place
                slot = int(torch.randint(self.size, ()))
                out[i] = self.images[slot]
                self.images[slot] = fake
        return out

    def state_dict(self) -> dict[str, Any]:
        stored = None if self.images is None else self.images[: self.count].cpu()
        return {"size": self.size, "count": self.count, "images": stored}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if state["size"] != self.size:
            raise LitGansError(f"the checkpoint's image pool holds {state['size']} images, this model's {self.size}")
        self.count, self.images = state["count"], None
        if state["images"] is not None:
            stored = state["images"]
            self.images = stored.new_zeros(self.size, *stored.shape[1:])
            self.images[: self.count] = stored
