"""Every objective-family model on MNIST for the same CPU time, scored with FID/IS/KID (classifier extractor).

    python benchmarks/objectives_mnist.py --root ../shared/data/mnist --cpu_minutes 5 --workers 2

Each model trains from ``configs/dcgan_mnist.yaml`` (DCGAN-sized networks at 28x28, batch 64) with its paper's
preset from ``configs/objectives/`` (DCGAN itself stands for the plain GAN objective on these networks) on one
thread for ``--cpu_minutes`` of CPU time (``lit_gans.callbacks.CPUTimeLimit``: a budget that other processes on
the machine do not eat into, so ``--workers`` runs can go side by side). No validation runs during the fit;
afterwards ``cli.py validate`` scores the last checkpoint with
``configs/metrics/mnist_classifier.yaml``: 10,000 generated digits against the training images, features of
``classifiers/mnist.pt`` (train it first: see that config). The table is printed and written with the runs'
folders to ``--out``.
"""

from __future__ import annotations

import argparse
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _mnist_runs import DCGAN_MNIST, OBJECTIVES, fit_and_score

PRESETS = {"DCGAN": (DCGAN_MNIST,), **{model: (DCGAN_MNIST, preset) for model, preset in OBJECTIVES.items()}}


def train_and_score(model: str, args: argparse.Namespace) -> dict:
    run_dir = Path(args.runs) / model
    return {"model": model, **fit_and_score(PRESETS[model], run_dir, args.cpu_minutes, args.root, args.split)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=list(PRESETS), choices=list(PRESETS))
    parser.add_argument("--root", required=True, help="MNIST folder")
    parser.add_argument("--split", default="test", help="the split that exists there (these machines: test)")
    parser.add_argument("--cpu_minutes", type=float, default=5.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--runs", default="runs/objectives_mnist")
    parser.add_argument("--out", default="benchmarks/out/objectives_mnist.json")
    args = parser.parse_args()
    with ThreadPoolExecutor(args.workers) as pool:
        futures = [pool.submit(train_and_score, m, args) for m in args.models]
        results = []
        for future in futures:
            results.append(future.result())
            r = results[-1]
            print(f"{r['model']}: {r['batches']} batches in {r['fit_seconds']} s; {json.dumps(r)}", flush=True)
    print("\n| model | batches | G steps | FID | IS | KID |\n| --- | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        print(
            f"| {r['model']} | {r['batches']:,} | {r['g_steps']:,} | {r['fid']:.2f} "
            f"| {r['is']:.2f} +- {r['is_std']:.2f} | {r['kid']:.3f} +- {r['kid_std']:.3f} |"
        )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"args": vars(args), "results": results}, indent=1))


if __name__ == "__main__":
    main()
