"""InfoGAN: Chen et al. 2016, "InfoGAN: Interpretable Representation Learning by Information Maximizing Generative
Adversarial Nets" (arXiv:1606.03657).

G's input is noise ``z`` plus latent codes ``c``: one categorical ``c_1 ~ Cat(K = 10)`` and ``L = 2`` continuous
``c_2, c_3 ~ U(-1, 1)`` on MNIST. An auxiliary distribution ``Q(c | x)``, a head on D's body, lower-bounds the mutual
information between the codes and G's output (eq. 4-5):

    L_I(G, Q) = E_{c ~ P(c), x ~ G(z, c)}[log Q(c | x)] + H(c)  <=  I(c; G(z, c))
    min_{G, Q} max_D  V(D, G) - lambda L_I(G, Q)

``Q`` is a categorical over ``c_1`` and a factored Gaussian over ``c_2, c_3`` (mean and log-std; ``mse`` fixes the
std, leaving a squared error). Both players carry ``-lambda L_I``: D's optimizer holds D's body and ``Q``, and they
fit ``Q`` on the D step (fakes detached); G makes its codes recoverable on the G step. Logged each step:
``mi_lower_bound = log K - CE``, the bound's categorical part in nats (at most ``log 10 = 2.30``).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, Literal

import torch
from torch import Tensor

from lit_gans.base import eval_mode
from lit_gans.ema import BiasCorrectedAverage
from lit_gans.errors import LitGansError
from lit_gans.improved import NonSaturatingGAN, uniform_labels
from lit_gans.losses import categorical_code_loss, discriminator_accuracy, gaussian_code_nll
from lit_gans.networks.conditional import AuxiliaryHeadDiscriminator, LatentCodeGenerator, Network, base_networks


def shape_text(values: Tensor) -> str:
    """``"3 values"`` for a vector, ``"shape [2, 3]"`` otherwise: what a user passed, without echoing it."""
    if values.ndim == 1:
        return f"{len(values)} value{'' if len(values) == 1 else 's'}"
    return f"shape {list(values.shape)}"


class InfoGAN(NonSaturatingGAN):
    """InfoGAN with one categorical and ``num_continuous`` uniform codes.

    Args:
        data_shape: ``(C, H, W)`` or ``(D,)``, linked from the datamodule by the CLI.
        z_dim: incompressible noise (62 on MNIST in the paper).
        num_categories: ``K`` of the categorical code (10 on MNIST).
        num_continuous: ``L`` continuous codes, uniform in [-1, 1] (2 on MNIST).
        continuous_loss: ``gaussian`` (Q predicts mean and log-std) or ``mse`` (Q predicts the mean: ``sum (c - mu)^2``,
            which at ``lambda_continuous = 0.5`` is a unit-std Gaussian's NLL up to a constant, the authors' code).
        lambda_categorical: ``lambda`` of the categorical code's part of ``L_I`` (its cross-entropy), in both
            players' losses (1: the paper uses lambda = 1 for discrete codes).
        lambda_continuous: ``lambda`` of the continuous codes' part of ``L_I`` (their Gaussian NLL, or squared
            error under ``mse``; 0.1: the paper uses a smaller lambda for continuous codes).
        q_hidden: width of Q's hidden layer (FC-128 in the paper).
        q_batch_norm: batch norm in Q's hidden layer (FC-128-BN-lReLU, the paper's table 1 and the authors'
            code); off by default.
        leaky_slope: slope of the LeakyReLUs in D's body (``network="infogan"``) and in Q: 0.2 (DCGAN's), or 0.01
            as in the authors' code (openai/InfoGAN ``leaky_rectify``); the MNIST preset uses theirs.
        noise_prior: the distribution of ``z``: ``normal`` N(0, I) or ``uniform`` U(-1, 1) (the authors' code).
        network: ``infogan`` (the paper's MNIST nets, appendix C.1), ``conv`` (DCGAN nets) or ``mlp``.
        g_hidden: widths of G's hidden layers in the MLP (``network="mlp"`` only; 256-512-1024).
        d_hidden: widths of D's hidden layers in the MLP (``network="mlp"`` only; 512-256).
        g_features: ``ngf``, channels of G's last hidden conv layer, doubling towards its input
            (``conv`` and ``infogan`` only; 64).
        d_features: ``ndf``, channels of D's first conv layer, doubling per stride-2 layer (``conv`` and
            ``infogan`` only; 64).
        lr_g: G's Adam learning rate (1e-3, the paper's MNIST set-up).
        lr_d: the Adam learning rate of D and Q (2e-4, the paper's MNIST set-up).
        betas_g: G's Adam ``(beta1, beta2)`` (``(0.5, 0.999)``).
        betas_d: D's and Q's Adam ``(beta1, beta2)`` (``(0.5, 0.999)``).
        num_fixed_samples: size of the fixed latent batch of the sample grids, laid out one categorical value a
            row (100: 10 a row for ``K = 10``).
        minibatch_kernels: ``B``, the number of minibatch-discrimination kernels in D (Salimans et al. 2016,
            s.3.2): each appends to D's features one that measures how close a sample is to the rest of its
            batch; 0 (default): off; not with ``network="infogan"``.
        d_average_rate: ``r`` of a running average of D's and Q's parameters (``ema.BiasCorrectedAverage``, folded
            in after every D step) that ``categorical_code`` reads, as Salimans et al.'s code evaluates its
            semi-supervised D with a parameter average; Q itself trains as before. 0 (default): off.
        **kwargs: go to ``NonSaturatingGAN`` (real_label, feature_matching, historical_averaging) and on to
            ``GANModule`` (fixed_noise_seed, ema_decay, nonfinite, compile_networks,
            channels_last).
    """

    # `python cli.py fit --model InfoGAN` with no data: a 3-valued code on the shapes (no download)
    offline_preset: ClassVar[str] = "configs/infogan_shapes.yaml"

    def __init__(
        self,
        data_shape: tuple[int, ...] = (1, 28, 28),
        z_dim: int = 62,
        num_categories: int = 10,
        num_continuous: int = 2,
        continuous_loss: Literal["gaussian", "mse"] = "gaussian",
        lambda_categorical: float = 1.0,
        lambda_continuous: float = 0.1,
        q_hidden: int = 128,
        q_batch_norm: bool = False,
        leaky_slope: float = 0.2,
        noise_prior: Literal["normal", "uniform"] = "normal",
        network: Network = "conv",
        g_hidden: tuple[int, ...] = (256, 512, 1024),
        d_hidden: tuple[int, ...] = (512, 256),
        g_features: int = 64,
        d_features: int = 64,
        lr_g: float = 1e-3,
        lr_d: float = 2e-4,
        betas_g: tuple[float, float] = (0.5, 0.999),
        betas_d: tuple[float, float] = (0.5, 0.999),
        n_critic: int = 1,
        num_fixed_samples: int = 100,
        minibatch_kernels: int = 0,
        d_average_rate: float = 0.0,
        **kwargs: Any,
    ) -> None:
        if not 0.0 <= d_average_rate <= 1.0:
            raise LitGansError(f"d_average_rate must lie in [0, 1] (0: off), got {d_average_rate}")
        self.d_average_rate = d_average_rate
        if noise_prior not in ("normal", "uniform"):
            raise LitGansError(f"noise_prior must be 'normal' or 'uniform', got {noise_prior!r}")
        self.noise_prior = noise_prior  # before the base's init, which draws the fixed latents with sample_latent
        super().__init__(
            z_dim=z_dim,
            lr_g=lr_g,
            lr_d=lr_d,
            betas_g=betas_g,
            betas_d=betas_d,
            n_critic=n_critic,
            num_fixed_samples=num_fixed_samples,
            **kwargs,
        )
        self.save_hyperparameters()
        if num_categories < 2 or num_continuous < 0:
            raise LitGansError(
                f"need num_categories >= 2 and num_continuous >= 0, got {num_categories}, {num_continuous}"
            )
        if continuous_loss not in ("gaussian", "mse"):
            raise LitGansError(f"continuous_loss must be 'gaussian' or 'mse', got {continuous_loss!r}")
        self.num_categories, self.num_continuous, self.continuous_loss = num_categories, num_continuous, continuous_loss
        self.lambda_categorical, self.lambda_continuous = lambda_categorical, lambda_continuous
        g_net, d_net = base_networks(
            network,
            data_shape,
            z_dim + num_categories + num_continuous,
            g_hidden,
            d_hidden,
            g_features,
            d_features,
            minibatch_kernels,
            d_leaky_slope=leaky_slope if network == "infogan" else 0.2,
        )
        self.generator = LatentCodeGenerator(g_net, z_dim, num_categories, num_continuous)
        q_outputs = num_categories + num_continuous * (2 if continuous_loss == "gaussian" else 1)
        self.discriminator = AuxiliaryHeadDiscriminator(d_net, q_outputs, q_hidden, q_batch_norm, leaky_slope)

    def configure_model(self) -> None:
        """Adds ``discriminator_average`` (when ``d_average_rate > 0``) once D exists, before Lightning restores a
        checkpoint, so checkpoints and resumed runs keep it."""
        super().configure_model()
        if self.d_average_rate > 0 and not hasattr(self, "discriminator_average"):
            self.discriminator_average = BiasCorrectedAverage(self.discriminator, self.d_average_rate)

    def after_d_step(self) -> None:
        super().after_d_step()
        if hasattr(self, "discriminator_average"):
            self.discriminator_average.update_(self.discriminator)

    @torch.no_grad()
    def categorical_code(self, images: Tensor, current: bool = False) -> Tensor:
        """``argmax_k Q(c_1 = k | x)`` for each image, ``[N]`` (eval mode): the categorical code as an unsupervised
        classifier, from the parameter average when ``d_average_rate > 0`` (``current``: from D and Q
        themselves)."""
        averaged = hasattr(self, "discriminator_average") and not current
        net = self.discriminator_average.module if averaged else self.discriminator
        with eval_mode(net):
            q_outputs = net.auxiliary(net.features(images.to(self.device)))
        return q_outputs[:, : self.num_categories].argmax(1)

    # ----------------------------------------------------------------------------------------------------------
    # Codes
    # ----------------------------------------------------------------------------------------------------------
    def sample_latent(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """The incompressible noise ``z``, ``[n, z_dim]``: N(0, I) or U(-1, 1) by ``noise_prior``."""
        if self.noise_prior == "normal":
            return super().sample_latent(n, generator)
        device = generator.device if generator is not None else self.device
        return (torch.rand(n, self.z_dim, generator=generator, device=device) * 2 - 1).to(self.device)

    def draw_conditions(self, n: int, generator: torch.Generator | None = None, **given: Any) -> dict[str, Tensor]:
        """``categorical`` (one value or ``[n]``) and ``continuous`` (``L`` values or ``[n, L]``); whatever is not
        given is drawn from the prior, ``Cat(K)`` and ``U(-1, 1)^L``."""
        categorical, continuous = given.pop("categorical", None), given.pop("continuous", None)
        if given:
            raise LitGansError(f"InfoGAN takes categorical=... and continuous=..., not {', '.join(sorted(given))}")
        k, m, name = self.num_categories, self.num_continuous, type(self).__name__
        if categorical is None:
            categorical = uniform_labels(n, k, generator, self.device)
        categorical = torch.as_tensor(categorical, dtype=torch.long, device=self.device)
        if categorical.ndim > 1 or (categorical.ndim == 1 and len(categorical) != n):
            raise LitGansError(f"categorical takes one value or {n} (one a sample), got {shape_text(categorical)}")
        outside = categorical[(categorical < 0) | (categorical >= k)]
        if outside.numel():
            raise LitGansError(f"{name} has {k} categories: categorical codes lie in 0..{k - 1}, got {int(outside[0])}")
        if continuous is None:
            gen_device = generator.device if generator is not None else self.device
            continuous = torch.rand(n, m, generator=generator, device=gen_device) * 2 - 1
        continuous = torch.as_tensor(continuous, dtype=torch.float32, device=self.device)
        if continuous.shape not in ((m,), (n, m)):  # never broadcast a single value over several codes
            raise LitGansError(
                f"{name} has {m} continuous codes: continuous takes {m} values (or {n} rows of {m}), "
                f"got {shape_text(continuous)}"
            )
        return {"categorical": categorical.expand(n), "continuous": continuous.expand(n, m)}

    def generate(self, latent: Tensor, net: torch.nn.Module | None = None, **conditions: Tensor) -> Tensor:
        if set(conditions) != {"categorical", "continuous"}:
            raise LitGansError("InfoGAN generates from (z, categorical, continuous): pass both codes")
        return (self.generator if net is None else net)(latent, conditions["categorical"], conditions["continuous"])

    def fixed_conditions(self) -> dict[str, Tensor]:
        """One categorical value a row; continuous codes drawn once from the fixed seed (the same at every call)."""
        per_row = max(1, len(self.fixed_latent) // self.num_categories)
        categorical = (torch.arange(len(self.fixed_latent)) // per_row).clamp(max=self.num_categories - 1)
        generator = torch.Generator().manual_seed(self.fixed_noise_seed + 1)
        continuous = torch.rand(len(self.fixed_latent), self.num_continuous, generator=generator) * 2 - 1
        return {"categorical": categorical.to(self.device), "continuous": continuous.to(self.device)}

    @torch.no_grad()
    def traversal(self, code: int, steps: int = 10, low: float = -2.0, high: float = 2.0) -> Tensor:
        """The paper's figure 2: ``[K * steps, C, H, W]``, a row per categorical value, the continuous code ``code``
        swept from ``low`` to ``high`` along the row, the other codes at 0 and one ``z`` (the first fixed one)."""
        if not 0 <= code < self.num_continuous:
            raise LitGansError(f"code must lie in 0..{self.num_continuous - 1}, got {code}")
        k = self.num_categories
        continuous = torch.zeros(k * steps, self.num_continuous)
        continuous[:, code] = torch.linspace(low, high, steps).repeat(k)
        categorical = torch.arange(k).repeat_interleave(steps)
        latent = self.fixed_latent[:1].expand(k * steps, -1)
        return self.sample_from(latent, categorical=categorical, continuous=continuous)

    def sample_grids(self) -> dict[str, tuple[Tensor, int]]:
        per_row = max(1, len(self.fixed_latent) // self.num_categories)
        grids = {"samples": (self.sample_fixed(), per_row)}
        for code in range(self.num_continuous):
            grids[f"traversal_c{code + 2}"] = (self.traversal(code), 10)  # c_1 is the categorical code
        return grids

    def q_loss(self, q_outputs: Tensor, categorical: Tensor, continuous: Tensor) -> dict[str, Tensor]:
        """``-L_I`` split into its parts: ``categorical`` (cross-entropy) and ``continuous`` (Gaussian NLL or MSE)."""
        k, m = self.num_categories, self.num_continuous
        parts = {"categorical": categorical_code_loss(q_outputs[:, :k], categorical)}
        if m:
            mean = q_outputs[:, k : k + m]
            if self.continuous_loss == "gaussian":
                log_std = q_outputs[:, k + m :].clamp(-5.0, 5.0)
                parts["continuous"] = gaussian_code_nll(mean, log_std, continuous)
            else:
                parts["continuous"] = ((continuous - mean) ** 2).sum(1).mean()
        else:
            parts["continuous"] = q_outputs.new_zeros(())
        parts["total"] = self.lambda_categorical * parts["categorical"] + self.lambda_continuous * parts["continuous"]
        return parts

    # ----------------------------------------------------------------------------------------------------------
    # The game
    # ----------------------------------------------------------------------------------------------------------
    def draw_fake_with_codes(self, n: int) -> tuple[Tensor, dict[str, Tensor]]:
        codes = self.draw_conditions(n)
        return self.generator(self.sample_latent(n), codes["categorical"], codes["continuous"]), codes

    def d_step(self, batch: tuple[Tensor, ...]) -> dict[str, Tensor]:
        real = batch[0]
        fake, codes = self.draw_fake_with_codes(len(real))
        D = self.discriminator
        real_logits = D.head(D.features(real))
        fake_features = D.features(fake.detach())
        fake_logits = D.head(fake_features)
        info = self.q_loss(D.auxiliary(fake_features), codes["categorical"], codes["continuous"])
        out = {
            "loss": self.adversarial_d_loss(real_logits, fake_logits) + info["total"],  # -V(D, G) - lambda L_I
            "q_categorical": info["categorical"],
            "q_continuous": info["continuous"],
            "mi_lower_bound": math.log(self.num_categories) - info["categorical"].detach(),
        }
        if self.diagnosing:  # a diagnostic: computed for the logged updates only
            out["accuracy"] = discriminator_accuracy(real_logits, fake_logits)
        return out

    def g_step(self, batch: tuple[Tensor, ...]) -> dict[str, Tensor]:
        real, D = batch[0], self.discriminator
        fake, codes = self.draw_fake_with_codes(len(real))
        fake_features = D.features(fake)
        real_features = D.features(real) if self.feature_matching else None
        info = self.q_loss(D.auxiliary(fake_features), codes["categorical"], codes["continuous"])
        adversarial = self.adversarial_g_loss(D.head(fake_features), fake_features, real_features)
        return {
            "loss": adversarial + info["total"],  # -log D(G(z, c)) - lambda L_I
            "mi_lower_bound": math.log(self.num_categories) - info["categorical"].detach(),
        }
