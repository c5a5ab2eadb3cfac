"""StackGAN's claims at CPU scale on ShapesCaptions, measured side by side (issue 19).

    python benchmarks/stackgan.py --study encoder
    python benchmarks/stackgan.py --study stage1 --cpu_minutes 20 --workers 2
    python benchmarks/stackgan.py --study stage2 --stage1_ckpt benchmarks/out/stackgan/stage1_ca.ckpt --cpu_minutes 20

Studies:

- ``encoder``: the recurrent caption encoder against the bag of words (the ablation), each trained for one and for
  three epochs of the training pairs; retrieval caption -> image among 100 validation images (top-1: its own image;
  consistent: an image that agrees with every attribute the caption states). The three-epoch encoders are kept.
- ``stage1`` (the paper's s.5.2): Stage I with conditioning augmentation (the preset, ``configs/stackgan_shapes.yaml``)
  against ``c = mu`` (no augmentation, no KL), for the same CPU time, both on one text encoder (``encoder``'s rnn);
  scored on 1,000 validation captions: the attribute classifier's accuracy on each stated attribute, the all-correct
  rate, R-precision; and the diversity over z where a caption leaves attributes out: for 50 captions that state
  shape and colour only, 100 z each, the entropy of the predicted row, column and size (uniform: ln 3, ln 3, ln 2).
  The Stage I checkpoints are kept for ``stage2``.
- ``stage2``: Stage II at 64 px on the augmented Stage I's checkpoint (``configs/stackgan_shapes_stage2.yaml``),
  against Stage I's 32 px images upsampled (bilinear) to 64: sharpness (the mean squared difference of neighbouring
  pixels, relative to real 64 px images) and attribute accuracy by a 64 px attribute classifier.

One thread per run, ``--workers`` runs at a time, each stopped after ``--cpu_minutes`` of its own CPU time
(``CPUTimeLimit``), so runs side by side keep their budgets. The attribute classifiers are
``classifiers/shapes_captions.pt`` (32 px) and ``classifiers/shapes_captions_64.pt`` (64 px):
``python cli.py classifier --data ShapesCaptions [--data.image_size 64 --epochs 1] --output ...``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import time
from multiprocessing import get_context
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

OUT = REPO / "benchmarks" / "out" / "stackgan"
CLASSIFIERS = {32: "classifiers/shapes_captions.pt", 64: "classifiers/shapes_captions_64.pt"}
STAGE1_VARIANTS = {"ca": {}, "mu": {"conditioning_augmentation": False}}


def build(preset: str, overrides: dict):
    """``(model, datamodule)`` from a preset, the model's ``overrides`` applied, ``data_shape`` and ``vocabulary``
    linked from the data as the CLI does."""
    import yaml

    config = yaml.safe_load((REPO / preset).read_text())

    def instantiate(section: dict, **extra):
        module, _, name = section["class_path"].rpartition(".")
        return getattr(importlib.import_module(module), name)(**{**section.get("init_args", {}), **extra})

    data = instantiate(config["data"])
    model = instantiate(config["model"], data_shape=data.data_shape, vocabulary=data.vocabulary, **overrides)
    return model, data, config["trainer"]


def fit_for(model, data, cpu_minutes: float) -> dict:
    import torch
    from _trainer import quiet_trainer

    from lit_gans.callbacks import CPUTimeLimit

    torch.set_num_threads(1)
    trainer = quiet_trainer(callbacks=[CPUTimeLimit(60 * cpu_minutes)])
    started, wall = time.process_time(), time.perf_counter()
    trainer.fit(model, data)
    return {
        "batches": trainer.global_step,
        "cpu_seconds": round(time.process_time() - started, 1),
        "wall_seconds": round(time.perf_counter() - wall, 1),
        "trainer": trainer,
    }


def validation_items(data, n: int):
    from lit_gans.metrics.attributes import dataset_tensors

    data.setup("fit")
    return dataset_tensors(data.val_set, n)


def entropy(labels, classes: int) -> float:
    import torch

    p = torch.bincount(labels, minlength=classes).double() / len(labels)
    return float(-(p[p > 0] * p[p > 0].log()).sum())


def diversity(model, data, classifier, captions: int = 50, per_caption: int = 100, seed: int = 0) -> dict:
    """Mean entropy over z of the predicted row, column and size, for captions stating shape and colour only."""
    import torch

    from datamodules.captions import ATTRIBUTES, NUM_VALUES, TEMPLATES, caption_for, sample_attributes

    template = [i for i, (_, stated) in enumerate(TEMPLATES) if set(stated) == {"shape", "colour"}][0]
    attributes = sample_attributes(captions, torch.Generator().manual_seed(seed))
    texts = [caption_for(row, template)[0] for row in attributes]
    entropies = {name: [] for name in ("row", "column", "size")}
    generator = torch.Generator().manual_seed(seed + 1)
    for text in texts:
        predicted = classifier.predict(model.sample(per_caption, generator=generator, captions=text))
        for name in entropies:
            i = ATTRIBUTES.index(name)
            entropies[name].append(entropy(predicted[:, i], NUM_VALUES[i]))
    return {f"entropy_{name}": round(sum(v) / len(v), 4) for name, v in entropies.items()}


def score_stage1(model, data, num: int, seed: int) -> dict:
    from lit_gans.callbacks.text_image import text_image_scores
    from lit_gans.metrics.attributes import load_attribute_classifier

    classifier = load_attribute_classifier(REPO / CLASSIFIERS[data.image_size])[0]
    images, tokens, attributes, stated = validation_items(data, num)
    scores = text_image_scores(model, images, tokens, attributes, stated, classifier, seed=seed)
    scores.update(diversity(model, data, classifier, seed=seed))
    return {k: round(v, 4) for k, v in scores.items()}


def run_encoder(job: dict) -> dict:
    import torch

    from datamodules import ShapesCaptions
    from lit_gans.text_encoder import save_text_encoder, train_text_encoder

    torch.set_num_threads(1)
    matcher, info = train_text_encoder(ShapesCaptions(), job["kind"], epochs=job["epochs"], seed=job["seed"])
    if job["epochs"] == 3:
        save_text_encoder(matcher, info, OUT / f"encoder_{job['kind']}.pt")
    return {**job, **info}


def run_stage1(job: dict) -> dict:
    from lightning.pytorch import seed_everything
    from torchvision.utils import save_image

    seed_everything(job["seed"], verbose=False)
    overrides = {**STAGE1_VARIANTS[job["variant"]], "text_encoder": str(OUT / "encoder_rnn.pt")}
    model, data, _ = build("configs/stackgan_shapes.yaml", overrides)
    fit = fit_for(model, data, job["cpu_minutes"])
    fit.pop("trainer").save_checkpoint(OUT / f"stage1_{job['variant']}.ckpt")
    scores = score_stage1(model, data, job["num_samples"], job["seed"])
    grids = model.sample_grids()
    save_image(grids["samples"][0] * 0.5 + 0.5, OUT / f"stage1_{job['variant']}.png", nrow=grids["samples"][1])
    (OUT / f"stage1_{job['variant']}_captions.txt").write_text("\n".join(model.grid_captions()) + "\n")
    return {**job, **fit, "scores": scores}


def sharpness(images) -> float:
    """Mean squared difference of horizontally and vertically neighbouring pixels (images in [-1, 1])."""
    dx = images[..., :, 1:] - images[..., :, :-1]
    dy = images[..., 1:, :] - images[..., :-1, :]
    return float((dx.square().mean() + dy.square().mean()) / 2)


def run_stage2(job: dict) -> dict:
    import torch
    import torch.nn.functional as F
    from lightning.pytorch import seed_everything
    from torchvision.utils import save_image

    from lit_gans.metrics.attributes import caption_consistency, load_attribute_classifier

    seed_everything(job["seed"], verbose=False)
    model, data, _ = build("configs/stackgan_shapes_stage2.yaml", {"stage1_ckpt": job["stage1_ckpt"]})
    fit = fit_for(model, data, job["cpu_minutes"])
    fit.pop("trainer").save_checkpoint(OUT / "stage2.ckpt")
    classifier = load_attribute_classifier(REPO / CLASSIFIERS[64])[0]
    images, tokens, attributes, stated = validation_items(data, job["num_samples"])
    with torch.no_grad():
        generator = torch.Generator().manual_seed(job["seed"])
        latent = model.sample_latent(len(tokens), generator)
        net = model.sampling_generator.eval()
        embedding = model.embed(tokens)
        stage2, stage1 = [], []
        for z, e in zip(latent.split(250), embedding.split(250)):
            high, _, _, low = net(z, e)
            stage2.append(high)
            stage1.append(F.interpolate(low, scale_factor=2, mode="bilinear", align_corners=False))
    stage2, stage1 = torch.cat(stage2), torch.cat(stage1)
    real_sharpness = sharpness(images)
    rows = {}
    for name, fakes in (("Stage II", stage2), ("Stage I upsampled", stage1), ("real 64 px", images)):
        consistency = caption_consistency(classifier, fakes, attributes, stated)
        rows[name] = {
            "sharpness_vs_real": round(sharpness(fakes) / real_sharpness, 4),
            **{k: round(v, 4) for k, v in consistency.items()},
        }
    pairs = torch.stack([stage1[:8], stage2[:8]], dim=1).flatten(0, 1)  # Stage I upsampled, Stage II, ...
    save_image(pairs * 0.5 + 0.5, OUT / "stage2_pairs.png", nrow=4)
    grids = model.sample_grids()
    save_image(grids["samples"][0] * 0.5 + 0.5, OUT / "stage2.png", nrow=grids["samples"][1])
    return {**job, **fit, "scores": rows}


RUNNERS = {"encoder": run_encoder, "stage1": run_stage1, "stage2": run_stage2}


def run(job: dict) -> dict:
    return RUNNERS[job["study"]](job)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--study", choices=sorted(RUNNERS), required=True)
    parser.add_argument("--cpu_minutes", type=float, default=20.0)
    parser.add_argument("--num_samples", type=int, default=1000, help="validation captions scored")
    parser.add_argument("--stage1_ckpt", default=str(OUT / "stage1_ca.ckpt"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", default=None, help="default: benchmarks/out/stackgan_<study>.json")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    out = Path(args.out or REPO / f"benchmarks/out/stackgan_{args.study}.json")
    base = {"study": args.study, "seed": args.seed}
    if args.study == "encoder":
        jobs = [{**base, "kind": kind, "epochs": epochs} for kind in ("rnn", "bow") for epochs in (1, 3)]
    elif args.study == "stage1":
        jobs = [
            {**base, "variant": v, "cpu_minutes": args.cpu_minutes, "num_samples": args.num_samples}
            for v in STAGE1_VARIANTS
        ]
    else:
        jobs = [
            {**base, "cpu_minutes": args.cpu_minutes, "num_samples": args.num_samples, "stage1_ckpt": args.stage1_ckpt}
        ]
    results = []
    with get_context("spawn").Pool(min(args.workers, len(jobs))) as pool:
        for result in pool.imap_unordered(run, jobs):
            results.append(result)
            out.write_text(json.dumps({"args": vars(args), "results": results}, indent=1))
            print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
