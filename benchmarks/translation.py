"""Image-to-image benchmark on the offline Shapes tasks (no download), with the presets' settings.

    taskset -c 1 .venv/bin/python benchmarks/translation.py

1. Pix2Pix on ShapesPaired (outline -> filled shape, 32x32; ``configs/pix2pix_shapes.yaml``), L1 + cGAN against the
   paper's L1-only ablation (``lambda_gan = 0``), trained one after the other in this process from the same seed for
   the same number of batches; then L1, PSNR and SSIM of G(x) against the exact targets of the 256 validation pairs,
   and a sharpness ratio: mean |Laplacian| of G(x) over that of the targets (1 is as sharp as the targets; blur
   lowers it). The noise (dropout) is seeded, the same for both.
2. CycleGAN on ShapesUnpaired (shapes on black <-> their negatives; ``configs/cyclegan_shapes.yaml``, its full
   schedule: 2 epochs constant + 2 of linear decay), then on the 256 validation pairs: the cycle error
   |F(G(x)) - x|, |G(F(y)) - y|, the error against the true translation (-x), and FID per direction. FID's features
   come from a small classifier (``ClassifierFeatures``) trained here on Shapes of both domains (light shapes on
   black and their negatives; 6 classes: shape x domain). Two references come with it: the FID of the untranslated
   images (x against the real y: what an identity map scores) and of 256 fresh true negatives against the real y
   (the sampling floor with 256 images).

Writes the numbers to ``--out`` (JSON) and the grids to ``--results``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import time
from pathlib import Path

import torch
import torch.nn.functional as F
import yaml
from lightning.pytorch import Trainer, seed_everything

REPO = Path(__file__).resolve().parents[1]


def build(preset: str, **model_overrides):
    """Model and datamodule of a preset file, and its trainer settings."""
    config = yaml.safe_load((REPO / preset).read_text())

    def make(entry: dict, **extra):
        module, name = entry["class_path"].rsplit(".", 1)
        return getattr(importlib.import_module(module), name)(**entry.get("init_args", {}), **extra)

    data = make(config["data"])
    model = make(config["model"], data_shape=data.data_shape, **model_overrides)
    return model, data, config["trainer"]


def fit(model, data, trainer_config: dict, callbacks: list, root: Path, max_steps: int | None = None) -> float:
    trainer = Trainer(
        accelerator="cpu",
        max_epochs=trainer_config["max_epochs"],
        max_steps=max_steps if max_steps is not None else -1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        default_root_dir=str(root),
        callbacks=callbacks,
    )
    start = time.perf_counter()
    trainer.fit(model, data)
    seconds = time.perf_counter() - start
    trainer.validate(model, data, verbose=False)  # the final weights' metrics, wherever the run stopped
    return seconds


def laplacian_energy(images: torch.Tensor) -> torch.Tensor:
    """Mean |Laplacian| (3x3, per channel) of ``[N, C, H, W]``: high for sharp edges, low for blur."""
    kernel = torch.tensor([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])
    channels = images.shape[1]
    weight = kernel.expand(channels, 1, 3, 3)
    return F.conv2d(images, weight, groups=channels).abs().mean()


def val_pairs(data) -> tuple[torch.Tensor, torch.Tensor]:
    data.setup("validate")
    x = torch.stack([data.val_set[i][0] for i in range(len(data.val_set))])
    y = torch.stack([data.val_set[i][1] for i in range(len(data.val_set))])
    return x, y


def pix2pix(args, results: Path, out: Path) -> dict:
    from lit_gans.callbacks import LogSamples, TranslationMetrics, image_grid, seeded, write_png

    runs, outputs = {}, {}
    for name, lambda_gan in (("L1 + cGAN", 1.0), ("L1 only", 0.0)):
        seed_everything(0, verbose=False)
        model, data, trainer_config = build("configs/pix2pix_shapes.yaml", lambda_gan=lambda_gan)
        metrics = TranslationMetrics()
        seconds = fit(model, data, trainer_config, [metrics, LogSamples()], out / f"pix2pix_{lambda_gan:g}", args.steps)
        x, y = val_pairs(data)
        with seeded(0):
            g = torch.cat([model.translate(chunk) for chunk in x.split(64)])
        sharpness = float(laplacian_energy(g) / laplacian_energy(y))
        runs[name] = {"steps": model.d_steps, "seconds": round(seconds, 1), **metrics.last, "sharpness": sharpness}
        outputs[name] = g[:8]
        print(name, json.dumps(runs[name]), flush=True)
    # input | L1 only | L1 + cGAN | target, one validation pair a row
    rows = torch.stack([x[:8], outputs["L1 only"], outputs["L1 + cGAN"], y[:8]], dim=1).flatten(0, 1)
    path = write_png(image_grid(rows, nrow=4), results / "pix2pix_shapes_l1_vs_cgan.png")
    return {"runs": runs, "grid": shown(path)}


class BothDomains:
    """Shapes and their negatives, labelled by shape and domain (6 classes): the classifier behind FID for the
    unpaired task, so its features tell the domains apart as well as the shapes."""

    def __new__(cls, **kwargs):
        from datamodules import Shapes
        from datamodules.base import UInt8ImageDataset

        class ShapesAndNegatives(Shapes):
            def setup(self, stage=None):
                if self.train_set is None:
                    super().setup(stage)
                    for split in ("train_set", "val_set"):
                        s = getattr(self, split)
                        labels = torch.cat([s.labels, s.labels + 3])  # 3 shapes x 2 domains
                        both = UInt8ImageDataset(torch.cat([s.images, 255 - s.images]), labels)
                        setattr(self, split, both)

        return ShapesAndNegatives(**kwargs)


def cyclegan(args, results: Path, out: Path) -> dict:
    from datamodules.shapes import draw
    from lit_gans.callbacks import LogSamples, TranslationMetrics, image_grid, write_png
    from lit_gans.metrics import ClassifierFeatures, frechet_distance, gaussian_statistics
    from lit_gans.metrics.classifier import save_classifier, train_classifier

    seed_everything(0, verbose=False)
    start = time.perf_counter()
    shapes = BothDomains(image_size=32, channels=3, num_train=3000, num_val=500, batch_size=64)
    classifier, info = train_classifier(shapes, epochs=5, lr=3e-3, width=32)
    classifier_path = save_classifier(classifier, info, out / "shapes_both_domains_classifier.pt")
    print(f"classifier: {time.perf_counter() - start:.0f} s, accuracy {info['val_accuracy']:.4f}", flush=True)
    extractor = ClassifierFeatures(str(classifier_path))

    seed_everything(0, verbose=False)
    model, data, trainer_config = build("configs/cyclegan_shapes.yaml")
    metrics = TranslationMetrics(extractor=extractor)
    seconds = fit(model, data, trainer_config, [metrics, LogSamples()], out / "cyclegan", args.cycle_steps)
    x, y = val_pairs(data)

    def fid(a: torch.Tensor, b: torch.Tensor) -> float:
        fa, fb = extractor(a)[0], extractor(b)[0]
        return float(frechet_distance(*gaussian_statistics(fa), *gaussian_statistics(fb)))

    fresh = 255 - draw(len(y), 32, 3, seed=1234, colour_ranges=data.colour_ranges)  # drawn as the task's X
    references = {
        "fid_identity_map": fid(x, y),  # untranslated x against the real y
        "fid_floor": fid(fresh.float() / 127.5 - 1, y),  # fresh true negatives against the real y
    }
    run = {
        "steps": model.d_steps,
        "epochs": model.current_epoch,
        "seconds": round(seconds, 1),
        "classifier_val_accuracy": info["val_accuracy"],
        **metrics.last,
        **references,
    }
    print("CycleGAN", json.dumps(run), flush=True)
    panels = model.translation_panels(x[:8], y[:8])
    rows = torch.stack(panels, dim=1).flatten(0, 1)
    path = write_png(image_grid(rows, nrow=len(panels)), results / "cyclegan_shapes_negatives.png")
    return {"run": run, "grid": shown(path)}


def shown(path: Path) -> str:
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--steps", type=int, default=None, help="Pix2Pix batches per run (default: the preset's epochs)"
    )
    parser.add_argument("--cycle_steps", type=int, default=None, help="CycleGAN batches (default: its full schedule)")
    parser.add_argument("--skip", choices=["pix2pix", "cyclegan"], default=None)
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "out" / "translation"))
    parser.add_argument("--results", default=str(REPO / "benchmarks" / "results"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    out, results = Path(args.out), Path(args.results)
    out.mkdir(parents=True, exist_ok=True)
    report = {}
    if args.skip != "pix2pix":
        report["pix2pix"] = pix2pix(args, results, out)
    if args.skip != "cyclegan":
        report["cyclegan"] = cyclegan(args, results, out)
    (out / "translation.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
