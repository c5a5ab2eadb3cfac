"""Cost of the metric extractors on this CPU: seconds per 10,000 images, and of the FID/IS/KID maths.

    python benchmarks/metric_cost.py --classifier classifiers/mnist.pt [--inception_images 100]

The Inception network runs with weights constructed locally (the real file cannot be downloaded here): the
architecture, and so the time, is that of the FID Inception. It is timed on ``--inception_images`` images and
scaled to 10,000; the classifier is timed on 10,000 images. Inputs are 28x28 grey images in [-1, 1] (MNIST's
shape); Inception resizes them to 299x299 itself. Run it with nothing else busy.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch


def seconds_per_10k(extractor, images: torch.Tensor, batch_size: int) -> float:
    extractor(images[:2])  # warm-up
    start = time.perf_counter()
    for chunk in images.split(batch_size):
        extractor(chunk)
    return (time.perf_counter() - start) * 10_000 / len(images)


def main() -> None:
    from lit_gans.metrics import (
        ClassifierFeatures,
        InceptionV3Features,
        frechet_distance,
        gaussian_statistics,
        inception_score,
        kernel_inception_distance,
    )
    from lit_gans.metrics.extractors import write_random_inception_weights

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--classifier", required=True)
    parser.add_argument("--inception_images", type=int, default=100)
    args = parser.parse_args()
    torch.manual_seed(0)
    images = torch.rand(10_000, 1, 28, 28) * 2 - 1

    rows = []
    classifier = ClassifierFeatures(args.classifier)
    rows.append(("classifier (28x28, 128-d features)", seconds_per_10k(classifier, images, 500), len(images)))
    with tempfile.TemporaryDirectory() as folder:
        weights = write_random_inception_weights(Path(folder) / "random-inception.pth")
        inception = InceptionV3Features(weights_path=str(weights))
        n = args.inception_images
        rows.append(("inception-v3 (299x299, 2048-d)", seconds_per_10k(inception, images[:n], 50), n))

    for dim in (128, 2048):
        real, fake = torch.randn(10_000, dim), torch.randn(10_000, dim)
        logits = torch.randn(10_000, 10 if dim == 128 else 1008)
        start = time.perf_counter()
        frechet_distance(*gaussian_statistics(real), *gaussian_statistics(fake))
        fid = time.perf_counter() - start
        start = time.perf_counter()
        inception_score(logits)
        is_time = time.perf_counter() - start
        start = time.perf_counter()
        kernel_inception_distance(real, fake, subsets=100, subset_size=1000)
        kid = time.perf_counter() - start
        rows.append((f"FID + IS + KID maths ({dim}-d, 10,000 vs 10,000)", fid + is_time + kid, 10_000))
        print(f"maths {dim}-d: FID {fid:.2f} s, IS {is_time:.2f} s, KID (100 x 1000) {kid:.2f} s")

    print(f"threads: {torch.get_num_threads()}")
    print("| step | seconds per 10,000 images | timed on |")
    print("| --- | ---: | ---: |")
    for name, seconds, count in rows:
        print(f"| {name} | {seconds:,.1f} | {count:,} images |")


if __name__ == "__main__":
    main()
