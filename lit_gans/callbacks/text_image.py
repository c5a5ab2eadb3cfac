"""Text-image consistency of a text-to-image model after each validation (``TextImageMetrics``)."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from lightning.pytorch import Callback, LightningModule, Trainer
from torch import Tensor

from lit_gans.callbacks.samples import run_dir, seeded
from lit_gans.errors import LitGansError
from lit_gans.metrics.attributes import caption_consistency, dataset_tensors, load_attribute_classifier, r_precision


@torch.no_grad()
def text_image_scores(
    module: LightningModule,
    images: Tensor,
    tokens: Tensor,
    attributes: Tensor | None,
    stated: Tensor | None,
    classifier=None,
    pool: int = 100,
    seed: int = 0,
) -> dict[str, float]:
    """G's images for the captions ``tokens`` (one ``z`` each, from ``seed``) scored: ``r_precision`` with the
    model's text encoder, and, given an attribute ``classifier``, ``caption_consistency`` on the stated attributes;
    each with its references ``..._real`` (the real images with their captions: the upper bound) and, for the
    attributes, ``all_correct_shuffled`` (G's images against another item's caption: chance)."""
    with seeded(seed):
        fakes = torch.cat([module.sample(len(t), captions=t) for t in tokens.split(250)])
    matcher = module.matcher
    scores = {
        "r_precision": r_precision(matcher, fakes, tokens, pool),
        "r_precision_real": r_precision(matcher, images, tokens, pool),
    }
    if classifier is not None and attributes is not None:
        classifier.to(fakes.device)
        scores.update(caption_consistency(classifier, fakes, attributes, stated))
        scores["all_correct_real"] = caption_consistency(classifier, images, attributes, stated)["all_correct"]
        shuffle = torch.roll(torch.arange(len(fakes)), 1)  # each image against the next item's caption
        scores["all_correct_shuffled"] = caption_consistency(classifier, fakes, attributes[shuffle], stated[shuffle])[
            "all_correct"
        ]
    return scores


class TextImageMetrics(Callback):
    """After each validation: G's images for the first ``num_samples`` validation captions, scored by R-precision
    (the model's text encoder, caption among ``pool``) and, with ``classifier`` (``cli.py classifier --data
    ShapesCaptions``), by the attribute accuracy on the attributes each caption states and the all-correct rate,
    with real images (upper bound) and shuffled captions (chance) as references. Logged as ``val/text/...`` and
    appended to ``<log_dir>/text_metrics.jsonl``.

    Args:
        classifier: an attribute classifier file, or None (R-precision only).
        num_samples: validation captions (and generated images) per evaluation, a multiple of ``pool``.
        pool: candidates of R-precision (100, as in AttnGAN's protocol).
        every_n_validations: evaluate at every n-th validation only.
        seed: seed of the generated images' noise (the same at every evaluation).
    """

    def __init__(
        self,
        classifier: str | None = None,
        num_samples: int = 500,
        pool: int = 100,
        every_n_validations: int = 1,
        seed: int = 0,
    ) -> None:
        if num_samples < pool or num_samples % pool:
            raise LitGansError(f"num_samples must be a multiple of pool ({pool}), got {num_samples}")
        self.classifier = load_attribute_classifier(classifier)[0] if classifier else None
        self.num_samples, self.pool, self.every_n_validations, self.seed = num_samples, pool, every_n_validations, seed
        self.last: dict[str, float] = {}
        self._validations = 0

    def on_validation_epoch_end(self, trainer: Trainer, pl_module: LightningModule) -> None:
        if trainer.sanity_checking:
            return
        self._validations += 1
        if self._validations % self.every_n_validations:
            return
        if getattr(pl_module, "matcher", None) is None:
            raise LitGansError(f"TextImageMetrics measures text-to-image models; {type(pl_module).__name__} is not one")
        items = dataset_tensors(trainer.datamodule.val_set, self.num_samples)
        if len(items[0]) < self.num_samples:
            raise LitGansError(
                f"TextImageMetrics needs {self.num_samples} validation pairs, the data has {len(items[0])}"
            )
        images, tokens = items[0].to(pl_module.device), items[1].to(pl_module.device)
        attributes, stated = (items[2], items[3]) if len(items) >= 4 else (None, None)
        self.last = text_image_scores(
            pl_module, images, tokens, attributes, stated, self.classifier, self.pool, self.seed
        )
        for name, value in self.last.items():
            pl_module.log(f"val/text/{name}", value)
        folder = Path(run_dir(trainer))  # on every rank: a collective under DDP
        if trainer.is_global_zero:
            folder.mkdir(parents=True, exist_ok=True)
            with open(folder / "text_metrics.jsonl", "a") as handle:
                handle.write(json.dumps({"step": pl_module.d_steps, **self.last}) + "\n")
