"""VAE: Kingma & Welling 2014, "Auto-Encoding Variational Bayes" (arXiv:1312.6114).

Not a two-player game: an encoder ``q(z|x) = N(mu(x), diag(sigma^2(x)))`` and a decoder ``p(x|z)`` trained
together on one objective, the evidence lower bound (ELBO) of one image, in nats:

    ELBO(x) = E_q(z|x)[log p(x|z)] - KL(q(z|x) || N(0, I))  <=  log p(x)
    minimise  -ELBO = reconstruction + kl,  z = mu + sigma * eps,  eps ~ N(0, I)   (the reparametrisation trick)

with one draw of ``z`` per image (the paper's L = 1 at batch 100) and the KL in closed form (its appendix B).

``VAE`` still subclasses ``GANModule`` so it shares everything around the loop: ``--model VAE`` (the CLI finds
models among ``GANModule``'s subclasses), ``sample(n)`` and ``sample_from``, the decoder's EMA (``ema_decay``), the
guard against non-finite losses, checkpoints with the ``lit_gans`` entry that ``cli.py sample`` reads, and the sample
and metric callbacks. Code (paper): ``generator`` is the decoder ``p_theta(x|z)``, ``encoder`` is ``q_phi(z|x)``;
there is no ``discriminator``. Its ``training_step`` replaces the base's D/G alternation by one update of encoder and
decoder with one Adam optimizer; ``d_steps`` and ``g_steps`` both count these updates (one per batch).

The decoder's likelihood (``likelihood``):
- ``bernoulli`` (the paper's MNIST model): pixels mapped from [-1, 1] to [0, 1] are the targets of independent
  Bernoulli variables with ``p = sigmoid(decoder(z))``; grey levels are taken as probabilities (cross-entropy);
- ``gaussian``: ``N(x; mean(z), sigma^2 I)`` on the [-1, 1] scale (a density there: an image's nats differ from the
  [0, 1] scale's by ``D log 2``), ``mean = tanh(decoder(z))`` for images and unbounded for toy points; ``sigma`` is
  fixed at ``gaussian_std`` or, with ``learn_std``, one scalar learned from that start (a fixed small sigma weighs
  the reconstruction against the KL like ``beta = 2 sigma^2`` in a squared-error auto-encoder).
Samples and reconstructions are the decoder's means (``2 p - 1`` or ``mean``), not draws of the pixel noise.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar, Literal

import torch
from torch import Tensor, nn

from lit_gans.base import GANModule, eval_mode
from lit_gans.ema import ema_update_
from lit_gans.errors import LitGansError
from lit_gans.losses import (
    bernoulli_nll_per_sample,
    gaussian_kl_per_sample,
    gaussian_nll_per_sample,
    reparameterize,
)
from lit_gans.networks import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator

Network = Literal["mlp", "conv"]
Likelihood = Literal["bernoulli", "gaussian"]


def gaussian_encoder(
    data_shape: Sequence[int], z_dim: int, network: Network, hidden: Sequence[int], activation: str, features: int
) -> nn.Module:
    """``x [N, *data_shape] -> [N, 2 z_dim]`` (``mu`` then ``logvar``): an MLP (the paper's: ``hidden`` layers of
    ``activation``) or DCGAN's discriminator body (``features`` channels, doubling) with ``2 z_dim`` outputs."""
    if network == "mlp":
        return MLPDiscriminator(data_shape, hidden, outputs=2 * z_dim, activation=activation)
    if network == "conv":
        _check_image_shape(data_shape)
        return DCGANDiscriminator(data_shape[1], data_shape[0], features, outputs=2 * z_dim)
    raise LitGansError(f"network must be 'mlp' or 'conv', got {network!r}")


def decoder_network(
    z_dim: int,
    data_shape: Sequence[int],
    network: Network,
    hidden: Sequence[int],
    activation: str,
    features: int,
    tanh_output: bool,
) -> nn.Module:
    """``z [N, z_dim] -> [N, *data_shape]``: an MLP (``hidden`` reversed, no normalisation) or DCGAN's generator;
    ``tanh_output`` False leaves the last layer linear (the likelihood's parameter: Bernoulli logits)."""
    if network == "mlp":
        return MLPGenerator(
            z_dim, data_shape, tuple(reversed(hidden)), norm="none", tanh_output=tanh_output, activation=activation
        )
    if network == "conv":
        _check_image_shape(data_shape)
        decoder = DCGANGenerator(z_dim, data_shape[1], data_shape[0], features)
        if not tanh_output:
            del decoder.net[-1]  # the final Tanh (no parameters: the state-dict keys stay DCGAN's)
        return decoder
    raise LitGansError(f"network must be 'mlp' or 'conv', got {network!r}")


def _check_image_shape(data_shape: Sequence[int]) -> None:
    if len(data_shape) != 3 or data_shape[1] != data_shape[2]:
        raise LitGansError(
            f"network='conv' needs square images (channels, size, size), got data_shape={tuple(data_shape)}: "
            "use network='mlp' for flat data"
        )


def reconstruction_grid(real: Tensor, reconstructed: Tensor, per_row: int = 8) -> Tensor:
    """Rows of ``per_row`` real images, each followed by the row of their reconstructions: ``[2 N, C, H, W]``."""
    n = len(real) // per_row * per_row or len(real)
    per_row = min(per_row, n)
    rows = [t[:n].reshape(-1, per_row, *t.shape[1:]) for t in (real, reconstructed)]
    return torch.stack(rows, 1).reshape(-1, *real.shape[1:])  # [rows, 2, per_row, ...] -> real row, its recon row


class Autoencoding:
    """What the VAE and the VAE-GAN share besides the loop: ``encode``, ``reconstruct``, and the reconstructions
    grid of the first validation batch (its first ``num_reconstructions`` images, kept at each validation)."""

    encoder: nn.Module
    generator: nn.Module
    num_reconstructions: int
    _reconstruction_source: Tensor | None = None

    def encode_distribution(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """``(mu, logvar)`` of ``q(z|x)``, each ``[N, z_dim]``, with the graph (training)."""
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return mu, logvar

    @torch.no_grad()
    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """``(mu, logvar)`` of ``q(z|x)`` for images ``x`` in [-1, 1], in eval mode, without a graph."""
        with eval_mode(self.encoder):
            return self.encode_distribution(x.to(self.device))

    @torch.no_grad()
    def reconstruct(self, x: Tensor) -> Tensor:
        """``Dec(mu(x))``: the decoder's mean at the encoder's mean, in eval mode, in [-1, 1] for images. The
        trained decoder, not its EMA copy: the encoder was trained against it."""
        mu, _ = self.encode(x)
        with eval_mode(self.generator):
            return self.generate(mu, self.generator)

    def keep_reconstruction_source(self, x: Tensor, batch_idx: int) -> None:
        if batch_idx == 0 and x.ndim == 4:
            self._reconstruction_source = x[: self.num_reconstructions].detach().clone()

    def sample_grids(self) -> dict[str, tuple[Tensor, int | None]]:
        """The fixed samples, and real images of the first validation batch each above its reconstruction."""
        grids = {"samples": (self.sample_fixed(), None)}
        if self._reconstruction_source is not None:
            real = self._reconstruction_source.to(self.device)
            grids["reconstructions"] = (reconstruction_grid(real, self.reconstruct(real)), 8)
        return grids


class VAE(Autoencoding, GANModule):
    """Variational auto-encoder with a Gaussian encoder and a Bernoulli or Gaussian decoder.

    Args:
        data_shape: one sample's shape, linked from the datamodule: ``(channels, size, size)`` images or ``(D,)``.
        z_dim: latent dimensions (20 in the paper's MNIST figures).
        network: ``mlp`` (the paper's: ``hidden`` layers of ``activation``; any data) or ``conv`` (DCGAN's
            discriminator body as encoder, its generator as decoder; square images of size ``s * 2^k``).
        hidden: the MLP encoder's hidden widths; the decoder uses them reversed (the paper: one layer of 500).
        activation: the MLPs' hidden nonlinearity, ``tanh`` (the paper) or ``leaky_relu``.
        features: the conv nets' base channels (DCGAN's ``ndf`` / ``ngf``).
        likelihood: ``bernoulli`` (pixels in [0, 1] as probabilities) or ``gaussian`` (see the module docstring).
        gaussian_std: the Gaussian decoder's ``sigma`` on the [-1, 1] scale (its start when ``learn_std``).
        learn_std: learn the Gaussian decoder's ``sigma`` (one scalar shared by every element).
        lr: Adam's learning rate for encoder and decoder (the paper used Adagrad at 0.01-0.1; Adam 1e-3 is the
            common replacement).
        betas: Adam's ``(beta1, beta2)``.
        num_reconstructions: real images of the first validation batch shown with their reconstructions.
        **kwargs: go to ``GANModule`` (num_fixed_samples, fixed_noise_seed, ema_decay (of the decoder),
            nonfinite, compile_networks, channels_last).
    """

    offline_preset: ClassVar[str] = "configs/vae_shapes.yaml"

    def __init__(
        self,
        data_shape: tuple[int, ...] = (1, 28, 28),
        z_dim: int = 20,
        network: Network = "conv",
        hidden: tuple[int, ...] = (500,),
        activation: Literal["tanh", "leaky_relu"] = "tanh",
        features: int = 32,
        likelihood: Likelihood = "bernoulli",
        gaussian_std: float = 0.1,
        learn_std: bool = False,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        num_reconstructions: int = 32,
        **kwargs: Any,
    ) -> None:
        super().__init__(z_dim=z_dim, lr_g=lr, lr_d=lr, betas_g=betas, betas_d=betas, **kwargs)
        self.save_hyperparameters()
        if likelihood not in ("bernoulli", "gaussian"):
            raise LitGansError(f"likelihood must be 'bernoulli' or 'gaussian', got {likelihood!r}")
        if gaussian_std <= 0:
            raise LitGansError(f"gaussian_std must be positive, got {gaussian_std}")
        self.images = len(data_shape) == 3
        if likelihood == "bernoulli" and not self.images:
            raise LitGansError("the Bernoulli likelihood needs images in [-1, 1]: use likelihood='gaussian' on points")
        self.data_shape, self.likelihood = tuple(data_shape), likelihood
        self.num_reconstructions = num_reconstructions
        self.encoder = gaussian_encoder(data_shape, z_dim, network, hidden, activation, features)
        # the decoder outputs the likelihood's parameter before its squashing (logits, or the mean before tanh)
        self.generator = decoder_network(z_dim, data_shape, network, hidden, activation, features, tanh_output=False)
        log_std = torch.tensor(math.log(gaussian_std))
        if learn_std:
            self.log_std = nn.Parameter(log_std)
        else:
            self.register_buffer("log_std", log_std)

    # ----------------------------------------------------------------------------------------------------------
    # The model: p(x|z) and the ELBO
    # ----------------------------------------------------------------------------------------------------------
    def mean_from_output(self, output: Tensor) -> Tensor:
        """The decoder's mean on the data's scale: ``2 sigmoid(l) - 1 = tanh(l / 2)`` (Bernoulli), ``tanh``
        (Gaussian images) or the output itself (Gaussian points)."""
        if self.likelihood == "bernoulli":
            return torch.tanh(output / 2)
        return torch.tanh(output) if self.images else output

    def generate(self, latent: Tensor, net: nn.Module | None = None, **conditions: Tensor) -> Tensor:
        return self.mean_from_output((self.generator if net is None else net)(latent))

    def reconstruction_nll(self, output: Tensor, x: Tensor) -> Tensor:
        """``-log p(x|z)`` per image, ``[N]``, from the decoder's raw ``output``; ``x`` in the data's scale."""
        if self.likelihood == "bernoulli":
            return bernoulli_nll_per_sample(output, (x + 1) / 2)  # pixels [-1, 1] -> [0, 1]
        return gaussian_nll_per_sample(self.mean_from_output(output), x, self.log_std)

    def elbo_terms(self, x: Tensor) -> dict[str, Tensor]:
        """One-sample estimates per image (``[N]`` each): ``reconstruction = -log p(x|z)`` at
        ``z = mu + sigma eps``, ``kl = KL(q(z|x) || N(0, I))`` in closed form, ``elbo = -(reconstruction + kl)``."""
        mu, logvar = self.encode_distribution(x)
        z = reparameterize(mu, logvar)  # [N, z_dim]
        reconstruction = self.reconstruction_nll(self.generator(z), x)
        kl = gaussian_kl_per_sample(mu, logvar)
        return {"reconstruction": reconstruction, "kl": kl, "elbo": -(reconstruction + kl)}

    # ----------------------------------------------------------------------------------------------------------
    # The loop: one update of encoder and decoder a batch
    # ----------------------------------------------------------------------------------------------------------
    def trained_networks(self) -> list[nn.Module]:
        return [self.encoder, self.generator]

    def vae_parameters(self) -> Iterator[nn.Parameter]:
        yield from self.encoder.parameters()
        yield from self.generator.parameters()
        if isinstance(self.log_std, nn.Parameter):
            yield self.log_std

    def configure_optimizers(self):
        return self.make_optimizer(self.vae_parameters(), self.lr_g, self.betas_g)

    def training_update(self, batch: Any) -> dict[str, Tensor]:
        """One step on the negative ELBO of ``batch``; returns its terms (per image)."""
        optimizer = self.optimizers()
        x = batch[0] if isinstance(batch, (tuple, list)) else batch
        terms = {name: value.mean() for name, value in self.elbo_terms(x).items()}
        terms["loss"] = -terms["elbo"]  # the negative ELBO per image, in nats
        updated = self._backward_checked(optimizer, terms["loss"], "train/loss")
        self.step_optimizer(optimizer)
        self.d_steps += 1  # updates, as for every GANModule
        self.g_steps += 1  # decoder (and encoder) updates
        if updated and hasattr(self, "generator_ema"):
            ema_update_(self.generator_ema, self.generator, self.current_ema_decay())
        return terms

    def _log_step(self, terms: dict[str, Tensor]) -> None:
        logs = {f"train/{name}": value.detach() for name, value in terms.items()}
        if isinstance(self.log_std, nn.Parameter):
            logs["train/gaussian_std"] = self.log_std.detach().exp()
        self.log_dict(logs)
        self.log("neg_elbo", logs["train/loss"], prog_bar=True, logger=False)

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        """The validation ELBO per image (``val/elbo``, ``val/reconstruction``, ``val/kl``); keeps the first batch
        for the reconstructions grid. Then the sample and metric callbacks run as for every GAN."""
        x = batch[0] if isinstance(batch, (tuple, list)) else batch
        self.keep_reconstruction_source(x, batch_idx)
        terms = self.elbo_terms(x)
        self.log_dict({f"val/{name}": value.mean() for name, value in terms.items()}, sync_dist=True)
