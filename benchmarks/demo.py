"""How convincing the demo's shapes are: the Shapes classifier's verdict on 1,000 samples beside 1,000 real images.

    .venv/bin/python cli.py fit --config configs/demo.yaml                  # the demo (scripts/demo runs the same)
    .venv/bin/python benchmarks/demo.py --ckpt runs/dcgan_shapes/lightning_logs/version_0/checkpoints/last.ckpt

The classifier (``classifiers/shapes.pt``, trained here when the file is missing; the same as ``cli.py classifier
--data Shapes --data.seed 100 '--data.scale_range=[0.4,0.9]' --output classifiers/shapes.pt``) names the shape of
every image; it learnt from images of every rotation and size from 0.4 to 0.9, drawn from another seed than the
GAN's. For the samples (G's EMA copy when the run keeps one, as ``cli.py sample`` draws) and for 1,000 held-out real
images drawn as the run's data draws them (its size, sizes and rotations), it reports:

- ``confidence``: the mean probability of the class the classifier picks (a shape it can tell is near 1; a blob
  that could be anything is near 1/3), and ``confident``: the share of images above 0.9;
- ``inception_score``: IS with the classifier's class probabilities (10 splits of 100): 3 at most, for three
  equally frequent shapes each recognised with certainty;
- ``class_shares``: circle, square and triangle's shares of the picked classes (real: about 1/3 each);
- ``fid``: the Frechet distance between the classifier's features of the samples and of the real images.

Prints one JSON object (``--out`` writes it to a file too).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from datamodules import Shapes  # noqa: E402
from datamodules.shapes import SHAPE_NAMES  # noqa: E402
from lit_gans.commands.checkpoints import load_gan  # noqa: E402
from lit_gans.metrics import ClassifierFeatures  # noqa: E402
from lit_gans.metrics.functional import frechet_distance, gaussian_statistics, inception_score  # noqa: E402

CLASSIFIER_SEED = 100  # the classifier's training images: not the GAN's (Shapes' default seed 0)
CLASSIFIER_SCALES = (0.4, 0.9)  # every size a Shapes preset draws
REAL_SEED = 200  # the held-out real images: neither's


def shapes_classifier(path: Path, image_size: int, channels: int) -> ClassifierFeatures:
    """The Shapes classifier at ``path``; trained and written there first when the file is missing."""
    if not path.is_file():
        from lit_gans.metrics.classifier import save_classifier, train_classifier

        data = Shapes(image_size, channels, num_train=10_000, seed=CLASSIFIER_SEED, scale_range=CLASSIFIER_SCALES)
        model, info = train_classifier(data, epochs=3, lr=1e-3, width=32, seed=0)
        save_classifier(model, info, path)
        print(f"wrote {path}: validation accuracy {info['val_accuracy']:.4f}", file=sys.stderr)
    return ClassifierFeatures(str(path))


@torch.no_grad()
def verdict(classifier: ClassifierFeatures, images: torch.Tensor) -> tuple[dict, torch.Tensor]:
    """``images [N, C, S, S]`` in [-1, 1] -> the scores above (without FID) and the features ``[N, F]``. Grey
    images (``C = 1``) are read as RGB with three equal channels (a grey shape is one of the classifier's
    colours)."""
    images = images.expand(-1, 3, -1, -1) if images.shape[1] == 1 else images
    features, logits = zip(*(classifier(chunk) for chunk in images.split(250)))
    features, logits = torch.cat(features).double(), torch.cat(logits).double()
    probabilities = logits.softmax(1)
    confidence, picked = probabilities.max(1)
    score, spread = inception_score(logits, splits=10)
    shares = torch.bincount(picked, minlength=len(SHAPE_NAMES)).double() / len(picked)
    scores = {
        "confidence": round(confidence.mean().item(), 4),
        "confident": round((confidence > 0.9).double().mean().item(), 4),
        "inception_score": round(score.item(), 4),
        "inception_score_std": round(spread.item(), 4),
        "class_shares": {name: round(share.item(), 4) for name, share in zip(SHAPE_NAMES, shares)},
    }
    return scores, features


def real_images(checkpoint: dict, num: int) -> torch.Tensor:
    """``num`` Shapes images drawn from ``REAL_SEED`` as the checkpoint's run drew its data (size, colours, sizes and
    rotations), ``[num, C, S, S]`` in [-1, 1]."""
    hparams = checkpoint.get("datamodule_hyper_parameters") or {}
    look = {k: hparams[k] for k in ("image_size", "channels", "scale_range", "rotate") if k in hparams}
    data = Shapes(num_train=num, num_val=1, seed=REAL_SEED, **look)
    data.setup()
    return torch.stack([data.train_set[i][0] for i in range(num)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ckpt", required=True, help="a checkpoint of the demo run (Shapes data)")
    parser.add_argument("--classifier", default="classifiers/shapes.pt", help="trained here when missing")
    parser.add_argument("--num", type=int, default=1000, help="samples and real images")
    parser.add_argument("--seed", type=int, default=0, help="seed of the samples' latent noise")
    parser.add_argument("--out", default=None, help="also write the JSON here")
    args = parser.parse_args()
    model = load_gan(args.ckpt)
    channels, size, _ = model.hparams.data_shape
    classifier = shapes_classifier(Path(args.classifier), size, channels)
    torch.set_grad_enabled(False)
    samples = model.sample(args.num, torch.Generator().manual_seed(args.seed))
    checkpoint = torch.load(args.ckpt, map_location="cpu", weights_only=False)
    real = real_images(checkpoint, args.num)

    fake_scores, fake_features = verdict(classifier, samples)
    real_scores, real_features = verdict(classifier, real)
    fid = frechet_distance(*gaussian_statistics(real_features), *gaussian_statistics(fake_features))
    result = {
        "checkpoint": args.ckpt,
        "step": checkpoint["lit_gans"]["d_steps"],
        "samples": {**fake_scores, "fid": round(fid.item(), 3)},
        "real": real_scores,
        "classifier": {"path": args.classifier, "val_accuracy": classifier.info.get("val_accuracy")},
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
