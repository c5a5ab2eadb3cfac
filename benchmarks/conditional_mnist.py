"""Scores of the conditional and latent-code models on MNIST, from their checkpoints.

    # CGAN / ACGAN: accuracy of generated digits against their requested class, judged by the MNIST classifier
    python benchmarks/conditional_mnist.py class --ckpt CKPT --classifier classifiers/mnist.pt
    # InfoGAN: the categorical code as an unsupervised classifier of real held-out digits (Chen 2016, s.7.1): Q's
    # most likely code for each image, each code value mapped to the digit it most often meets
    python benchmarks/conditional_mnist.py infogan --ckpt CKPT --root ../shared/data/mnist --split test
    # SGAN: D's accuracy on the held-out digits
    python benchmarks/conditional_mnist.py sgan --ckpt CKPT --root ../shared/data/mnist --split test

The held-out digits are the MNIST datamodule's validation split (the last 1,000 images of ``--split``), which the
models never trained on.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch
from torch import Tensor

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from datamodules import MNIST  # noqa: E402
from lit_gans.commands.checkpoints import load_gan  # noqa: E402
from lit_gans.metrics import ClassifierFeatures  # noqa: E402


def class_accuracy(model, classifier: ClassifierFeatures, per_class: int, seed: int) -> dict:
    """Generate ``per_class`` samples of every class; the share the classifier assigns to the requested class."""
    generator = torch.Generator().manual_seed(seed)
    correct = []
    for label in range(model.num_classes):
        images = model.sample(per_class, generator=generator, labels=label)
        predicted = classifier(images)[1].argmax(1)
        correct.append((predicted == label).float().mean().item())
    return {"accuracy": sum(correct) / len(correct), "per_class": [round(c, 4) for c in correct]}


def held_out_digits(root: str, split: str) -> tuple[Tensor, Tensor]:
    data = MNIST(root=root, split=split)
    data.setup()
    return data.val_set.images.float() / 127.5 - 1.0, data.val_set.labels


def code_accuracy(codes: Tensor, labels: Tensor, num_categories: int) -> dict:
    """Each code value mapped to its most frequent digit; the share of images whose code maps to their digit."""
    mapping = []
    for value in range(num_categories):
        digits = labels[codes == value]
        mapping.append(int(digits.mode().values) if len(digits) else -1)
    predicted = torch.tensor(mapping)[codes]
    return {"accuracy": (predicted == labels).float().mean().item(), "code_to_digit": mapping}


@torch.no_grad()
def infogan_accuracy(model, images: Tensor, labels: Tensor) -> dict:
    """Q's categorical code of each real image as an unsupervised classifier; with ``d_average_rate`` > 0, from the
    parameter average (``accuracy``) and from Q itself (``current``)."""
    result = code_accuracy(model.categorical_code(images), labels, model.num_categories)
    if hasattr(model, "discriminator_average"):
        result["current"] = code_accuracy(model.categorical_code(images, current=True), labels, model.num_categories)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("task", choices=["class", "infogan", "sgan"])
    parser.add_argument("--ckpt", required=True)
    parser.add_argument("--classifier", default="classifiers/mnist.pt")
    parser.add_argument("--root", default="../shared/data/mnist")
    parser.add_argument("--split", default="test")
    parser.add_argument("--per_class", type=int, default=1_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    model = load_gan(args.ckpt)
    if args.task == "class":
        result = class_accuracy(model, ClassifierFeatures(args.classifier).eval(), args.per_class, args.seed)
    elif args.task == "infogan":
        result = infogan_accuracy(model, *held_out_digits(args.root, args.split))
    else:
        images, labels = held_out_digits(args.root, args.split)
        result = {"accuracy": (model.classify(images) == labels).float().mean().item()}
    print(json.dumps({"task": args.task, "checkpoint": args.ckpt, **result}))


if __name__ == "__main__":
    main()
