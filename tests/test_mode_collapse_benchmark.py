"""benchmarks/mode_collapse.py runs end to end on a tiny budget, with a variant, model options over it, the
learning-rate decay and the per-mode counts behind its scores."""

import json

from tests.helpers import run_in_repo


def test_mode_collapse_benchmark_runs_a_variant_with_options_and_decay(tmp_path):
    out = tmp_path / "runs.json"
    args = ["--models", "PacGAN4+paper_nets", "--datasets", "ring", "--seeds", "0", "--batches", "6", "--evals", "2"]
    args += ["--batch_size", "16", "--updates_per_batch", "2", "--workers", "1", "--lr_decay_from", "0.5"]
    # the variant's 4 x 400 / 3 x 200 networks, made tiny by --options (which override the variant's)
    args += ["--options", '{"g_hidden": [8, 8], "d_hidden": [8]}', "--ema_decay", "0.9", "--out", str(out)]
    done = run_in_repo("benchmarks/mode_collapse.py", *args)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "PacGAN4+paper_nets (EMA G)" in done.stdout
    (run,) = json.loads(out.read_text())["results"]
    assert run["g_steps"] == 6 and [t["batches"] for t in run["trajectory"]] == [4, 6]  # evals at 3 and 6 -> batches
    for scores in (run, run["without_ema"], *run["trajectory"]):
        assert len(scores["per_mode"]) == 8
        assert sum(scores["per_mode"]) == round(2_500 * scores["high_quality"])  # the high-quality samples' histogram
        assert scores["modes"] == sum(count > 0 for count in scores["per_mode"])
