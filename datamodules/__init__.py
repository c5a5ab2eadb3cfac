"""lit-gans datamodules. Importing this package imports every datamodule: the import is the registry
(LightningCLI finds ``--data NAME`` among the imported subclasses of ``LightningDataModule``)."""

from datamodules.base import GANDataModule
from datamodules.captions import CaptionFolder, ShapesCaptions
from datamodules.celeba import CelebA
from datamodules.folder import ImageFolder
from datamodules.mnist import MNIST
from datamodules.paired import Paired
from datamodules.shapes import Shapes, ShapesPaired, ShapesUnpaired
from datamodules.super_resolution import SuperResolution
from datamodules.toy import Toy
from datamodules.translation import TranslationDataModule
from datamodules.unpaired import Unpaired

__all__ = [
    "CaptionFolder",
    "CelebA",
    "GANDataModule",
    "ImageFolder",
    "MNIST",
    "Paired",
    "Shapes",
    "ShapesCaptions",
    "ShapesPaired",
    "ShapesUnpaired",
    "SuperResolution",
    "Toy",
    "TranslationDataModule",
    "Unpaired",
]
