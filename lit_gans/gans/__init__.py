"""One file per paper."""

from lit_gans.gans.dcgan import DCGAN
from lit_gans.gans.gan import GAN

__all__ = ["DCGAN", "GAN"]
