"""StackGAN's networks (Zhang et al. 2017; ``hanzhanggit/StackGAN-Pytorch``'s ``model.py``), sized by arguments so
that 32 px Stage I and 64 px Stage II fit a CPU.

- ``ConditioningAugmentation``: ``e [N, T] -> (c, mu, logvar)``, ``c = mu + sigma * eps`` (``c = mu`` when off).
- ``Stage1Generator``: ``[z; c] -> FC -> g_features * 8 x 4 x 4 -> up-blocks (nearest x2, conv 3x3, BN, ReLU) ->
  conv 3x3 -> tanh``, to ``image_size``.
- ``Stage2Generator``: the frozen Stage I image, encoded down to ``S / 4``, joined with a fresh ``c`` copied over
  the map, residual blocks, up-blocks to ``S * upsampling``.
- ``StackGANDiscriminator``: stride-2 convs (BN from the second, LeakyReLU 0.2) to ``4 x 4``; a conditional logit
  (``mu`` copied over the ``4 x 4`` map, conv 3x3, BN, LeakyReLU, conv 4x4) and, for Stage II, an unconditional one.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from lit_gans.losses import reparameterize


def conv3x3(c_in: int, c_out: int) -> nn.Conv2d:
    return nn.Conv2d(c_in, c_out, 3, 1, 1, bias=False)


def up_block(c_in: int, c_out: int) -> nn.Sequential:
    """``[N, c_in, H, W] -> [N, c_out, 2H, 2W]``: nearest upsampling, conv 3x3, BN, ReLU."""
    return nn.Sequential(
        nn.Upsample(scale_factor=2, mode="nearest"), conv3x3(c_in, c_out), nn.BatchNorm2d(c_out), nn.ReLU(True)
    )


class ResidualBlock(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.block = nn.Sequential(
            conv3x3(channels, channels),
            nn.BatchNorm2d(channels),
            nn.ReLU(True),
            conv3x3(channels, channels),
            nn.BatchNorm2d(channels),
        )

    def forward(self, x: Tensor) -> Tensor:
        return torch.relu(x + self.block(x))


def log2_steps(ratio: float, what: str) -> int:
    steps = math.log2(ratio)
    if ratio < 1 or steps != int(steps):
        raise ValueError(f"{what} must be a power of 2 times 4, got a ratio of {ratio}")
    return int(steps)


class ConditioningAugmentation(nn.Module):
    """``e [N, text_dim] -> FC -> LeakyReLU(0.2) -> (mu, logvar) [N, condition_dim] each``; ``c = mu + exp(logvar / 2)
    * eps`` with ``eps ~ N(0, I)`` when ``augment`` (the paper's), ``c = mu`` when not (the ablation). (The
    authors' TF code's leaky rectifier; their PyTorch port's ReLU would hold ``logvar >= 0``, ``sigma >= 1``.)"""

    def __init__(self, text_dim: int, condition_dim: int, augment: bool = True) -> None:
        super().__init__()
        self.fc = nn.Linear(text_dim, 2 * condition_dim)
        self.act = nn.LeakyReLU(0.2)
        self.condition_dim, self.augment = condition_dim, augment

    def forward(self, text_embedding: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        mu, logvar = self.act(self.fc(text_embedding)).chunk(2, dim=1)
        c = reparameterize(mu, logvar) if self.augment else mu
        return c, mu, logvar


class Stage1Generator(nn.Module):
    """``(z [N, z_dim], e [N, text_dim]) -> (image [N, C, S, S], mu, logvar)``."""

    def __init__(
        self,
        text_dim: int,
        z_dim: int = 100,
        condition_dim: int = 128,
        image_size: int = 64,
        channels: int = 3,
        g_features: int = 128,
        augment: bool = True,
    ) -> None:
        super().__init__()
        self.image_size, self.z_dim = image_size, z_dim
        self.ca = ConditioningAugmentation(text_dim, condition_dim, augment)
        width = g_features * 8  # ngf at 4 x 4, halved by each up-block
        self.width = width
        self.fc = nn.Sequential(
            nn.Linear(z_dim + condition_dim, width * 16, bias=False), nn.BatchNorm1d(width * 16), nn.ReLU(True)
        )
        blocks = []
        for _ in range(log2_steps(image_size / 4, "Stage I's image_size")):
            blocks.append(up_block(width, max(width // 2, 8)))
            width = max(width // 2, 8)
        self.up = nn.Sequential(*blocks)
        self.to_image = nn.Sequential(conv3x3(width, channels), nn.Tanh())

    def forward(self, z: Tensor, text_embedding: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        c, mu, logvar = self.ca(text_embedding)
        h = self.fc(torch.cat([z, c], dim=1)).view(len(z), self.width, 4, 4)
        return self.to_image(self.up(h)), mu, logvar


class Stage2Generator(nn.Module):
    """``(z, e) -> (image [N, C, S*u, S*u], mu, logvar, stage-1 image [N, C, S, S])``: Stage I (frozen, in eval mode,
    no gradient) draws ``S``; its image is encoded to ``4 g_features x S/4 x S/4``, joined with a fresh ``c``,
    passed through ``residual_blocks`` and upsampled ``u = upsampling`` times past ``S``."""

    def __init__(
        self,
        stage1: Stage1Generator,
        text_dim: int,
        condition_dim: int = 128,
        channels: int = 3,
        g_features: int = 128,
        residual_blocks: int = 2,
        upsampling: int = 4,
        augment: bool = True,
    ) -> None:
        super().__init__()
        self.stage1 = stage1.requires_grad_(False).eval()
        self.image_size = stage1.image_size * upsampling
        self.ca = ConditioningAugmentation(text_dim, condition_dim, augment)
        ngf = g_features
        self.encoder = nn.Sequential(
            conv3x3(channels, ngf),
            nn.ReLU(True),
            nn.Conv2d(ngf, 2 * ngf, 4, 2, 1, bias=False),
            nn.BatchNorm2d(2 * ngf),
            nn.ReLU(True),
            nn.Conv2d(2 * ngf, 4 * ngf, 4, 2, 1, bias=False),
            nn.BatchNorm2d(4 * ngf),
            nn.ReLU(True),
        )  # [N, 4 ngf, S/4, S/4]
        self.joint = nn.Sequential(conv3x3(condition_dim + 4 * ngf, 4 * ngf), nn.BatchNorm2d(4 * ngf), nn.ReLU(True))
        self.residual = nn.Sequential(*[ResidualBlock(4 * ngf) for _ in range(residual_blocks)])
        blocks, width = [], 4 * ngf
        for _ in range(2 + log2_steps(upsampling, "Stage II's upsampling")):  # S/4 -> S * upsampling
            blocks.append(up_block(width, max(width // 2, 8)))
            width = max(width // 2, 8)
        self.up = nn.Sequential(*blocks)
        self.to_image = nn.Sequential(conv3x3(width, channels), nn.Tanh())

    def train(self, mode: bool = True) -> Stage2Generator:
        super().train(mode)
        self.stage1.eval()  # frozen: its BatchNorm keeps Stage I's running statistics
        return self

    def forward(self, z: Tensor, text_embedding: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        with torch.no_grad():
            low_res = self.stage1(z, text_embedding)[0]
        c, mu, logvar = self.ca(text_embedding)
        h = self.encoder(low_res)
        c_map = c[:, :, None, None].expand(-1, -1, h.shape[2], h.shape[3])
        h = self.residual(self.joint(torch.cat([h, c_map], dim=1)))
        return self.to_image(self.up(h)), mu, logvar, low_res


class StackGANDiscriminator(nn.Module):
    """``features(x [N, C, S, S]) -> h [N, W, 4, 4]``; ``conditional(h, mu [N, condition_dim]) -> [N]`` logits;
    ``unconditional(h) -> [N]`` (present when ``unconditional_logit``)."""

    def __init__(
        self,
        image_size: int = 64,
        channels: int = 3,
        d_features: int = 64,
        condition_dim: int = 128,
        unconditional_logit: bool = False,
    ) -> None:
        super().__init__()
        layers, c_in, c_out = [], channels, d_features
        for i in range(log2_steps(image_size / 4, "D's image_size")):  # S -> 4
            # a bias on the first conv (the authors' has none): else conv, LeakyReLU, conv and a BatchNorm over a batch
            # of fakes make D blind to a scale the whole batch shares (D(a x) = D(x))
            layers.append(nn.Conv2d(c_in, c_out, 4, 2, 1, bias=i == 0))
            if i > 0:
                layers.append(nn.BatchNorm2d(c_out))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            c_in, c_out = c_out, min(2 * c_out, 8 * d_features)
        self.encode = nn.Sequential(*layers)
        self.condition_dim = condition_dim
        self.conditional_head = nn.Sequential(
            conv3x3(c_in + condition_dim, c_in),
            nn.BatchNorm2d(c_in),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(c_in, 1, 4, 4),
        )
        self.unconditional_head = nn.Conv2d(c_in, 1, 4, 4) if unconditional_logit else None

    def features(self, images: Tensor) -> Tensor:
        return self.encode(images)

    def conditional(self, h: Tensor, mu: Tensor) -> Tensor:
        mu_map = mu[:, :, None, None].expand(-1, -1, 4, 4)
        return self.conditional_head(torch.cat([h, mu_map], dim=1)).view(-1)

    def unconditional(self, h: Tensor) -> Tensor:
        return self.unconditional_head(h).view(-1)

    def forward(self, images: Tensor, mu: Tensor) -> Tensor:
        return self.conditional(self.features(images), mu)
