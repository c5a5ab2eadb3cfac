"""Proposition 1 of Goodfellow et al. 2014, shown on N(-1, 1) with a 1D z (the preset ``configs/gan_gaussian1d.yaml``:
G 1-8-1 and D 1-32-32-1 tanh MLPs, Adam 1e-3, batch 256).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/optimal_d.py

(a) For G fixed, D converges to D* = p_data / (p_data + p_g): G is frozen at snapshots of a run (``--snapshots``), a
    fresh D (``--d_seeds`` initialisations) is trained ``k`` steps on batches of the true p_data and of the frozen G,
    and its error to D*, ``int |D - D*| (p_data + p_g) / 2 dx``, is measured at each ``k`` of ``--ks``.
(b) Over a whole run (``--steps`` batches, ``--seeds``): JSD(p_data, p_g) falls, V(D, G) and -log 4 + 2 JSD approach
    -log 4, and D approaches 1/2 (``int |D - 1/2| p_data dx`` shrinks); the paper's figure 1 at each evaluation goes
    to ``--figures`` (the first seed's), with a strip of six of them and a panel of (a)'s discriminators.

p_g is exact by change of variables where G is monotone, a KDE of 20,000 samples otherwise (the tables say which).
One thread, CPU only; the results go to ``--out`` (JSON) and the tables are printed in Markdown.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from _trainer import quiet_trainer  # noqa: E402
from lightning.pytorch import Callback, seed_everything  # noqa: E402
from PIL import Image  # noqa: E402

from datamodules import Toy  # noqa: E402
from lit_gans import GAN  # noqa: E402
from lit_gans.base import eval_mode  # noqa: E402
from lit_gans.callbacks.theory import theory_figure, theory_state  # noqa: E402
from lit_gans.losses import non_saturating_d_loss  # noqa: E402
from lit_gans.metrics.optimal_d import weighted_d_error  # noqa: E402
from lit_gans.metrics.toy import distance_to_gaussian_1d  # noqa: E402
from lit_gans.networks import MLPDiscriminator  # noqa: E402

PRESET = dict(z_dim=1, g_hidden=(8,), d_hidden=(32, 32), activation="tanh", lr_g=1e-3, lr_d=1e-3)


def half_distance(state) -> float:
    """``int |D(x) - 1/2| p_data(x) dx``: 0 when D cannot tell (the game's equilibrium, D = 1/2)."""
    return float(((state.D - 0.5).abs() * state.p_data).sum() * state.dx)


def measure(model: GAN, distribution, step: int) -> tuple[dict, object]:
    state = theory_state(model, distribution)
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad(), eval_mode(model.generator):
        samples = model.generate(model.sample_latent(20_000, generator), model.generator)
    distances = distance_to_gaussian_1d(samples, distribution.modes[:, 0], distribution.std)
    row = {
        "step": step,
        **{name: float(value) for name, value in state.values.items()},
        "d_minus_half": half_distance(state),
        "wasserstein1": float(distances["wasserstein1"]),
        "p_g": "exact" if state.exact else "KDE",
    }
    return row, state


def run(seed: int, steps: int, every: int, snapshots: list[int], figures: Path | None, figure_every: int) -> dict:
    """One GAN run: the theory at every ``every`` batches (and at 0), its figure every ``figure_every`` into
    ``figures``, G's weights at ``snapshots``."""
    seed_everything(seed, verbose=False)
    data = Toy("gaussian1d", batch_size=256, seed=seed)
    model = GAN(data_shape=(1,), **PRESET)
    distribution = data.distribution
    rows, frozen = [], {}

    def evaluate(step: int) -> None:
        if step in snapshots:
            frozen[step] = copy.deepcopy(model.generator).eval()
        if step % every == 0:
            row, state = measure(model, distribution, step)
            rows.append(row)
            if figures is not None and step % figure_every == 0:
                title = (
                    f"step {step}: JSD {row['jsd']:.4f}, V(D, G) {row['value']:.4f}, "
                    f"-log 4 + 2 JSD {row['value_at_optimum']:.4f}, |D - D*| {row['d_error']:.4f}"
                )
                Image.fromarray(theory_figure(state, title)).save(figures / f"run_step{step:05d}.png")

    class Along(Callback):
        def on_train_start(self, trainer, pl_module) -> None:
            evaluate(0)

        def on_train_batch_end(self, trainer, *args) -> None:
            evaluate(trainer.global_step)

    trainer = quiet_trainer(max_steps=steps, callbacks=[Along()])
    start = time.process_time()
    trainer.fit(model, data)
    return {"seed": seed, "rows": rows, "cpu_seconds": round(time.process_time() - start, 1), "frozen": frozen}


def train_d_against(G: torch.nn.Module, distribution, ks: list[int], d_seed: int, lr: float) -> tuple[list, dict]:
    """A fresh D trained ``max(ks)`` steps on batches of 256 from p_data and from the frozen G (Algorithm 1's inner
    loop without the G step): its weighted error to D* after each ``k`` in ``ks``, and D on the grid there."""
    model = GAN(data_shape=(1,), **PRESET)
    model.generator = G
    state = theory_state(model, distribution)  # p_g, D* of the frozen G on the grid
    torch.manual_seed(d_seed)
    D = MLPDiscriminator((1,), PRESET["d_hidden"], activation="tanh")
    optimizer = torch.optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999))
    batches = torch.Generator().manual_seed(10_000 + d_seed)
    x_grid = state.x[:, None].float()
    errors, curves = [], {}
    for k in range(max(ks) + 1):
        if k in ks:
            with torch.no_grad():
                d = torch.sigmoid(D(x_grid).reshape(-1).double())
            errors.append(float(weighted_d_error(d, state.D_star, state.p_data, state.p_g, state.dx, state.mask)))
            curves[k] = d
        if k == max(ks):
            break
        real, _ = distribution.sample(256, batches)
        with torch.no_grad():
            fake = G(torch.randn(256, 1, generator=batches))
        loss = non_saturating_d_loss(D(real), D(fake))  # -log D(x) - log(1 - D(G(z)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return errors, {"state": state, "curves": curves}


def proposition_figure(panels: dict[int, dict], path: Path) -> None:
    """One panel per snapshot: p_data, p_g, D* and D after k steps (lighter for fewer)."""
    figure, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.4), dpi=100, squeeze=False)
    for axis, (step, panel) in zip(axes[0], panels.items()):
        state = panel["state"]
        x = state.x.numpy()
        d_star = np.where(state.mask.numpy(), state.D_star.numpy(), np.nan)
        axis.plot(x, state.p_data.numpy(), "k:", lw=2, label="p_data")
        axis.plot(x, state.p_g.numpy(), color="green", lw=1.5, label="p_g" + ("" if state.exact else " (KDE)"))
        axis.plot(x, d_star, color="tab:blue", alpha=0.3, lw=4, label="D*")
        shown = [k for k in panel["curves"] if k in (0, 10, 100, 1000)] or list(panel["curves"])
        colours = plt.cm.plasma(np.linspace(0.0, 0.8, len(shown)))  # dark (k = 0) to yellow (most steps)
        for colour, k in zip(colours, shown):
            axis.plot(x, panel["curves"][k].numpy(), ls="--", color=colour, lw=1.3, label=f"D, k={k}")
        axis.set_ylim(0, 1.3)
        axis.set_xlim(max(x[0], -6), min(x[-1], 4))
        axis.set_title(f"G frozen at step {step}", fontsize=9)
        axis.legend(fontsize=7, loc="upper right")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)


def strip(paths: list[Path], path: Path) -> None:
    """Six figures in a 2 x 3 strip."""
    images = [np.asarray(Image.open(p).convert("RGB")) for p in paths]
    rows = [np.concatenate(images[i : i + 3], axis=1) for i in range(0, len(images), 3)]
    Image.fromarray(np.concatenate(rows, axis=0)).save(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--every", type=int, default=250)
    parser.add_argument("--figure_every", type=int, default=500)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--snapshots", type=int, nargs="+", default=[0, 200, 1000])
    parser.add_argument("--ks", type=int, nargs="+", default=[0, 10, 30, 100, 300, 1000])
    parser.add_argument("--d_seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "optimal_d.json")
    parser.add_argument("--figures", type=Path, default=REPO / "benchmarks" / "results" / "optimal_d")
    args = parser.parse_args()
    torch.set_num_threads(1)
    args.figures.mkdir(parents=True, exist_ok=True)
    start = time.process_time()

    runs = [
        run(seed, args.steps, args.every, args.snapshots, args.figures if i == 0 else None, args.figure_every)
        for i, seed in enumerate(args.seeds)
    ]
    distribution = Toy("gaussian1d").distribution
    proposition, panels = [], {}
    for step in args.snapshots:
        errors, panel = [], None
        for d_seed in args.d_seeds:
            found, curves = train_d_against(runs[0]["frozen"][step], distribution, args.ks, d_seed, PRESET["lr_d"])
            errors.append(found)
            panel = panel or curves
        panels[step] = panel
        proposition.append(
            {
                "g_step": step,
                "p_g": "exact" if panel["state"].exact else "KDE",
                "jsd": float(panel["state"].values["jsd"]),
                "errors": {str(k): [e[i] for e in errors] for i, k in enumerate(args.ks)},
            }
        )
    proposition_figure(panels, args.figures / "proposition1.png")
    steps = [row["step"] for row in runs[0]["rows"]]
    drawn = [step for step in steps if step % args.figure_every == 0]
    picked = [drawn[round(i * (len(drawn) - 1) / 5)] for i in range(6)]
    strip([args.figures / f"run_step{s:05d}.png" for s in picked], args.figures / "run_strip.png")

    lines = [
        f"\n(a) Proposition 1: a fresh D trained k steps against G frozen at a step of seed {args.seeds[0]}'s run; "
        f"int |D - D*| (p_data + p_g)/2 dx, mean (min-max) over {len(args.d_seeds)} D initialisations\n",
        "| G frozen at step | p_g | JSD | " + " | ".join(f"k = {k}" for k in args.ks) + " |",
        "| ---: | --- | ---: | " + " | ".join("---:" for _ in args.ks) + " |",
    ]
    for row in proposition:
        cells = []
        for k in args.ks:
            e = row["errors"][str(k)]
            cells.append(f"{np.mean(e):.4f} ({min(e):.4f}-{max(e):.4f})")
        lines.append(f"| {row['g_step']} | {row['p_g']} | {row['jsd']:.4f} | " + " | ".join(cells) + " |")
    lines += [
        f"\n(b) one run per seed ({', '.join(map(str, args.seeds))}): mean over seeds (max); -log 4 = "
        f"{-math.log(4):.4f}\n",
        "| step | JSD | V(D, G) | -log 4 + 2 JSD | int abs(D - D*) (p_data+p_g)/2 | int abs(D - 1/2) p_data | W1 | "
        "p_g exact |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for i, step in enumerate(steps):
        rows = [r["rows"][i] for r in runs]

        def cell(name: str, rows=rows) -> str:
            values = [r[name] for r in rows]
            return f"{np.mean(values):.4f} ({max(values):.4f})"

        exact = sum(r["p_g"] == "exact" for r in rows)
        lines.append(
            f"| {step} | {cell('jsd')} | {np.mean([r['value'] for r in rows]):.4f} "
            f"| {np.mean([r['value_at_optimum'] for r in rows]):.4f} | {cell('d_error')} | {cell('d_minus_half')} "
            f"| {cell('wasserstein1')} | {exact}/{len(rows)} |"
        )
    cpu = round(time.process_time() - start, 1)
    lines.append(f"\nCPU seconds in all: {cpu} (runs: {', '.join(str(r['cpu_seconds']) for r in runs)})")
    print("\n".join(lines))
    results = {
        "command": "OMP_NUM_THREADS=1 .venv/bin/python benchmarks/optimal_d.py " + " ".join(sys.argv[1:]),
        "preset": {k: list(v) if isinstance(v, tuple) else v for k, v in PRESET.items()},
        "batch_size": 256,
        "data": "Toy gaussian1d: N(-1, 1)",
        "proposition1": proposition,
        "runs": [{k: v for k, v in r.items() if k != "frozen"} for r in runs],
        "figures": sorted(str(p.relative_to(REPO)) for p in args.figures.glob("*.png")),
        "cpu_seconds": cpu,
        "torch": torch.__version__,
    }
    args.out.write_text(json.dumps(results, indent=1) + "\n")


if __name__ == "__main__":
    main()
