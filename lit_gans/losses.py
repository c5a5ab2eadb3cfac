"""Adversarial losses as pure functions of the discriminator's raw outputs (logits, or critic values).

Notation: ``real = D(x)`` and ``fake = D(G(z))``, tensors of any shape (one value per sample, or a patch map);
every loss is averaged over all elements. ``softplus(t) = log(1 + e^t)``, so ``-log(sigmoid(t)) = softplus(-t)``
and ``-log(1 - sigmoid(t)) = softplus(t)``, which stay finite where the sigmoid saturates.

=================  ======================================================  ======================================
loss               discriminator / critic minimises                        generator minimises
=================  ======================================================  ======================================
minimax            -log D(x) - log(1 - D(G(z)))    (Goodfellow 2014)       log(1 - D(G(z)))   (saturating)
non-saturating     same as minimax                                         -log D(G(z))       (Goodfellow 2014, s.3)
least squares      1/2 (D(x) - 1)^2 + 1/2 D(G(z))^2  (Mao 2017, a=0 b=c=1)  1/2 (D(G(z)) - 1)^2
wasserstein        D(G(z)) - D(x)                  (Arjovsky 2017)         -D(G(z))
hinge              relu(1 - D(x)) + relu(1 + D(G(z)))  (Lim 2017, Miyato)  -D(G(z))
=================  ======================================================  ======================================
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def minimax_d_loss(real: Tensor, fake: Tensor) -> Tensor:
    # E[-log sigmoid(real)] + E[-log(1 - sigmoid(fake))]
    return F.softplus(-real).mean() + F.softplus(fake).mean()


def minimax_g_loss(fake: Tensor) -> Tensor:
    # E[log(1 - sigmoid(fake))]: the saturating form of the 2014 paper's value function
    return -F.softplus(fake).mean()


def non_saturating_d_loss(real: Tensor, fake: Tensor) -> Tensor:
    return minimax_d_loss(real, fake)


def non_saturating_g_loss(fake: Tensor) -> Tensor:
    # E[-log sigmoid(fake)]
    return F.softplus(-fake).mean()


def least_squares_d_loss(real: Tensor, fake: Tensor) -> Tensor:
    return 0.5 * ((real - 1.0) ** 2).mean() + 0.5 * (fake**2).mean()


def least_squares_g_loss(fake: Tensor) -> Tensor:
    return 0.5 * ((fake - 1.0) ** 2).mean()


def wasserstein_d_loss(real: Tensor, fake: Tensor) -> Tensor:
    # the critic maximises E[D(x)] - E[D(G(z))], the Kantorovich-Rubinstein dual of W_1
    return fake.mean() - real.mean()


def wasserstein_g_loss(fake: Tensor) -> Tensor:
    return -fake.mean()


def hinge_d_loss(real: Tensor, fake: Tensor) -> Tensor:
    return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()


def hinge_g_loss(fake: Tensor) -> Tensor:
    return -fake.mean()


def discriminator_accuracy(real: Tensor, fake: Tensor, threshold: float = 0.0) -> Tensor:
    """Share of samples D puts on the right side of ``threshold`` (0 for logits): a diagnostic, not a loss."""
    correct = torch.cat([(real > threshold).flatten(), (fake <= threshold).flatten()])
    return correct.float().mean()
