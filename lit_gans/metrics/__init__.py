"""Evaluation: FID/IS/KID as pure functions, feature extractors (Inception from a weights file, dataset
classifiers), cached real-image features, and toy-distribution metrics. The callbacks that run them during
validation live in ``lit_gans.callbacks``."""

from lit_gans.metrics.extractors import ClassifierFeatures, FeatureExtractor, InceptionV3Features
from lit_gans.metrics.functional import (
    frechet_distance,
    gaussian_statistics,
    inception_score,
    kernel_inception_distance,
    polynomial_mmd2,
)
from lit_gans.metrics.toy import distance_to_gaussian_1d, high_quality_per_mode, mode_collapse_metrics

__all__ = [
    "ClassifierFeatures",
    "FeatureExtractor",
    "InceptionV3Features",
    "distance_to_gaussian_1d",
    "frechet_distance",
    "gaussian_statistics",
    "inception_score",
    "kernel_inception_distance",
    "high_quality_per_mode",
    "mode_collapse_metrics",
    "polynomial_mmd2",
]
