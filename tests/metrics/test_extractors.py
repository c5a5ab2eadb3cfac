"""Feature extractors: the Inception pipeline with locally constructed weights (no download), the offline error,
and the dataset classifier."""

from __future__ import annotations

import urllib.error

import pytest
import torch
from torch.testing import assert_close

from lit_gans import LitGansError
from lit_gans.metrics import ClassifierFeatures, InceptionV3Features, extractors


def test_inception_from_a_weights_file_gives_pool_features_and_1008_logits(inception_weights):
    extractor = InceptionV3Features(weights_path=inception_weights)
    grey = torch.rand(2, 1, 28, 28) * 2 - 1
    features, logits = extractor(grey)
    assert features.shape == (2, 2048) and logits.shape == (2, 1008)
    assert torch.isfinite(features).all() and torch.isfinite(logits).all()
    # grey images are fed as RGB with three equal channels
    features_rgb, _ = extractor(grey.expand(-1, 3, -1, -1))
    assert_close(features, features_rgb)
    assert extractor.protocol()["weights"] == "constructed-inception.pth"
    assert extractor.fingerprint().endswith(extractors.sha256_of(inception_weights))


def test_inception_weights_from_the_environment_variable(inception_weights, monkeypatch):
    monkeypatch.setenv(extractors.INCEPTION_ENV, inception_weights)
    assert InceptionV3Features().weights_path == inception_weights


def test_offline_without_weights_the_error_says_what_to_pass(tmp_path, monkeypatch):
    monkeypatch.delenv(extractors.INCEPTION_ENV, raising=False)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))

    def offline(url, target, timeout):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(extractors, "download_file", offline)
    with pytest.raises(LitGansError, match="could not download the Inception weights") as error:
        InceptionV3Features()
    message = str(error.value)
    assert "weights_path" in message and extractors.INCEPTION_ENV in message and "ClassifierFeatures" in message
    with pytest.raises(LitGansError, match="downloading is off"):
        InceptionV3Features(download=False)
    with pytest.raises(LitGansError, match="does not exist"):
        InceptionV3Features(weights_path=str(tmp_path / "missing.pth"))


def test_weights_in_the_torch_hub_cache_are_found(inception_weights, tmp_path, monkeypatch):
    monkeypatch.delenv(extractors.INCEPTION_ENV, raising=False)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    (tmp_path / "checkpoints").mkdir()
    cached = tmp_path / "checkpoints" / extractors.INCEPTION_FILE_NAMES[1]
    cached.write_bytes(open(inception_weights, "rb").read())
    assert InceptionV3Features(download=False).weights_path == str(cached)


def test_classifier_learns_shapes_and_serves_features_and_logits(shapes_classifier):
    extractor = ClassifierFeatures(shapes_classifier)
    assert extractor.info["num_classes"] == 3
    assert extractor.info["val_accuracy"] > 0.6  # chance is 1/3
    features, logits = extractor(torch.rand(5, 3, 16, 16) * 2 - 1)
    assert features.shape == (5, extractor.info["feature_dim"]) and logits.shape == (5, 3)
    # other sizes are resized to the classifier's; wrong channel counts are refused
    assert extractor(torch.rand(2, 3, 32, 32) * 2 - 1)[0].shape == (2, extractor.info["feature_dim"])
    with pytest.raises(LitGansError, match="takes 3-channel images"):
        extractor(torch.rand(2, 1, 16, 16))


def test_classifier_file_errors(tmp_path):
    with pytest.raises(LitGansError, match="does not exist: train one with"):
        ClassifierFeatures(str(tmp_path / "none.pt"))
    torch.save({"something": 1}, tmp_path / "other.pt")
    with pytest.raises(LitGansError, match="not written by `cli.py classifier`"):
        ClassifierFeatures(str(tmp_path / "other.pt"))
