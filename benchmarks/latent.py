"""The latent tools (``lit_gans.latent``) on a DCGAN trained on MNIST for 5 CPU minutes (one thread,
``configs/dcgan_mnist.yaml``, the test split's first 9,000 digits): an interpolation grid (slerp and lerp between the
same 8 pairs, and a GIF), digit-style arithmetic as DCGAN's face arithmetic, and inversion of 200 held-out digits
(the datamodule's validation split, never trained on) with a pixel loss and with pixel + classifier-feature loss.

    OMP_NUM_THREADS=1 python benchmarks/latent.py [--root ../shared/data/mnist] [--refit]

The fit goes to ``benchmarks/out/latent/fit`` and is reused when a checkpoint is there (``--refit`` trains again);
grids go to ``benchmarks/results/latent/``, numbers to ``benchmarks/results/latent.json``.

Arithmetic: "thick" and "thin" are the samples of a digit (by ``classifiers/mnist.pt``, confidence > 0.9) with the
most and least ink (mean brightness), 3 exemplars per concept as in the paper; ``thick d1 - thin d1 + thin d2``
should draw a thick ``d2`` (the paper's smiling woman - neutral woman + neutral man). Measured: how often the
result is classified as ``d2`` and its ink against the thin and thick ``d2`` exemplars, for 3 exemplars a concept
and for single exemplars (the paper found single samples unstable).

Inversion: pixel MSE of the best start per digit, and whether the inverted digit keeps the digit's class, judged by
``classifiers/mnist.pt`` (the feature loss's own network, hence biased for pixel+feature) and by a second classifier
trained here (``judge``).
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
from lit_gans.commands.latent import write_gif  # noqa: E402
from lit_gans.latent import (  # noqa: E402
    arithmetic,
    classifier_features,
    classify,
    concept_vector,
    generated,
    interpolation_path,
    invert,
    variants,
)
from lit_gans.metrics.classifier import load_classifier, save_classifier, train_classifier  # noqa: E402

OUT = REPO / "benchmarks" / "out" / "latent"
RESULTS = REPO / "benchmarks" / "results"
PNG = RESULTS / "latent"
CPU_MINUTES = 5
EQUATIONS = [(0, 1), (3, 7), (8, 4), (2, 6)]  # thick d1 - thin d1 + thin d2


def fit(root: str, split: str, refit: bool) -> Path:
    return reuse_or_fit([DCGAN_MNIST], OUT, CPU_MINUTES, root, split, refit, extra=())


def judge(root: str, split: str) -> torch.nn.Module:
    """A second MNIST classifier (width 16, seed 1; benchmarks/out/latent/judge.pt, trained once) that judges the
    inversions: the feature loss optimises ``classifiers/mnist.pt``'s features, so that classifier's verdict on its
    own inversions is biased."""
    path = OUT / "judge.pt"
    if not path.is_file():
        model, info = train_classifier(MNIST(root=root, split=split, image_size=28), epochs=3, width=16, seed=1)
        save_classifier(model, info, path)
    return load_classifier(path)[0]


def ink(images: torch.Tensor) -> torch.Tensor:
    """Mean brightness in [0, 1] of each image ``[N, C, H, W]`` in [-1, 1]: stroke thickness for digits."""
    return ((images + 1) / 2).flatten(1).mean(1)


def interpolation(model) -> dict:
    pool = model.sample_latent(16, torch.Generator().manual_seed(0))  # [16, Z]: 8 pairs
    rows, norms = {}, {}
    for method in ("slerp", "lerp"):
        paths = torch.stack([interpolation_path(pool[2 * p : 2 * p + 2], 8, method) for p in range(8)])  # [8, 9, Z]
        samples = generated(model, paths.flatten(0, 1))
        write_png(image_grid(samples, 9), PNG / f"interpolation_{method}.png")
        rows[method] = samples.view(8, 9, *samples.shape[1:])
        norms[method] = paths[:, 4].norm(dim=1).mean().item()  # the midpoints' |z|
    write_gif(rows["slerp"], 9, PNG / "interpolation_slerp.gif")
    return {
        "pairs": 8,
        "steps": 8,
        "midpoint_norm": {k: round(v, 3) for k, v in norms.items()},
        "endpoint_norm": round(pool.norm(dim=1).mean().item(), 3),
        "z_dim": pool.shape[1],
    }


def digit_arithmetic(model, classifier) -> dict:
    latents = model.sample_latent(4000, torch.Generator().manual_seed(1))
    images = generated(model, latents)
    p = classify(classifier, images)
    label, confidence, amount = p.argmax(1), p.max(1).values, ink(images)

    def by_ink(digit: int, count: int, thick: bool) -> torch.Tensor:
        """Indices of the ``count`` confident samples of ``digit`` with the most (thick) or least ink."""
        mine = torch.nonzero((label == digit) & (confidence > 0.9)).squeeze(1)
        order = amount[mine].argsort(descending=thick)
        return mine[order[:count]]

    grid_rows, report = [], {}
    for count in (3, 1):
        for d1, d2 in EQUATIONS:
            terms = [by_ink(d1, count, True), by_ink(d1, count, False), by_ink(d2, count, False)]
            means = torch.stack([concept_vector(latents, t) for t in terms])
            result = variants(arithmetic(*means), 16, 0.25, torch.Generator().manual_seed(2))
            drawn = generated(model, result)
            thick_d2 = images[by_ink(d2, count, True)]
            report[f"{count}_exemplars: thick {d1} - thin {d1} + thin {d2}"] = {
                "classified_as_d2": round((classify(classifier, drawn).argmax(1) == d2).float().mean().item(), 3),
                "ink_result": round(ink(drawn).mean().item(), 4),
                "ink_thin_d2_exemplars": round(amount[terms[2]].mean().item(), 4),
                "ink_thick_d2_exemplars": round(ink(thick_d2).mean().item(), 4),
            }
            if count == 3:  # a row: 3 exemplars each of a, b, c, then G(mean a), G(mean b), G(mean c), 6 variants
                grid_rows.append(torch.cat([*(images[t] for t in terms), generated(model, means), drawn[:6]]))
    write_png(image_grid(torch.cat(grid_rows), 18), PNG / "arithmetic.png")  # 9 exemplars, 3 means, 6 results
    return report


def inversion(
    model, classifier, second, root: str, split: str, count: int, steps: int, starts: int, weight: float
) -> dict:
    data = MNIST(root=root, split=split, image_size=28)
    data.setup("fit")
    held_out = torch.stack([data.val_set[i][0] for i in range(count)])  # [count, 1, 28, 28] in [-1, 1]
    truth = torch.as_tensor([int(data.val_set[i][1]) for i in range(count)])
    original_class = classify(classifier, held_out).argmax(1)
    judged_original = classify(second, held_out).argmax(1)
    report = {
        "images": count,
        "steps": steps,
        "starts": starts,
        "lr": 0.05,
        "classifier_accuracy_on_originals": round((original_class == truth).float().mean().item(), 3),
        "judge_accuracy_on_originals": round((judged_original == truth).float().mean().item(), 3),
    }
    shown = []
    for name, features in (("pixel", None), ("pixel+feature", classifier_features(classifier))):
        start = time.perf_counter()
        latents, errors = invert(
            model, held_out, steps, 0.05, starts, features, weight, torch.Generator().manual_seed(3)
        )
        seconds = time.perf_counter() - start
        recon = model.sample_from(latents)
        recon_class = classify(classifier, recon).argmax(1)
        report[name] = {
            "pixel_mse": round(errors.mean().item(), 4),
            "pixel_mse_median": round(errors.median().item(), 4),
            "agreement_with_label": round((recon_class == truth).float().mean().item(), 3),
            "agreement_with_original_classified": round((recon_class == original_class).float().mean().item(), 3),
            "judge_agreement_with_label": round((classify(second, recon).argmax(1) == truth).float().mean().item(), 3),
            "feature_weight": weight if features is not None else 0.0,
            "seconds": round(seconds),
        }
        shown.append(recon[:16])
    # rows: 16 originals, their pixel-only inversions, their pixel+feature inversions
    write_png(image_grid(torch.cat([held_out[:16], *shown]), 16), PNG / "inversion.png")
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default=str(REPO.parent / "shared" / "data" / "mnist"))
    parser.add_argument("--split", default="test")
    parser.add_argument("--refit", action="store_true")
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--starts", type=int, default=4)
    parser.add_argument("--feature_weight", type=float, default=0.3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    checkpoint = fit(args.root, args.split, args.refit)
    model = load_gan(checkpoint)
    classifier, info = load_classifier(REPO / "classifiers" / "mnist.pt")
    results = {
        "command": "OMP_NUM_THREADS=1 python benchmarks/latent.py",
        "fit": f"DCGAN, {DCGAN_MNIST}, {CPU_MINUTES} CPU minutes on one thread, MNIST {args.split} split",
        "checkpoint": str(checkpoint.relative_to(REPO)),
        "g_steps": torch.load(checkpoint, map_location="cpu", weights_only=True)["lit_gans"]["g_steps"],
        "classifier": f"classifiers/mnist.pt (val accuracy {info.get('val_accuracy')})",
    }
    torch.manual_seed(0)
    results["interpolation"] = interpolation(model)
    results["arithmetic"] = digit_arithmetic(model, classifier)
    second = judge(args.root, args.split)
    results["judge"] = "benchmarks/out/latent/judge.pt: width 16, seed 1, 3 epochs on the same 9,000 digits"
    results["inversion"] = inversion(
        model, classifier, second, args.root, args.split, args.images, args.steps, args.starts, args.feature_weight
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latent.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
