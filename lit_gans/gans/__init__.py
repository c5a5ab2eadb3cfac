"""One file per paper."""

from lit_gans.gans.acgan import ACGAN
from lit_gans.gans.cgan import CGAN
from lit_gans.gans.context_encoder import ContextEncoder
from lit_gans.gans.cyclegan import CycleGAN
from lit_gans.gans.dcgan import DCGAN
from lit_gans.gans.dragan import DRAGAN
from lit_gans.gans.gan import GAN
from lit_gans.gans.infogan import InfoGAN
from lit_gans.gans.lsgan import LSGAN
from lit_gans.gans.msggan import MSGGAN
from lit_gans.gans.pix2pix import Pix2Pix
from lit_gans.gans.progan import ProGAN
from lit_gans.gans.sagan import SAGAN
from lit_gans.gans.sgan import SGAN
from lit_gans.gans.sngan import SNGAN
from lit_gans.gans.srgan import SRGAN
from lit_gans.gans.stackgan import StackGAN
from lit_gans.gans.vae import VAE
from lit_gans.gans.vaegan import VAEGAN
from lit_gans.gans.wgan import WGAN
from lit_gans.gans.wgan_div import WGANDiv
from lit_gans.gans.wgan_gp import WGANGP

__all__ = [
    "ACGAN",
    "CGAN",
    "ContextEncoder",
    "CycleGAN",
    "DCGAN",
    "DRAGAN",
    "GAN",
    "InfoGAN",
    "LSGAN",
    "MSGGAN",
    "Pix2Pix",
    "ProGAN",
    "SAGAN",
    "SGAN",
    "SNGAN",
    "SRGAN",
    "StackGAN",
    "VAE",
    "VAEGAN",
    "WGAN",
    "WGANDiv",
    "WGANGP",
]
