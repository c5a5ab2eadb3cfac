"""DCGAN: Radford, Metz & Chintala 2015, "Unsupervised Representation Learning with Deep Convolutional Generative
Adversarial Networks" (arXiv:1511.06434).

The objective is the 2014 GAN's (non-saturating G loss); what the paper changes is the architecture
(``lit_gans.networks.dcgan``) and the training set-up: Adam lr 2e-4, beta1 0.5, batch 128, weights ~ N(0, 0.02).

    D: descend  -log D(x) - log(1 - D(G(z)))
    G: descend  -log D(G(z))
"""

from __future__ import annotations

from typing import Any, ClassVar

from lit_gans.errors import LitGansError
from lit_gans.gans.gan import GAN, check_instance_noise
from lit_gans.improved import NonSaturatingGAN
from lit_gans.networks import DCGANDiscriminator, DCGANGenerator


class DCGAN(NonSaturatingGAN):
    """Deep convolutional GAN.

    Args:
        data_shape: ``(channels, image_size, image_size)``, linked from the datamodule by the CLI; the image size
            must be ``s * 2^k`` with ``s`` in 4..7 (28, 32, 48, 64, 128, ...).
        g_features: ``ngf``, channels of G's last hidden layer (doubling towards its input; 64 in the paper).
        d_features: ``ndf``, channels of D's first conv layer (doubling per stride-2 layer; 64 in the paper).
        lr_g: G's Adam learning rate ``alpha`` (2e-4 as in the paper).
        lr_d: D's Adam learning rate ``alpha`` (2e-4).
        betas_g: G's Adam ``(beta1, beta2)`` (``(0.5, 0.999)``: beta1 0.5 as in the paper).
        betas_d: D's Adam ``(beta1, beta2)`` (``(0.5, 0.999)``: beta1 0.5).
        n_critic: D steps per G step (1, as in the paper).
        minibatch_kernels: ``B``, the number of minibatch-discrimination kernels (Salimans et al. 2016, s.3.2):
            each appends to D's features one that measures how close a sample is to the rest of its batch,
            in place of D's last conv (then a linear output); 0 (default): off.
        minibatch_kernel_dim: ``C``, the size of each kernel's projection ``M_i,b`` of a sample (``T`` is
            ``A x B x C``; 5); used only when ``minibatch_kernels > 0``.
        virtual_batch_norm: virtual instead of ordinary batch norm in G.
        instance_noise: ``sigma_0``, the std of the Gaussian noise added to every image D judges, real and
            generated, fading linearly to 0 over the first ``instance_noise_until`` x ``max_steps`` D updates
            (instance noise, Sonderby et al. 2016; as ``GAN``'s); 0 (default): off.
        instance_noise_until: the fraction of ``max_steps`` where the noise reaches 0, in (0, 1] (0.5).
        pack: ``m``, PacGAN's packing degree (Lin et al. 2018, whose stacked-MNIST runs pack DCGAN): D judges ``m``
            images joined along their channels, ``[m C, H, W]``; the batch size must be a multiple of ``m`` (1, the
            default: no packing).
        **kwargs: go to ``NonSaturatingGAN`` (real_label, feature_matching, historical_averaging) and on to
            ``GANModule`` (num_fixed_samples, fixed_noise_seed, ema_decay, nonfinite, compile_networks,
            channels_last).
    """

    offline_preset: ClassVar[str] = "configs/demo.yaml"  # `fit` / `fit --model DCGAN` with no data: the demo

    def __init__(
        self,
        data_shape: tuple[int, int, int] = (3, 32, 32),
        z_dim: int = 100,
        g_features: int = 64,
        d_features: int = 64,
        lr_g: float = 2e-4,
        lr_d: float = 2e-4,
        betas_g: tuple[float, float] = (0.5, 0.999),
        betas_d: tuple[float, float] = (0.5, 0.999),
        n_critic: int = 1,
        minibatch_kernels: int = 0,
        minibatch_kernel_dim: int = 5,
        virtual_batch_norm: bool = False,
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
        if len(data_shape) != 3 or data_shape[1] != data_shape[2]:
            raise LitGansError(f"DCGAN needs square images (channels, size, size), got data_shape={tuple(data_shape)}")
        channels, image_size, _ = data_shape
        self.generator = DCGANGenerator(z_dim, image_size, channels, g_features, virtual_batch_norm=virtual_batch_norm)
        self.pack = pack
        self.instance_noise, self.instance_noise_until = instance_noise, instance_noise_until
        self.discriminator = DCGANDiscriminator(
            image_size,
            pack * channels,
            d_features,
            minibatch_kernels=minibatch_kernels,
            minibatch_kernel_dim=minibatch_kernel_dim,
        )

    # the objective is the 2014 paper's, unchanged (D's inputs blurred by instance noise when it is on, then packed)
    discriminator_input = GAN.discriminator_input
    d_step = GAN.d_step
    g_step = GAN.g_step
