"""Optimizers that the authors' code used and torch does not provide."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
from torch import Tensor


class AdamEpsInSqrt(torch.optim.Optimizer):
    """Adam with ``eps`` inside the square root, as Salimans et al.'s code writes it (openai/improved-gan,
    ``nn.adam_updates``):

        m <- beta1 m + (1 - beta1) g,   v <- beta2 v + (1 - beta2) g^2
        theta <- theta - lr * m_hat / sqrt(v_hat + eps)        (m_hat, v_hat: bias-corrected)

    torch's Adam divides by ``sqrt(v_hat) + eps``. The two agree for ``|g| >> sqrt(eps)``; below that (``1e-4`` at
    the default ``eps = 1e-8``) this one damps the step in proportion to ``|g| / sqrt(eps)`` where torch's takes a
    full-size one. ``step`` is counted per parameter, which equals the authors' shared counter when every parameter
    is updated at every step."""

    def __init__(
        self, params: Iterable[Tensor], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8
    ) -> None:
        if lr <= 0 or eps < 0 or not all(0.0 <= b < 1.0 for b in betas):
            raise ValueError(f"invalid AdamEpsInSqrt settings: lr={lr}, betas={betas}, eps={eps}")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps))

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["step"] = torch.zeros((), dtype=torch.float64)
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                state["step"] += 1
                t = float(state["step"])
                state["exp_avg"].lerp_(p.grad, 1.0 - beta1)
                state["exp_avg_sq"].mul_(beta2).addcmul_(p.grad, p.grad, value=1.0 - beta2)
                m_hat = state["exp_avg"] / (1.0 - beta1**t)
                v_hat = state["exp_avg_sq"] / (1.0 - beta2**t)
                p.addcdiv_(m_hat, (v_hat + group["eps"]).sqrt(), value=-group["lr"])
        return loss
