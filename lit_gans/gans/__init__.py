"""One file per paper."""

from lit_gans.gans.dcgan import DCGAN
from lit_gans.gans.dragan import DRAGAN
from lit_gans.gans.gan import GAN
from lit_gans.gans.lsgan import LSGAN
from lit_gans.gans.sagan import SAGAN
from lit_gans.gans.sngan import SNGAN
from lit_gans.gans.wgan import WGAN
from lit_gans.gans.wgan_div import WGANDiv
from lit_gans.gans.wgan_gp import WGANGP

__all__ = ["DCGAN", "DRAGAN", "GAN", "LSGAN", "SAGAN", "SNGAN", "WGAN", "WGANDiv", "WGANGP"]
