"""Run by tests/test_ddp.py: a 2-process CPU DDP fit (gloo) of one model family; each rank saves what it saw.

    python -m tests.ddp_run OUT_DIR gan|dcgan CLASSIFIER_PATH

Lightning's DDP launcher re-runs this module for rank 1, hence the ``__main__`` guard.
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
from lightning.pytorch import Callback, Trainer, seed_everything


class Record(Callback):
    """Keeps the latent noise of the first D step and the first real batch, per rank."""

    def __init__(self) -> None:
        self.noise: list[torch.Tensor] = []
        self.first_batch: torch.Tensor | None = None

    def on_train_start(self, trainer, pl_module) -> None:
        original = pl_module.sample_latent

        def recording(n, generator=None):
            latent = original(n, generator)
            if generator is None and not self.noise:
                self.noise.append(latent.detach().clone())
            return latent

        pl_module.sample_latent = recording

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if self.first_batch is None:
            self.first_batch = batch[0].detach().clone()


def main(out_dir: str, family: str, classifier: str) -> None:
    from datamodules import Shapes, Toy
    from lit_gans import DCGAN, GAN
    from lit_gans.callbacks import ImageMetrics, LogSamples, ToyMetrics
    from lit_gans.metrics import ClassifierFeatures

    torch.set_num_threads(1)
    seed_everything(0, verbose=False)
    if family == "gan":
        model = GAN(data_shape=(2,), z_dim=4, g_hidden=(16,), d_hidden=(16,), ema_decay=0.9)
        data = Toy(distribution="ring", num_train=256, num_val=64, batch_size=16)
        metrics = ToyMetrics(num_samples=300)
    else:
        model = DCGAN(data_shape=(3, 16, 16), z_dim=8, g_features=4, d_features=4, num_fixed_samples=4)
        data = Shapes(image_size=16, num_train=256, num_val=32, batch_size=16)
        metrics = ImageMetrics(
            ClassifierFeatures(classifier),
            num_fake=40,
            num_real=30,
            batch_size=20,
            is_splits=2,
            kid_subsets=3,
            cache_dir=str(Path(out_dir) / "cache"),
        )
    record = Record()
    trainer = Trainer(
        accelerator="cpu",
        devices=2,
        strategy="ddp_find_unused_parameters_true",
        max_steps=6,
        val_check_interval=6,
        limit_val_batches=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        callbacks=[record, metrics, LogSamples(num_points=100)],
        default_root_dir=out_dir,
    )
    trainer.fit(model, data)
    torch.save(
        {
            "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
            "noise": record.noise[0],
            "first_batch": record.first_batch,
            "metrics": {k: float(v) for k, v in trainer.logged_metrics.items() if k.startswith("val/")},
            "global_step": trainer.global_step,
            "world_size": trainer.world_size,
            "num_fake_seen": getattr(metrics, "num_fake", None),
        },
        Path(out_dir) / f"rank{trainer.global_rank}.pt",
    )


if __name__ == "__main__":
    main(*sys.argv[1:4])
