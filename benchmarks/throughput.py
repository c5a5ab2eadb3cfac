"""Training throughput under every precision / compile / channels-last setting, and the FID Inception's images per
second: the numbers ``benchmarks/gpu.sh`` collects on a CUDA machine, written to one JSON.

    .venv/bin/python benchmarks/throughput.py --device cuda --models DCGAN WGANGP --data_shape 3 64 64 \\
        --batch_size 128 --precisions 32-true bf16-mixed --compile off on --channels_last off on

Each setting is one ``Trainer.fit`` of a fresh model (the library's own loop, no logger, checkpointing or
validation) on random in-memory images of ``--data_shape`` (the speed does not depend on what they show), served as
the library's datamodules serve a training set held in memory (one slice a batch): ``--warmup`` batches untimed
(compilation happens there), then ``--steps`` batches timed, with the device synchronised at both ends. A batch is
one D update (WGAN-GP: a G update every ``n_critic``). ``--loops`` adds, for DCGAN, eager only, the baselines that
say what the loop costs: ``hand-written``, a plain PyTorch loop over the same networks, losses, optimizers and
batches that reads both losses with ``.item()`` every step (as a loop that logs them does), ``hand-written-nosync``,
the same loop never waiting for the device, and ``unguarded``, lit-gans without its non-finite guard (whose verdict
is one device sync per update). Settings run one after the other in one process, each after
``torch._dynamo.reset()``, ``--rounds`` times over (the median is reported); a setting that fails is written with
its error and the others go on (the exit status is then 1). The Inception network is timed
with constructed weights when the real file is absent (the architecture, so the time, is the FID Inception's), on
``--inception_batches`` batches after one warm-up.
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import statistics
import sys
import tempfile
import time
import traceback
from pathlib import Path

import torch
from lightning.pytorch import Callback, Trainer, seed_everything
from torch import Tensor
from torch.utils.data import DataLoader

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from _trainer import hand_written_gan_step  # noqa: E402

import lit_gans  # noqa: E402
from datamodules.base import BatchFetcher, EpochShuffleSampler, InMemoryDataset, as_batch  # noqa: E402
from lit_gans.errors import LitGansError  # noqa: E402
from lit_gans.metrics import InceptionV3Features  # noqa: E402
from lit_gans.metrics.extractors import find_inception_weights, write_random_inception_weights  # noqa: E402


def synchronize(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


class BatchTimer(Callback):
    """Wall time from the start of batch ``warmup`` to the end of the last batch, the device synchronised."""

    def __init__(self, warmup: int, device: str) -> None:
        self.warmup, self.device = warmup, device
        self.fit_start = self.start = self.end = 0.0

    def on_train_start(self, trainer, pl_module) -> None:
        synchronize(self.device)
        self.fit_start = time.perf_counter()

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if trainer.global_step == self.warmup:
            synchronize(self.device)
            self.start = time.perf_counter()

    def on_train_end(self, trainer, pl_module) -> None:
        synchronize(self.device)
        self.end = time.perf_counter()


LOOPS = ("lit-gans", "unguarded", "hand-written", "hand-written-nosync")


def random_images(args: argparse.Namespace) -> Tensor:
    """``[4 B, C, H, W]`` in ``[-1, 1]``, the same for every setting."""
    return torch.rand(args.batch_size * 4, *args.data_shape, generator=torch.Generator().manual_seed(0)) * 2 - 1


def new_model(args: argparse.Namespace, model_name: str, compiled: bool, nhwc: bool, guarded: bool = True):
    cls = getattr(lit_gans, model_name)
    if not guarded:

        class Unguarded(cls):
            def _backward_checked(self, optimizer, loss, name) -> bool:
                optimizer.zero_grad(set_to_none=True)
                self.manual_backward(loss)
                return True

        cls = Unguarded
    return cls(
        data_shape=tuple(args.data_shape),
        g_features=args.g_features,
        d_features=args.d_features,
        compile_networks=compiled,
        channels_last=nhwc,
    )


def time_hand_written(args: argparse.Namespace, precision: str, nhwc: bool, sync: bool) -> dict:
    """A plain loop over a fresh DCGAN's networks: D on real and ``G(z)`` (G without a graph), then G through a
    frozen D, both non-saturating, Adam as the model sets it, autocast as ``precision`` asks; batches sliced from
    the same images by one permutation an epoch and copied to the device, as lit-gans' loader does."""
    if precision not in ("32-true", "bf16-mixed"):
        raise ValueError(f"the hand-written loop runs 32-true and bf16-mixed, not {precision}")
    seed_everything(0, verbose=False)
    model = new_model(args, "DCGAN", compiled=False, nhwc=False)
    memory_format = torch.channels_last if nhwc else torch.contiguous_format
    G = model.generator.to(args.device, memory_format=memory_format)
    D = model.discriminator.to(args.device, memory_format=memory_format)
    opt_g = torch.optim.Adam(G.parameters(), lr=model.lr_g, betas=model.betas_g)
    opt_d = torch.optim.Adam(D.parameters(), lr=model.lr_d, betas=model.betas_d)
    autocast = torch.autocast(args.device, dtype=torch.bfloat16, enabled=precision == "bf16-mixed")
    images, batch_size = random_images(args), args.batch_size
    per_epoch, order, start = len(images) // batch_size, None, 0.0
    for step in range(args.warmup + args.steps):
        if step == args.warmup:
            synchronize(args.device)
            start = time.perf_counter()
        if step % per_epoch == 0:
            order = torch.randperm(len(images))
        index = order[(step % per_epoch) * batch_size : (step % per_epoch + 1) * batch_size]
        real = images[index].to(args.device).contiguous(memory_format=memory_format)
        d_loss, g_loss = hand_written_gan_step(G, D, opt_g, opt_d, real, model.z_dim, autocast)
        if sync:
            d_loss.item(), g_loss.item()
    synchronize(args.device)
    seconds = time.perf_counter() - start
    return {
        "batches_per_second": round(args.steps / seconds, 3),
        "images_per_second": round(args.steps * batch_size / seconds, 1),
        "g_steps_per_second": round(args.steps / seconds, 3),
        "warmup_seconds": 0.0,
        "n_critic": 1,
    }


def time_training(
    args: argparse.Namespace, model_name: str, precision: str, compiled: bool, nhwc: bool, guarded: bool = True
) -> dict:
    torch._dynamo.reset()
    seed_everything(0, verbose=False)
    model = new_model(args, model_name, compiled, nhwc, guarded)
    images = random_images(args)
    # the library's in-memory path (``GANDataModule.train_dataloader``): one slice a batch, no collation
    sampler = EpochShuffleSampler(len(images), seed=0, batch_size=args.batch_size)
    loader = DataLoader(BatchFetcher(InMemoryDataset(images)), batch_size=None, sampler=sampler, collate_fn=as_batch)
    timer = BatchTimer(args.warmup, args.device)
    trainer = Trainer(
        accelerator=args.device,
        devices=1,
        precision=precision,
        max_steps=args.warmup + args.steps,
        callbacks=[timer],
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        limit_val_batches=0,
        num_sanity_val_steps=0,
    )
    trainer.fit(model, loader)
    seconds = timer.end - timer.start
    return {
        "batches_per_second": round(args.steps / seconds, 3),
        "images_per_second": round(args.steps * args.batch_size / seconds, 1),
        "g_steps_per_second": round(args.steps / seconds / model.n_critic, 3),
        "warmup_seconds": round(timer.start - timer.fit_start, 2),
        "n_critic": model.n_critic,
    }


def time_inception(args: argparse.Namespace, weights_dir: Path) -> dict:
    try:
        weights, constructed = find_inception_weights(None, download=False, timeout=0), False
    except LitGansError:
        weights, constructed = write_random_inception_weights(weights_dir / "constructed-inception.pth"), True
    extractor = InceptionV3Features(weights_path=str(weights), download=False).to(args.device)
    images = torch.rand(args.inception_batch_size, *args.data_shape, device=args.device) * 2 - 1
    extractor(images)  # warm-up
    synchronize(args.device)
    start = time.perf_counter()
    for _ in range(args.inception_batches):
        extractor(images)
    synchronize(args.device)
    seconds = time.perf_counter() - start
    return {
        "images_per_second": round(args.inception_batches * args.inception_batch_size / seconds, 1),
        "batch_size": args.inception_batch_size,
        "constructed_weights": constructed,
    }


def loop_ratios(settings: list[dict]) -> list[dict]:
    """Each eager DCGAN loop's speed over the hand-written loop's at the same precision and memory layout."""
    speed = {
        (s["loop"], s["precision"], s["channels_last"]): s["batches_per_second"]
        for s in settings
        if s["model"] == "DCGAN" and s["compile"] == "off" and "batches_per_second" in s
    }
    return [
        {"loop": loop, "precision": precision, "channels_last": nhwc, "ratio": round(value / reference, 3)}
        for (loop, precision, nhwc), value in speed.items()
        if loop != "hand-written" and (reference := speed.get(("hand-written", precision, nhwc)))
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    parser.add_argument("--models", nargs="+", default=["DCGAN", "WGANGP"])
    parser.add_argument("--data_shape", nargs=3, type=int, default=[3, 64, 64], metavar=("C", "H", "W"))
    parser.add_argument("--batch_size", type=int, default=128)
    parser.add_argument("--g_features", type=int, default=64)
    parser.add_argument("--d_features", type=int, default=64)
    parser.add_argument("--precisions", nargs="+", default=["32-true", "bf16-mixed"])
    parser.add_argument("--compile", nargs="+", default=["off", "on"], choices=["off", "on"])
    parser.add_argument("--channels_last", nargs="+", default=["off", "on"], choices=["off", "on"])
    parser.add_argument(
        "--loops", nargs="+", default=["lit-gans"], choices=LOOPS, help="the baselines run for DCGAN, eager only"
    )
    parser.add_argument("--warmup", type=int, default=20, help="untimed batches (compilation happens here)")
    parser.add_argument("--steps", type=int, default=100, help="timed batches")
    parser.add_argument("--inception_batches", type=int, default=20, help="0 skips the Inception timing")
    parser.add_argument("--inception_batch_size", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=1, help="passes over every setting; the median is reported")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0: PyTorch's default)")
    parser.add_argument("--out", default="benchmarks/out/throughput.json")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: no CUDA device here (use --device cpu for the dry run)")

    report = {
        "args": vars(args),
        "torch": torch.__version__,
        "device_name": torch.cuda.get_device_name() if args.device == "cuda" else platform.processor() or "cpu",
        "training": [],
    }
    failures = 0

    def write() -> None:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(report, indent=1))

    settings = [
        {"loop": loop, "model": model_name, "precision": precision, "compile": compiled, "channels_last": nhwc}
        for loop, model_name, precision, compiled, nhwc in itertools.product(
            args.loops, args.models, args.precisions, args.compile, args.channels_last
        )
        if loop == "lit-gans" or (model_name == "DCGAN" and compiled == "off")
    ]
    report["training"] = settings
    for _ in range(args.rounds):  # every setting once a round: side by side, drift shared
        for setting in settings:
            if "error" in setting:
                continue
            try:
                loop, name, precision = setting["loop"], setting["model"], setting["precision"]
                compiled, nhwc = setting["compile"] == "on", setting["channels_last"] == "on"
                if loop.startswith("hand-written"):
                    timed = time_hand_written(args, precision, nhwc, sync=loop == "hand-written")
                else:
                    timed = time_training(args, name, precision, compiled, nhwc, guarded=loop == "lit-gans")
                setting.setdefault("rounds", []).append(timed)
                runs = setting["rounds"]
                setting.update(timed, batches_per_second=statistics.median(r["batches_per_second"] for r in runs))
                setting["images_per_second"] = round(setting["batches_per_second"] * args.batch_size, 1)
                setting["g_steps_per_second"] = round(setting["batches_per_second"] / timed["n_critic"], 3)
                print(json.dumps({k: v for k, v in setting.items() if k != "rounds"}), flush=True)
            except Exception as error:  # one setting's failure (e.g. no compiler) must not lose the others' numbers
                failures += 1
                setting["error"] = f"{type(error).__name__}: {error}"
                traceback.print_exc()
            write()
    report["of_hand_written"] = loop_ratios(settings)
    if report["of_hand_written"]:
        print(json.dumps({"of_hand_written": report["of_hand_written"]}), flush=True)
    write()
    if args.inception_batches > 0:
        with tempfile.TemporaryDirectory() as weights_dir:
            try:
                report["inception"] = time_inception(args, Path(weights_dir))
            except Exception as error:
                failures += 1
                report["inception"] = {"error": f"{type(error).__name__}: {error}"}
                traceback.print_exc()
        print(json.dumps({"inception": report["inception"]}), flush=True)
    write()
    print(f"wrote {args.out} ({failures} failed)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
