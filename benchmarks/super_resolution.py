"""Super-resolution benchmark: bicubic upsampling, the SRResNet and SRGAN (Ledig et al. 2017), 4x, on MNIST
(7 px -> 28 px) and Shapes (16 px -> 64 px), side by side.

    python benchmarks/super_resolution.py            # both datasets at once, one process and one thread each

For each dataset, from the presets' networks and data (``configs/srresnet_*.yaml``, ``configs/srgan_*.yaml``):

(a) bicubic upsampling of the low-resolution input (``F.interpolate(..., mode="bicubic")``, clamped to [-1, 1]);
(b) the SRResNet (``content pixel``, ``lambda_adv 0``: MSE only, D neither run nor trained), trained for a fixed CPU
    budget on one thread (``CPUTimeLimit``): 8 CPU minutes on MNIST, 12 on Shapes;
(c) SRGAN (``content features``: MSE between the content classifier's block-3 pre-activations, plus 1e-3
    ``-log D(G(x))``), initialised from (b)'s G as in the paper, for a CPU budget of its own (8 and 12 minutes);
(d) the control: (b) trained on with its MSE for (c)'s budget (``srresnet_longer``), so that (c) against (b) does not
    merely measure more training.

``--reuse`` takes the runs already in ``--out`` (a checkpoint and its ``training.json`` each) instead of training them
again.

Scored on the datamodule's held-out validation split (MNIST: the last 1,000 images of the test split, which training
never sees; Shapes: 1,000 images drawn from the validation seed) against the real high-resolution images: PSNR and
SSIM (``image_similarity``, in [0, 1]), the FID of a classifier's penultimate features (``ClassifierFeatures``),
two sharpness ratios to the real images (mean |Laplacian|, ``benchmarks/translation.laplacian_energy``, and the mean
squared neighbour difference, ``benchmarks/vae_mnist.sharpness``; 1 is as sharp as the real images, blur lowers it)
and that classifier's accuracy on the super-resolved images. The FID/accuracy classifier is NOT the content network:
another width (48 against 32) and seed (1 against 0). Both are trained here when missing:

    python cli.py classifier --data MNIST --data.root ../shared/data/mnist --data.split test \\
        --output classifiers/mnist.pt                                                     (content; 5 epochs)
    python cli.py classifier --data MNIST --data.root ../shared/data/mnist --data.split test --width 48 --seed 1 \\
        --output classifiers/mnist_eval.pt                                                (evaluation)
    python cli.py classifier --data Shapes --data.image_size 64 --data.num_train 4000 --data.num_val 1000 \\
        --epochs 2 --output classifiers/shapes_64.pt                                      (content)
    python cli.py classifier --data Shapes --data.image_size 64 --data.num_train 4000 --data.num_val 1000 \\
        --epochs 2 --width 48 --seed 1 --output classifiers/shapes_64_eval.pt             (evaluation)

Writes ``benchmarks/results/super_resolution.json`` and a grid per dataset in
``benchmarks/results/super_resolution/``: one held-out image a row, LR (nearest-upsampled) | bicubic | SRResNet |
SRGAN | HR.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from _trainer import quiet_trainer  # noqa: E402  (benchmarks/_trainer.py)
from translation import laplacian_energy  # noqa: E402  (benchmarks/translation.py)
from vae_mnist import sharpness  # noqa: E402  (benchmarks/vae_mnist.py)

MNIST_ROOT = str(REPO.parent / "shared" / "data" / "mnist")
DATASETS = {
    "mnist": {
        "presets": ("configs/srresnet_mnist.yaml", "configs/srgan_mnist.yaml"),
        "images": {"root": MNIST_ROOT, "split": "test"},
        "content": "classifiers/mnist.pt",
        "evaluation": "classifiers/mnist_eval.pt",
        "classifier_data": ["--data", "MNIST", "--data.root", MNIST_ROOT, "--data.split", "test"],
        "content_epochs": 5,
        "budgets": (480, 480),  # CPU seconds: SRResNet, then SRGAN
    },
    "shapes": {
        "presets": ("configs/srresnet_shapes.yaml", "configs/srgan_shapes.yaml"),
        "images": {"num_train": 4000, "num_val": 1000},
        "content": "classifiers/shapes_64.pt",
        "evaluation": "classifiers/shapes_64_eval.pt",
        "classifier_data": ["--data", "Shapes", "--data.image_size", "64", "--data.num_train", "4000"]
        + ["--data.num_val", "1000"],
        "content_epochs": 2,
        "budgets": (720, 720),
    },
}
GRID_ROWS = 8


def make(entry: dict, **overrides):
    """The object a preset's ``{class_path, init_args}`` describes (nested ones too), ``overrides`` on top."""
    module, name = entry["class_path"].rsplit(".", 1)
    args = {**entry.get("init_args", {}), **overrides}
    args = {k: make(v) if isinstance(v, dict) and "class_path" in v else v for k, v in args.items()}
    return getattr(importlib.import_module(module), name)(**args)


def build(preset: str, images: dict, **model_overrides):
    config = yaml.safe_load((REPO / preset).read_text())
    data_entry = config["data"]
    data_entry["init_args"]["images"]["init_args"].update(images)
    data = make(data_entry)
    return make(config["model"], data_shape=data.data_shape, **model_overrides), data


def ensure_classifier(path: str, data_args: list[str], extra: list[str]) -> None:
    if (REPO / path).is_file():
        return
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "cli.py", "classifier", *data_args, *extra, "--output", path]
    print(" ".join(command), flush=True)
    subprocess.run(command, cwd=REPO, env=env, check=True)


def trained(model, data, seconds: float, root: Path, reuse: bool):
    """``model`` after ``seconds`` of CPU training, and what that took; with ``reuse``, the run already in ``root``
    (its ``last.ckpt`` and ``training.json``) when there is one."""
    from lit_gans.commands.checkpoints import load_gan

    if reuse and (root / "last.ckpt").is_file() and (root / "training.json").is_file():
        return load_gan(root / "last.ckpt"), json.loads((root / "training.json").read_text())
    record = fit(model, data, seconds, root)
    (root / "training.json").write_text(json.dumps(record))
    return model, record


def fit(model, data, seconds: float, root: Path) -> dict:
    from lit_gans.callbacks import CPUTimeLimit

    limit = CPUTimeLimit(seconds)
    trainer = quiet_trainer(max_steps=-1, default_root_dir=str(root), callbacks=[limit])
    start = time.perf_counter()
    trainer.fit(model, data)
    trainer.save_checkpoint(root / "last.ckpt")
    return {
        "steps": model.d_steps,
        "cpu_seconds": round(limit.used, 1),
        "wall_seconds": round(time.perf_counter() - start, 1),
    }


@torch.no_grad()
def scores(sr: torch.Tensor, hr: torch.Tensor, labels: torch.Tensor, evaluation) -> dict:
    from lit_gans.callbacks.translation import image_similarity
    from lit_gans.metrics.functional import frechet_distance, gaussian_statistics

    similarity = {
        k: torch.cat([image_similarity(a, b)[k] for a, b in zip(sr.split(250), hr.split(250))])
        for k in ("psnr", "ssim")
    }
    real_features, _ = zip(*(evaluation(chunk) for chunk in hr.split(250)))
    fake_features, fake_logits = zip(*(evaluation(chunk) for chunk in sr.split(250)))
    real_features, fake_features = torch.cat(real_features).double(), torch.cat(fake_features).double()
    fid = frechet_distance(*gaussian_statistics(real_features), *gaussian_statistics(fake_features))
    return {
        "psnr": round(similarity["psnr"].mean().item(), 3),
        "ssim": round(similarity["ssim"].mean().item(), 4),
        "fid": round(float(fid), 3),
        "sharpness_laplacian": round(float(laplacian_energy(sr) / laplacian_energy(hr)), 3),
        "sharpness_neighbours": round(sharpness(sr) / sharpness(hr), 3),
        "accuracy": round((torch.cat(fake_logits).argmax(1) == labels).float().mean().item(), 4),
    }


def run_dataset(name: str, out: Path, results: Path, budget_factor: float = 1.0, reuse: bool = False) -> dict:
    from lightning.pytorch import seed_everything

    from lit_gans.callbacks import image_grid, write_png
    from lit_gans.metrics import ClassifierFeatures

    torch.set_num_threads(1)
    spec = DATASETS[name]
    ensure_classifier(spec["content"], spec["classifier_data"], ["--epochs", str(spec["content_epochs"])])
    ensure_classifier(
        spec["evaluation"],
        spec["classifier_data"],
        ["--epochs", str(spec["content_epochs"]), "--width", "48", "--seed", "1"],
    )
    srresnet_preset, srgan_preset = spec["presets"]
    budget_srresnet, budget_srgan = (seconds * budget_factor for seconds in spec["budgets"])
    root = out / name
    root.mkdir(parents=True, exist_ok=True)

    runs, models = {}, {}
    seed_everything(0, verbose=False)
    models["srresnet"], runs["srresnet"] = trained(
        *build(srresnet_preset, spec["images"]), budget_srresnet, root / "srresnet", reuse
    )
    print(name, "SRResNet", runs["srresnet"], flush=True)
    start = str(root / "srresnet" / "last.ckpt")
    seed_everything(0, verbose=False)
    content = str(REPO / spec["content"])
    srgan, data = build(srgan_preset, spec["images"], content="features", content_network=content, init_ckpt=start)
    models["srgan"], runs["srgan"] = trained(srgan, data, budget_srgan, root / "srgan", reuse)
    print(name, "SRGAN", runs["srgan"], flush=True)
    # the control: the SRResNet trained on for SRGAN's extra budget, so that (c) against (b) is not just more training
    seed_everything(0, verbose=False)
    longer, _ = build(srresnet_preset, spec["images"], init_ckpt=start)
    models["srresnet_longer"], runs["srresnet_longer"] = trained(
        longer, data, budget_srgan, root / "srresnet_longer", reuse
    )
    print(name, "SRResNet, trained on", runs["srresnet_longer"], flush=True)

    data.setup("validate")
    lr, hr, labels = (
        torch.stack([torch.as_tensor(data.val_set[i][k]) for i in range(len(data.val_set))]) for k in range(3)
    )
    outputs = {
        "bicubic": F.interpolate(lr, scale_factor=data.scale, mode="bicubic", align_corners=False).clamp(-1, 1),
        **{method: torch.cat([model.translate(chunk) for chunk in lr.split(250)]) for method, model in models.items()},
    }
    evaluation = ClassifierFeatures(str(REPO / spec["evaluation"]))
    table = {method: scores(images, hr, labels, evaluation) for method, images in outputs.items()}
    table["hr"] = {
        "accuracy": round(
            (torch.cat([evaluation(c)[1] for c in hr.split(250)]).argmax(1) == labels).float().mean().item(), 4
        )
    }
    nearest = F.interpolate(lr[:GRID_ROWS], scale_factor=data.scale, mode="nearest")
    rows = torch.stack(
        [nearest, *(outputs[m][:GRID_ROWS] for m in ("bicubic", "srresnet", "srgan")), hr[:GRID_ROWS]], dim=1
    )
    grid = write_png(image_grid(rows.flatten(0, 1), nrow=5), results / f"{name}.png")
    record = {
        "data": f"{type(data.images).__name__} {tuple(data.low_resolution_shape)} -> {tuple(data.data_shape)}",
        "held_out": len(hr),
        "presets": list(spec["presets"]),
        "budgets_cpu_seconds": [budget_srresnet, budget_srgan],
        "content_network": spec["content"],
        "evaluation_classifier": evaluation.protocol(),
        "training": runs,
        "scores": table,
        "grid": str(grid.relative_to(REPO) if grid.is_relative_to(REPO) else grid),
    }
    print(name, json.dumps(table), flush=True)
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--dataset", choices=sorted(DATASETS), help="one dataset in this process (default: both, side by side)"
    )
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "out" / "super_resolution"), help="checkpoints")
    parser.add_argument("--results", default=str(REPO / "benchmarks" / "results"), help="JSON and grids")
    parser.add_argument(
        "--budget_factor", type=float, default=1.0, help="scales every CPU budget (a quick check: 0.05)"
    )
    parser.add_argument("--reuse", action="store_true", help="take the runs already in --out instead of training")
    args = parser.parse_args()
    out, results = Path(args.out), Path(args.results)
    if args.dataset:
        record = run_dataset(args.dataset, out, results / "super_resolution", args.budget_factor, args.reuse)
        (out / f"{args.dataset}.json").write_text(json.dumps(record, indent=2))
        return
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    start = time.perf_counter()
    workers = [
        subprocess.Popen(
            [sys.executable, __file__, "--dataset", name, "--out", str(out), "--results", str(results)]
            + ["--budget_factor", str(args.budget_factor)]
            + (["--reuse"] if args.reuse else []),
            env=env,
        )
        for name in DATASETS
    ]
    if any(worker.wait() for worker in workers):
        raise SystemExit("a dataset's run failed; see its output above")
    combined = {
        "command": "python benchmarks/super_resolution.py"
        + (f" --budget_factor {args.budget_factor:g}" if args.budget_factor != 1 else "")
        + (" --reuse" if args.reuse else ""),
        "wall_seconds": round(time.perf_counter() - start, 1),
        **{name: json.loads((out / f"{name}.json").read_text()) for name in DATASETS},
    }
    path = results / "super_resolution.json"
    path.write_text(json.dumps(combined, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
