"""Mode-collapse benchmark (VEEGAN 2017 / PacGAN 2018 protocol) for every model with its default preset.

    python benchmarks/mode_collapse.py --datasets ring grid --seeds 0 1 2 3 4 --batches 5000 --workers 2

Ring: 8 Gaussians at (cos 2 pi k/8, sin 2 pi k/8), std 0.01; grid: 25 Gaussians at {-4, -2, 0, 2, 4}^2, std 0.05.
Each run trains one model with its class defaults (its paper's objective, optimizer, learning rates, ``n_critic``)
on the same MLP networks for every model (``--g_hidden`` / ``--d_hidden``, as PacGAN fixes one architecture across
its rows) for ``--batches`` batches of ``--batch_size``: the same number of D updates, so about the same compute,
for every model; G gets ``batches // n_critic`` updates. Then it draws 2,500 samples and scores them: high quality =
within 3 std of the nearest mode; a mode is captured when a high-quality sample is nearest to it; reverse KL =
KL(q || uniform) of the high-quality samples' mode histogram. The same scores are also taken ``--evals`` times along
the run (kept in the JSON, to show the trend, with each mode's count of high-quality samples, ``per_mode``). Runs go
to ``--workers`` processes of one thread each (``--accelerator gpu``: each trains on the one GPU); the table (mean over
seeds, with the worst seed's modes) is printed and written with every run's numbers to ``--out``.

Beyond the presets: ``--options '{"lr_g": 5e-4}'`` sets any of the models' arguments; ``--lr_decay_from 0.5`` takes
the learning rates linearly to 0 over the second half (``LinearLRDecay``); the variants (``GAN+...``, ``PacGAN2``,
``PacGAN4``, ``PacGAN4+paper_nets``) are listed in ``VARIANTS``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from multiprocessing import get_context
from pathlib import Path

DEFAULT_MODELS = ["GAN", "WGAN", "WGANGP", "WGANDiv", "DRAGAN", "LSGAN", "SNGAN", "SAGAN"]
PACGAN_NETS = {
    "z_dim": 2,
    "g_hidden": (400, 400, 400, 400),
    "d_hidden": (200, 200, 200),
    "activation": "relu",
    "maxout_pieces": 5,
    "lr_g": 1e-4,
    "lr_d": 1e-4,
    "betas_g": (0.8, 0.999),
    "betas_d": (0.8, 0.999),
}
# the Improved-GAN techniques (Salimans 2016), one at a time on the plain GAN: name -> (model, its options)
VARIANTS = {
    "GAN+label_smoothing": ("GAN", {"real_label": 0.9}),
    "GAN+feature_matching": ("GAN", {"feature_matching": True}),
    # 5 kernels of 3 dims, not the layer's 50 x 5: its cost grows as N^2 B C, and at N = 256 the default made a run
    # 10x slower than the plain GAN's (0.44 s a batch), too slow for 10 runs here
    "GAN+minibatch_discrimination": ("GAN", {"minibatch_kernels": 5, "minibatch_kernel_dim": 3}),
    "GAN+historical_averaging": ("GAN", {"historical_averaging": 1e-3}),
    "GAN+virtual_batch_norm": ("GAN", {"virtual_batch_norm": True}),
    # PacGAN (Lin et al. 2018): D judges m samples at once; its runs give D as many packed inputs a batch as the
    # GAN gets samples, so pass --batch_size m times the GAN's
    "PacGAN2": ("GAN", {"pack": 2}),
    "PacGAN4": ("GAN", {"pack": 4}),
    # PacGAN4 with PacGAN's own toy networks and optimizer (its 2D experiments' config): z in R^2, G 4 x 400
    # Linear-BN-ReLU, D 3 x 200 maxout units of 5 pieces, Adam 1e-4, beta1 0.8; its batch is 100 packed inputs,
    # so pass --batch_size 400. They replace --g_hidden / --d_hidden.
    "PacGAN4+paper_nets": ("GAN", {"pack": 4, **PACGAN_NETS}),
}


def run_one(job: dict) -> dict:
    import torch
    from _trainer import quiet_trainer
    from lightning.pytorch import Callback, seed_everything

    import lit_gans
    from datamodules import Toy
    from lit_gans.base import eval_mode
    from lit_gans.callbacks import LinearLRDecay
    from lit_gans.metrics import high_quality_per_mode, mode_collapse_metrics

    torch.set_num_threads(1)
    seed_everything(job["seed"], verbose=False)
    k = job.get("updates_per_batch", 1)  # the Trainer's batches hold k updates' batches (the same rows, faster)
    data = Toy(job["dataset"], num_train=100_000, num_val=2_500, seed=job["seed"], batch_size=job["batch_size"] * k)
    name, options = VARIANTS.get(job["model"], (job["model"], {}))
    networks = {"g_hidden": tuple(job["g_hidden"]), "d_hidden": tuple(job["d_hidden"])}
    model = getattr(lit_gans, name)(
        data_shape=data.data_shape,
        ema_decay=job["ema_decay"],
        updates_per_batch=k,
        **{**networks, **options, **job.get("options", {})},
    )

    def score_net(net: torch.nn.Module) -> dict:
        latent = model.sample_latent(2_500, generator=torch.Generator().manual_seed(10_000 + job["seed"]))
        with torch.no_grad(), eval_mode(net):
            samples = model.generate(latent, net)
        samples, modes, std = samples.cpu(), data.distribution.modes, data.distribution.std
        metrics = {k: float(v) for k, v in mode_collapse_metrics(samples, modes, std).items()}
        metrics["per_mode"] = high_quality_per_mode(samples, modes, std).tolist()  # the reverse KL's histogram
        return metrics

    def score() -> dict:
        """The sampling G's scores (the EMA copy when ``ema_decay`` > 0), and the trained G's under
        ``without_ema`` when they differ: the same latents, so the two are compared sample for sample."""
        scores = score_net(model.sampling_generator)
        if model.sampling_generator is not model.generator:
            scores["without_ema"] = score_net(model.generator)
        return scores

    trajectory = []

    class ScoreAlong(Callback):
        def on_train_batch_start(self, trainer, *args) -> None:
            self.step_before = trainer.global_step

        def on_train_batch_end(self, trainer, *args) -> None:
            every = max(1, job["batches"] // job["evals"])
            if trainer.global_step // every > self.step_before // every:  # a multiple reached in this batch
                trajectory.append({"batches": trainer.global_step, **score()})

    callbacks: list[Callback] = [ScoreAlong()]
    if job.get("lr_decay_from", 1.0) < 1.0:
        callbacks.append(LinearLRDecay(start=job["lr_decay_from"]))
    trainer = quiet_trainer(
        max_steps=job["batches"], callbacks=callbacks, accelerator=job.get("accelerator", "cpu"), devices=1
    )
    start = time.perf_counter()
    trainer.fit(model, data)
    seconds = time.perf_counter() - start
    return {**job, **score(), "g_steps": model.g_steps, "seconds": round(seconds, 1), "trajectory": trajectory}


def table(results: list[dict], datasets: list[str], models: list[str]) -> str:
    lines = []
    for dataset in datasets:
        total = 8 if dataset == "ring" else 25
        lines += [
            f"\n{dataset} ({total} modes): mean over seeds (worst seed's modes)\n",
            "| model | G steps | modes | high quality | reverse KL | seeds | seconds / run |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for model in models:
            runs = [r for r in results if r["model"] == model and r["dataset"] == dataset]
            if not runs:
                continue
            versions = [(model, runs)]
            if "without_ema" in runs[0]:
                versions = [(f"{model} (EMA G)", runs), (f"{model} (trained G)", [r["without_ema"] for r in runs])]
            for label, rows in versions:
                modes = [r["modes"] for r in rows]
                lines.append(
                    f"| {label} | {runs[0]['g_steps']:,} | {statistics.mean(modes):.1f} ({min(modes):.0f}) "
                    f"| {100 * statistics.mean(r['high_quality'] for r in rows):.1f}% "
                    f"(min {100 * min(r['high_quality'] for r in rows):.1f}%) "
                    f"| {statistics.mean(r['reverse_kl'] for r in rows):.3f} "
                    f"(max {max(r['reverse_kl'] for r in rows):.3f}) | {len(rows)} "
                    f"| {statistics.mean(r['seconds'] for r in runs):.0f} |"
                )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=DEFAULT_MODELS, help=f"models, or {', '.join(VARIANTS)}")
    parser.add_argument("--datasets", nargs="+", default=["ring", "grid"], choices=["ring", "grid"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--batches", type=int, default=5_000, help="D updates per run (G gets batches // n_critic)")
    parser.add_argument("--batch_size", type=int, default=256)
    parser.add_argument("--g_hidden", nargs="+", type=int, default=[128, 128, 128])
    parser.add_argument("--d_hidden", nargs="+", type=int, default=[128, 128, 128])
    parser.add_argument("--evals", type=int, default=5, help="scores taken along each run (the JSON's trajectory)")
    parser.add_argument(
        "--ema_decay", type=float, default=0.0, help="EMA of G (0: off); > 0 scores the EMA copy and the trained G"
    )
    parser.add_argument(
        "--updates_per_batch",
        type=int,
        default=1,
        help="updates a Trainer batch (the model's updates_per_batch): the same runs, less per-batch cost",
    )
    parser.add_argument(
        "--options",
        type=json.loads,
        default={},
        help="the models' arguments over their defaults and the variant's, as JSON: '{\"lr_g\": 1e-4}'",
    )
    parser.add_argument("--accelerator", default="cpu", help="cpu, or gpu: each worker trains on the one GPU")
    parser.add_argument(
        "--lr_decay_from",
        type=float,
        default=1.0,
        help="from this fraction of --batches on, the learning rates fall linearly to 0 at the end (LinearLRDecay; "
        "1: constant)",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", default="benchmarks/out/mode_collapse.json")
    args = parser.parse_args()
    jobs = [
        {
            "model": m,
            "dataset": d,
            "seed": s,
            "batches": args.batches,
            "batch_size": args.batch_size,
            "g_hidden": args.g_hidden,
            "d_hidden": args.d_hidden,
            "evals": args.evals,
            "ema_decay": args.ema_decay,
            "updates_per_batch": args.updates_per_batch,
            "options": args.options,
            "accelerator": args.accelerator,
            "lr_decay_from": args.lr_decay_from,
        }
        for d in args.datasets
        for m in args.models
        for s in args.seeds
    ]
    start = time.perf_counter()
    with get_context("spawn").Pool(args.workers) as pool:
        results = []
        for result in pool.imap_unordered(run_one, jobs):
            results.append(result)
            write_results(args, results)  # after every run: a stopped benchmark keeps what it measured
            print(
                f"{result['model']:8s} {result['dataset']:5s} seed {result['seed']}: modes {result['modes']:.0f}, "
                f"high quality {100 * result['high_quality']:.1f}%, reverse KL {result['reverse_kl']:.3f} "
                f"({result['g_steps']} G steps, {result['seconds']:.0f} s)",
                flush=True,
            )
    print(table(results, args.datasets, args.models))
    print(f"\n{len(jobs)} runs in {time.perf_counter() - start:.0f} s with {args.workers} workers")


def write_results(args: argparse.Namespace, results: list[dict]) -> None:
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"args": vars(args), "results": results}, indent=1))


if __name__ == "__main__":
    main()
