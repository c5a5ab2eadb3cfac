"""ProGAN's and MSG-GAN's claims, measured on the CPU: classifier FID against CPU time, side by side.

    python benchmarks/progressive.py --study growing --datasets mnist shapes --cpu_minutes 15 --workers 2
    python benchmarks/progressive.py --study msg --datasets mnist shapes --cpu_minutes 8 --workers 2

Studies (each run trains a preset, ``configs/{progan,msggan}_{mnist,shapes}.yaml``, with the variant's changes):

- ``growing`` (ProGAN s.5.1): the preset, growing 4 -> 32, against the same networks trained at 32x32 from the
  first step (``start_resolution: 32``), for the same CPU time;
- ``msg`` (MSG-GAN s.4): the preset against the same networks without the multi-scale links (D sees only the
  32x32 image), each at Adam 3e-3 (the paper's) and 1e-3. Besides FID, the agreement of G's scales: the mean
  absolute difference between its 16x16 output and its 32x32 output average-pooled to 16x16 (0: they agree).

One thread per run, ``--workers`` runs at a time; a run stops after ``--cpu_minutes`` of its process's CPU time
(``CPUTimeLimit``), so runs side by side keep their budgets. At every ``--marks`` share of the budget the model's
weights are kept (a copy in memory, not counted in the budget's steps); after the fit each copy is scored: its EMA G
draws ``--num_samples`` images, the dataset's classifier (``classifiers/mnist.pt`` or ``shapes.pt``) gives their
features, FID against the training images' features. MNIST at 32 is the 28x28 digit with a 2-pixel border: the
border is cropped before the classifier (trained at 28). For MNIST also the digits drawn: the share of samples the
classifier puts in each class, a digit counting as drawn from 2%. Grids of the last copy go next to ``--out``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import re
import sys
import time
from multiprocessing import get_context
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

PRESETS = {
    ("growing", "mnist"): "configs/progan_mnist.yaml",
    ("growing", "shapes"): "configs/progan_shapes.yaml",
    ("msg", "mnist"): "configs/msggan_mnist.yaml",
    ("msg", "shapes"): "configs/msggan_shapes.yaml",
}
VARIANTS = {
    "growing": {"grow 4->32": {}, "full 32 from step 0": {"start_resolution": 32}},
    "msg": {
        "MSG, lr 3e-3": {},
        "no links, lr 3e-3": {"multi_scale": False},
        "MSG, lr 1e-3": {"lr_g": 1e-3, "lr_d": 1e-3},
        "no links, lr 1e-3": {"multi_scale": False, "lr_g": 1e-3, "lr_d": 1e-3},
    },
}
CLASSIFIERS = {"mnist": "classifiers/mnist.pt", "shapes": "classifiers/shapes.pt"}
COVERED_SHARE = 0.02


def build(preset: str, overrides: dict, root: str, split: str):
    """``(model, datamodule)`` from a preset's ``class_path`` / ``init_args``, the model's ``overrides`` applied and
    its ``data_shape`` linked from the data, as the CLI does."""
    import yaml

    config = yaml.safe_load((REPO / preset).read_text())

    def instantiate(section: dict, **extra):
        module, _, name = section["class_path"].rpartition(".")
        return getattr(importlib.import_module(module), name)(**{**section.get("init_args", {}), **extra})

    data_extra = {"root": root, "split": split} if section_is_mnist(config["data"]) else {}
    data = instantiate(config["data"], **data_extra)
    model = instantiate(config["model"], data_shape=data.data_shape, **overrides)
    return model, data


def section_is_mnist(section: dict) -> bool:
    return section["class_path"].endswith("MNIST")


def classifier_view(images, dataset: str):
    """What the classifier sees: MNIST at 32 loses its 2-pixel border (the classifier's 28x28 digit)."""
    return images[..., 2:30, 2:30] if dataset == "mnist" and images.shape[-1] == 32 else images


def run_one(job: dict) -> dict:
    import torch
    from _trainer import quiet_trainer
    from lightning.pytorch import Callback, seed_everything
    from torchvision.utils import save_image

    from lit_gans.callbacks import CPUTimeLimit
    from lit_gans.metrics import ClassifierFeatures, frechet_distance, gaussian_statistics
    from lit_gans.networks.progressive import downsample

    torch.set_num_threads(1)
    seed_everything(job["seed"], verbose=False)
    model, data = build(job["preset"], job["overrides"], job["root"], job["split"])
    budget = 60 * job["cpu_minutes"]
    marks = [share * budget for share in job["marks"]]
    snapshots = []

    class KeepWeights(Callback):
        def on_train_start(self, trainer, pl_module) -> None:
            self.start = time.process_time()

        def on_train_batch_end(self, trainer, pl_module, *args) -> None:
            used = time.process_time() - self.start
            while len(snapshots) < len(marks) and used >= marks[len(snapshots)]:
                state = {k: v.detach().clone() for k, v in pl_module.state_dict().items()}
                snapshots.append({"cpu_seconds": round(used, 1), "batches": trainer.global_step, "state": state})

    trainer = quiet_trainer(callbacks=[KeepWeights(), CPUTimeLimit(budget + 1.0)])
    wall = time.perf_counter()
    trainer.fit(model, data)
    wall = time.perf_counter() - wall

    classifier = ClassifierFeatures(str(REPO / CLASSIFIERS[job["dataset"]]))
    data.setup("fit")
    reals = torch.stack([data.train_set[i][0] for i in range(len(data.train_set))])

    def features(images):
        chunks = [classifier(classifier_view(chunk, job["dataset"])) for chunk in images.split(500)]
        return torch.cat([c[0] for c in chunks]), torch.cat([c[1] for c in chunks])

    real_stats = gaussian_statistics(features(reals)[0].double())
    scores = []
    for snapshot in snapshots:
        model.load_state_dict(snapshot.pop("state"))
        generator = torch.Generator().manual_seed(job["seed"] + 1)
        samples = model.sample(job["num_samples"], generator=generator)
        fake_features, logits = features(samples)
        score = {
            **snapshot,
            "fid": round(float(frechet_distance(*real_stats, *gaussian_statistics(fake_features.double()))), 3),
        }
        if hasattr(model, "growth"):
            growth = model.growth
            score.update(
                resolution=growth.resolution, alpha=round(growth.alpha, 3), kimg=int(model.images_shown) / 1000
            )
        if job["dataset"] == "mnist":
            shares = torch.bincount(logits.argmax(1), minlength=10).double() / len(logits)
            score.update(digits=int((shares >= COVERED_SHARE).sum()), smallest_share=round(float(shares.min()), 4))
        if job["study"] == "msg":
            with torch.no_grad():
                scales = model.sampling_generator.all_scales(model.sample_latent(1000, generator=generator))
            score["scale_gap_16"] = round(float((scales[-2] - downsample(scales[-1])).abs().mean()), 4)
        scores.append(score)
    grid = Path(job["grid"])
    grid.parent.mkdir(parents=True, exist_ok=True)
    save_image(samples[:64] * 0.5 + 0.5, grid, nrow=8)
    return {**{k: v for k, v in job.items() if k != "root"}, "wall_seconds": round(wall, 1), "scores": scores}


def table(results: list[dict]) -> str:
    lines = []
    for study, dataset in sorted({(r["study"], r["dataset"]) for r in results}):
        rows = [r for r in results if r["study"] == study and r["dataset"] == dataset]
        marks = [share * rows[0]["cpu_minutes"] for share in rows[0]["marks"]]
        head = " | ".join(f"FID @ {m:g} min" for m in marks)
        extra = " | digits" if dataset == "mnist" else ""
        extra += " | 16 px vs pooled 32 px" if study == "msg" else ""
        lines += [
            f"\n{study}, {dataset}:\n",
            f"| run | batches | {head}{extra} |",
            "|---" * (2 + len(marks) + extra.count("|")) + "|",
        ]
        for r in rows:
            last = r["scores"][-1]
            cells = " | ".join(f"{s['fid']:.2f}" for s in r["scores"])
            tail = f" | {last['digits']}" if dataset == "mnist" else ""
            tail += f" | {last['scale_gap_16']:.3f}" if study == "msg" else ""
            lines.append(f"| {r['variant']} | {last['batches']:,} | {cells}{tail} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--study", choices=sorted(VARIANTS), required=True)
    parser.add_argument("--datasets", nargs="+", default=["mnist", "shapes"], choices=["mnist", "shapes"])
    parser.add_argument("--variants", nargs="+", default=None, help="a subset of the study's variants")
    parser.add_argument("--cpu_minutes", type=float, default=15.0)
    parser.add_argument("--marks", nargs="+", type=float, default=[0.2, 0.4, 0.6, 0.8, 1.0])
    parser.add_argument("--num_samples", type=int, default=10_000)
    parser.add_argument("--root", default="../shared/data/mnist")
    parser.add_argument("--split", default="test")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", default=None, help="default: benchmarks/out/progressive_<study>.json")
    args = parser.parse_args()
    out = Path(args.out or f"benchmarks/out/progressive_{args.study}.json")
    variants = args.variants or list(VARIANTS[args.study])
    jobs = [
        {
            "study": args.study,
            "dataset": dataset,
            "variant": variant,
            "preset": PRESETS[(args.study, dataset)],
            "overrides": VARIANTS[args.study][variant],
            "cpu_minutes": args.cpu_minutes,
            "marks": args.marks,
            "num_samples": args.num_samples,
            "root": str(Path(args.root).resolve()),
            "split": args.split,
            "seed": args.seed,
            "grid": str(out.with_suffix("") / f"{dataset}_{re.sub('[^0-9a-z]+', '_', variant.lower())}.png"),
        }
        for dataset in args.datasets
        for variant in variants
    ]
    results = []
    with get_context("spawn").Pool(args.workers) as pool:
        for result in pool.imap_unordered(run_one, jobs):
            results.append(result)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps({"args": vars(args), "results": results}, indent=1))
            last = result["scores"][-1]
            print(
                f"{result['dataset']} {result['variant']}: FID {[s['fid'] for s in result['scores']]}, {last}",
                flush=True,
            )
    print(table(results))


if __name__ == "__main__":
    main()
