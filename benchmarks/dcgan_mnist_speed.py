"""Training speed of DCGAN on the real MNIST test split: lit-gans against a plain PyTorch loop.

Both sides use the same networks, optimizers, data loader and maths (a D step on fresh z with G's output detached,
then a G step on fresh z, non-saturating losses), 28x28, batch 64. They run one after the other in this process,
alternating, for several rounds; each round times ``--steps`` steps after ``--warmup`` untimed ones. The report
is the ratio of steps per second, round by round and its median. Run it with nothing else busy:

    .venv/bin/python benchmarks/dcgan_mnist_speed.py --root ../shared/data/mnist
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch
from lightning.pytorch import Callback, Trainer, seed_everything
from lightning.pytorch.loggers import CSVLogger

from datamodules import MNIST
from lit_gans import DCGAN
from lit_gans.losses import non_saturating_d_loss, non_saturating_g_loss


def plain_loop(data: MNIST, steps: int, warmup: int) -> float:
    """Steps per second of a hand-written loop over the same networks (taken from a fresh DCGAN)."""
    seed_everything(0, verbose=False)
    model = DCGAN(data_shape=(1, 28, 28))
    G, D = model.generator, model.discriminator
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    loader = iter(data.train_dataloader())
    start = None
    for step in range(warmup + steps):
        if step == warmup:
            start = time.perf_counter()
        real, _ = next(loader)
        with torch.no_grad():  # no graph through G for the D step (lit-gans freezes G's parameters instead)
            fake = G(torch.randn(real.shape[0], 100))
        d_loss = non_saturating_d_loss(D(real), D(fake))
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
        for p in D.parameters():  # as in lit-gans: no gradients accumulate in D during the G step
            p.requires_grad_(False)
        g_loss = non_saturating_g_loss(D(G(torch.randn(real.shape[0], 100))))
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        for p in D.parameters():
            p.requires_grad_(True)
        d_loss.item(), g_loss.item()  # a real loop reads its losses for logging
    return steps / (time.perf_counter() - start)


class StepTimer(Callback):
    def __init__(self, warmup: int) -> None:
        self.warmup, self.start, self.end, self.count = warmup, None, None, 0

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if batch_idx == self.warmup:
            self.start = time.perf_counter()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if batch_idx >= self.warmup:
            self.end, self.count = time.perf_counter(), self.count + 1


def lit_gans_loop(data: MNIST, steps: int, warmup: int, log_dir: Path) -> float:
    """Steps per second of ``Trainer.fit`` on lit-gans' DCGAN, logging every 50 steps to CSV as the CLI does."""
    seed_everything(0, verbose=False)
    model = DCGAN(data_shape=(1, 28, 28))
    timer = StepTimer(warmup)
    trainer = Trainer(
        accelerator="cpu",
        max_steps=warmup + steps,
        logger=CSVLogger(log_dir),
        callbacks=[timer],
        enable_progress_bar=False,
        enable_checkpointing=False,
        enable_model_summary=False,
        limit_val_batches=0,
    )
    trainer.fit(model, data)
    assert timer.count == steps, timer.count
    return steps / (timer.end - timer.start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", default="../shared/data/mnist")
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--log_dir", default="benchmarks/out")
    args = parser.parse_args()

    data = MNIST(root=args.root, split="test", batch_size=64)
    data.setup()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; {args.steps} timed steps after {args.warmup}")
    ratios = []
    for round_ in range(args.rounds):
        plain = plain_loop(data, args.steps, args.warmup)
        lit = lit_gans_loop(data, args.steps, args.warmup, Path(args.log_dir))
        ratios.append(lit / plain)
        print(f"round {round_ + 1}: plain {plain:.2f} steps/s, lit-gans {lit:.2f} steps/s, ratio {lit / plain:.3f}")
    print(f"median ratio lit-gans / plain: {statistics.median(ratios):.3f}")


if __name__ == "__main__":
    main()
