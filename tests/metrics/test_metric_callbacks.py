"""ImageMetrics and ToyMetrics inside real (tiny) runs: what gets logged, the protocol, the real-feature cache."""

from __future__ import annotations

import json

import pytest
import torch
from lightning.pytorch.loggers import CSVLogger

from datamodules import Shapes, Toy
from lit_gans import DCGAN, GAN, LitGansError
from lit_gans.callbacks import ImageMetrics, ToyMetrics
from lit_gans.metrics import ClassifierFeatures, InceptionV3Features
from tests.helpers import tiny_trainer


def tiny_dcgan(**overrides) -> DCGAN:
    return DCGAN(data_shape=(3, 16, 16), z_dim=8, g_features=4, d_features=4, num_fixed_samples=4, **overrides)


def run(tmp_path, callback, model=None, data=None, max_steps=2):
    logger = CSVLogger(tmp_path, name="run")
    trainer = tiny_trainer(
        tmp_path, max_steps=max_steps, logger=logger, callbacks=[callback], val_check_interval=max_steps
    )
    trainer.fit(model or tiny_dcgan(), data or Shapes(image_size=16, num_train=96, num_val=32, batch_size=16))
    return trainer


def classifier_metrics(classifier: str, cache_dir, **overrides) -> ImageMetrics:
    """ImageMetrics on a tiny budget with the Shapes classifier as extractor."""
    options = dict(num_fake=20, num_real=20, batch_size=20, is_splits=2, kid_subsets=2, cache_dir=str(cache_dir))
    return ImageMetrics(ClassifierFeatures(classifier), **{**options, **overrides})


def test_classifier_metrics_are_logged_with_their_protocol_and_cached(tmp_path, shapes_classifier):
    metrics = classifier_metrics(shapes_classifier, tmp_path / "cache", num_fake=40, num_real=60, kid_subsets=5)
    trainer = run(tmp_path / "a", metrics, model=tiny_dcgan(ema_decay=0.9))
    logged = trainer.logged_metrics
    assert {"val/fid", "val/is", "val/is_std", "val/kid", "val/kid_std"} <= set(logged)
    assert logged["val/fid"] > 0 and 1 <= logged["val/is"] <= 3  # IS lies in [1, number of classes]
    protocol = json.loads((tmp_path / "a" / "run" / "version_0" / "metrics_protocol.json").read_text())
    assert protocol["extractor"] == "classifier" and protocol["num_fake"] == 40 and protocol["num_real"] == 60
    assert protocol["real_split"] == "train" and protocol["fake_source"] == "EMA generator"
    assert protocol["real_features"].startswith("computed")
    records = [json.loads(line) for line in (tmp_path / "a" / "run" / "version_0" / "metrics.jsonl").open()]
    assert records[-1]["fid"] == pytest.approx(float(logged["val/fid"]), rel=1e-6)
    assert records[-1]["protocol"] == protocol
    assert len(list((tmp_path / "cache").glob("*.pt"))) == 1

    again = classifier_metrics(shapes_classifier, tmp_path / "cache", num_fake=40, num_real=60, kid_subsets=5)
    run(tmp_path / "b", again)
    assert again.protocol["real_features"] == protocol["real_features"].replace("computed", "cache")


def test_a_change_of_data_or_count_never_reuses_cached_features(tmp_path, shapes_classifier):
    def metrics(num_real: int) -> ImageMetrics:
        return classifier_metrics(shapes_classifier, tmp_path / "cache", num_real=num_real, metrics=("fid",))

    first = metrics(40)
    run(tmp_path / "a", first)
    other_data = metrics(40)
    run(tmp_path / "b", other_data, data=Shapes(image_size=16, num_train=96, num_val=32, batch_size=16, seed=5))
    other_count = metrics(41)
    run(tmp_path / "c", other_count)
    keys = {m.protocol["real_features"].split("key ")[1] for m in (first, other_data, other_count)}
    assert len(keys) == 3
    assert all(m.protocol["real_features"].startswith("computed") for m in (first, other_data, other_count))
    assert len(list((tmp_path / "cache").glob("*.pt"))) == 3


def test_the_same_run_works_with_an_inception_weights_file(tmp_path, inception_weights):
    metrics = ImageMetrics(
        InceptionV3Features(weights_path=inception_weights),
        num_fake=6,
        num_real=6,
        batch_size=6,
        is_splits=2,
        kid_subsets=2,
        cache_dir=str(tmp_path / "cache"),
    )
    trainer = run(tmp_path, metrics, max_steps=1)
    assert {"val/fid", "val/is", "val/kid"} <= set(trainer.logged_metrics)
    assert torch.isfinite(trainer.logged_metrics["val/fid"])
    assert metrics.protocol["extractor"] == "inception-v3"
    assert metrics.protocol["weights"] == "constructed-inception.pth"


def test_bad_metric_arguments_are_refused(shapes_classifier):
    with pytest.raises(LitGansError, match="unknown metrics"):
        ImageMetrics(ClassifierFeatures(shapes_classifier), metrics=("fid", "precision"))
    with pytest.raises(LitGansError, match="num_fake must be at least 10"):
        ImageMetrics(ClassifierFeatures(shapes_classifier), num_fake=5)


@pytest.mark.parametrize(
    "distribution, names", [("ring", {"modes", "high_quality", "reverse_kl"}), ("gaussian1d", {"wasserstein1", "ks"})]
)
def test_toy_metrics_are_logged_each_validation(tmp_path, distribution, names):
    model = GAN(data_shape=(2,) if distribution == "ring" else (1,), z_dim=4, g_hidden=(16,), d_hidden=(16,))
    callback = ToyMetrics(num_samples=500)
    data = Toy(distribution=distribution, num_train=256, num_val=64, batch_size=32)
    trainer = run(tmp_path, callback, model=model, data=data, max_steps=3)
    assert {f"val/{name}" for name in names} <= set(trainer.logged_metrics)
    assert set(callback.last) == names
