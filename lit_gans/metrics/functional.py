"""FID, IS and KID as pure functions of features and logits (any extractor), computed in float64.

FID = |mu_r - mu_g|^2 + Tr(S_r + S_g - 2 (S_r S_g)^(1/2))                 (Heusel 2017)
IS  = exp(E_x KL(p(y|x) || p(y)))       mean and std over ``splits``      (Salimans 2016)
KID = unbiased MMD^2 with k(x, y) = (x.y / d + 1)^3, mean and std over random subsets   (Binkowski 2018)
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


def gaussian_statistics(features: Tensor) -> tuple[Tensor, Tensor]:
    """``features [N, F]`` -> ``(mean [F], covariance [F, F])`` (unbiased), in float64."""
    if features.ndim != 2 or len(features) < 2:
        raise ValueError(f"need features [N >= 2, F], got {tuple(features.shape)}")
    x = features.double()
    return x.mean(0), torch.cov(x.T).reshape(x.shape[1], x.shape[1])


def frechet_distance(mu1: Tensor, sigma1: Tensor, mu2: Tensor, sigma2: Tensor) -> Tensor:
    """Frechet distance between ``N(mu1, sigma1)`` and ``N(mu2, sigma2)``.

    ``Tr (S1 S2)^(1/2) = sum_i sqrt(lambda_i)`` with ``lambda`` the eigenvalues of the symmetric PSD matrix
    ``S1^(1/2) S2 S1^(1/2)``, which has the same spectrum as ``S1 S2`` (negative round-off clamped to 0).
    """
    mu1, sigma1, mu2, sigma2 = (t.double() for t in (mu1, sigma1, mu2, sigma2))
    values, vectors = torch.linalg.eigh(sigma1)
    sqrt_sigma1 = (vectors * values.clamp(min=0).sqrt()) @ vectors.T
    inner = sqrt_sigma1 @ sigma2 @ sqrt_sigma1
    trace_sqrt = torch.linalg.eigvalsh((inner + inner.T) / 2).clamp(min=0).sqrt().sum()
    return (mu1 - mu2).square().sum() + sigma1.trace() + sigma2.trace() - 2 * trace_sqrt


def inception_score(logits: Tensor, splits: int = 10) -> tuple[Tensor, Tensor]:
    """``logits [N, K]`` of a classifier on generated images -> ``(mean, std)`` of IS over ``splits`` chunks."""
    if len(logits) < splits:
        raise ValueError(f"need at least {splits} samples for {splits} splits, got {len(logits)}")
    log_p = logits.double().log_softmax(dim=1)  # log p(y|x)
    scores = []
    for chunk in log_p.chunk(splits):
        log_marginal = chunk.logsumexp(0) - math.log(len(chunk))  # log p(y), finite where p(y) underflows
        kl = (chunk.exp() * (chunk - log_marginal)).sum(1)  # KL(p(y|x) || p(y))
        scores.append(kl.mean().exp())
    scores = torch.stack(scores)
    return scores.mean(), scores.std(unbiased=False) if splits > 1 else torch.zeros((), dtype=torch.float64)


def polynomial_mmd2(x: Tensor, y: Tensor, degree: int = 3) -> Tensor:
    """Unbiased MMD^2 between ``x [m, F]`` and ``y [n, F]`` under ``k(a, b) = (a.b / F + 1)^degree``."""
    m, n, dim = len(x), len(y), x.shape[1]
    k_xx = (x @ x.T / dim + 1) ** degree
    k_yy = (y @ y.T / dim + 1) ** degree
    k_xy = (x @ y.T / dim + 1) ** degree
    return (
        (k_xx.sum() - k_xx.diagonal().sum()) / (m * (m - 1))
        + (k_yy.sum() - k_yy.diagonal().sum()) / (n * (n - 1))
        - 2 * k_xy.mean()
    )


def kernel_inception_distance(
    real: Tensor, fake: Tensor, subsets: int = 100, subset_size: int = 1000, seed: int = 0
) -> tuple[Tensor, Tensor]:
    """``(mean, std)`` of ``polynomial_mmd2`` over ``subsets`` random subsets of ``min(subset_size, N_real,
    N_fake)`` features from each set, drawn without replacement from a generator seeded with ``seed``."""
    size = min(subset_size, len(real), len(fake))
    if size < 2:
        raise ValueError(f"KID needs at least 2 samples in each set, got {len(real)} real and {len(fake)} fake")
    generator = torch.Generator().manual_seed(seed)
    real, fake = real.double(), fake.double()
    values = torch.stack(
        [
            polynomial_mmd2(
                real[torch.randperm(len(real), generator=generator)[:size]],
                fake[torch.randperm(len(fake), generator=generator)[:size]],
            )
            for _ in range(subsets)
        ]
    )
    return values.mean(), values.std(unbiased=False) if subsets > 1 else torch.zeros((), dtype=torch.float64)
