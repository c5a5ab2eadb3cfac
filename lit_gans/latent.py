"""Using a trained G through its latent space (Radford et al. 2015, "Unsupervised Representation Learning with Deep
Convolutional GANs", section 6): walks between latents, vector arithmetic on concepts, and inversion.

- Interpolation: ``lerp(a, b, t) = a + t (b - a)``; ``slerp`` follows the great circle (White 2016, "Sampling
  Generative Networks"): with ``omega = angle(a, b)``,
  ``slerp(a, b, t) = sin((1 - t) omega) / sin(omega) a + sin(t omega) / sin(omega) b``, which keeps a Gaussian
  latent at the norm the prior puts it at, where ``lerp`` passes through low-norm latents that G rarely saw.
- Arithmetic: a concept is the mean latent of a few exemplars (single samples were unstable in the paper);
  ``mean(a) - mean(b) + mean(c)``, and variants of the result with uniform noise (the paper's +-0.25).
- Inversion: ``z* = argmin_z ||G(z) - x||^2 / P + w ||f(G(z)) - f(x)||^2 / F`` by Adam on ``z`` only (G frozen, in
  eval mode, its conditions fixed), from several random starts, keeping the best start per image.

Everything here is a pure function of tensors and a model; ``cli.py latent`` writes the grids.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from lit_gans.base import GANModule, eval_mode
from lit_gans.errors import LitGansError

FeatureFn = Callable[[Tensor], Tensor]  # images [N, C, H, W] -> features [N, F]


def _weight(t: float | Tensor, like: Tensor) -> Tensor:
    """``t`` as a tensor that broadcasts against ``like [..., Z]``: a scalar, or one value per row ``[...]``."""
    t = torch.as_tensor(t, dtype=like.dtype, device=like.device)
    return t.unsqueeze(-1) if t.ndim else t


def lerp(a: Tensor, b: Tensor, t: float | Tensor) -> Tensor:
    """``a + t (b - a)``; ``a, b [..., Z]``, ``t`` a scalar or ``[...]`` (one a row)."""
    return a + _weight(t, a) * (b - a)


def slerp(a: Tensor, b: Tensor, t: float | Tensor, eps: float = 1e-6) -> Tensor:
    """Spherical interpolation row by row: ``a, b [..., Z]``, ``t`` a scalar or ``[...]``.

    ``omega = arccos(<a, b> / (|a| |b|))``; ``sin((1 - t) omega) / sin(omega) a + sin(t omega) / sin(omega) b``.
    Unit vectors stay on the unit sphere (the great circle through them); other norms follow White's formula as
    is (the norm moves between ``|a|`` and ``|b|``). Where ``sin(omega) < eps`` (nearly parallel, or opposite,
    where no single great circle exists) the row falls back to ``lerp``."""
    if a.shape != b.shape:
        raise LitGansError(f"slerp needs latents of one shape, got {list(a.shape)} and {list(b.shape)}")
    t = _weight(t, a)
    cos = ((a * b).sum(-1, keepdim=True) / (a.norm(dim=-1, keepdim=True) * b.norm(dim=-1, keepdim=True))).clamp(-1, 1)
    omega = torch.arccos(cos)  # [..., 1]
    sin = torch.sin(omega)
    safe = sin.abs() >= eps
    sin_safe = torch.where(safe, sin, torch.ones_like(sin))
    spherical = (torch.sin((1 - t) * omega) * a + torch.sin(t * omega) * b) / sin_safe
    return torch.where(safe, spherical, a + t * (b - a))


INTERPOLATIONS: dict[str, Callable[[Tensor, Tensor, float | Tensor], Tensor]] = {"lerp": lerp, "slerp": slerp}


def interpolation_path(latents: Tensor, steps: int, method: str = "slerp") -> Tensor:
    """``latents [K, Z]`` (K >= 2) -> ``[(K - 1) * steps + 1, Z]``: ``steps`` points on each segment from
    ``latents[k]`` (``t = 0, 1/steps, ...``), then the last latent."""
    if latents.ndim != 2 or len(latents) < 2:
        raise LitGansError(f"interpolation needs at least 2 latents [K, Z], got shape {list(latents.shape)}")
    if steps < 1:
        raise LitGansError(f"interpolation steps must be at least 1, got {steps}")
    if method not in INTERPOLATIONS:
        raise LitGansError(f"interpolation method must be one of {', '.join(INTERPOLATIONS)}, got {method!r}")
    t = torch.arange(steps, dtype=latents.dtype, device=latents.device) / steps  # [steps]
    segments = [
        INTERPOLATIONS[method](a.expand(steps, -1), b.expand(steps, -1), t) for a, b in zip(latents, latents[1:])
    ]
    return torch.cat([*segments, latents[-1:]])


def concept_vector(latents: Tensor, selection: Tensor | Sequence[int]) -> Tensor:
    """The mean latent ``[Z]`` of the exemplars in ``latents [N, Z]`` chosen by a boolean mask ``[N]`` or a list of
    indices."""
    selection = torch.as_tensor(selection, device=latents.device)
    if selection.dtype == torch.bool:
        if selection.shape != latents.shape[:1]:
            raise LitGansError(f"a concept mask needs {len(latents)} entries, got shape {list(selection.shape)}")
        chosen = latents[selection]
    else:
        selection = selection.long().reshape(-1)
        outside = selection[(selection < 0) | (selection >= len(latents))]
        if outside.numel():
            raise LitGansError(f"exemplar indices must be in 0..{len(latents) - 1}, got {outside.tolist()}")
        chosen = latents[selection]
    if len(chosen) == 0:
        raise LitGansError("a concept needs at least one exemplar; none was chosen")
    return chosen.mean(0)


def arithmetic(a: Tensor, b: Tensor, c: Tensor) -> Tensor:
    """``mean(a) - mean(b) + mean(c)``: each ``[n_i, Z]`` exemplar latents (or an already averaged ``[Z]``)."""

    def mean(x: Tensor) -> Tensor:
        return x.mean(0) if x.ndim == 2 else x

    return mean(a) - mean(b) + mean(c)


def variants(vector: Tensor, n: int, noise: float = 0.25, generator: torch.Generator | None = None) -> Tensor:
    """``[n, Z]``: ``vector [Z]`` plus ``U(-noise, noise)`` on every coordinate (the paper's +-0.25)."""
    u = torch.rand(n, vector.shape[-1], generator=generator, device=generator.device if generator else None)
    return vector + noise * (2 * u.to(vector) - 1)


@torch.no_grad()
def top_exemplars(probabilities: Tensor, concept: int, count: int) -> Tensor:
    """Indices ``[count]`` of the samples that a classifier (``probabilities [N, classes]``) puts in class
    ``concept`` with the most confidence, among those whose top class it is."""
    mine = probabilities.argmax(1) == concept
    if int(mine.sum()) < count:
        raise LitGansError(
            f"only {int(mine.sum())} of {len(probabilities)} samples are classified as {concept}; {count} exemplars "
            "are needed: draw a larger pool or ask for fewer exemplars"
        )
    confidence = torch.where(mine, probabilities[:, concept], torch.full_like(probabilities[:, concept], -1.0))
    return confidence.topk(count).indices


@torch.no_grad()
def classify(classifier: nn.Module, images: Tensor, batch: int = 256) -> Tensor:
    """Class probabilities ``[N, classes]`` of ``images [N, C, H, W]`` in [-1, 1] (the scale of the datamodules the
    classifier was trained on)."""
    with eval_mode(classifier):
        return torch.cat([classifier(chunk).softmax(1) for chunk in images.split(batch)])


def repeat_conditions(conditions: dict[str, Tensor], times: int) -> dict[str, Tensor]:
    """Conditions of ``N`` samples ``[N, ...]`` -> ``[times * N, ...]``, row ``s * N + i`` that of sample ``i``."""
    return {name: value.repeat(times, *[1] * (value.ndim - 1)) for name, value in conditions.items()}


def invert(
    model: GANModule,
    images: Tensor,
    steps: int = 200,
    lr: float = 0.05,
    starts: int = 4,
    feature_fn: FeatureFn | None = None,
    feature_weight: float = 1.0,
    generator: torch.Generator | None = None,
    conditions: dict[str, Tensor] | None = None,
) -> tuple[Tensor, Tensor]:
    """The latents ``[N, Z]`` that best reproduce ``images [N, C, H, W]`` in [-1, 1] through ``model``'s sampling G,
    and their pixel errors ``[N]`` (the mean squared error per pixel of ``G(z*)``).

    Objective per image: ``mean_pixels (G(z) - x)^2 + feature_weight * mean_F (f(G(z)) - f(x))^2`` with ``f =
    feature_fn`` (none: pixels only). ``starts`` random ``z ~ N(0, I)`` per image are optimised together by Adam
    for ``steps`` steps; the start with the lowest final objective is kept. Only ``z`` is optimised: G is put in
    eval mode (BatchNorm on its running statistics) with ``requires_grad`` off, both restored afterwards, so no
    gradient reaches its parameters; ``conditions`` (labels, codes ``[N, ...]``) stay fixed."""
    if not model.latent_input:
        raise LitGansError(f"{type(model).__name__} has no latent input to invert (an image-to-image model)")
    if images.ndim != 4:
        raise LitGansError(f"inversion needs images [N, C, H, W], got shape {list(images.shape)}")
    if steps < 1 or starts < 1:
        raise LitGansError(f"inversion needs steps >= 1 and starts >= 1, got steps={steps}, starts={starts}")
    net = model.sampling_generator
    images = images.to(model.device)
    n = len(images)
    conditions = repeat_conditions({k: v.to(model.device) for k, v in (conditions or {}).items()}, starts)
    targets = images.repeat(starts, 1, 1, 1)  # [starts * N, C, H, W], row s * N + i is image i
    target_features = feature_fn(targets).detach() if feature_fn is not None else None
    z = model.sample_latent(starts * n, generator).detach().clone().requires_grad_(True)  # [starts * N, Z]
    optimizer = torch.optim.Adam([z], lr=lr)

    def objective() -> tuple[Tensor, Tensor]:
        """Per-row objective and pixel MSE, both ``[starts * N]``."""
        fake = model.generate(z, net, **conditions)
        if fake.shape != targets.shape:
            raise LitGansError(f"G draws {list(fake.shape[1:])}, the images are {list(targets.shape[1:])}")
        pixel = (fake - targets).pow(2).flatten(1).mean(1)
        if target_features is None:
            return pixel, pixel
        return pixel + feature_weight * (feature_fn(fake) - target_features).pow(2).flatten(1).mean(1), pixel

    wanted = [p.requires_grad for p in net.parameters()]
    try:
        with eval_mode(net), torch.enable_grad():
            net.requires_grad_(False)
            for _ in range(steps):
                optimizer.zero_grad(set_to_none=True)
                objective()[0].sum().backward()  # rows are independent: the sum's gradient is each row's own
                optimizer.step()
            with torch.no_grad():
                loss, pixel = objective()
    finally:
        for p, flag in zip(net.parameters(), wanted):
            p.requires_grad_(flag)
    best = loss.view(starts, n).argmin(0)  # [N]: the best start of each image
    rows = best * n + torch.arange(n, device=best.device)
    return z.detach()[rows], pixel.detach()[rows]


def classifier_features(classifier: nn.Module) -> FeatureFn:
    """``images -> features [N, F]``: the penultimate layer of a ``SmallConvClassifier`` (what FID uses), in eval
    mode (``load_classifier`` returns it so, its parameters frozen)."""

    def features(images: Tensor) -> Tensor:
        return classifier.features_and_logits(images)[0]

    return features


def discriminator_features(model: GANModule) -> FeatureFn:
    """``images -> features [N, F]``: D's last hidden activations (``D.features``, feature matching's ``f``),
    flattened, with D in eval mode and frozen (``requires_grad`` off for good: meant for a loaded checkpoint, not a
    model still training)."""
    d = model.discriminator
    if not callable(getattr(d, "features", None)):
        raise LitGansError(f"{type(model).__name__}'s discriminator exposes no features (D.features) to compare")
    d.eval().requires_grad_(False)

    def features(images: Tensor) -> Tensor:
        return d.features(images).flatten(1)

    return features


def generated(model: GANModule, latents: Tensor, batch: int = 256, **conditions: Any) -> Tensor:
    """``G(latents)`` from the sampling G in eval mode, ``batch`` at a time; ``conditions`` one value for all."""
    out = []
    for chunk in latents.split(batch):
        out.append(model.sample_from(chunk, **model.draw_conditions(len(chunk), **conditions)))
    return torch.cat(out)
