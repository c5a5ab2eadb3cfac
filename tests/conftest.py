"""Every test starts from the same seed."""

import pytest
import torch
from lightning.pytorch import seed_everything


@pytest.fixture(autouse=True)
def _seeded():
    seed_everything(0, verbose=False)
    torch.use_deterministic_algorithms(False)
    yield
