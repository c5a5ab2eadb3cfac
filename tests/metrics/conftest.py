"""The Inception weights the metric tests share: constructed locally, no download."""

from __future__ import annotations

import pytest

from lit_gans.metrics.extractors import write_random_inception_weights


@pytest.fixture(scope="session")
def inception_weights(tmp_path_factory) -> str:
    """A weights file with the FID Inception's keys and shapes and random values."""
    return str(write_random_inception_weights(tmp_path_factory.mktemp("inception") / "constructed-inception.pth"))
