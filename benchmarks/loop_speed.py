"""Training-loop speed: lit-gans' ``Trainer.fit`` against a hand-written PyTorch loop, in alternating rounds.

    .venv/bin/python benchmarks/loop_speed.py --task toy                                # GAN, 3 x 128 MLPs, batch 256
    .venv/bin/python benchmarks/loop_speed.py --task mnist --root ../shared/data/mnist  # DCGAN 28x28, batch 64

Both sides train the same module's networks with the same losses (non-saturating: a D step on fresh z with G's
output detached, then a G step on fresh z) and the same Adam settings, on the same in-memory data:

- ``toy``: lit-gans' ``GAN`` with 3 x 128 MLPs on the 8-Gaussian ring (``Toy``, 100,000 points), batch 256, the
  Trainer with no logger, checkpointing or validation (as the mode-collapse benchmark runs it);
- ``mnist``: ``DCGAN`` (64 base channels) on the real MNIST test split, batch 64, logging to CSV every 50 steps as
  the CLI does.

The hand-written loop slices each batch from the training tensors with one index per batch (a permutation per
epoch) and reads its two losses with ``.item()`` every step, as a loop that logs them does. Each round times
``--steps`` steps after ``--warmup`` untimed ones, on one thread unless ``--threads`` says otherwise; the report is
the ratio of steps per second (lit-gans / hand-written), round by round and its median. Run it with nothing else
busy. ``--profile`` prints where one lit-gans run spends its time instead (cProfile, by cumulative time).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from lightning.pytorch import Callback, Trainer, seed_everything
from lightning.pytorch.loggers import CSVLogger

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from _trainer import hand_written_gan_step  # noqa: E402

from datamodules import MNIST, Toy  # noqa: E402
from lit_gans import DCGAN, GAN  # noqa: E402


def make_task(task: str, root: str):
    """``(datamodule, a fresh model, whether the Trainer logs)`` for ``task``."""
    if task == "toy":
        data = Toy("ring", num_train=100_000, num_val=2_500, batch_size=256)
        data.setup()
        return data, lambda: GAN(data_shape=(2,), g_hidden=(128, 128, 128), d_hidden=(128, 128, 128)), False
    data = MNIST(root=root, split="test", batch_size=64)
    data.setup()
    return data, lambda: DCGAN(data_shape=(1, 28, 28)), True


def hand_written(data, new_model, steps: int, warmup: int) -> float:
    """Steps per second of a plain loop over the networks of a fresh model, batches sliced from the data tensors."""
    seed_everything(0, verbose=False)
    model = new_model()
    G, D = model.generator, model.discriminator
    opt_g = torch.optim.Adam(G.parameters(), lr=model.lr_g, betas=model.betas_g)
    opt_d = torch.optim.Adam(D.parameters(), lr=model.lr_d, betas=model.betas_d)
    train = data.train_set
    images = train.images.float() / 127.5 - 1.0 if hasattr(train, "images") else train.tensors[0]
    batch_size, per_epoch = data.batch_size, len(images) // data.batch_size
    order, start = torch.randperm(len(images)), None
    for step in range(warmup + steps):
        if step == warmup:
            start = time.perf_counter()
        if step % per_epoch == 0:
            order = torch.randperm(len(images))
        real = images[order[(step % per_epoch) * batch_size : (step % per_epoch + 1) * batch_size]]
        d_loss, g_loss = hand_written_gan_step(G, D, opt_g, opt_d, real, model.z_dim)
        d_loss.item(), g_loss.item()
    return steps / (time.perf_counter() - start)


class StepTimer(Callback):
    def __init__(self, warmup: int) -> None:
        self.warmup, self.start, self.end, self.count = warmup, None, None, 0

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if trainer.global_step == self.warmup:
            self.start = time.perf_counter()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if trainer.global_step > self.warmup:
            self.end, self.count = time.perf_counter(), self.count + 1


def lit_gans(data, new_model, logs: bool, steps: int, warmup: int, log_dir: Path) -> float:
    """Steps per second of ``Trainer.fit`` on a fresh model."""
    seed_everything(0, verbose=False)
    timer = StepTimer(warmup)
    trainer = Trainer(
        accelerator="cpu",
        max_steps=warmup + steps,
        logger=CSVLogger(log_dir) if logs else False,
        callbacks=[timer],
        enable_progress_bar=False,
        enable_checkpointing=False,
        enable_model_summary=False,
        limit_val_batches=0,
    )
    trainer.fit(new_model(), data)
    assert timer.count == steps, timer.count
    return steps / (timer.end - timer.start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", choices=["toy", "mnist"], default="toy")
    parser.add_argument("--root", default="../shared/data/mnist", help="MNIST folder (--task mnist)")
    parser.add_argument("--steps", type=int, default=None, help="timed steps a round (toy 1,000, mnist 100)")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--profile", action="store_true", help="profile one lit-gans run instead")
    parser.add_argument("--json", default=None, help="also write the rounds here")
    parser.add_argument("--sort", default="cumulative", help="--profile: pstats sort key (cumulative, tottime)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    steps = args.steps or (1000 if args.task == "toy" else 100)
    data, new_model, logs = make_task(args.task, args.root)
    log_dir = Path(tempfile.mkdtemp(prefix="loop_speed_"))
    if args.profile:
        profiler = cProfile.Profile()
        profiler.runcall(lit_gans, data, new_model, logs, steps, args.warmup, log_dir)
        pstats.Stats(profiler).sort_stats(args.sort).print_stats(45)
        return
    print(f"{args.task}: torch {torch.__version__}, {torch.get_num_threads()} thread(s); {steps} timed steps a round")
    rounds = []
    for index in range(args.rounds):
        plain = hand_written(data, new_model, steps, args.warmup)
        lit = lit_gans(data, new_model, logs, steps, args.warmup, log_dir)
        rounds.append({"hand_written": round(plain, 2), "lit_gans": round(lit, 2), "ratio": round(lit / plain, 4)})
        print(
            f"round {index + 1}: hand-written {plain:.1f} steps/s, lit-gans {lit:.1f} steps/s, ratio {lit / plain:.3f}"
        )
    median = statistics.median(r["ratio"] for r in rounds)
    print(f"median ratio lit-gans / hand-written: {median:.3f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"task": args.task, "rounds": rounds, "median": median}, indent=2) + "\n")


if __name__ == "__main__":
    main()
