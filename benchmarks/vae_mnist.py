"""DCGAN, VAE and VAE-GAN on MNIST for the same CPU time: is the VAE-GAN sharper than the VAE, keeping an encoder?

    python benchmarks/vae_mnist.py --root ../shared/data/mnist --cpu_minutes 5 --workers 2

Each model trains from its preset (``configs/dcgan_mnist.yaml``, ``configs/vae_mnist.yaml``,
``configs/vaegan_mnist.yaml``) on one thread for ``--cpu_minutes`` of CPU time (``lit_gans.callbacks.CPUTimeLimit``,
as ``benchmarks/mnist_models.py`` runs them, at most ``--workers`` fits side by side), and its last checkpoint is
scored by ``cli.py validate`` with ``configs/metrics/mnist_classifier.yaml`` (classifier FID / IS / KID of 10,000
samples). Then, from 10,000 more samples (``sample(n)``: the decoder's mean for the VAE, EMA weights where the preset
has them):
- sharpness: the mean squared difference of neighbouring pixels (horizontal and vertical, [-1, 1] scale), and its
  ratio to the real digits' (1: as sharp as MNIST; blur lowers it);
- grey share: the share of pixels in (-0.8, 0.8) (real MNIST is nearly binary), and its ratio to the real digits';
- the class coverage (``mnist_models.class_coverage``);
and for the two with an encoder, on the 1,000 images the fit held out for validation (the datamodule's last
``val_size``; on these machines the only MNIST is the test split, whose other 9,000 images are the training set):
the reconstructions' pixel MSE (``Dec(mu(x))``), the KL per image, and for the VAE its ELBO per image in nats
(one-sample estimate, Bernoulli decoder on pixels in [0, 1]).

Figures (``benchmarks/results/vae/``): per model 64 samples beside 32 held-out digits each above its reconstruction,
and the three side by side (``vae_mnist_<budget>cpumin.png``). Results: ``benchmarks/results/vae_mnist.json``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import torch
from _mnist_runs import DCGAN_MNIST, REPO, fit_and_score, shown
from mnist_models import CLASSIFIER, class_coverage
from PIL import Image, ImageDraw, ImageFont
from torch import Tensor
from torchvision.utils import make_grid, save_image

sys.path.insert(0, str(REPO))

from datamodules.mnist import load_mnist  # noqa: E402
from lit_gans.commands.checkpoints import load_gan  # noqa: E402
from lit_gans.gans.vae import VAE, reconstruction_grid  # noqa: E402
from lit_gans.losses import gaussian_kl_per_sample  # noqa: E402
from lit_gans.metrics import ClassifierFeatures  # noqa: E402

PRESETS = {
    "DCGAN": (DCGAN_MNIST,),
    "VAE": ("configs/vae_mnist.yaml",),
    "VAEGAN": ("configs/vaegan_mnist.yaml",),
}
NUM_SAMPLES = 10_000
VAL_SIZE = 1_000  # the MNIST datamodule's default: the last 1,000 images are held out from the fit
GREY = 0.8


def sharpness(images: Tensor) -> float:
    """Mean squared difference of vertically and horizontally neighbouring pixels, ``[N, C, H, W]``."""
    vertical = (images[..., 1:, :] - images[..., :-1, :]).square().mean()
    horizontal = (images[..., :, 1:] - images[..., :, :-1]).square().mean()
    return ((vertical + horizontal) / 2).item()


def grey_share(images: Tensor) -> float:
    return ((images > -GREY) & (images < GREY)).float().mean().item()


@torch.no_grad()
def in_chunks(function, x: Tensor, size: int = 500) -> Tensor:
    return torch.cat([function(chunk) for chunk in x.split(size)])


@torch.no_grad()
def encoder_scores(model, held_out: Tensor) -> dict:
    reconstructions = in_chunks(model.reconstruct, held_out)
    mu, logvar = (torch.cat(t) for t in zip(*(model.encode(c) for c in held_out.split(500))))
    scores = {
        "reconstruction_mse": (reconstructions - held_out).square().mean().item(),
        "kl_per_image": gaussian_kl_per_sample(mu, logvar).mean().item(),
    }
    if isinstance(model, VAE):
        torch.manual_seed(0)
        model.eval()
        terms = [model.elbo_terms(chunk) for chunk in held_out.split(500)]
        scores["elbo_per_image"] = torch.cat([t["elbo"] for t in terms]).mean().item()
        scores["reconstruction_nll_per_image"] = torch.cat([t["reconstruction"] for t in terms]).mean().item()
    return scores


def figure(samples: Tensor, held_out: Tensor, model, path: Path) -> None:
    """64 samples (8x8) and, with an encoder, 32 held-out digits each row above its reconstructions' row."""
    tiles = [make_grid(samples[:64] * 0.5 + 0.5, nrow=8, padding=2, pad_value=0.5)]
    if hasattr(model, "reconstruct"):
        real = held_out[:32]
        grid = reconstruction_grid(real, model.reconstruct(real))
        tiles.append(torch.ones(3, tiles[0].shape[1], 8))  # a white gap
        tiles.append(make_grid(grid * 0.5 + 0.5, nrow=8, padding=2, pad_value=0.5))
    path.parent.mkdir(parents=True, exist_ok=True)
    save_image(torch.cat(tiles, 2), path)


def run(model_name: str, args: argparse.Namespace, classifier: ClassifierFeatures, real: Tensor) -> dict:
    run_dir = Path(args.runs).resolve() / f"{args.cpu_minutes:g}cpumin" / model_name
    shutil.rmtree(run_dir, ignore_errors=True)
    start = time.perf_counter()
    scores = fit_and_score(PRESETS[model_name], run_dir, args.cpu_minutes, args.root, "test", args.seed)
    model = load_gan(REPO / scores["checkpoint"])
    samples = torch.cat(
        [model.sample(500, generator=torch.Generator().manual_seed(args.seed + i)) for i in range(NUM_SAMPLES // 500)]
    )
    held_out = real[-VAL_SIZE:]
    result = {
        "model": model_name,
        "preset": " + ".join(PRESETS[model_name]),
        "cpu_minutes": args.cpu_minutes,
        "seed": args.seed,
        **scores,
        "sharpness": sharpness(samples),
        "sharpness_vs_real": sharpness(samples) / sharpness(real),
        "grey_share": grey_share(samples),
        "grey_share_vs_real": grey_share(samples) / grey_share(real),
        **class_coverage(samples, classifier),
    }
    if hasattr(model, "reconstruct"):
        result.update(encoder_scores(model, held_out))
    path = Path(args.figures) / f"{model_name.lower()}_{args.cpu_minutes:g}cpumin.png"
    figure(samples, held_out, model, path)
    result["figure"] = shown(path.resolve())
    result["wall_seconds"] = round(time.perf_counter() - start)
    return result


def combined(results: list[dict], path: Path) -> None:
    tiles = [Image.open(REPO / r["figure"]).convert("RGB") for r in results]
    font = ImageFont.load_default(size=14)
    label, gap = 20, 10
    width = max(t.size[0] for t in tiles)
    canvas = Image.new("RGB", (width, sum(label + t.size[1] + gap for t in tiles)), "white")
    draw, y = ImageDraw.Draw(canvas), 0
    for r, tile in zip(results, tiles):
        text = f"{r['model']}: FID {r['fid']:.1f}, sharpness x{r['sharpness_vs_real']:.2f}"
        text += f", grey x{r['grey_share_vs_real']:.2f}"
        if "reconstruction_mse" in r:
            text += f", reconstruction MSE {r['reconstruction_mse']:.3f}"
        draw.text((2, y + 2), text, fill="black", font=font)
        canvas.paste(tile, (0, y + label))
        y += label + tile.size[1] + gap
    canvas.save(path)


def table(results: list[dict], real: dict) -> str:
    lines = [
        "| model | batches | FID | IS | covered | sharpness (x real) | grey share (x real) | recon. MSE | KL | ELBO |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| real digits | | | | | {real['sharpness']:.3f} (1.00) | {real['grey_share']:.3f} (1.00) | | | |",
    ]
    for r in results:

        def num(key: str, fmt: str = ".3f") -> str:
            return format(r[key], fmt) if key in r else "-"

        lines.append(
            f"| {r['model']} | {r['batches']:,} | {r['fid']:.2f} | {r['is']:.2f} | {r['covered']} "
            f"| {r['sharpness']:.3f} ({r['sharpness_vs_real']:.2f}) | {r['grey_share']:.3f} "
            f"({r['grey_share_vs_real']:.2f}) | {num('reconstruction_mse', '.4f')} | {num('kl_per_image', '.1f')} "
            f"| {num('elbo_per_image', '.1f')} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=list(PRESETS), choices=list(PRESETS))
    parser.add_argument("--root", required=True, help="MNIST folder (its test split)")
    parser.add_argument("--cpu_minutes", type=float, default=5.0)
    parser.add_argument("--workers", type=int, default=2, help="fits side by side, one thread each")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--runs", default="runs/vae_mnist")
    parser.add_argument("--out", default="benchmarks/results/vae_mnist.json")
    parser.add_argument("--figures", default="benchmarks/results/vae")
    args = parser.parse_args()
    torch.set_num_threads(1)
    real = load_mnist(args.root, "test")[0].float() / 127.5 - 1  # [10000, 1, 28, 28] in [-1, 1]
    real_scores = {"sharpness": sharpness(real), "grey_share": grey_share(real)}
    classifier = ClassifierFeatures(str(REPO / CLASSIFIER))
    out = Path(args.out)
    results = json.loads(out.read_text())["results"] if out.is_file() else []
    with ThreadPoolExecutor(args.workers) as pool:
        futures = {pool.submit(run, m, args, classifier, real): m for m in args.models}
        for future in as_completed(futures):
            r = future.result()
            results = [x for x in results if (x["model"], x["cpu_minutes"]) != (r["model"], r["cpu_minutes"])] + [r]
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps({"args": vars(args), "real": real_scores, "results": results}, indent=1))
            print(json.dumps(r), flush=True)
    rows = [r for m in PRESETS for r in results if r["model"] == m and r["cpu_minutes"] == args.cpu_minutes]
    print(f"\n{args.cpu_minutes:g} CPU minutes of one thread each, seed {args.seed}:\n\n{table(rows, real_scores)}")
    combined(rows, Path(args.figures) / f"vae_mnist_{args.cpu_minutes:g}cpumin.png")


if __name__ == "__main__":
    main()
