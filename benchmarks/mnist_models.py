"""Every model that draws MNIST digits, with its documented preset, for the same CPU time: FID / IS / KID (classifier
extractor), class coverage, and a grid of each.

    python benchmarks/mnist_models.py --root ../shared/data/mnist --cpu_minutes 5 15 --workers 2

Each model trains from its preset (``PRESETS``: GAN, DCGAN, CGAN, ACGAN, InfoGAN and SGAN from their own
``configs/*_mnist.yaml``; the objective family from ``configs/dcgan_mnist.yaml`` plus its paper's
``configs/objectives/`` preset, as ``objectives_mnist.py`` runs them) on one thread for each ``--cpu_minutes``
budget of CPU time (``lit_gans.callbacks.CPUTimeLimit``; a preset's own step, time and callback limits are replaced,
and ``--print_config`` is checked before every fit), with no validation during the fit. The last checkpoint is then
scored by ``cli.py validate`` with ``configs/metrics/mnist_classifier.yaml`` (10,000 generated digits against the
training images, features of ``classifiers/mnist.pt``), and ``cli.py sample`` draws 10,000 more (CGAN and ACGAN
with labels from their uniform prior; SGAN is scored as a generator) for the class coverage: the share of the
samples that the same classifier puts in each digit, how many digits have at least 2% of them (uniform: 10% each),
and the smallest share. The first 100 samples are written as a 10x10 grid next to each run; once every requested
model has a result for a budget, their grids side by side go to
``benchmarks/results/mnist_models_<budget>cpumin.png``. A table per budget is printed; ``--out`` is rewritten after
every finished run, and a run already there (same model, budget, preset files and seed) is skipped unless
``--force``, so a killed benchmark resumes where it stopped.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import shutil
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import torch
from _mnist_runs import DCGAN_MNIST, OBJECTIVES, REPO, fit_and_score, run_cli, shown
from PIL import Image, ImageDraw, ImageFont
from torch import Tensor
from torchvision.utils import save_image

sys.path.insert(0, str(REPO))

from lit_gans.metrics import ClassifierFeatures  # noqa: E402

PRESETS: dict[str, tuple[str, ...]] = {
    "GAN": ("configs/gan_mnist.yaml",),
    "DCGAN": (DCGAN_MNIST,),
    "CGAN": ("configs/cgan_mnist.yaml",),
    "ACGAN": ("configs/acgan_mnist.yaml",),
    "InfoGAN": ("configs/infogan_mnist.yaml",),
    "SGAN": ("configs/sgan_mnist.yaml",),
    **{model: (DCGAN_MNIST, preset) for model, preset in OBJECTIVES.items()},
}
CLASSIFIER = "classifiers/mnist.pt"
NUM_SAMPLES = 10_000
COVERED_SHARE = 0.02  # a digit with at least this share of the samples counts as drawn
IDENTITY = ("model", "cpu_minutes", "preset", "preset_sha256", "seed")  # a result with these is not run again


def preset_identity(configs: Sequence[str]) -> dict[str, str]:
    """The preset's files and a digest of their contents (an edited preset is a new run)."""
    digest = hashlib.sha256(b"".join((REPO / config).read_bytes() for config in configs)).hexdigest()
    return {"preset": " + ".join(configs), "preset_sha256": digest[:16]}


@torch.no_grad()
def class_coverage(samples: Tensor, classifier: ClassifierFeatures, batch_size: int = 500) -> dict:
    """The share of ``samples`` ``[N, 1, 28, 28]`` in [-1, 1] that ``classifier`` assigns to each digit, the number
    of digits with at least ``COVERED_SHARE`` of them, and the smallest share."""
    predicted = torch.cat([classifier(chunk)[1].argmax(1) for chunk in samples.split(batch_size)])
    shares = torch.bincount(predicted, minlength=classifier.info["num_classes"]).double() / len(predicted)
    return {
        "class_shares": [round(share, 4) for share in shares.tolist()],
        "covered": int((shares >= COVERED_SHARE).sum()),
        "smallest_share": round(shares.min().item(), 4),
    }


def train_and_score(model: str, cpu_minutes: float, args: argparse.Namespace, classifier: ClassifierFeatures) -> dict:
    """One run: fit and FID / IS / KID (``fit_and_score``), then 10,000 samples for the class coverage and the
    grid of the first 100."""
    run_dir = Path(args.runs).resolve() / f"{cpu_minutes:g}cpumin" / model
    shutil.rmtree(run_dir, ignore_errors=True)  # a run killed half-way, or --force
    start = time.perf_counter()
    configs = PRESETS[model]
    scores = fit_and_score(configs, run_dir, cpu_minutes, args.root, args.split, args.seed)
    samples_file = run_dir / "samples.pt"
    run_cli(
        ["sample", "--ckpt_path", str(REPO / scores["checkpoint"]), "--num_samples", str(NUM_SAMPLES)]
        + ["--seed", str(args.seed), "--output", str(samples_file)],
        run_dir / "sample.log",
    )
    samples = torch.load(samples_file, weights_only=True)
    samples_file.unlink()  # 31 MB a run; `cli.py sample` draws the same ones again from the checkpoint
    grid = run_dir / "grid.png"
    save_image(samples[:100] * 0.5 + 0.5, grid, nrow=10)  # [-1, 1] -> [0, 1]
    return {
        "model": model,
        "cpu_minutes": cpu_minutes,
        **preset_identity(configs),
        "seed": args.seed,
        **scores,
        **class_coverage(samples, classifier),
        "grid": shown(grid),
        "wall_seconds": round(time.perf_counter() - start),
    }


def combined_grid(results: Sequence[dict], path: Path, per_row: int = 7) -> None:
    """Every result's grid side by side (``per_row`` a row), its model name and FID written above it."""
    tiles = [Image.open(REPO / r["grid"]).convert("RGB") for r in results]
    width, height = tiles[0].size
    label, gap = 20, 6
    font = ImageFont.load_default(size=14)
    columns = math.ceil(len(tiles) / math.ceil(len(tiles) / per_row))
    rows = math.ceil(len(tiles) / columns)
    canvas = Image.new("RGB", (columns * (width + gap) - gap, rows * (label + height + gap) - gap), "white")
    draw = ImageDraw.Draw(canvas)
    for i, (result, tile) in enumerate(zip(results, tiles)):
        x, y = (i % columns) * (width + gap), (i // columns) * (label + height + gap)
        draw.text((x + 2, y + 1), f"{result['model']}: FID {result['fid']:,.1f}", fill="black", font=font)
        canvas.paste(tile, (x, y + label))
    path.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(path)


def table(results: Sequence[dict]) -> str:
    """The markdown table of one budget's results, FID also as a multiple of DCGAN's."""
    dcgan = next((r["fid"] for r in results if r["model"] == "DCGAN"), None)
    lines = [
        "| model | preset | batches | G steps | FID | IS | KID | covered digits | smallest share | FID / DCGAN's |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        ratio = f"{r['fid'] / dcgan:.2f}" if dcgan else "-"
        lines.append(
            f"| {r['model']} | `{r['preset']}` | {r['batches']:,} | {r['g_steps']:,} | {r['fid']:,.2f} "
            f"| {r['is']:.2f} +- {r['is_std']:.2f} | {r['kid']:,.3f} +- {r['kid_std']:,.3f} | {r['covered']} "
            f"| {100 * r['smallest_share']:.1f}% | {ratio} |"
        )
    return "\n".join(lines)


def identity(result: dict) -> tuple:
    return tuple(result[key] for key in IDENTITY)


def wanted(model: str, cpu_minutes: float, seed: int) -> tuple:
    """The identity of the run that the command line asks for (with the preset files as they are now)."""
    return identity({"model": model, "cpu_minutes": cpu_minutes, **preset_identity(PRESETS[model]), "seed": seed})


def slot(result: dict) -> tuple:
    """A new result replaces the one of the same model, budget and seed (an older preset's)."""
    return result["model"], result["cpu_minutes"], result["seed"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=list(PRESETS), choices=list(PRESETS))
    parser.add_argument("--root", required=True, help="MNIST folder")
    parser.add_argument("--split", default="test", help="the split that exists there (these machines: test)")
    parser.add_argument("--cpu_minutes", type=float, nargs="+", default=[5.0], help="one set of runs per budget")
    parser.add_argument("--workers", type=int, default=2, help="fits side by side, one thread each")
    parser.add_argument("--seed", type=int, default=0, help="seed_everything of the fits, and the samples' seed")
    parser.add_argument("--runs", default="runs/mnist_models")
    parser.add_argument("--out", default="benchmarks/out/mnist_models.json")
    parser.add_argument("--figures", default="benchmarks/results", help="folder of the combined grids")
    parser.add_argument("--force", action="store_true", help="run again what --out already holds")
    args = parser.parse_args()
    torch.set_num_threads(1)
    out = Path(args.out)
    kept = json.loads(out.read_text())["results"] if out.is_file() else []
    done = {identity(r) for r in kept}
    todo, skipped = [], []
    for cpu_minutes in args.cpu_minutes:
        for model in args.models:
            runs_again = args.force or wanted(model, cpu_minutes, args.seed) not in done
            (todo if runs_again else skipped).append((model, cpu_minutes))
    if skipped:
        print(f"already in {out} (--force runs them again): {', '.join(f'{m} {b:g}' for m, b in skipped)}")
    results = kept
    classifier = ClassifierFeatures(str(REPO / CLASSIFIER))
    failed = []
    with ThreadPoolExecutor(args.workers) as pool:
        futures = {pool.submit(train_and_score, m, b, args, classifier): (m, b) for m, b in todo}
        for future in as_completed(futures):
            model, cpu_minutes = futures[future]
            try:
                r = future.result()
            except Exception as error:  # one failed model does not stop the others
                failed.append((model, cpu_minutes))
                print(f"{model}, {cpu_minutes:g} CPU min: FAILED: {error}", flush=True)
                continue
            results = [x for x in results if slot(x) != slot(r)] + [r]
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps({"args": vars(args), "results": results}, indent=1))
            print(
                f"{model}, {cpu_minutes:g} CPU min: {r['batches']:,} batches, fit {r['fit_seconds']} s, "
                f"all {r['wall_seconds']} s; FID {r['fid']:.2f}, covered {r['covered']}, "
                f"shares {r['class_shares']}",
                flush=True,
            )
    for cpu_minutes in args.cpu_minutes:
        rows = [r for m in args.models for r in results if identity(r) == wanted(m, cpu_minutes, args.seed)]
        print(f"\n{cpu_minutes:g} CPU minutes of one thread each, seed {args.seed}:\n\n{table(rows)}")
        if len(rows) == len(args.models):
            figure = Path(args.figures) / f"mnist_models_{cpu_minutes:g}cpumin.png"
            combined_grid(rows, figure)
            print(f"\ngrids: {figure}")
    if failed:
        sys.exit(f"failed: {', '.join(f'{m} {b:g}' for m, b in failed)}")


if __name__ == "__main__":
    main()
