"""How many torch threads training should use, on an idle machine and beside another busy process.

Each setting trains the default DCGAN (Shapes 32x32 RGB, batch 64) for ``--steps`` steps after ``--warmup`` untimed
ones in a fresh ``cli.py fit`` process and reports wall-clock steps per second. The busy case starts a competing
process first (``--neighbours`` of them, each a one-thread matrix-multiply loop, what a second training run or a
test suite is to the machine) and stops it afterwards. Settings: torch's default thread count, one thread, and the
CLI's default (``--threads auto``); with ``OMP_WAIT_POLICY`` as given. Run it on an otherwise idle machine:

    python benchmarks/threads.py
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NEIGHBOUR = "import torch; torch.set_num_threads(1); a = torch.randn(512, 512)\nwhile True: a @ a"


def steps_per_second(env: dict[str, str], steps: int, warmup: int, root: Path) -> float:
    """Training speed of one ``cli.py fit`` run, from the StepTimer lines the CLI's fit prints nothing of: the run's
    own ``metrics.csv`` has no wall times, so the speed is taken from two checkpoints of the wall clock in a tiny
    callback passed by config."""
    timer = {"class_path": "benchmarks.threads.StepTimer", "init_args": {"warmup": warmup}}
    config = root / "timer.yaml"
    config.write_text(f"trainer:\n  callbacks:\n  - {timer}\n".replace("'", '"'))
    args = [sys.executable, str(REPO / "cli.py"), "fit", f"--config={config}", f"--trainer.max_steps={warmup + steps}"]
    args += ["--trainer.enable_progress_bar=false", f"--trainer.default_root_dir={root}", "--trainer.logger=false"]
    done = subprocess.run(args, env={**env, "PYTHONPATH": str(REPO)}, capture_output=True, text=True, cwd=root)
    found = re.search(r"timed steps per second: ([\d.]+)", done.stdout)
    if done.returncode != 0 or found is None:
        raise RuntimeError(done.stderr[-2000:])
    return float(found.group(1))


try:
    from lightning.pytorch import Callback

    class StepTimer(Callback):
        """Prints the wall-clock steps per second of the steps after the first ``warmup``."""

        def __init__(self, warmup: int) -> None:
            self.warmup, self.start = warmup, 0.0

        def on_train_batch_start(self, trainer, *args) -> None:
            if trainer.global_step == self.warmup:
                self.start = time.perf_counter()

        def on_train_end(self, trainer, *args) -> None:
            steps = trainer.global_step - self.warmup
            print(f"timed steps per second: {steps / (time.perf_counter() - self.start):.3f}", flush=True)
except ImportError:  # imported by the CLI's subprocess only
    pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--neighbours", type=int, default=1)
    parser.add_argument("--root", type=Path, default=REPO / "benchmarks" / "out" / "threads")
    args = parser.parse_args()
    args.root.mkdir(parents=True, exist_ok=True)
    base = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "LIT_GANS_THREADS")}
    settings = {
        "torch default": {**base, "LIT_GANS_THREADS": "torch"},
        "1 thread": {**base, "LIT_GANS_THREADS": "1"},
        "CLI default (auto)": base,
    }
    for busy in (False, True):
        neighbours = [
            subprocess.Popen([sys.executable, "-c", NEIGHBOUR], env={**base, "OMP_NUM_THREADS": "1"})
            for _ in range(args.neighbours if busy else 0)
        ]
        time.sleep(1.0 if busy else 0.0)
        try:
            for name, env in settings.items():
                speed = steps_per_second(env, args.steps, args.warmup, args.root)
                print(f"{'busy' if busy else 'idle'}: {name}: {speed:.2f} steps/s", flush=True)
        finally:
            for process in neighbours:
                process.kill()


if __name__ == "__main__":
    main()
