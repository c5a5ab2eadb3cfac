"""VAE-GAN: Larsen, Sønderby, Larochelle & Winther 2016, "Autoencoding beyond pixels using a learned similarity
metric" (arXiv:1512.09300; the authors' code: github.com/andersbll/autoencoding_beyond_pixels, ``model/aegan.py``).

A VAE whose decoder is a GAN's generator, with the reconstruction error measured in the discriminator's feature
space (layer ``l``) instead of pixels. Algorithm 1, with ``z = Enc(x)`` (reparametrised), ``z_p ~ N(0, I)``:

    L_prior  = KL(q(z|x) || N(0, I))
    L_llike  = 1/2 ||Dis_l(Dec(z)) - Dis_l(x)||^2                     (a Gaussian of unit variance in D's features)
    L_GAN    = log D(x) + log(1 - D(Dec(z))) + log(1 - D(Dec(z_p)))  (D sees x, Dec(Enc(x)) and Dec(z_p))
    Enc:  descend  L_prior + L_llike
    Dec:  descend  gamma L_llike - L_GAN        (here with the non-saturating -log D(Dec(.)) for -log(1 - D(.)))
    Dis:  ascend   L_GAN                        (-log D(x) - 1/2 [log(1 - D(Dec(z))) + log(1 - D(Dec(z_p)))])

Code (paper): ``generator`` = Dec, ``discriminator`` = Dis, ``encoder`` = Enc; ``gamma``; ``recon_depth`` = l.

Three parameter groups on the shared loop: D's step is the base's ``d_step``; encoder and decoder share the G
optimizer, and ``g_step`` returns one loss built so that each group receives only its own loss's gradient:
- the encoder's ``L_llike`` goes through the decoder with its weights detached (``torch.func.functional_call``):
  the encoder gets ``d L_llike / d phi``, the decoder nothing from it;
- the decoder's ``gamma L_llike - L_GAN`` is computed on ``Dec(z.detach())`` and ``Dec(z_p)``: the GAN term (and the
  decoder's copy of the reconstruction term) never reaches the encoder (the authors' ``ScaleGradient(0.0)(z)``);
- D is frozen during the G step (the base's toggle), so ``Dis_l`` is a fixed metric there (the authors' D weights
  in the reconstruction path are ``WeightedParameter(p, 1.0, 0.0)``: D does not learn from ``L_llike``).

The authors' equilibrium rule (``margin``; ``GradientDescent.train_epoch``): from D's costs on the batch,
``real = mean -log D(x)`` and ``fake = mean -log(1 - D(Dec(.)))``, D is not updated when either is below
``equilibrium - margin`` (D is winning), the decoder is not when either is above ``equilibrium + margin`` (D is
losing), and both are when neither would be; the encoder always is. The skipped network's gradients are left
unset, so Adam leaves its weights and moments alone. The decision uses this rank's batch (under DDP ranks may
disagree; use it on one device).
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import chain, islice
from typing import Any, ClassVar, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lit_gans.base import GANModule
from lit_gans.errors import LitGansError
from lit_gans.gans.vae import Autoencoding, Network, decoder_network, gaussian_encoder
from lit_gans.losses import (
    feature_reconstruction_nll,
    gaussian_kl_per_sample,
    non_saturating_d_loss,
    non_saturating_g_loss,
    reparameterize,
)
from lit_gans.networks import DCGANDiscriminator, MLPDiscriminator


def detached_call(module: nn.Module, *args: Tensor) -> Tensor:
    """``module(*args)`` with its parameters as constants: gradients reach ``args`` but none of the module's
    weights (buffers, e.g. BatchNorm's running statistics, are the module's own)."""
    params = {name: p.detach() for name, p in module.named_parameters()}
    return torch.func.functional_call(module, {**params, **dict(module.named_buffers())}, args)


class VAEGAN(Autoencoding, GANModule):
    """VAE-GAN: Gaussian encoder, decoder = G, discriminator whose features measure reconstructions.

    Args:
        data_shape: one sample's shape, linked from the datamodule (``(channels, size, size)`` or ``(D,)``).
        z_dim: latent dimensions (128 in the paper's faces; fewer suit MNIST).
        network: ``conv`` (DCGAN's nets for encoder, decoder and D; the paper's are of that family) or ``mlp``.
        e_features: the conv encoder's base channels.
        g_features: the conv decoder's base channels (DCGAN's ``ngf``).
        d_features: the conv discriminator's base channels (DCGAN's ``ndf``).
        hidden: the MLP encoder's and D's hidden widths (the decoder uses them reversed), for ``network='mlp'``.
        gamma: the weight of ``L_llike`` against the GAN term in the decoder's loss (the authors' code weighs the
            decoder's gradients ``w`` and ``1 - w`` with ``recon_vs_gan_weight`` w = 1e-2 by default, 1e-6 on faces;
            ``gamma = w / (1 - w)``).
        recon_depth: ``l``, the D layers (of ``discriminator.net``) before the features compared; 0 takes D's last
            hidden layer (``D.features``, for DCGAN's 28 px D the ``[N, 2 d_features, 7, 7]`` map). The authors
            compare after D's third conv block of four (``recon_depth=9`` in their faces' script).
        margin: the equilibrium rule's margin (the authors' 0.4), or None to update every network every batch.
        equilibrium: the rule's centre, a cross-entropy in nats (0.68, about ``log 2``).
        lr_g: Adam's learning rate for encoder and decoder (they share the G optimizer).
        lr_d: D's.
        betas_g, betas_d: Adam's ``(beta1, beta2)``.
        num_reconstructions: real images of the first validation batch shown with their reconstructions.
        activation: the MLPs' hidden nonlinearity (``leaky_relu`` or ``tanh``), for ``network='mlp'``.
        **kwargs: go to ``GANModule`` (num_fixed_samples, fixed_noise_seed, ema_decay (the decoder's), nonfinite,
            compile_networks, channels_last).
    """

    offline_preset: ClassVar[str] = "configs/vaegan_shapes.yaml"

    def __init__(
        self,
        data_shape: tuple[int, ...] = (1, 28, 28),
        z_dim: int = 32,
        network: Network = "conv",
        e_features: int = 32,
        g_features: int = 32,
        d_features: int = 32,
        hidden: tuple[int, ...] = (256,),
        gamma: float = 1e-2,
        recon_depth: int = 0,
        margin: float | None = None,
        equilibrium: float = 0.68,
        lr_g: float = 3e-4,
        lr_d: float = 3e-4,
        betas_g: tuple[float, float] = (0.5, 0.999),
        betas_d: tuple[float, float] = (0.5, 0.999),
        num_reconstructions: int = 32,
        activation: Literal["leaky_relu", "tanh"] = "leaky_relu",
        **kwargs: Any,
    ) -> None:
        super().__init__(z_dim=z_dim, lr_g=lr_g, lr_d=lr_d, betas_g=betas_g, betas_d=betas_d, **kwargs)
        self.save_hyperparameters()
        if gamma < 0:
            raise LitGansError(f"gamma must be non-negative, got {gamma}")
        if margin is not None and margin < 0:
            raise LitGansError(f"margin must be non-negative (or None: no update skipping), got {margin}")
        self.gamma, self.margin, self.equilibrium = gamma, margin, equilibrium
        self.num_reconstructions = num_reconstructions
        self.encoder = gaussian_encoder(data_shape, z_dim, network, hidden, activation, e_features)
        self.generator = decoder_network(
            z_dim, data_shape, network, hidden, activation, g_features, tanh_output=len(data_shape) == 3
        )
        if network == "conv":
            self.discriminator = DCGANDiscriminator(data_shape[1], data_shape[0], d_features)
        else:
            self.discriminator = MLPDiscriminator(data_shape, hidden, activation=activation)
        depth = recon_depth or self.discriminator.num_feature_layers
        if not 0 < depth <= self.discriminator.num_feature_layers:
            raise LitGansError(
                f"recon_depth must lie in 1..{self.discriminator.num_feature_layers} (D's hidden layers), or 0 for "
                f"the last, got {recon_depth}"
            )
        self.recon_depth = depth
        self.update_decoder = True  # the equilibrium rule's verdict on this batch, from its D step

    def generator_parameters(self) -> Iterator[nn.Parameter]:
        return chain(self.encoder.parameters(), self.generator.parameters())

    def trained_networks(self) -> list[nn.Module]:
        return [self.encoder, self.generator, self.discriminator]

    def discriminate(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """``(Dis_l(x), D(x))``: the features of layer ``l`` (``[N, ...]``) and the logits ``[N]``, in one pass."""
        D = self.discriminator
        features = x
        for layer in islice(D.net, self.recon_depth):
            features = layer(features)
        h = features
        for layer in islice(D.net, self.recon_depth, D.num_feature_layers):
            h = layer(h)
        return features, D.head(h)

    def d_step(self, batch: Any) -> dict[str, Tensor]:
        x = batch[0]
        with torch.no_grad():
            mu, logvar = self.encode_distribution(x)
            reconstructed = self.generator(reparameterize(mu, logvar))  # Dec(Enc(x))
            prior = self.draw_fake(len(x))  # Dec(z_p)
        D = self.discriminator
        real, fake = D(x), torch.cat([D(reconstructed), D(prior)])
        out = {"loss": non_saturating_d_loss(real, fake)}  # -log D(x) - 1/2 sum_fakes log(1 - D(fake))
        if self.margin is not None:
            real_cost, fake_cost = F.softplus(-real).mean(), F.softplus(fake).mean()  # -log D(x), -log(1 - D(.))
            if self._trainer is not None and self.trainer.world_size > 1:  # one verdict on every rank: the costs
                real_cost = self.trainer.strategy.reduce(real_cost.detach(), reduce_op="mean")  # of the whole batch
                fake_cost = self.trainer.strategy.reduce(fake_cost.detach(), reduce_op="mean")
            low, high = self.equilibrium - self.margin, self.equilibrium + self.margin
            update_d = not bool(real_cost < low or fake_cost < low)
            update_decoder = not bool(real_cost > high or fake_cost > high)
            if not (update_d or update_decoder):
                update_d = update_decoder = True
            self.update_decoder = update_decoder
            out["skip_update"] = not update_d  # the base leaves D's gradients unset: no update
            out["d_updated"] = torch.tensor(float(update_d))
            out["decoder_updated"] = torch.tensor(float(update_decoder))
        return out

    def generator_losses(self, x: Tensor) -> dict[str, Tensor]:
        """The encoder's and the decoder's losses of Algorithm 1, each with gradients to its own network only
        (D frozen by the loop): ``encoder`` = L_prior + L_llike, ``decoder`` = gamma L_llike + GAN term; with the
        terms for logging."""
        mu, logvar = self.encode_distribution(x)
        z = reparameterize(mu, logvar)  # [N, z_dim]
        kl = gaussian_kl_per_sample(mu, logvar).mean()
        with torch.no_grad():
            real_features = self.discriminate(x)[0]  # Dis_l(x): the target
        # the encoder's reconstruction: through the decoder with its weights as constants
        encoder_features = self.discriminate(detached_call(self.generator, z))[0]
        encoder_llike = feature_reconstruction_nll(encoder_features, real_features).mean()
        # the decoder's: from Dec(z.detach()) and Dec(z_p), no path to the encoder; under the equilibrium rule's
        # "no decoder update" its weights are constants too (their gradients stay unset)
        decode = self.generator if self.update_decoder else lambda latent: detached_call(self.generator, latent)
        reconstructed = decode(z.detach())
        features, reconstructed_logits = self.discriminate(reconstructed)
        decoder_llike = feature_reconstruction_nll(features, real_features).mean()
        prior_logits = self.discriminator(decode(self.sample_latent(len(x))))
        adversarial = non_saturating_g_loss(torch.cat([reconstructed_logits, prior_logits]))  # -log D(Dec(.))
        return {
            "encoder": kl + encoder_llike,
            "decoder": self.gamma * decoder_llike + adversarial,
            "kl": kl,
            "reconstruction": decoder_llike.detach(),  # L_llike per image (the same value in both copies)
            "adversarial": adversarial,
            "pixel_mse": (reconstructed - x).square().mean().detach(),
        }

    def g_step(self, batch: Any) -> dict[str, Tensor]:
        losses = self.generator_losses(batch[0])
        return {"loss": losses["encoder"] + losses["decoder"], **{k: v.detach() for k, v in losses.items()}}

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        """Keeps the first batch for the reconstructions grid; logs the reconstructions' pixel error and the KL."""
        x = batch[0] if isinstance(batch, (tuple, list)) else batch
        self.keep_reconstruction_source(x, batch_idx)
        mu, logvar = self.encode_distribution(x)
        reconstructed = self.generate(mu)
        self.log_dict(
            {
                "val/pixel_mse": (reconstructed - x).square().mean(),
                "val/kl": gaussian_kl_per_sample(mu, logvar).mean(),
            },
            sync_dist=True,
        )
