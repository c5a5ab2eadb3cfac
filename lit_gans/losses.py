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

import math

import torch
import torch.nn.functional as F
from torch import Tensor


def minimax_d_loss(real: Tensor, fake: Tensor) -> Tensor:
    # E[-log sigmoid(real)] + E[-log(1 - sigmoid(fake))]
    return F.softplus(-real).mean() + F.softplus(fake).mean()


def minimax_g_loss(fake: Tensor) -> Tensor:
    # E[log(1 - sigmoid(fake))]: the saturating form of the 2014 paper's value function
    return -F.softplus(fake).mean()


def non_saturating_d_loss(real: Tensor, fake: Tensor, real_target: float = 1.0) -> Tensor:
    """The 2014 D loss; ``real_target < 1`` is one-sided label smoothing (Salimans 2016, s.3.4): real samples are
    scored against ``t`` (binary cross-entropy), fakes keep the target 0:
    ``E[-t log D(x) - (1 - t) log(1 - D(x))] + E[-log(1 - D(G(z)))]``."""
    if not 0.0 < real_target <= 1.0:
        raise ValueError(f"real_target must lie in (0, 1], got {real_target}")
    real_term = real_target * F.softplus(-real).mean() + (1.0 - real_target) * F.softplus(real).mean()
    return real_term + F.softplus(fake).mean()


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


# ------------------------------------------------------------------------------------------------------------------
# Improved techniques (Salimans 2016) and the semi-supervised discriminator
# ------------------------------------------------------------------------------------------------------------------
def feature_matching_loss(real_features: Tensor, fake_features: Tensor, reduction: str = "sum") -> Tensor:
    """G's feature-matching objective (Salimans 2016, s.3.1): ``|| E_x f(x) - E_z f(G(z)) ||_2^2`` with ``f`` an
    intermediate layer of D; features ``[N, ...]``, the expectations are batch means. ``reduction="mean"`` divides
    by the number of features (the mean square, as the authors' code computes it)."""
    squared = (real_features.flatten(1).mean(0) - fake_features.flatten(1).mean(0)).pow(2)
    if reduction not in ("sum", "mean"):
        raise ValueError(f"reduction must be 'sum' or 'mean', got {reduction!r}")
    return squared.sum() if reduction == "sum" else squared.mean()


def real_logit_from_class_logits(class_logits: Tensor) -> Tensor:
    """The real/fake logit of a K-class discriminator (Salimans 2016, s.5): with the fake class's logit fixed at 0,
    ``D(x) = Z(x) / (Z(x) + 1)``, ``Z(x) = sum_k exp(l_k(x))``, so the logit of ``D(x)`` is ``logsumexp_k l_k``.
    ``[N, K] -> [N]``."""
    return torch.logsumexp(class_logits, dim=1)


def categorical_code_loss(code_logits: Tensor, code: Tensor) -> Tensor:
    """InfoGAN's categorical term (Chen 2016, s.5): ``-E[log Q(c | G(z, c))]``, cross-entropy of ``Q``'s logits
    ``[N, K]`` against the code ``c`` ``[N]`` that G was given. ``log K`` minus it is the variational lower bound
    ``L_I`` of the mutual information ``I(c; G(z, c))`` for a uniform ``c``."""
    return F.cross_entropy(code_logits, code)


def gaussian_code_nll(mean: Tensor, log_std: Tensor, code: Tensor) -> Tensor:
    """InfoGAN's continuous term: ``-E[log Q(c | x)]`` for a factored Gaussian ``Q`` with ``mean`` and ``log_std``
    ``[N, L]``, summed over the ``L`` codes and averaged over the batch, up to the constant ``L/2 log 2 pi``."""
    return (0.5 * ((code - mean) * torch.exp(-log_std)) ** 2 + log_std).sum(1).mean()


# ------------------------------------------------------------------------------------------------------------------
# Image-to-image translation: reconstruction terms (mean absolute error over every element)
# ------------------------------------------------------------------------------------------------------------------
def l1_distance(output: Tensor, target: Tensor) -> Tensor:
    # E|output - target|_1, per element (Pix2Pix's L_L1)
    return (output - target).abs().mean()


def cycle_consistency_loss(x: Tensor, x_cycled: Tensor, y: Tensor, y_cycled: Tensor) -> Tensor:
    # L_cyc = E|F(G(x)) - x|_1 + E|G(F(y)) - y|_1   (Zhu 2017, eq. 2)
    return l1_distance(x_cycled, x) + l1_distance(y_cycled, y)


def identity_mapping_loss(x: Tensor, f_of_x: Tensor, y: Tensor, g_of_y: Tensor) -> Tensor:
    # L_identity = E|G(y) - y|_1 + E|F(x) - x|_1   (Zhu 2017, s.5.2, after Taigman 2017)
    return l1_distance(g_of_y, y) + l1_distance(f_of_x, x)


def drift_penalty(real: Tensor) -> Tensor:
    """ProGAN's drift term (s.A.1): ``E[D(x)^2]`` on real scores, weighted by ``epsilon_drift`` = 0.001 in the
    critic's loss, keeps the Wasserstein critic's outputs from drifting far from 0."""
    return real.square().mean()


def relativistic_average_hinge_d_loss(real: Tensor, fake: Tensor) -> Tensor:
    """Relativistic average hinge (Jolicoeur-Martineau 2018), D's side: ``E[max(0, 1 - (D(x) - E D(G(z))))] +
    E[max(0, 1 + (D(G(z)) - E D(x)))]`` on raw scores."""
    return F.relu(1 - (real - fake.mean())).mean() + F.relu(1 + (fake - real.mean())).mean()


def relativistic_average_hinge_g_loss(real: Tensor, fake: Tensor) -> Tensor:
    """The same with the roles swapped (G also sees the real scores): ``E[max(0, 1 + (D(x) - E D(G(z))))] +
    E[max(0, 1 - (D(G(z)) - E D(x)))]``."""
    return F.relu(1 + (real - fake.mean())).mean() + F.relu(1 - (fake - real.mean())).mean()


def symmetric_contrastive_loss(
    text: Tensor, image: Tensor, temperature: float = 0.1, matches: Tensor | None = None
) -> Tensor:
    """Matching loss of a joint text-image embedding (the contrastive form of Reed et al. 2016's symmetric
    objective): cosine similarities ``s_ij = <t_i, v_j> / (|t_i| |v_j| T)``, cross-entropy of each caption over the
    batch's images and of each image over the captions, averaged. ``matches [B, B]`` (bool, ``True`` on the
    diagonal) marks the pairs that count as matching (e.g. two images with the same caption text); the target
    spreads evenly over them (default: the diagonal only)."""
    similarity = F.normalize(text, dim=1) @ F.normalize(image, dim=1).T / temperature  # [B, B]
    if matches is None:
        matches = torch.eye(len(text), dtype=torch.bool, device=text.device)
    target = matches.float()
    text_to_image = -(target / target.sum(1, keepdim=True) * F.log_softmax(similarity, 1)).sum(1).mean()
    image_to_text = -(target.T / target.T.sum(1, keepdim=True) * F.log_softmax(similarity.T, 1)).sum(1).mean()
    return (text_to_image + image_to_text) / 2


def gaussian_kl_to_standard_normal(mu: Tensor, logvar: Tensor) -> Tensor:
    """``KL(N(mu, diag(exp(logvar))) || N(0, I))`` per dimension, averaged over every element of ``[N, D]``
    (StackGAN's conditioning-augmentation term): ``gaussian_kl_per_sample / D``, averaged over the batch."""
    return gaussian_kl_per_sample(mu, logvar).mean() / mu[0].numel()


# ------------------------------------------------------------------------------------------------------------------
# Variational auto-encoders (Kingma & Welling 2014): per-sample terms of the negative ELBO, in nats
#   -ELBO(x) = E_q(z|x)[-log p(x|z)] + KL(q(z|x) || p(z)),   q(z|x) = N(mu, diag(exp(logvar))),  p(z) = N(0, I)
# ------------------------------------------------------------------------------------------------------------------
def gaussian_kl_per_sample(mu: Tensor, logvar: Tensor) -> Tensor:
    """``KL(N(mu, diag(exp(logvar))) || N(0, I))`` summed over the latent dimensions, one value a sample
    (``[N, z_dim] -> [N]``): ``1/2 sum(mu^2 + exp(logvar) - 1 - logvar)`` (Kingma & Welling 2014, appendix B)."""
    return 0.5 * (mu.square() + logvar.exp() - 1.0 - logvar).flatten(1).sum(1)


def reparameterize(mu: Tensor, logvar: Tensor, eps: Tensor | None = None) -> Tensor:
    """``z = mu + exp(logvar / 2) * eps`` with ``eps ~ N(0, I)`` (the reparametrisation trick): a sample of
    ``N(mu, diag(exp(logvar)))`` through which gradients reach ``mu`` and ``logvar``."""
    if eps is None:
        eps = torch.randn_like(mu)
    return mu + (0.5 * logvar).exp() * eps


def bernoulli_nll_per_sample(logits: Tensor, target: Tensor) -> Tensor:
    """``-log p(x | z)`` of independent Bernoulli pixels with ``p = sigmoid(logits)``, summed over a sample's
    elements (``[N, ...] -> [N]``); ``target`` in [0, 1] (grey levels are taken as probabilities: the
    cross-entropy, the usual MNIST practice, not a normalised density of continuous values)."""
    return F.binary_cross_entropy_with_logits(logits, target, reduction="none").flatten(1).sum(1)


def gaussian_nll_per_sample(mean: Tensor, target: Tensor, log_std: Tensor) -> Tensor:
    """``-log N(target; mean, exp(log_std)^2)`` summed over a sample's elements (``[N, ...] -> [N]``):
    ``sum((target - mean)^2 / (2 sigma^2) + log sigma + log(2 pi) / 2)``; ``log_std`` broadcasts (a scalar or one
    per element)."""
    log_std = log_std.expand_as(mean)
    nll = 0.5 * ((target - mean) / log_std.exp()).square() + log_std + 0.5 * math.log(2 * math.pi)
    return nll.flatten(1).sum(1)


def feature_reconstruction_nll(fake_features: Tensor, real_features: Tensor) -> Tensor:
    """VAE-GAN's ``L_llike^Dis_l`` (Larsen et al. 2016, eq. 7, unit variance, constants dropped):
    ``1/2 ||Dis_l(x~) - Dis_l(x)||^2`` summed over a sample's features, one value a sample (``[N, ...] -> [N]``)."""
    return 0.5 * (fake_features - real_features).square().flatten(1).sum(1)


# ------------------------------------------------------------------------------------------------------------------
# Super-resolution: content losses (SRGAN, Ledig et al. 2017, s.2.2.1)
# ------------------------------------------------------------------------------------------------------------------
def pixel_mse(output: Tensor, target: Tensor) -> Tensor:
    # l_MSE = 1/(r^2 W H) sum (I_HR - G(I_LR))^2, per element: the SRResNet's content loss (eq. 4)
    return (output - target).square().mean()


def feature_content_loss(fake_features: Tensor, real_features: Tensor, rescale: float = 1.0) -> Tensor:
    """SRGAN's ``l_VGG/i.j`` (eq. 5) with any frozen network's feature maps ``phi``, ``[N, ...]`` each:
    ``mean((rescale * phi(I_HR) - rescale * phi(G(I_LR)))^2)`` over every element (the paper's ``1/(W H)`` sum,
    averaged over maps and samples too). The paper multiplies VGG's maps by ``rescale = 1/12.75`` to bring the loss
    to the scale of the pixel MSE. Gradients flow into ``fake_features`` only; ``real_features`` is a target."""
    return (rescale * (fake_features - real_features.detach())).square().mean()


def weighted_squared_error(output: Tensor, target: Tensor, weights: Tensor) -> Tensor:
    """``sum_i w_i (output_i - target_i)^2 / #{i : w_i > 0}``: the mean squared error over the pixels with a
    nonzero weight, each weighted (Pathak 2016's reconstruction loss with its overlap weighting). ``weights``
    broadcasts to ``output`` (``[N, 1, H, W]`` for ``[N, C, H, W]`` images); pixels of weight 0 get no gradient."""
    weights = weights.expand_as(output)
    return (weights * (output - target) ** 2).sum() / (weights > 0).sum().clamp_min(1)
