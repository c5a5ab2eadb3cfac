"""Reusable generators and discriminators."""

from lit_gans.networks.build import CriticNorm, critic_options, generator_and_discriminator
from lit_gans.networks.dcgan import DCGANDiscriminator, DCGANGenerator, dcgan_layout
from lit_gans.networks.infogan import InfoGANDiscriminator, InfoGANGenerator
from lit_gans.networks.mlp import MLPDiscriminator, MLPGenerator

__all__ = [
    "CriticNorm",
    "DCGANDiscriminator",
    "DCGANGenerator",
    "InfoGANDiscriminator",
    "InfoGANGenerator",
    "MLPDiscriminator",
    "MLPGenerator",
    "critic_options",
    "dcgan_layout",
    "generator_and_discriminator",
]
