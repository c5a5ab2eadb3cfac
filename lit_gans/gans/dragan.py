"""DRAGAN: Kodali, Abernethy, Hays & Kira 2017, "On Convergence and Stability of GANs" (arXiv:1705.07215).

The 2014 objective plus a gradient penalty only around the real data, against the sharp D gradients of local
equilibria that cause mode collapse (defaults lambda = 10, perturbation 0.5, Adam 1e-4, betas (0.5, 0.9)):

    D: descend  -log D(x) - log(1 - D(G(z))) + lambda E[(||grad D(x + delta)||_2 - 1)^2],
                delta = alpha (x_p - x), x_p = x + 0.5 std(x) u, u ~ U[0, 1], alpha ~ U[0, 1] per sample
    G: descend  -log D(G(z))
"""

from __future__ import annotations

from typing import Any, ClassVar

from torch import Tensor

from lit_gans.base import GANModule, uncompiled
from lit_gans.losses import discriminator_accuracy, non_saturating_d_loss, non_saturating_g_loss
from lit_gans.networks import CriticNorm, critic_options, generator_and_discriminator
from lit_gans.regularizers import dragan_penalty


class DRAGAN(GANModule):
    """GAN with DRAGAN's gradient penalty around the data.

    Args:
        data_shape: ``(C, H, W)`` (DCGAN nets) or ``(D,)`` (MLPs); linked from the data.
        g_features: ``ngf``, channels of G's last hidden layer in the DCGAN net (doubling towards its input);
            images only (64 as in DCGAN).
        d_features: ``ndf``, channels of D's first conv layer (doubling per stride-2 layer); images only.
        g_hidden: widths of G's hidden layers in the MLP, input to output; flat data ``(D,)`` only.
        d_hidden: widths of D's hidden layers in the MLP; flat data ``(D,)`` only.
        d_norm: the conv D: ``none`` (biased convs, He init, no normalisation: the WGAN-GP authors' MNIST
            critic) or ``layer`` (layer norm behind biased convs: their 64x64 critic). Never BatchNorm, which couples
            the samples the per-sample penalty treats one by one.
        lambda_dragan: ``lambda``, the weight of the penalty ``E[(||grad D(x + delta)||_2 - 1)^2]`` in D's loss
            (10 in the paper).
        perturbation: the scale ``c`` of the perturbed points ``x_p = x + c std(x) u``, ``u ~ U[0, 1]`` per
            element, in units of the real batch's standard deviation (over all its elements); the penalty is
            taken between ``x`` and ``x_p`` (0.5, the authors' code).
        lr_g: G's Adam learning rate ``alpha`` (1e-4, the authors' code).
        lr_d: D's Adam learning rate ``alpha`` (1e-4).
        betas_g: G's Adam ``(beta1, beta2)`` (``(0.5, 0.9)``, the authors' code).
        betas_d: D's Adam ``(beta1, beta2)`` (``(0.5, 0.9)``).
        n_critic: D steps per G step (1).
        **kwargs: go to ``GANModule``: num_fixed_samples, fixed_noise_seed, ema_decay, nonfinite,
            compile_networks, channels_last.
    """

    offline_preset: ClassVar[str] = "configs/dragan_shapes.yaml"  # `fit --model DRAGAN` with no data

    def __init__(
        self,
        data_shape: tuple[int, ...] = (1, 28, 28),
        z_dim: int = 100,
        g_features: int = 64,
        d_features: int = 64,
        g_hidden: tuple[int, ...] = (256, 256, 256),
        d_hidden: tuple[int, ...] = (256, 256, 256),
        d_norm: CriticNorm = "none",
        lambda_dragan: float = 10.0,
        perturbation: float = 0.5,
        lr_g: float = 1e-4,
        lr_d: float = 1e-4,
        betas_g: tuple[float, float] = (0.5, 0.9),
        betas_d: tuple[float, float] = (0.5, 0.9),
        n_critic: int = 1,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            z_dim=z_dim, lr_g=lr_g, lr_d=lr_d, betas_g=betas_g, betas_d=betas_d, n_critic=n_critic, **kwargs
        )
        self.save_hyperparameters()
        self.lambda_dragan, self.perturbation = lambda_dragan, perturbation
        self.generator, self.discriminator = generator_and_discriminator(
            data_shape, z_dim, g_features, d_features, g_hidden, d_hidden, **critic_options(d_norm)
        )

    def d_step(self, batch: tuple[Tensor, Tensor]) -> dict[str, Tensor]:
        real = batch[0]
        real_logits, fake_logits = self.discriminator(real), self.discriminator(self.draw_fake(len(real)).detach())
        penalty = dragan_penalty(uncompiled(self.discriminator), real, self.perturbation)
        out = {
            "loss": non_saturating_d_loss(real_logits, fake_logits) + self.lambda_dragan * penalty,
            "penalty": penalty,
        }
        if self.diagnosing:  # a diagnostic: computed for the logged updates only
            out["accuracy"] = discriminator_accuracy(real_logits, fake_logits)
        return out

    def g_step(self, batch: tuple[Tensor, Tensor]) -> dict[str, Tensor]:
        return {"loss": non_saturating_g_loss(self.discriminator(self.draw_fake(len(batch[0]))))}
