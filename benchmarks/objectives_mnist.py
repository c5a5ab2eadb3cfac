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
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
PRESETS = {
    "DCGAN": None,
    "WGAN": "configs/objectives/wgan.yaml",
    "WGANGP": "configs/objectives/wgan_gp.yaml",
    "WGANDiv": "configs/objectives/wgan_div.yaml",
    "DRAGAN": "configs/objectives/dragan.yaml",
    "LSGAN": "configs/objectives/lsgan.yaml",
    "SNGAN": "configs/objectives/sngan.yaml",
    "SAGAN": "configs/objectives/sagan.yaml",
}


def train_and_score(model: str, args: argparse.Namespace) -> dict:
    root_dir = Path(args.runs) / model
    common = ["--config", "configs/dcgan_mnist.yaml"]
    if PRESETS[model]:
        common += ["--config", PRESETS[model]]
    common += ["--data.root", args.root, "--data.split", args.split, "--trainer.enable_progress_bar", "false"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    fit = [sys.executable, "cli.py", "fit", *common, "--trainer.max_time", "null", "--trainer.limit_val_batches", "0"]
    fit += ["--trainer.callbacks+=lit_gans.callbacks.CPUTimeLimit"]
    fit += ["--trainer.callbacks.seconds", str(60 * args.cpu_minutes)]
    fit += ["--trainer.default_root_dir", str(root_dir / "fit")]
    start = time.perf_counter()
    subprocess.run(fit, cwd=REPO, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    fit_seconds = time.perf_counter() - start
    checkpoint = max(
        (REPO / root_dir / "fit").glob("lightning_logs/version_*/checkpoints/*.ckpt"), key=os.path.getmtime
    )
    validate = [
        sys.executable,
        "cli.py",
        "validate",
        *common,
        "--config",
        "configs/metrics/mnist_classifier.yaml",
    ]
    validate += ["--ckpt_path", str(checkpoint), "--trainer.default_root_dir", str(root_dir / "validate")]
    subprocess.run(validate, cwd=REPO, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    metrics_file = max(
        (REPO / root_dir / "validate").glob("lightning_logs/version_*/metrics.jsonl"), key=os.path.getmtime
    )
    metrics = json.loads(metrics_file.read_text().splitlines()[-1])
    counters = torch.load(checkpoint, map_location="cpu", weights_only=False)["lit_gans"]
    return {
        "model": model,
        "batches": counters["d_steps"],
        "g_steps": counters["g_steps"],
        "fit_seconds": round(fit_seconds),
        "checkpoint": str(checkpoint),
        "metrics_file": str(metrics_file),
        **{k: metrics[k] for k in ("fid", "is", "is_std", "kid", "kid_std")},
    }


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
