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
epoch) and reads its two losses with ``.item()`` every step, as a loop that logs them does. Its Adam steps skip the
CUDA-graph check that lit-gans' skip on the CPU too: importing Lightning makes that check load the NVML library at
every step (``skip_cuda_graph_capture_check``), which a script without Lightning never pays, so neither loop pays it
here. Each round times
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

CLOCK = time.perf_counter  # --clock cpu: time.process_time

from datamodules import MNIST, Toy  # noqa: E402
from lit_gans import DCGAN, GAN  # noqa: E402
from lit_gans.base import skip_cuda_graph_capture_check  # noqa: E402


def make_task(task: str, root: str, updates_per_batch: int = 1):
    """``(datamodule, a fresh model, whether the Trainer logs)`` for ``task``; with ``updates_per_batch = k`` the
    datamodule's batches are ``k`` times the size of an update's, and the model cuts each into ``k`` updates."""
    k = updates_per_batch
    if task == "toy":
        data = Toy("ring", num_train=100_000, num_val=2_500, batch_size=256 * k)
        data.setup()
        mlps = {"g_hidden": (128, 128, 128), "d_hidden": (128, 128, 128)}
        return data, lambda: GAN(data_shape=(2,), updates_per_batch=k, **mlps), False
    data = MNIST(root=root, split="test", batch_size=64 * k)
    data.setup()
    return data, lambda: DCGAN(data_shape=(1, 28, 28), updates_per_batch=k), True


class HandWrittenLoop:
    """A plain loop over the networks of a fresh model, batches sliced from the data tensors (a permutation an
    epoch); ``run(n)`` takes ``n`` steps."""

    def __init__(self, data, new_model) -> None:
        seed_everything(0, verbose=False)
        model = new_model()
        self.G, self.D, self.z_dim = model.generator, model.discriminator, model.z_dim
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=model.lr_g, betas=model.betas_g)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=model.lr_d, betas=model.betas_d)
        for optimizer in (self.opt_g, self.opt_d):  # as in a script that does not import Lightning (module doc)
            skip_cuda_graph_capture_check(optimizer)
        train = data.train_set
        self.images = train.images.float() / 127.5 - 1.0 if hasattr(train, "images") else train.tensors[0]
        self.batch_size = data.batch_size // model.updates_per_batch  # an update's batch
        self.per_epoch, self.step, self.order = len(self.images) // self.batch_size, 0, None

    def run(self, steps: int) -> None:
        for _ in range(steps):
            index = self.step % self.per_epoch
            if index == 0:
                self.order = torch.randperm(len(self.images))
            real = self.images[self.order[index * self.batch_size : (index + 1) * self.batch_size]]
            d_loss, g_loss = hand_written_gan_step(self.G, self.D, self.opt_g, self.opt_d, real, self.z_dim)
            d_loss.item(), g_loss.item()
            self.step += 1


def hand_written(data, new_model, steps: int, warmup: int) -> float:
    """Steps per second of the hand-written loop on a fresh model."""
    loop = HandWrittenLoop(data, new_model)
    loop.run(warmup)
    start = CLOCK()
    loop.run(steps)
    return steps / (CLOCK() - start)


class TakeTurns(Callback):
    """Interleaves the hand-written loop with lit-gans' fit: at the end of every lit-gans batch past ``warmup``
    steps, the hand-written loop takes as many steps as that batch took. Each side is timed over its own stretches
    only (lit-gans from the end of one hand-written stretch to the end of its next batch, Lightning's between-batch
    work included), so the machine's slow and fast moments fall on both alike."""

    def __init__(self, loop: HandWrittenLoop, warmup: int) -> None:
        self.loop, self.warmup = loop, warmup
        self.lit_seconds = self.hand_seconds = 0.0
        self.lit_steps = self.hand_steps = 0
        self.mark: float | None = None
        self.step_at_mark = 0

    def on_train_start(self, trainer, pl_module) -> None:
        self.loop.run(self.warmup)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        now, steps = CLOCK(), trainer.global_step
        if self.mark is not None:
            self.lit_seconds += now - self.mark
            self.lit_steps += steps - self.step_at_mark
        if steps >= self.warmup:
            batch_steps = steps - self.step_at_mark  # the updates of the batch that just ended
            start = CLOCK()
            self.loop.run(batch_steps)
            self.hand_seconds += CLOCK() - start
            self.hand_steps += batch_steps
            self.mark = CLOCK()
        self.step_at_mark = steps


def taking_turns(data, new_model, logs: bool, steps: int, warmup: int, log_dir: Path) -> tuple[float, float]:
    """``(hand-written, lit-gans)`` steps per second from one fit in which the two take turns (``TakeTurns``)."""
    loop = HandWrittenLoop(data, new_model)
    seed_everything(0, verbose=False)
    model = new_model()
    warmup = -(-warmup // model.updates_per_batch) * model.updates_per_batch
    turns = TakeTurns(loop, warmup)
    fit(model, data, logs, warmup + steps, turns, log_dir)
    return turns.hand_steps / turns.hand_seconds, turns.lit_steps / turns.lit_seconds


class StepTimer(Callback):
    """Times the steps (D updates, ``global_step``) from the first batch that starts at ``warmup`` steps or later to
    the end of the fit."""

    def __init__(self, warmup: int) -> None:
        self.warmup, self.start, self.end, self.first, self.count = warmup, None, None, None, 0

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if self.start is None and trainer.global_step >= self.warmup:
            self.start, self.first = CLOCK(), trainer.global_step

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if self.start is not None:
            self.end, self.count = CLOCK(), trainer.global_step - self.first


def fit(model, data, logs: bool, max_steps: int, callback: Callback, log_dir: Path) -> None:
    trainer = Trainer(
        accelerator="cpu",
        max_steps=max_steps,
        logger=CSVLogger(log_dir) if logs else False,
        callbacks=[callback],
        enable_progress_bar=False,
        enable_checkpointing=False,
        enable_model_summary=False,
        limit_val_batches=0,
    )
    trainer.fit(model, data)


def lit_gans(data, new_model, logs: bool, steps: int, warmup: int, log_dir: Path) -> float:
    """Steps per second of ``Trainer.fit`` on a fresh model."""
    seed_everything(0, verbose=False)
    model = new_model()
    k = model.updates_per_batch
    warmup = -(-warmup // k) * k  # whole batches: timing starts at a batch's start
    timer = StepTimer(warmup)
    fit(model, data, logs, warmup + steps, timer, log_dir)
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
    parser.add_argument(
        "--updates_per_batch",
        type=int,
        nargs="+",
        default=[1],
        help="lit-gans' updates a Trainer batch (its batches that many times an update's): one lit-gans run each",
    )
    parser.add_argument(
        "--clock",
        choices=["wall", "cpu"],
        default="wall",
        help="time steps by the wall clock, or by this process's CPU time (steady when other jobs share the cores)",
    )
    parser.add_argument(
        "--turns",
        action="store_true",
        help="the two loops take turns batch by batch inside each lit-gans fit, instead of one after the other",
    )
    parser.add_argument("--json", default=None, help="also write the rounds here")
    parser.add_argument("--sort", default="cumulative", help="--profile: pstats sort key (cumulative, tottime)")
    args = parser.parse_args()
    global CLOCK
    CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter
    torch.set_num_threads(args.threads)
    steps = args.steps or (1000 if args.task == "toy" else 100)
    tasks = {k: make_task(args.task, args.root, k) for k in args.updates_per_batch}
    log_dir = Path(tempfile.mkdtemp(prefix="loop_speed_"))
    if args.profile:
        profiler = cProfile.Profile()
        profiler.runcall(lit_gans, *tasks[args.updates_per_batch[0]], steps, args.warmup, log_dir)
        pstats.Stats(profiler).sort_stats(args.sort).print_stats(45)
        return
    print(
        f"{args.task}: torch {torch.__version__}, {torch.get_num_threads()} thread(s); {steps} timed steps a round, "
        f"{args.clock} clock, {'taking turns' if args.turns else 'one after the other'}"
    )
    rounds: dict[int, list[dict[str, float]]] = {k: [] for k in tasks}
    for index in range(args.rounds):
        if not args.turns:
            plain = hand_written(*tasks[args.updates_per_batch[0]][:2], steps, args.warmup)
        for k, task in tasks.items():
            if args.turns:
                plain, lit = taking_turns(*task, steps, args.warmup, log_dir)
            else:
                lit = lit_gans(*task, steps, args.warmup, log_dir)
            ratio = round(lit / plain, 4)
            rounds[k].append({"hand_written": round(plain, 2), "lit_gans": round(lit, 2), "ratio": ratio})
            print(
                f"round {index + 1}: hand-written {plain:.1f} steps/s, lit-gans ({k} update(s) a batch) {lit:.1f} "
                f"steps/s, ratio {lit / plain:.3f}"
            )
    report = []
    for k, runs in rounds.items():
        median = statistics.median(r["ratio"] for r in runs)
        print(f"median ratio lit-gans / hand-written, {k} update(s) a batch: {median:.3f}")
        report.append(
            {
                "task": args.task,
                "clock": args.clock,
                "turns": args.turns,
                "updates_per_batch": k,
                "rounds": runs,
                "median": median,
            }
        )
    if args.json:
        Path(args.json).write_text(json.dumps(report[0] if len(report) == 1 else report, indent=2) + "\n")


if __name__ == "__main__":
    main()
