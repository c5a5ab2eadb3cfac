"""CycleGAN: Zhu, Park, Isola & Efros 2017, "Unpaired Image-to-Image Translation using Cycle-Consistent
Adversarial Networks" (arXiv:1703.10593).

Two mappings ``G: X -> Y`` and ``F: Y -> X`` with discriminators ``D_Y`` (real y against G(x)) and ``D_X``, trained
on unpaired images (eq. 3, with the least-squares GAN loss of s.4):

    L(G, F, D_X, D_Y) = L_GAN(G, D_Y) + L_GAN(F, D_X) + lambda L_cyc(G, F) + lambda_id L_identity(G, F)
    L_cyc      = E|F(G(x)) - x|_1 + E|G(F(y)) - y|_1                           lambda = 10
    L_identity = E|G(y) - y|_1 + E|F(x) - x|_1     (s.5.2, painting <-> photo)   lambda_id = 0.5 lambda

    D: descend  1/2 E[(D_Y(y) - 1)^2] + 1/2 E[D_Y(G(x)~)^2]   and the same for D_X, F(y)~ and x
       (halved, as in the paper; ~ marks a fake drawn from the 50-image history, ``ImagePool``)
    G, F: descend  E[(D_Y(G(x)) - 1)^2] + E[(D_X(F(y)) - 1)^2] + lambda L_cyc + lambda_id L_identity

Both generators share one Adam optimizer and both discriminators another (2e-4, betas (0.5, 0.999)); the learning
rate stays constant for ``n_epochs`` epochs, then decays linearly to 0 over ``n_epochs_decay`` (100 + 100 in the
paper), and training stops when it reaches 0.

Code (paper): ``generator.G`` (G), ``generator.F`` (F), ``discriminator.D_X`` (D_X), ``discriminator.D_Y`` (D_Y);
``fake_x_pool`` holds F(y), ``fake_y_pool`` holds G(x). (junyanz's code: G_A = G, G_B = F, D_A = D_Y, D_B = D_X.)
"""

from __future__ import annotations

from typing import Any, ClassVar

from torch import Tensor, nn

from lit_gans.base import gather_from_ranks
from lit_gans.errors import LitGansError
from lit_gans.image_pool import ImagePool
from lit_gans.losses import cycle_consistency_loss, identity_mapping_loss, least_squares_d_loss, least_squares_g_loss
from lit_gans.networks.patchgan import PatchGANDiscriminator
from lit_gans.networks.resnet import ResnetGenerator, ResnetNorm
from lit_gans.translation import TranslationGAN


class CycleGAN(TranslationGAN):
    """CycleGAN: two ResNet generators, two 70x70 PatchGANs, LSGAN + cycle + identity losses.

    Args:
        data_shape: ``(C, H, W)`` of both domains, linked from the datamodule; ``H`` and ``W`` divisible by 4.
        g_features: channels of each generator's first layer, ``c7s1-k`` with ``k = g_features`` (64 in the
            paper); the residual blocks run at ``4 * g_features``.
        d_features: channels of each PatchGAN's first layer, ``C64`` in the paper (64), doubling per layer up
            to ``8 * d_features``.
        n_blocks: residual blocks per generator (6 for 128x128 images, 9 for 256x256).
        d_layers: PatchGAN depth (3: 70x70 patches).
        norm: ``instance`` (the paper) or ``batch``, in both generators and both discriminators, as the authors'
            code's ``--norm``. InstanceNorm discards each image's per-channel mean and scale, so G cannot carry an
            input's absolute colour through it; BatchNorm (running statistics in eval mode) keeps it.
        lambda_cycle: ``lambda`` (10).
        lambda_identity: ``lambda_id / lambda`` (0.5; 0 turns the identity loss off).
        pool_size: fakes in each discriminator's history (50; 0: no history).
        n_epochs: epochs at the initial learning rate (100 in the paper).
        n_epochs_decay: epochs of linear decay of the learning rate to 0 after the first ``n_epochs``; training
            stops at their end (100 in the paper).
        lr_g: the Adam learning rate of both generators, G and F (2e-4 in the paper), before the decay.
        lr_d: the Adam learning rate of both discriminators, D_X and D_Y (2e-4), before the decay.
        betas_g: the generators' Adam ``(beta1, beta2)`` (``(0.5, 0.999)`` as in the paper's code).
        betas_d: the discriminators' Adam ``(beta1, beta2)`` (``(0.5, 0.999)``).
        **kwargs: go to ``GANModule``: ema_decay, nonfinite, compile_networks, channels_last.
    """

    bidirectional: ClassVar[bool] = True
    offline_preset: ClassVar[str] = "configs/cyclegan_shapes.yaml"

    def __init__(
        self,
        data_shape: tuple[int, int, int] = (3, 256, 256),
        g_features: int = 64,
        d_features: int = 64,
        n_blocks: int = 9,
        d_layers: int = 3,
        norm: ResnetNorm = "instance",
        lambda_cycle: float = 10.0,
        lambda_identity: float = 0.5,
        pool_size: int = 50,
        n_epochs: int = 100,
        n_epochs_decay: int = 100,
        lr_g: float = 2e-4,
        lr_d: float = 2e-4,
        betas_g: tuple[float, float] = (0.5, 0.999),
        betas_d: tuple[float, float] = (0.5, 0.999),
        **kwargs: Any,
    ) -> None:
        super().__init__(
            n_epochs=n_epochs,
            n_epochs_decay=n_epochs_decay,
            lr_g=lr_g,
            lr_d=lr_d,
            betas_g=betas_g,
            betas_d=betas_d,
            **kwargs,
        )
        self.save_hyperparameters()
        if len(data_shape) != 3:
            raise LitGansError(f"CycleGAN needs images (C, H, W), got data_shape={tuple(data_shape)}")
        channels = data_shape[0]
        self.lambda_cycle, self.lambda_identity = lambda_cycle, lambda_identity
        self.generator = nn.ModuleDict(
            {
                "G": ResnetGenerator(channels, channels, g_features, n_blocks, norm),  # X -> Y
                "F": ResnetGenerator(channels, channels, g_features, n_blocks, norm),  # Y -> X
            }
        )
        self.discriminator = nn.ModuleDict(
            {
                "D_X": PatchGANDiscriminator(channels, d_features, d_layers, norm),
                "D_Y": PatchGANDiscriminator(channels, d_features, d_layers, norm),
            }
        )
        self.fake_x_pool, self.fake_y_pool = ImagePool(pool_size), ImagePool(pool_size)

    def mapping(self, generators: nn.Module, inverse: bool = False) -> nn.Module:
        return generators["F"] if inverse else generators["G"]

    def d_step(self, batch: tuple[Tensor, Tensor]) -> dict[str, Tensor]:
        x, y = batch[0], batch[1]
        G, F, D_X, D_Y = self.generator["G"], self.generator["F"], self.discriminator["D_X"], self.discriminator["D_Y"]
        fake_y, fake_x = self.fake_y_pool.query(G(x)), self.fake_x_pool.query(F(y))
        loss_D_Y = least_squares_d_loss(D_Y(y), D_Y(fake_y))
        loss_D_X = least_squares_d_loss(D_X(x), D_X(fake_x))
        return {"loss": loss_D_X + loss_D_Y, "D_X": loss_D_X, "D_Y": loss_D_Y}

    def g_step(self, batch: tuple[Tensor, Tensor]) -> dict[str, Tensor]:
        x, y = batch[0], batch[1]
        G, F, D_X, D_Y = self.generator["G"], self.generator["F"], self.discriminator["D_X"], self.discriminator["D_Y"]
        fake_y, fake_x = G(x), F(y)
        # E[(D(.) - 1)^2]: the paper's least-squares G loss (least_squares_g_loss carries LSGAN's 1/2)
        gan_G, gan_F = 2 * least_squares_g_loss(D_Y(fake_y)), 2 * least_squares_g_loss(D_X(fake_x))
        cycle = cycle_consistency_loss(x, F(fake_y), y, G(fake_x))
        loss = gan_G + gan_F + self.lambda_cycle * cycle
        out = {"gan_G": gan_G, "gan_F": gan_F, "cycle": cycle}
        if self.lambda_identity > 0:
            out["identity"] = identity_mapping_loss(x, F(x), y, G(y))
            loss = loss + self.lambda_identity * self.lambda_cycle * out["identity"]
        return {"loss": loss, **out}

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        super().on_save_checkpoint(checkpoint)
        pools = {"fake_x": self.fake_x_pool.state_dict(), "fake_y": self.fake_y_pool.state_dict()}
        checkpoint["lit_gans"]["image_pools"] = gather_from_ranks(pools)  # one per rank, like the RNG states

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        super().on_load_checkpoint(checkpoint)
        pools = checkpoint["lit_gans"].get("image_pools")
        if pools:
            rank = self.global_rank if self._trainer is not None else 0
            mine = pools[rank] if rank < len(pools) else pools[0]
            self.fake_x_pool.load_state_dict(mine["fake_x"])
            self.fake_y_pool.load_state_dict(mine["fake_y"])
