"""GAN: Goodfellow et al. 2014, "Generative Adversarial Nets" (arXiv:1406.2661).

Algorithm 1, with ``k = n_critic`` discriminator steps per generator step:

    D: ascend   1/m sum [log D(x_i) + log(1 - D(G(z_i)))]
    G: descend  1/m sum [-log D(G(z_i))]     (the non-saturating form the paper recommends in section 3)

``pack = m > 1`` is PacGAN (Lin et al. 2018, "PacGAN: The power of two samples in generative adversarial
networks", arXiv:1712.04086): D takes ``m`` samples at once, all real or all generated, concatenated, and the
same two losses are taken over the ``B / m`` packed inputs, which penalizes a G whose samples lack the data's
variety (mode collapse).

Networks as in the classic Keras / PyTorch-GAN example: an MLP generator 256-512-1024 with BatchNorm and
LeakyReLU(0.2), an MLP discriminator 512-256 with LeakyReLU(0.2); Adam 2e-4, betas (0.5, 0.999). Images come out
through tanh in [-1, 1]; flat toy data (1D or 2D points) through a linear output. ``activation="tanh"`` gives the
small tanh MLPs of the 1D tutorial (``configs/gan_gaussian1d.yaml``: the paper's figure 1 on N(-1, 1)).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from torch import Tensor

from lit_gans.errors import LitGansError
from lit_gans.improved import NonSaturatingGAN
from lit_gans.layers import pack_samples, packed_shape
from lit_gans.losses import discriminator_accuracy
from lit_gans.networks import MLPDiscriminator, MLPGenerator
from lit_gans.regularizers import annealed_noise_std, instance_noise


class GAN(NonSaturatingGAN):
    """The 2014 MLP GAN, with the Improved-GAN options of ``NonSaturatingGAN`` (all off by default).

    Args:
        data_shape: ``(C, H, W)`` for images or ``(D,)`` for points; linked from the datamodule by the CLI.
        g_hidden: widths of G's hidden layers, input to output (256-512-1024 in the classic example).
        d_hidden: widths of D's hidden layers, input to output (512-256).
        lr_g: G's Adam learning rate ``alpha`` (2e-4, as in the classic Keras / PyTorch-GAN example).
        lr_d: D's Adam learning rate ``alpha`` (2e-4).
        betas_g: G's Adam ``(beta1, beta2)`` (``(0.5, 0.999)``, as in that example).
        betas_d: D's Adam ``(beta1, beta2)`` (``(0.5, 0.999)``).
        n_critic: ``k``, D steps per G step in Goodfellow 2014's Algorithm 1 (1, the paper's choice).
        minibatch_kernels: ``B``, the number of minibatch-discrimination kernels (Salimans et al. 2016, s.3.2):
            each appends to D's features one that measures how close a sample is to the rest of its batch,
            between D's last hidden layer and its output; 0 (default): off.
        minibatch_kernel_dim: ``C``, the size of each kernel's projection ``M_i,b`` of a sample (``T`` is
            ``A x B x C``; 5); used only when ``minibatch_kernels > 0``.
        virtual_batch_norm: virtual instead of ordinary batch norm in G (Salimans 2016, s.3.5: each sample is
            normalised by a fixed reference batch and itself, not by the rest of its batch). On the 2D grid it is
            what lets PacGAN4 spread its mass evenly over all 25 modes (``configs/pacgan_grid.yaml``).
        activation: the hidden layers' nonlinearity in G and D: ``leaky_relu`` (LeakyReLU(0.2), the classic
            example), ``tanh`` (the small MLPs of the 1D tutorial) or ``relu`` (PacGAN's toy G).
        maxout_pieces: ``k`` >= 2 makes D's hidden layers maxout units of ``k`` pieces (the 2014 paper's and
            PacGAN's toy D: 3 x 200 units of 5 pieces) in place of ``activation``; 1 (default): off.
        instance_noise: ``sigma_0``, the std (in data units) of the Gaussian noise added to every input of D, real
            and generated (instance noise, Sonderby et al. 2016; Arjovsky & Bottou 2017), taken linearly from
            ``sigma_0`` to 0 over the first ``instance_noise_until`` x ``max_steps`` D updates; 0 (default): off.
            It lets D's gradient reach samples that lie between the data's modes; on the 2D grid it did not even
            out PacGAN4's mass over the modes (benchmarks/README.md, "virtual batch norm"), virtual batch norm did.
        instance_noise_until: the fraction of ``max_steps`` where the noise reaches 0, in (0, 1] (0.5).
        pack: ``m``, PacGAN's packing degree: D judges ``m`` samples joined along their first axis (points
            ``[m D]``, images ``[m C, H, W]``); a batch of ``B`` gives ``B / m`` packed real and fake inputs, so
            ``B`` must be a multiple of ``m`` (1, the default: no packing).
        **kwargs: go to ``NonSaturatingGAN`` (real_label, feature_matching, historical_averaging) and on to
            ``GANModule`` (num_fixed_samples, fixed_noise_seed, ema_decay, nonfinite, compile_networks,
            channels_last).
    """

    offline_preset: ClassVar[str] = "configs/gan_shapes.yaml"  # `fit --model GAN` with no data
    # `fit --model GAN --data Toy --data.distribution gaussian1d` with no --config: the 1D tutorial's networks
    data_presets: ClassVar[dict[str, str]] = {"Toy distribution=gaussian1d": "configs/gan_gaussian1d.yaml"}

    def __init__(
        self,
        data_shape: tuple[int, ...] = (1, 28, 28),
        z_dim: int = 100,
        g_hidden: tuple[int, ...] = (256, 512, 1024),
        d_hidden: tuple[int, ...] = (512, 256),
        lr_g: float = 2e-4,
        lr_d: float = 2e-4,
        betas_g: tuple[float, float] = (0.5, 0.999),
        betas_d: tuple[float, float] = (0.5, 0.999),
        n_critic: int = 1,
        minibatch_kernels: int = 0,
        minibatch_kernel_dim: int = 5,
        virtual_batch_norm: bool = False,
        activation: Literal["leaky_relu", "tanh", "relu"] = "leaky_relu",
        maxout_pieces: int = 1,
        instance_noise: float = 0.0,
        instance_noise_until: float = 0.5,
        pack: int = 1,
        **kwargs: Any,
    ) -> None:
        if pack < 1:
            raise LitGansError(f"pack must be at least 1 (1: no packing), got {pack}")
        check_instance_noise(instance_noise, instance_noise_until)
        super().__init__(
            z_dim=z_dim, lr_g=lr_g, lr_d=lr_d, betas_g=betas_g, betas_d=betas_d, n_critic=n_critic, **kwargs
        )
        self.save_hyperparameters()
        images = len(data_shape) == 3
        norm = "virtual" if virtual_batch_norm else "batch"
        self.generator = MLPGenerator(z_dim, data_shape, g_hidden, norm=norm, tanh_output=images, activation=activation)
        self.pack = pack
        self.instance_noise, self.instance_noise_until = instance_noise, instance_noise_until
        self.discriminator = MLPDiscriminator(
            packed_shape(data_shape, pack),
            d_hidden,
            minibatch_kernels,
            minibatch_kernel_dim,
            activation=activation,
            maxout_pieces=maxout_pieces,
        )

    def discriminator_input(self, x: Tensor) -> Tensor:
        """What D judges: ``x`` packed ``m`` at a time, blurred first by instance noise of the step's std."""
        if self.instance_noise > 0:
            if self.trainer.max_steps <= 0:
                raise LitGansError(
                    "instance_noise fades to 0 over a fraction of the Trainer's max_steps: set --trainer.max_steps"
                )
            until = self.instance_noise_until * self.trainer.max_steps
            x = instance_noise(x, annealed_noise_std(self.instance_noise, self.global_step, until))
        return pack_samples(x, self.pack)

    def d_step(self, batch: tuple[Tensor, Tensor]) -> dict[str, Tensor]:
        real, D = batch[0], self.discriminator
        real_logits = D(self.discriminator_input(real))
        fake_logits = D(self.discriminator_input(self.draw_fake(len(real)).detach()))
        out = {
            "loss": self.adversarial_d_loss(real_logits, fake_logits),  # -log D(x) - log(1 - D(G(z)))
        }
        if self.diagnosing:  # a diagnostic: computed for the logged updates only
            out["accuracy"] = discriminator_accuracy(real_logits, fake_logits)
        return out

    def g_step(self, batch: tuple[Tensor, Tensor]) -> dict[str, Tensor]:
        real, D = batch[0], self.discriminator
        fake_features = D.features(self.discriminator_input(self.draw_fake(len(real))))
        real_features = D.features(self.discriminator_input(real)) if self.feature_matching else None
        return {"loss": self.adversarial_g_loss(D.head(fake_features), fake_features, real_features)}  # -log D(G(z))


def check_instance_noise(std: float, until: float) -> None:
    """The instance-noise arguments of ``GAN`` and ``DCGAN``: ``std`` >= 0, ``until`` in (0, 1]."""
    if std < 0:
        raise LitGansError(f"instance_noise is a std (>= 0; 0: off), got {std}")
    if not 0 < until <= 1:
        raise LitGansError(
            f"instance_noise_until is the fraction of max_steps where the noise reaches 0, in (0, 1], got {until}"
        )
