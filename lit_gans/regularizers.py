"""Constraints and penalties on the discriminator, as pure functions that work for any input shape: points
``[N, D]``, images ``[N, C, H, W]``. The penalties differentiate D's output with respect to its *input* and keep that
graph (``create_graph=True``), so their gradient flows into D's parameters and nowhere else (the inputs are
detached: no gradient reaches G)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Literal

import torch
from torch import Tensor, nn

Critic = Callable[[Tensor], Tensor]


@torch.no_grad()
def clip_weights_(module: nn.Module, clip_value: float) -> None:
    """WGAN's Lipschitz constraint (Arjovsky 2017, Algorithm 1): ``w <- clip(w, -c, c)`` for every parameter,
    in place."""
    if clip_value <= 0:
        raise ValueError(f"clip_value must be positive, got {clip_value}")
    for parameter in module.parameters():
        parameter.clamp_(-clip_value, clip_value)


def per_sample_uniform(x: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """``alpha ~ U[0, 1]``, one per sample, shaped ``[N, 1, ..., 1]`` to broadcast over ``x``'s other dimensions."""
    return torch.rand(x.shape[0], *[1] * (x.ndim - 1), device=x.device, dtype=x.dtype, generator=generator)


def input_gradient_norm(critic: Critic, x: Tensor) -> Tensor:
    """``||grad_x D(x)||_2`` per sample, ``[N]``, differentiable with respect to D's parameters."""
    x = x.detach().requires_grad_(True)
    (gradient,) = torch.autograd.grad(critic(x).sum(), x, create_graph=True)
    return gradient.flatten(1).norm(2, dim=1)


def gradient_penalty(critic: Critic, real: Tensor, fake: Tensor, target: float = 1.0) -> Tensor:
    """WGAN-GP (Gulrajani 2017, Algorithm 1): ``E[(||grad D(x_hat)||_2 - 1)^2]`` on the interpolates
    ``x_hat = alpha x + (1 - alpha) G(z)``, one ``alpha ~ U[0, 1]`` per sample (not per element). ``lambda`` is the
    caller's weight."""
    alpha = per_sample_uniform(real)
    interpolates = alpha * real.detach() + (1 - alpha) * fake.detach()
    return (input_gradient_norm(critic, interpolates) - target).square().mean()


def multiscale_gradient_penalty(
    critic: Callable[[list[Tensor]], Tensor], reals: Sequence[Tensor], fakes: Sequence[Tensor], target: float = 1.0
) -> Tensor:
    """WGAN-GP for a critic of several scales (MSG-GAN's D takes ``[x_4, ..., x_full]``): one ``alpha ~ U[0, 1]``
    per sample, shared by its scales, so every ``x_hat_s = alpha x_s + (1 - alpha) G(z)_s`` lies on the same line
    between a real and a fake sample; ``||grad||`` is the norm of the gradient with respect to all the scales
    together. (Drawing ``alpha`` per scale, as BMSG-GAN's code would, penalises points no sample pair spans.)"""
    alpha = per_sample_uniform(reals[0])
    interpolates = [
        (alpha * real.detach() + (1 - alpha) * fake.detach()).requires_grad_(True) for real, fake in zip(reals, fakes)
    ]
    gradients = torch.autograd.grad(critic(interpolates).sum(), interpolates, create_graph=True)
    norm = torch.cat([gradient.flatten(1) for gradient in gradients], dim=1).norm(2, dim=1)
    return (norm - target).square().mean()


def dragan_penalty(critic: Critic, real: Tensor, perturbation: float = 0.5, target: float = 1.0) -> Tensor:
    """DRAGAN (Kodali 2017): the gradient penalty around the data, on ``x_hat = x + alpha (x_p - x)`` with the
    perturbed ``x_p = x + perturbation * std(x) * u``, ``u ~ U[0, 1]`` per element and ``alpha ~ U[0, 1]`` per
    sample (the per-element ``alpha`` of PyTorch-GAN's DRAGAN is a known bug)."""
    real = real.detach()
    perturbed = real + perturbation * real.std() * torch.rand_like(real)
    alpha = per_sample_uniform(real)
    return (input_gradient_norm(critic, real + alpha * (perturbed - real)) - target).square().mean()


def wgan_div_penalty(
    critic: Critic,
    real: Tensor,
    fake: Tensor,
    k: float = 2.0,
    p: float = 6.0,
    points: Literal["interpolates", "real_and_fake"] = "interpolates",
) -> Tensor:
    """WGAN-div (Wu 2018): the Wasserstein-divergence term ``k E[||grad D(x')||^p]`` (the paper's k 2, p 6).

    ``points``: ``interpolates``, the authors' code (``x' = x + alpha (G(z) - x)``, one ``alpha ~ U[0, 1]`` per
    sample, as WGAN-GP's); ``real_and_fake``, the real and the generated samples themselves (the mean of the two
    expectations: the paper's eq. 13 reads the expectation under a mixture of the two distributions)."""
    if points == "interpolates":
        alpha = per_sample_uniform(real)
        interpolates = real.detach() + alpha * (fake.detach() - real.detach())
        return k * input_gradient_norm(critic, interpolates).pow(p).mean()
    if points == "real_and_fake":
        real_term = input_gradient_norm(critic, real).pow(p).mean()
        fake_term = input_gradient_norm(critic, fake).pow(p).mean()
        return k * (real_term + fake_term) / 2
    raise ValueError(f"points must be 'interpolates' or 'real_and_fake', got {points!r}")


def historical_averaging_penalty(parameters: Iterable[Tensor], means: Iterable[Tensor]) -> Tensor:
    """Historical averaging (Salimans 2016, s.3.3): ``sum ||theta - (1/t) sum_i theta[i]||^2`` over a player's
    parameters, against their running means (``ema.ParameterHistory``); the gradient pulls the weights towards
    their past average, damping the oscillations of the game."""
    return sum(((p - m.detach()) ** 2).sum() for p, m in zip(parameters, means, strict=True))


def annealed_noise_std(initial_std: float, step: int, until_step: float) -> float:
    """Instance noise's schedule: ``sigma(t) = sigma_0 max(0, 1 - t / t_end)``, from ``sigma_0`` at ``t = 0`` to 0 at
    ``t_end`` and after (Sonderby et al. 2016, "Amortised MAP Inference for Image Super-resolution";
    Arjovsky & Bottou 2017, "Towards Principled Methods for Training GANs")."""
    if until_step <= 0:
        return 0.0
    return initial_std * max(0.0, 1.0 - step / until_step)


def instance_noise(x: Tensor, std: float) -> Tensor:
    """``x + sigma eps``, ``eps ~ N(0, I)``: D judges real and generated samples blurred by the same Gaussian, so
    the two distributions overlap, D's optimum is smooth between the data's modes and its gradient reaches a G whose
    samples lie off them (Arjovsky & Bottou 2017). ``std`` 0 returns ``x`` itself."""
    if std == 0:
        return x
    return x + std * torch.randn_like(x)
