"""lit-gans: the GANs that shaped the field, as PyTorch Lightning modules on one shared training loop.

Importing this package imports every GAN class: the import is the registry (LightningCLI finds ``--model NAME``
among the imported subclasses of ``GANModule``).
"""

from lit_gans.base import GANModule
from lit_gans.errors import LitGansError
from lit_gans.gans import DCGAN, GAN

__all__ = ["DCGAN", "GAN", "GANModule", "LitGansError"]
__version__ = "0.1.0"
