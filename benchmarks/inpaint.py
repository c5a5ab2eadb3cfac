"""Semantic inpainting (``lit_gans.inpaint``, Yeh et al. 2017) with a DCGAN trained on MNIST at 32 px for 5 CPU
minutes (one thread, ``configs/dcgan_mnist.yaml`` with ``--data.image_size 32``: the 28 px digits padded with a
black 2-pixel border; the test split's first 9,000 digits), on 200 held-out digits (the datamodule's validation
split, never trained on) for centre, left-half and 80%-random masks.

    OMP_NUM_THREADS=1 python benchmarks/inpaint.py [--root ../shared/data/mnist] [--refit] [--steps 200]

Measured per mask, for the masked input (hole filled with -1, black), G(z*) pasted into the hole, and the Poisson
blend: the accuracy of ``classifiers/mnist.pt`` (it reads 28x28: the 2-pixel border is cropped) against the true
labels, and the PSNR inside the hole (``10 log10(2^2 / MSE)`` for images in [-1, 1], the MSE over the hole's
pixels of each image, then averaged over images). The fit goes to ``benchmarks/out/inpaint/fit`` (reused unless
``--refit``); a PNG per mask to ``benchmarks/results/inpaint/`` (rows of 16: original, masked, G(z*), blended),
numbers to ``benchmarks/results/inpaint.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _mnist_runs import (  # noqa: E402
    DCGAN_MNIST,
    REPO,
    reuse_or_fit,
)

from datamodules import MNIST  # noqa: E402
from lit_gans.callbacks import image_grid, write_png  # noqa: E402
from lit_gans.commands.checkpoints import load_gan  # noqa: E402
from lit_gans.inpaint import hole_psnr, make_mask, masked, poisson_blend, search  # noqa: E402
from lit_gans.latent import classify  # noqa: E402
from lit_gans.metrics.classifier import load_classifier  # noqa: E402

OUT = REPO / "benchmarks" / "out" / "inpaint"
RESULTS = REPO / "benchmarks" / "results"
PNG = RESULTS / "inpaint"
CPU_MINUTES = 5
MASKS = ("center", "left", "random:0.8")


def fit(root: str, split: str, refit: bool) -> Path:
    return reuse_or_fit([DCGAN_MNIST], OUT, CPU_MINUTES, root, split, refit, extra=("--data.image_size", "32"))


def psnr_in_hole(images: torch.Tensor, truth: torch.Tensor, mask: torch.Tensor) -> float:
    """Mean over images of ``10 log10(4 / MSE_hole)`` (peak-to-peak 2 for [-1, 1])."""
    return hole_psnr(images, truth, mask).mean().item()


def accuracy(classifier, images: torch.Tensor, labels: torch.Tensor) -> float:
    return (classify(classifier, images[..., 2:-2, 2:-2]).argmax(1) == labels).float().mean().item()


def held_out_digits(root: str, split: str, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The first ``n`` digits of the 32 px MNIST datamodule's validation split (never trained on), ``[n, 1, 32, 32]``
    in [-1, 1], and their labels ``[n]``."""
    data = MNIST(root=root, split=split, image_size=32)
    data.setup("fit")
    truth = torch.stack([data.val_set[i][0] for i in range(n)])
    labels = torch.as_tensor([int(data.val_set[i][1]) for i in range(n)])
    return truth, labels


def benchmark_mask(spec: str, n: int) -> torch.Tensor:
    """The mask ``[n, 1, 32, 32]`` every method is scored on for ``spec`` (random ones from seed 0)."""
    return make_mask(spec, n, (32, 32), torch.Generator().manual_seed(0))


def gan_search_fill(model, given: torch.Tensor, mask: torch.Tensor, args) -> tuple[torch.Tensor, float]:
    """G(z*) ``[N, C, H, W]`` of the latent search (``args``: steps, lr, starts, lam; the starts from seed 1) for the
    masked images ``given``, and its seconds."""
    start = time.perf_counter()
    seed = torch.Generator().manual_seed(1)
    latents, _ = search(model, given, mask, args.steps, args.lr, args.starts, args.lam, 7, seed)
    seconds = time.perf_counter() - start
    return model.sample_from(latents), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default=str(REPO.parent / "shared" / "data" / "mnist"))
    parser.add_argument("--split", default="test")
    parser.add_argument("--refit", action="store_true")
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--steps", type=int, default=200, help="Adam steps on z (the paper: 1500)")
    parser.add_argument("--starts", type=int, default=4)
    parser.add_argument("--lr", type=float, default=0.03)
    parser.add_argument("--lam", type=float, default=0.003)
    args = parser.parse_args()
    torch.set_num_threads(1)
    checkpoint = fit(args.root, args.split, args.refit)
    model = load_gan(checkpoint)
    classifier, info = load_classifier(REPO / "classifiers" / "mnist.pt")
    truth, labels = held_out_digits(args.root, args.split, args.images)  # [N, 1, 32, 32] in [-1, 1], [N]
    results = {
        "command": "OMP_NUM_THREADS=1 python benchmarks/inpaint.py " + " ".join(sys.argv[1:]),
        "fit": f"DCGAN, {DCGAN_MNIST} at 32 px, {CPU_MINUTES} CPU minutes on one thread, MNIST {args.split} split",
        "checkpoint": str(checkpoint.relative_to(REPO)),
        "g_steps": torch.load(checkpoint, map_location="cpu", weights_only=True)["lit_gans"]["g_steps"],
        "classifier": f"classifiers/mnist.pt (val accuracy {info.get('val_accuracy')}), on the 28x28 centre crop",
        "images": args.images,
        "search": {"steps": args.steps, "starts": args.starts, "lr": args.lr, "lambda": args.lam, "window": 7},
        "accuracy_on_originals": round(accuracy(classifier, truth, labels), 3),
        "masks": {},
    }
    for spec in MASKS:
        mask = benchmark_mask(spec, len(truth))
        given = masked(truth, mask)  # the hole at -1 (black)
        fake, seconds = gan_search_fill(model, given, mask, args)
        pasted = mask * truth + (1 - mask) * fake  # G(z*) in the hole, the known pixels as given
        blended = poisson_blend(given, fake, mask)
        results["masks"][spec] = {
            "missing_fraction": round(1 - mask.mean().item(), 3),
            "seconds": round(seconds),
            **{
                name: {
                    "accuracy": round(accuracy(classifier, images, labels), 3),
                    "psnr_hole_db": round(psnr_in_hole(images, truth, mask), 2),
                }
                for name, images in (("masked_input", given), ("gan_pasted", pasted), ("gan_blended", blended))
            },
        }
        print(spec, json.dumps(results["masks"][spec]), flush=True)
        shown = [truth[:16], masked(truth, mask, 0.0)[:16], fake[:16], blended[:16]]  # the hole grey in row 2
        write_png(image_grid(torch.cat(shown), 16), PNG / f"{spec.replace(':', '_')}.png")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "inpaint.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
