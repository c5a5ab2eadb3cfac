"""lit-gans: the GANs that shaped the field, as PyTorch Lightning modules on one shared training loop.

Importing this package imports every GAN class: the import is the registry (LightningCLI finds ``--model NAME``
among the imported subclasses of ``GANModule``).
"""

from lit_gans.base import GANModule
from lit_gans.errors import LitGansError
from lit_gans.gans import DCGAN, DRAGAN, GAN, LSGAN, SAGAN, SNGAN, WGAN, WGANGP, WGANDiv

__all__ = [
    "DCGAN",
    "DRAGAN",
    "GAN",
    "GANModule",
    "LSGAN",
    "LitGansError",
    "SAGAN",
    "SNGAN",
    "WGAN",
    "WGANDiv",
    "WGANGP",
]
__version__ = "0.1.0"
