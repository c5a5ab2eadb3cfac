"""Mode-collapse benchmark (VEEGAN 2017 / PacGAN 2018 protocol) for every model with its default preset.

    python benchmarks/mode_collapse.py --datasets ring grid --seeds 0 1 2 3 4 --g_steps 2000 --workers 2

Ring: 8 Gaussians at (cos 2 pi k/8, sin 2 pi k/8), std 0.01; grid: 25 Gaussians at {-4, -2, 0, 2, 4}^2, std 0.05.
Each run trains the model's class defaults (its paper's hyper-parameters; MLPs for points) for ``--g_steps``
generator updates (``g_steps * n_critic`` batches of ``--batch_size``), then draws 2,500 samples and scores them:
high quality = within 3 std of the nearest mode; a mode is captured when a high-quality sample is nearest to it;
reverse KL = KL(q || uniform) of the high-quality samples' mode histogram. Runs go to ``--workers`` processes of
one thread each; the table (mean over seeds, with the worst seed's modes) is printed and written with every run's
numbers to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from multiprocessing import get_context
from pathlib import Path

DEFAULT_MODELS = ["GAN", "WGAN", "WGANGP", "WGANDiv", "DRAGAN", "LSGAN", "SNGAN", "SAGAN"]


def run_one(job: dict) -> dict:
    import torch
    from lightning.pytorch import Trainer, seed_everything

    import lit_gans
    from datamodules import Toy
    from lit_gans.metrics import mode_collapse_metrics

    torch.set_num_threads(1)
    seed_everything(job["seed"], verbose=False)
    data = Toy(job["dataset"], num_train=100_000, num_val=2_500, seed=job["seed"], batch_size=job["batch_size"])
    model = getattr(lit_gans, job["model"])(data_shape=data.data_shape)
    trainer = Trainer(
        accelerator="cpu",
        max_steps=job["g_steps"] * model.n_critic,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        limit_val_batches=0,
        num_sanity_val_steps=0,
    )
    start = time.perf_counter()
    trainer.fit(model, data)
    seconds = time.perf_counter() - start
    samples = model.sample(2_500, generator=torch.Generator().manual_seed(10_000 + job["seed"]))
    metrics = mode_collapse_metrics(samples, data.distribution.modes, data.distribution.std)
    return {**job, **{k: float(v) for k, v in metrics.items()}, "seconds": round(seconds, 1)}


def table(results: list[dict], datasets: list[str], models: list[str]) -> str:
    lines = []
    for dataset in datasets:
        total = 8 if dataset == "ring" else 25
        lines += [
            f"\n{dataset} ({total} modes): mean over seeds (worst seed's modes)\n",
            "| model | modes | high quality | reverse KL | seeds | seconds / run |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
        ]
        for model in models:
            rows = [r for r in results if r["model"] == model and r["dataset"] == dataset]
            if not rows:
                continue
            modes = [r["modes"] for r in rows]
            lines.append(
                f"| {model} | {statistics.mean(modes):.1f} ({min(modes):.0f}) "
                f"| {100 * statistics.mean(r['high_quality'] for r in rows):.1f}% "
                f"| {statistics.mean(r['reverse_kl'] for r in rows):.3f} | {len(rows)} "
                f"| {statistics.mean(r['seconds'] for r in rows):.0f} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=DEFAULT_MODELS)
    parser.add_argument("--datasets", nargs="+", default=["ring", "grid"], choices=["ring", "grid"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--g_steps", type=int, default=2_000)
    parser.add_argument("--batch_size", type=int, default=256)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", default="benchmarks/out/mode_collapse.json")
    args = parser.parse_args()
    jobs = [
        {"model": m, "dataset": d, "seed": s, "g_steps": args.g_steps, "batch_size": args.batch_size}
        for d in args.datasets
        for m in args.models
        for s in args.seeds
    ]
    start = time.perf_counter()
    with get_context("spawn").Pool(args.workers) as pool:
        results = []
        for result in pool.imap_unordered(run_one, jobs):
            results.append(result)
            print(
                f"{result['model']:8s} {result['dataset']:5s} seed {result['seed']}: modes {result['modes']:.0f}, "
                f"high quality {100 * result['high_quality']:.1f}%, reverse KL {result['reverse_kl']:.3f} "
                f"({result['seconds']:.0f} s)",
                flush=True,
            )
    print(table(results, args.datasets, args.models))
    print(f"\n{len(jobs)} runs in {time.perf_counter() - start:.0f} s with {args.workers} workers")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"args": vars(args), "results": results}, indent=1))


if __name__ == "__main__":
    main()
