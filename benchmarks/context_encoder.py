"""Context encoders (Pathak et al. 2016) against the DCGAN latent search (Yeh et al. 2017, ``benchmarks/inpaint.py``)
on MNIST at 32 px: does one unconditional G fill masks it was never trained for, while a context encoder is best on
its own mask only?

    OMP_NUM_THREADS=1 python benchmarks/context_encoder.py [--root ../shared/data/mnist] [--refit] [--steps 200]
        [--starts 2] [--gan_from_json]

Three context encoders, ``configs/context_encoder_mnist.yaml`` with ``--model.mask center | left | random:0.8``,
each trained for the DCGAN's budget (5 CPU minutes on one thread; the test split's first 9,000 digits, the
datamodule's training part); the random-mask one without the overlap band (``--model.overlap 0``: the authors'
``inpaintRandomNoOverlap``, whose band would be nearly every known pixel). Fits go to
``benchmarks/out/context_encoder/<mask>/fit`` (reused unless ``--refit``); the DCGAN is ``benchmarks/inpaint.py``'s
(``benchmarks/out/inpaint/fit``, reused).

Scored on ``benchmarks/inpaint.py``'s 200 held-out digits, masks and seeds, for each mask: the masked input (hole
black), each context encoder's prediction pasted into the hole (its input's hole at its fill, mid-grey), and the
latent search's G(z*) pasted and Poisson-blended (re-run with ``--steps``/``--starts``; ``--gan_from_json`` takes
the numbers of ``benchmarks/results/inpaint.json`` instead and draws no GAN row). Accuracy of
``classifiers/mnist.pt`` on the 28x28 centre crop and PSNR in the hole (``benchmarks/inpaint.py``'s functions).
Numbers to ``benchmarks/results/context_encoder.json``; a PNG per mask to
``benchmarks/results/inpaint/context_encoder_<mask>.png``, rows of 16 digits: original, masked (hole grey), the
context encoder trained on this mask, the GAN search (pasted), then the two other context encoders.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _mnist_runs import REPO, reuse_or_fit, shown  # noqa: E402
from inpaint import (  # noqa: E402
    CPU_MINUTES,
    MASKS,
    PNG,
    RESULTS,
    accuracy,
    benchmark_mask,
    gan_search_fill,
    held_out_digits,
    psnr_in_hole,
)
from inpaint import fit as fit_dcgan  # noqa: E402

from lit_gans.callbacks import image_grid, write_png  # noqa: E402
from lit_gans.commands.checkpoints import load_gan  # noqa: E402
from lit_gans.inpaint import masked, paste, poisson_blend  # noqa: E402
from lit_gans.metrics.classifier import load_classifier  # noqa: E402

CE_MNIST = "configs/context_encoder_mnist.yaml"
OUT = REPO / "benchmarks" / "out" / "context_encoder"


def file_name(spec: str) -> str:
    return spec.replace(":", "_")


def fit_context_encoder(spec: str, root: str, split: str, refit: bool, minutes: float, out: Path) -> Path:
    """The context encoder of mask ``spec``: ``CE_MNIST`` for ``minutes`` of CPU time on one thread (seed 0), no
    overlap band for random masks; the epoch limit lifted so that the budget alone ends it."""
    extra = ["--model.mask", spec, "--model.n_epochs", "100000"]
    if spec.startswith("random:"):
        extra += ["--model.overlap", "0"]
    return reuse_or_fit([CE_MNIST], out / file_name(spec), minutes, root, split, refit, extra=extra)


def scores(classifier, images: torch.Tensor, truth, labels, mask) -> dict[str, float]:
    return {
        "accuracy": round(accuracy(classifier, images, labels), 3),
        "psnr_hole_db": round(psnr_in_hole(images, truth, mask), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default=str(REPO.parent / "shared" / "data" / "mnist"))
    parser.add_argument("--split", default="test")
    parser.add_argument("--refit", action="store_true", help="train the context encoders again")
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--steps", type=int, default=200, help="the GAN search's Adam steps on z (the paper: 1500)")
    parser.add_argument("--starts", type=int, default=2)
    parser.add_argument("--lr", type=float, default=0.03)
    parser.add_argument("--lam", type=float, default=0.003)
    parser.add_argument("--gan_from_json", action="store_true", help="GAN numbers from benchmarks/results/inpaint.json")
    parser.add_argument("--cpu_minutes", type=float, default=CPU_MINUTES, help="each context encoder's budget")
    parser.add_argument("--out", default=str(OUT), help="where the context encoders' fits go")
    parser.add_argument("--results", default=str(RESULTS), help="where the JSON goes (the PNGs: its inpaint/)")
    args = parser.parse_args()
    torch.set_num_threads(1)

    out, results_dir = Path(args.out), Path(args.results)
    checkpoints = {
        spec: fit_context_encoder(spec, args.root, args.split, args.refit, args.cpu_minutes, out) for spec in MASKS
    }
    encoders = {spec: load_gan(path).eval() for spec, path in checkpoints.items()}
    gan_json = json.loads((RESULTS / "inpaint.json").read_text()) if args.gan_from_json else None
    gan = None if gan_json else load_gan(fit_dcgan(args.root, args.split, refit=False)).eval()
    classifier, info = load_classifier(REPO / "classifiers" / "mnist.pt")
    truth, labels = held_out_digits(args.root, args.split, args.images)

    results = {
        "command": "OMP_NUM_THREADS=1 python benchmarks/context_encoder.py " + " ".join(sys.argv[1:]),
        "context_encoders": {
            spec: {
                "fit": f"{CE_MNIST} --model.mask {spec}"
                + (" --model.overlap 0" if spec.startswith("random:") else "")
                + f", {args.cpu_minutes} CPU minutes on one thread, MNIST {args.split} split",
                "checkpoint": shown(path),
                "g_steps": torch.load(path, map_location="cpu", weights_only=True)["lit_gans"]["g_steps"],
            }
            for spec, path in checkpoints.items()
        },
        "gan_search": (
            f"taken from benchmarks/results/inpaint.json ({gan_json['command']})"
            if gan_json
            else {"steps": args.steps, "starts": args.starts, "lr": args.lr, "lambda": args.lam, "window": 7}
        ),
        "classifier": f"classifiers/mnist.pt (val accuracy {info.get('val_accuracy')}), on the 28x28 centre crop",
        "images": args.images,
        "accuracy_on_originals": round(accuracy(classifier, truth, labels), 3),
        "grid_rows": "original, masked (hole grey), CE trained on this mask, GAN search pasted, the two other CEs",
        "masks": {},
    }
    for spec in MASKS:
        mask = benchmark_mask(spec, len(truth))
        given = masked(truth, mask)  # the hole at -1 (black), as benchmarks/inpaint.py
        row = {"missing_fraction": round(1 - mask.mean().item(), 3)}
        row["masked_input"] = scores(classifier, given, truth, labels, mask)
        completions = {}
        for trained_on, model in encoders.items():
            completions[trained_on] = model.complete(truth, mask)
            row[f"ce_{trained_on}"] = scores(classifier, completions[trained_on], truth, labels, mask)
        if gan is not None:
            fake, seconds = gan_search_fill(gan, given, mask, args)
            gan_pasted = paste(truth, fake, mask)
            row["gan_pasted"] = scores(classifier, gan_pasted, truth, labels, mask)
            row["gan_blended"] = scores(classifier, poisson_blend(given, fake, mask), truth, labels, mask)
            row["gan_search_seconds"] = round(seconds)
        else:
            row["gan_pasted"] = gan_json["masks"][spec]["gan_pasted"]
            row["gan_blended"] = gan_json["masks"][spec]["gan_blended"]
        results["masks"][spec] = row
        print(spec, json.dumps(row), flush=True)
        others = [completions[other] for other in MASKS if other != spec]
        rows = [truth, masked(truth, mask, 0.0), completions[spec]]
        rows += [gan_pasted] if gan is not None else []
        grid = image_grid(torch.cat([r[:16] for r in rows + others]), 16)
        write_png(grid, results_dir / PNG.name / f"context_encoder_{file_name(spec)}.png")
    results_dir.mkdir(parents=True, exist_ok=True)
    (results_dir / "context_encoder.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
