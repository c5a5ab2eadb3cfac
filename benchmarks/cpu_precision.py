"""What ``--trainer.precision`` costs on the CPU: DCGAN on Shapes (32x32 RGB, batch 64), the same steps in 32-bit and
in each half-precision setting, alternating for several rounds in this process on one thread. Times are CPU time
(``time.process_time``), so other work on the machine moves them little; the report is each setting's time per step
over 32-bit's, round by round, and its median. ``cli.py`` quotes the bf16 ratio in its warning.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/cpu_precision.py
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import torch
from lightning.pytorch import Callback, Trainer, seed_everything

from datamodules import Shapes
from lit_gans import DCGAN


class StepClock(Callback):
    """CPU seconds of the training steps after the first ``warmup``."""

    def __init__(self, warmup: int) -> None:
        self.warmup, self.start, self.seconds = warmup, 0.0, 0.0

    def on_train_batch_start(self, trainer: Trainer, *args) -> None:
        if trainer.global_step == self.warmup:
            self.start = time.process_time()

    def on_train_end(self, trainer: Trainer, *args) -> None:
        self.seconds = time.process_time() - self.start


def seconds_per_step(precision: str, steps: int, warmup: int) -> float:
    seed_everything(0, verbose=False)
    clock = StepClock(warmup)
    trainer = Trainer(
        accelerator="cpu",
        devices=1,
        precision=precision,
        max_steps=warmup + steps,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        limit_val_batches=0,
        callbacks=[clock],
    )
    trainer.fit(DCGAN(data_shape=(3, 32, 32)), Shapes(image_size=32, num_train=64 * (warmup + steps), batch_size=64))
    return clock.seconds / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--precisions", nargs="+", default=["bf16-mixed", "16-mixed"])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    ratios: dict[str, list[float]] = {p: [] for p in args.precisions}
    for round_ in range(args.rounds):
        base = seconds_per_step("32-true", args.steps, args.warmup)
        line = [f"round {round_}: 32-true {base * 1e3:.0f} ms/step"]
        for precision in args.precisions:
            seconds = seconds_per_step(precision, args.steps, args.warmup)
            ratios[precision].append(seconds / base)
            line.append(f"{precision} {seconds * 1e3:.0f} ms/step ({seconds / base:.1f}x)")
        print(", ".join(line), flush=True)
    for precision, values in ratios.items():
        print(f"{precision}: median {statistics.median(values):.1f}x the CPU time per step of 32-true")


if __name__ == "__main__":
    main()
