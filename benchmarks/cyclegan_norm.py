"""How fast CycleGAN's ResNet G can learn the offline task's true map when it is shown it: InstanceNorm or BatchNorm.

    .venv/bin/python benchmarks/cyclegan_norm.py instance 3200
    .venv/bin/python benchmarks/cyclegan_norm.py batch 800

The preset's G alone (16 base features, 6 residual blocks, 32x32), trained on the pairs (x, -x) directly (L1 loss,
Adam 2e-4 (0.5, 0.999), batch 8 drawn at random from 1,000 shapes on black; one thread): no discriminator, no cycle,
so what it measures is the network's own ability to carry a flat colour's brightness through its normalisation.
Prints PSNR and SSIM of G(x) in eval mode against -x on 256 held-out shapes, four times along the run, with the CPU
seconds spent; first, the score of a colour-blind oracle, which draws each negative exactly but in the mean colour.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from datamodules.shapes import draw  # noqa: E402
from lit_gans.callbacks.translation import image_similarity  # noqa: E402
from lit_gans.networks.resnet import ResnetGenerator  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("norm", choices=["instance", "batch"])
    parser.add_argument("steps", type=int)
    parser.add_argument("--batch_size", type=int, default=8)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    x = draw(1000, 32, 3, seed=0).float() / 127.5 - 1
    x_val = draw(256, 32, 3, seed=1).float() / 127.5 - 1
    x01 = (x_val + 1) / 2  # coverage x colour on black; the colour is uniform in [0.35, 1], mean 0.675 a channel
    coverage = x01.amax(1, keepdim=True) / x01.amax((1, 2, 3), keepdim=True)
    oracle = (1 - 0.675 * coverage).expand_as(x01) * 2 - 1
    print(f"colour-blind oracle: PSNR {image_similarity(oracle, -x_val)['psnr'].mean():.2f} dB", flush=True)
    G = ResnetGenerator(3, 3, features=16, n_blocks=6, norm=args.norm)
    optimizer = torch.optim.Adam(G.parameters(), 2e-4, betas=(0.5, 0.999))
    start = time.process_time()
    for step in range(1, args.steps + 1):
        batch = x[torch.randint(0, len(x), (args.batch_size,))]
        loss = (G(batch) + batch).abs().mean()  # |G(x) - (-x)|
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % max(1, args.steps // 4) == 0:
            G.eval()
            with torch.no_grad():
                scores = image_similarity(G(x_val), -x_val)
            G.train()
            print(
                f"{args.norm} step {step}: PSNR {scores['psnr'].mean():.2f} dB, SSIM {scores['ssim'].mean():.3f}, "
                f"{time.process_time() - start:.0f} CPU s",
                flush=True,
            )


if __name__ == "__main__":
    main()
