"""lit-gans: the GANs that shaped the field, as PyTorch Lightning modules on one shared training loop.

Importing this package imports every GAN class: the import is the registry (LightningCLI finds ``--model NAME``
among the imported subclasses of ``GANModule``).
"""

from lit_gans.base import GANModule
from lit_gans.errors import LitGansError
from lit_gans.gans import (
    ACGAN,
    CGAN,
    DCGAN,
    DRAGAN,
    GAN,
    LSGAN,
    MSGGAN,
    SAGAN,
    SGAN,
    SNGAN,
    SRGAN,
    VAE,
    VAEGAN,
    WGAN,
    WGANGP,
    ContextEncoder,
    CycleGAN,
    InfoGAN,
    Pix2Pix,
    ProGAN,
    StackGAN,
    WGANDiv,
)
from lit_gans.improved import NonSaturatingGAN
from lit_gans.translation import TranslationGAN

__all__ = [
    "ACGAN",
    "CGAN",
    "ContextEncoder",
    "InfoGAN",
    "SGAN",
    "CycleGAN",
    "DCGAN",
    "DRAGAN",
    "GAN",
    "GANModule",
    "LSGAN",
    "LitGansError",
    "MSGGAN",
    "NonSaturatingGAN",
    "Pix2Pix",
    "ProGAN",
    "SAGAN",
    "SNGAN",
    "SRGAN",
    "StackGAN",
    "TranslationGAN",
    "VAE",
    "VAEGAN",
    "WGAN",
    "WGANDiv",
    "WGANGP",
]
__version__ = "0.1.0"
