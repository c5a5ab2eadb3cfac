"""One place that picks G and D for a data shape, so the models that differ only in their objective share their
networks: MLPs for flat data (toy points ``(D,)``), DCGAN nets for images ``(C, H, W)``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from torch import nn

from lit_gans.errors import LitGansError
from lit_gans.layers import spectral_norm_
from lit_gans.networks.dcgan import DCGANDiscriminator, DCGANGenerator, Init, Norm
from lit_gans.networks.mlp import MLPDiscriminator, MLPGenerator

# the conv critics of the gradient-penalty models (Gulrajani 2017's code): ``none`` is gan_mnist.py's plain critic
# (biased convs, He init, no normalisation), ``layer`` is gan_64x64.py's layer-normalised one (behind biased convs)
CriticNorm = Literal["none", "layer"]


def critic_options(d_norm: CriticNorm) -> dict[str, str]:
    """``generator_and_discriminator``'s ``d_norm`` and ``d_init`` for a gradient-penalty critic: He init for the
    unnormalised one (input gradients of order 1 at initialisation), DCGAN's otherwise."""
    if d_norm not in ("none", "layer"):
        raise LitGansError(f"a gradient-penalty critic's d_norm must be 'none' or 'layer', got {d_norm!r}")
    return {"d_norm": d_norm, "d_init": "he" if d_norm == "none" else "dcgan"}


def generator_and_discriminator(
    data_shape: Sequence[int],
    z_dim: int,
    g_features: int,
    d_features: int,
    g_hidden: Sequence[int],
    d_hidden: Sequence[int],
    d_norm: Norm = "batch",
    d_init: Init = "dcgan",
    spectral_norm_g: bool = False,
    spectral_norm_d: bool = False,
    attention: bool = False,
) -> tuple[nn.Module, nn.Module]:
    """``(G, D)`` for ``data_shape``.

    Images ``(C, S, S)``: DCGAN nets with ``g_features``/``d_features`` channels, D normalised by ``d_norm`` and
    initialised by ``d_init``, ``attention`` adding SAGAN's block to both. Flat data ``(D,)``: MLPs with
    ``g_hidden``/``d_hidden`` widths (G with BatchNorm unless G is spectrally normalised; D never normalised; a linear
    G output, as toy points are unbounded). Spectral norm (Miyato 2018) wraps every linear and conv layer of the
    chosen nets.
    """
    data_shape = tuple(data_shape)
    if len(data_shape) == 3:
        channels, size, width = data_shape
        if size != width:
            raise LitGansError(f"the DCGAN networks need square images, got data_shape={data_shape}")
        generator: nn.Module = DCGANGenerator(z_dim, size, channels, g_features, attention=attention)
        discriminator: nn.Module = DCGANDiscriminator(
            size, channels, d_features, norm=d_norm, attention=attention, init=d_init
        )
    elif len(data_shape) == 1:
        generator = MLPGenerator(
            z_dim, data_shape, g_hidden, norm="none" if spectral_norm_g else "batch", tanh_output=False
        )
        discriminator = MLPDiscriminator(data_shape, d_hidden)
    else:
        raise LitGansError(f"data_shape must be (C, H, W) or (D,), got {data_shape}")
    if spectral_norm_g:
        spectral_norm_(generator)
    if spectral_norm_d:
        spectral_norm_(discriminator)
    return generator, discriminator
