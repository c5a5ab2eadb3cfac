"""Callbacks that show and measure what G draws, and keep a run safe; logger-agnostic (TensorBoard, CSV, W&B).

``LogSamples`` draws grids and toy plots; ``ImageMetrics`` computes FID/IS/KID, ``ToyMetrics`` the mode-collapse
and 1D distances, ``OneDimensionalTheory`` the optimal discriminator, JSD and value function of Goodfellow 2014 on
1D toy data (and draws its figure 1), ``TranslationMetrics`` the image-to-image scores, ``TextImageMetrics`` the
text-image consistency, after each validation; ``RunCheckpoint`` keeps ``last.ckpt`` (at the end of a fit, after every
validation, on Ctrl-C) and the best by FID; ``CPUTimeLimit`` stops a run after a CPU-time budget; ``LinearLRDecay``
takes the learning rates linearly to 0 over the last part of a run. One module per
family; every name is importable from ``lit_gans.callbacks``.

Every picture is written as a PNG beside the run (``<log_dir>/samples/``), whatever the logger, and also sent to
TensorBoard (``add_image``) or W&B (``log_image``) when one of those is set.
"""

from lit_gans.callbacks.checkpoints import RunCheckpoint
from lit_gans.callbacks.image_metrics import ImageMetrics, gather_in_order
from lit_gans.callbacks.limits import CPUTimeLimit
from lit_gans.callbacks.samples import LogSamples, image_grid, run_dir, seeded, toy_plot, write_png
from lit_gans.callbacks.schedules import LinearLRDecay
from lit_gans.callbacks.text_image import TextImageMetrics
from lit_gans.callbacks.theory import OneDimensionalTheory
from lit_gans.callbacks.toy import ToyMetrics
from lit_gans.callbacks.translation import TranslationMetrics, image_similarity, per_image_l1

__all__ = [
    "CPUTimeLimit",
    "ImageMetrics",
    "LinearLRDecay",
    "LogSamples",
    "OneDimensionalTheory",
    "RunCheckpoint",
    "TextImageMetrics",
    "ToyMetrics",
    "TranslationMetrics",
    "gather_in_order",
    "image_grid",
    "image_similarity",
    "per_image_l1",
    "run_dir",
    "seeded",
    "toy_plot",
    "write_png",
]
