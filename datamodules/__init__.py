"""lit-gans datamodules. Importing this package imports every datamodule: the import is the registry
(LightningCLI finds ``--data NAME`` among the imported subclasses of ``LightningDataModule``)."""

from datamodules.base import GANDataModule
from datamodules.folder import ImageFolder
from datamodules.mnist import MNIST
from datamodules.shapes import Shapes
from datamodules.toy import Toy

__all__ = ["GANDataModule", "ImageFolder", "MNIST", "Shapes", "Toy"]
