"""Semantic inpainting by searching a trained G's latent space (Yeh et al. 2017, "Semantic Image Inpainting with
Deep Generative Models"), then Poisson blending (Perez et al. 2003).

- Masks ``M [N, 1, H, W]``: 1 = known pixel, 0 = missing (the hole). ``center`` (the central square of half the
  side), ``left`` (the left half), ``random:p`` (each pixel missing with probability ``p``), or a file.
- Importance weighting (the paper's eq. 2): ``W_i = sum_{j in N(i)} (1 - M_j) / |N(i)|`` for a known pixel ``i``
  and ``W_i = 0`` in the hole; ``N(i)`` is the ``window x window`` square around ``i`` (7 in the paper).
  ``|N(i)|`` is the full window size everywhere: pixels outside the image count as known (they add nothing).
- Objective per image: ``L(z) = ||W * (G(z) - y)||_1 + lambda log(1 - D(G(z)))`` (contextual + prior loss;
  lambda 0.003 in the paper). With ``D(x) = sigmoid(l)`` for D's logit ``l``: ``log(1 - sigmoid(l)) = -softplus(l)``
  (a critic's score, e.g. WGAN's, is read as a logit the same way). A D with several outputs (patches) is averaged.
- Search: several ``z ~ N(0, I)`` per image, Adam on ``z`` only (the paper: 1500 iterations, lr 0.03), G and D
  frozen in eval mode; the start with the lowest final ``L`` is kept. The paper clips ``z`` to [-1, 1], the range
  of its uniform prior; lit-gans' prior is ``N(0, I)`` with unbounded support, so ``z`` is not clipped.
- Poisson blending: ``x = y`` on known pixels; in the hole, ``Laplacian(x) = Laplacian(G(z*))`` (5-point graph
  Laplacian over in-image neighbours), one linear system per image and channel, symmetric positive definite on the
  hole's pixels, solved by conjugate gradient in float64 (scipy is not a dependency).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor

from lit_gans.base import GANModule, eval_mode
from lit_gans.errors import LitGansError
from lit_gans.saved_files import load_tensor_file


# ----------------------------------------------------------------------------------------------------------
# Masks
# ----------------------------------------------------------------------------------------------------------
def center_mask(n: int, size: tuple[int, int]) -> Tensor:
    """``[n, 1, H, W]``: the central ``H/2 x W/2`` square missing (a quarter of the pixels)."""
    h, w = size
    mask = torch.ones(n, 1, h, w)
    mask[..., h // 4 : h // 4 + h // 2, w // 4 : w // 4 + w // 2] = 0
    return mask


def left_mask(n: int, size: tuple[int, int]) -> Tensor:
    """``[n, 1, H, W]``: the left half (``W // 2`` columns) missing."""
    h, w = size
    mask = torch.ones(n, 1, h, w)
    mask[..., : w // 2] = 0
    return mask


def random_mask(n: int, size: tuple[int, int], missing: float, generator: torch.Generator | None = None) -> Tensor:
    """``[n, 1, H, W]``: each pixel missing independently with probability ``missing``."""
    if not 0.0 <= missing <= 1.0:
        raise LitGansError(f"random mask: the missing fraction must be in [0, 1], got {missing}")
    return (torch.rand(n, 1, *size, generator=generator) >= missing).float()


def file_mask(path: Path, n: int, size: tuple[int, int]) -> Tensor:
    """``[n, 1, H, W]`` from a ``.pt`` tensor (``[H, W]``, ``[1, H, W]``, ``[1 or n, 1, H, W]``; nonzero = known)
    or an image (grey level above half = known)."""
    if not path.is_file():
        raise LitGansError(f"--mask must be center, left, random:P or an existing file; {path} does not exist")
    if path.suffix == ".pt":
        mask = (load_tensor_file(path, "mask") != 0).float()
    else:
        try:
            picture = Image.open(path).convert("L")
            grey = torch.tensor(list(picture.getdata()), dtype=torch.float32)  # [H * W] in 0..255
            mask = (grey > 127.5).float().view(1, 1, picture.height, picture.width)
        except Exception as error:
            raise LitGansError(f"mask {path} is not a readable image ({type(error).__name__})") from None
    while mask.ndim < 4:
        mask = mask[None]
    if mask.shape[1] != 1 or mask.shape[0] not in (1, n) or tuple(mask.shape[2:]) != tuple(size):
        raise LitGansError(f"mask {path} is {list(mask.shape)}, the images need [1 or {n}, 1, {size[0]}, {size[1]}]")
    return mask.expand(n, 1, *size).clone()


def make_mask(spec: str, n: int, size: tuple[int, int], generator: torch.Generator | None = None) -> Tensor:
    """``center``, ``left``, ``random:P`` (P = the missing fraction, e.g. 0.8) or a file -> ``[n, 1, H, W]``."""
    if spec == "center":
        return center_mask(n, size)
    if spec == "left":
        return left_mask(n, size)
    if spec.startswith("random:"):
        try:
            missing = float(spec.split(":", 1)[1])
        except ValueError:
            raise LitGansError(f"--mask random:P needs a number P in [0, 1], got {spec!r}") from None
        return random_mask(n, size, missing, generator)
    return file_mask(Path(spec), n, size)


# ----------------------------------------------------------------------------------------------------------
# The objective
# ----------------------------------------------------------------------------------------------------------
def importance_weights(mask: Tensor, window: int = 7) -> Tensor:
    """Yeh et al.'s ``W [N, 1, H, W]``: a known pixel's weight is the fraction of missing pixels in the
    ``window x window`` square around it (outside the image counts as known); 0 in the hole."""
    if window < 1 or window % 2 == 0:
        raise LitGansError(f"the importance window must be an odd size, got {window}")
    missing = F.avg_pool2d(1 - mask, window, stride=1, padding=window // 2, count_include_pad=True)
    return mask * missing


def inpainting_loss(
    fake: Tensor, images: Tensor, weights: Tensor, logits: Tensor | None, lam: float
) -> tuple[Tensor, Tensor]:
    """Per image ``[N]``: the total ``||W * (G(z) - y)||_1 + lam log(1 - D(G(z)))`` and the contextual term alone.

    ``fake, images [N, C, H, W]``, ``weights [N, 1, H, W]``, ``logits`` D's output on ``fake`` (``[N]``, ``[N, 1]``
    or ``[N, ...]`` averaged), ``log(1 - sigmoid(l)) = -softplus(l)``."""
    contextual = (weights * (fake - images)).abs().flatten(1).sum(1)
    if logits is None or lam == 0:
        return contextual, contextual
    prior = -F.softplus(logits.reshape(len(fake), -1)).mean(1)
    return contextual + lam * prior, contextual


def search(
    model: GANModule,
    images: Tensor,
    mask: Tensor,
    steps: int = 1500,
    lr: float = 0.03,
    starts: int = 4,
    lam: float = 0.003,
    window: int = 7,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    """The latents ``[N, Z]`` minimising ``inpainting_loss`` for ``images [N, C, H, W]`` in [-1, 1] known where
    ``mask [N, 1, H, W]`` is 1, and their total losses ``[N]``.

    ``starts`` random latents per image are optimised together by Adam (rows are independent: the summed loss
    gives each row its own gradient); the start with the lowest final total is kept. G and D are in eval mode with
    ``requires_grad`` off (both restored afterwards): only ``z`` receives gradients. ``lam > 0`` needs D."""
    if not model.latent_input:
        raise LitGansError(f"{type(model).__name__} has no latent input to search (an image-to-image model)")
    if images.ndim != 4 or mask.shape != (len(images), 1, *images.shape[2:]):
        raise LitGansError(
            f"inpainting needs images [N, C, H, W] and a mask [N, 1, H, W], got "
            f"{list(images.shape)} and {list(mask.shape)}"
        )
    if steps < 1 or starts < 1:
        raise LitGansError(f"inpainting needs steps >= 1 and starts >= 1, got steps={steps}, starts={starts}")
    d = getattr(model, "discriminator", None) if lam != 0 else None
    if lam != 0 and d is None:
        raise LitGansError(f"{type(model).__name__} has no discriminator for the prior loss: use lambda 0")
    net = model.sampling_generator
    n = len(images)
    targets = images.to(model.device).repeat(starts, 1, 1, 1)  # [starts * N, C, H, W]: row s * N + i is image i
    weights = importance_weights(mask.to(model.device).float(), window).repeat(starts, 1, 1, 1)
    z = model.sample_latent(starts * n, generator).detach().clone().requires_grad_(True)  # [starts * N, Z]
    optimizer = torch.optim.Adam([z], lr=lr)

    def objective() -> Tensor:
        fake = model.generate(z, net)
        if fake.shape != targets.shape:
            raise LitGansError(f"G draws {list(fake.shape[1:])}, the images are {list(targets.shape[1:])}")
        return inpainting_loss(fake, targets, weights, d(fake) if d is not None else None, lam)[0]

    nets = [net] + ([d] if d is not None else [])
    wanted = [[p.requires_grad for p in m.parameters()] for m in nets]
    try:
        with eval_mode(net), eval_mode(d if d is not None else net), torch.enable_grad():
            for m in nets:
                m.requires_grad_(False)
            for _ in range(steps):
                optimizer.zero_grad(set_to_none=True)
                objective().sum().backward()
                optimizer.step()
            with torch.no_grad():
                loss = objective()
    finally:
        for m, flags in zip(nets, wanted):
            for p, flag in zip(m.parameters(), flags):
                p.requires_grad_(flag)
    best = loss.view(starts, n).argmin(0)  # [N]
    rows = best * n + torch.arange(n, device=best.device)
    return z.detach()[rows], loss.detach()[rows]


# ----------------------------------------------------------------------------------------------------------
# Poisson blending
# ----------------------------------------------------------------------------------------------------------
def graph_laplacian(x: Tensor) -> Tensor:
    """``(L x)_i = sum_{j ~ i} (x_i - x_j)`` over the 4 in-image neighbours; ``x [N, C, H, W]``."""
    kernel = torch.tensor([[0.0, 1.0, 0.0], [1.0, 0.0, 1.0], [0.0, 1.0, 0.0]], dtype=x.dtype, device=x.device)
    kernel = kernel.view(1, 1, 3, 3)
    flat = x.reshape(-1, 1, *x.shape[-2:])
    neighbours = F.conv2d(flat, kernel, padding=1)
    degree = F.conv2d(torch.ones_like(flat[:1]), kernel, padding=1)  # [1, 1, H, W]: 2, 3 or 4
    return (degree * flat - neighbours).view_as(x)


def poisson_blend(images: Tensor, generated: Tensor, mask: Tensor, tol: float = 1e-10) -> Tensor:
    """``x [N, C, H, W]``: ``x = images`` where ``mask [N, 1, H, W]`` is 1; in the hole ``L x = L generated`` with
    the known pixels as boundary values. Per image and channel, ``A u = b`` with ``A = P L P`` (``P`` keeps the
    hole) and ``b = P (L generated - L (M images))``, by batched conjugate gradient (at most one iteration per hole
    pixel). An image with no known pixel gets ``generated``."""
    dtype = images.dtype
    y, g = images.double(), generated.double()
    known = mask.double().expand_as(y)
    hole = 1 - known
    b = hole * (graph_laplacian(g) - graph_laplacian(known * y))

    def apply(u: Tensor) -> Tensor:
        return hole * graph_laplacian(hole * u)

    def dot(a: Tensor, c: Tensor) -> Tensor:
        return (a * c).sum((-2, -1), keepdim=True)  # [N, C, 1, 1]: one system per image and channel

    u = hole * g  # start from G's pixels
    r = b - apply(u)
    p = r.clone()
    rr = dot(r, r)
    scale = dot(b, b).clamp_min(1.0)
    for _ in range(int(hole[:, :1].flatten(1).sum(1).max().item()) + 1):
        if (rr <= tol**2 * scale).all():
            break
        ap = apply(p)
        pap = dot(p, ap)
        alpha = torch.where(pap > 0, rr / pap.clamp_min(1e-300), torch.zeros_like(rr))
        u = u + alpha * p
        r = r - alpha * ap
        rr_new = dot(r, r)
        p = r + torch.where(rr > 0, rr_new / rr.clamp_min(1e-300), torch.zeros_like(rr)) * p
        rr = rr_new
    blended = known * y + hole * u
    none_known = known[:, :1].flatten(1).sum(1) == 0  # [N]
    blended[none_known] = g[none_known]
    return blended.to(dtype)


def masked(images: Tensor, mask: Tensor, fill: float = -1.0) -> Tensor:
    """The known pixels of ``images [N, C, H, W]``, ``fill`` in the hole."""
    return images * mask + fill * (1 - mask)


def paste(images: Tensor, generated: Tensor, mask: Tensor) -> Tensor:
    """``M images + (1 - M) generated``: the known pixels kept, ``generated`` in the hole (``[N, C, H, W]``, ``mask
    [N, 1, H, W]``)."""
    return mask * images + (1 - mask) * generated


def hole_psnr(images: Tensor, truth: Tensor, mask: Tensor) -> Tensor:
    """Per image ``[N]``: ``10 log10(2^2 / MSE)`` over the hole's pixels (``mask == 0``) of ``images`` against
    ``truth``, both in [-1, 1] (peak-to-peak 2); the MSE floored at 1e-10."""
    hole = (1 - mask).expand_as(truth)
    mse = ((images - truth) ** 2 * hole).flatten(1).sum(1) / hole.flatten(1).sum(1).clamp_min(1)
    return 10 * torch.log10(4 / mse.clamp_min(1e-10))


def inpaint(model: GANModule, images: Tensor, mask: Tensor, **search_options: Any) -> tuple[Tensor, Tensor]:
    """``(G(z*), blended)``, both ``[N, C, H, W]``: the search (``search_options``: its steps, lr, starts, lam,
    window, generator), then Poisson blending into the known pixels."""
    latents, _ = search(model, images, mask, **search_options)
    fake = model.sample_from(latents).cpu()
    return fake, poisson_blend(images.cpu(), fake, mask.cpu())
