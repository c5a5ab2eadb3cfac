"""Every model's default run, ``cli.py fit --model NAME`` with no other argument, timed and scored.

    .venv/bin/python benchmarks/default_runs.py                    # every model, one after the other
    .venv/bin/python benchmarks/default_runs.py --models DCGAN CGAN

Each run is a subprocess with the machine's cores (the CLI's thread default), its own ``--trainer.default_root_dir``
under ``--out`` and nothing else, timed by the wall clock (and the CPU time of the subprocess). Its final checkpoint
is then scored on the task the default trains (all on the offline Shapes data, no download), with the Shapes
classifier of ``benchmarks/demo.py`` (``classifiers/shapes.pt``, trained there when missing):

- models of z alone: ``confidence`` (mean probability of the shape the classifier picks) of 1,000 samples, their
  Inception Score with the classifier (3 at most) and the classifier-feature FID against 1,000 real images drawn
  as the run's data (grey for the grey defaults, read as three equal channels), with the real images' confidence
  and IS beside them;
- CGAN, ACGAN: ``class_accuracy``, the share of 1,000 samples per shape that the classifier calls the requested shape;
- InfoGAN: ``code_purity``, for 1,000 samples per value of the categorical code, the share of the most frequent
  shape (1: each code value draws one shape; a code that ignores the shape scores the largest shape share of the
  samples, about 0.4), averaged over the values;
- SGAN: ``accuracy``, D's shape classification of the 1,000 held-out real images (it saw 100 labels per class);
- Pix2Pix, CycleGAN: the last validation's PSNR (dB), per-image colour error (8-bit levels) and, for CycleGAN,
  cycle error against the validation pairs' exact targets.

A thumbnail of each run's last grid goes to ``--thumbnails``; the results to ``--out``/results.json, and a Markdown
table is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from conditional_mnist import class_accuracy  # noqa: E402
from demo import REAL_SEED, real_images, shapes_classifier, verdict  # noqa: E402

from datamodules import Shapes  # noqa: E402
from lit_gans.commands.checkpoints import load_gan  # noqa: E402
from lit_gans.commands.registry import offered_models  # noqa: E402
from lit_gans.metrics.functional import frechet_distance, gaussian_statistics  # noqa: E402

TILE = 32 + 2  # a 32x32 image and the grid's 2-pixel padding


def train(name: str, root: Path) -> dict:
    """Run ``cli.py fit --model name`` into ``root``; its wall and CPU seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    command = [sys.executable, "cli.py", "fit", "--model", name, f"--trainer.default_root_dir={root}"]
    log = root.with_suffix(".log")
    root.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w") as handle:
        done = subprocess.run(command, cwd=REPO, stdout=handle, stderr=subprocess.STDOUT)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{name}: cli.py fit exited with {done.returncode}; see {log}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": round(wall, 1), "cpu_s": round(cpu, 1)}


def run_folder(root: Path) -> Path:
    return sorted((root / "lightning_logs").glob("version_*"), key=lambda p: int(p.name.split("_")[1]))[-1]


@torch.no_grad()
def score(model, run: Path, classifier, checkpoint: dict) -> dict:
    """The default's task metric (see the module's docstring)."""
    name = type(model).__name__
    generator = torch.Generator().manual_seed(0)
    if not model.latent_input:
        record = json.loads((run / "translation_metrics.jsonl").read_text().splitlines()[-1])
        keys = ("XtoY/psnr", "YtoX/psnr", "XtoY/colour", "YtoX/colour", "cycle")
        return {key: round(record[key], 3) for key in keys if key in record}
    if name in ("CGAN", "ACGAN"):
        result = class_accuracy(model, classifier, per_class=1000, seed=0)
        return {"class_accuracy": round(result["accuracy"], 4), "per_class": result["per_class"]}
    if name == "InfoGAN":
        purity = []
        for value in range(model.num_categories):
            images = model.sample(1000, generator, categorical=value)
            shapes = classifier(images)[1].argmax(1)
            purity.append(torch.bincount(shapes, minlength=3).max().item() / len(shapes))
        return {"code_purity": round(sum(purity) / len(purity), 4), "per_code": [round(p, 4) for p in purity]}
    if name == "SGAN":  # held-out real images with their shapes, drawn as the run's data (every label kept)
        look = {k: v for k, v in (checkpoint.get("datamodule_hyper_parameters") or {}).items() if not k.startswith("_")}
        look.update(num_train=1000, num_val=1, seed=REAL_SEED, labels_per_class=None)
        data = Shapes(**look)
        data.setup()
        images, labels = data.train_set.images.float() / 127.5 - 1.0, data.train_set.labels
        return {"accuracy": round((model.classify(images) == labels).double().mean().item(), 4)}
    real = real_images(checkpoint, 1000)
    fake_scores, fake_features = verdict(classifier, model.sample(1000, generator))
    real_scores, real_features = verdict(classifier, real)
    fid = frechet_distance(*gaussian_statistics(real_features), *gaussian_statistics(fake_features))
    reference = {"real_confidence": real_scores["confidence"], "real_inception_score": real_scores["inception_score"]}
    return {**fake_scores, "fid": round(fid.item(), 3), **reference}


def thumbnail(run: Path, target: Path, rows: int, columns: int) -> Path:
    """The top-left ``rows x columns`` tiles of the run's last grid (samples, or translations)."""
    grids = sorted((run / "samples").glob("*_step*.png"), key=lambda p: (p.stem.rsplit("_step", 1)[1], p.name))
    main = [p for p in grids if p.name.startswith(("samples_", "translations_"))] or grids
    picture = np.asarray(Image.open(main[-1]).convert("RGB"))
    crop = picture[: rows * TILE + 2, : columns * TILE + 2]
    target.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(crop).save(target, optimize=True)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="*", default=None, help="model names (default: every model)")
    parser.add_argument("--out", default="benchmarks/out/default_runs", help="runs and results.json")
    parser.add_argument("--thumbnails", default="benchmarks/results/defaults", help="one PNG per model")
    parser.add_argument("--classifier", default="classifiers/shapes.pt")
    parser.add_argument("--score_only", action="store_true", help="score the runs already under --out")
    args = parser.parse_args()
    out = Path(args.out)
    names = args.models or list(offered_models())
    classifier = shapes_classifier(Path(args.classifier), 32, 3)
    results_path = out / "results.json"
    results = json.loads(results_path.read_text()) if results_path.is_file() else {}
    for name in names:
        root = out / name
        timing = results.get(name, {}).get("time", {}) if args.score_only else train(name, root)
        run = run_folder(root)
        model = load_gan(run / "checkpoints" / "last.ckpt")
        checkpoint = torch.load(run / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=False)
        columns = 6 if not model.latent_input and model.bidirectional else (3 if not model.latent_input else 4)
        picture = thumbnail(run, Path(args.thumbnails) / f"{name.lower()}.png", 3, columns)
        results[name] = {
            "time": timing,
            "steps": int(model.d_steps),
            "metrics": score(model, run, classifier, checkpoint),
            "thumbnail": str(picture),
            "threads": os.environ.get("LIT_GANS_THREADS", "auto"),
        }
        print(json.dumps({name: results[name]}), flush=True)
        out.mkdir(parents=True, exist_ok=True)
        results_path.write_text(json.dumps(results, indent=2) + "\n")
    print("\n| model | time (2 cores) | steps | metric | grid |\n| --- | --- | --- | --- | --- |")
    for name, r in results.items():
        metric = ", ".join(f"{k} {v}" for k, v in r["metrics"].items() if not isinstance(v, (list, dict)))
        minutes = r["time"].get("wall_s", 0) / 60
        print(f"| {name} | {minutes:.1f} min | {r['steps']} | {metric} | ![{name}]({r['thumbnail']}) |")


if __name__ == "__main__":
    main()
