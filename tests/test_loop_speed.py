"""benchmarks/loop_speed.py runs end to end on tiny budgets: both loops train the same networks and it reports the
ratio it is run for."""

import json

from tests.helpers import run_in_repo


def test_loop_speed_benchmark_runs_on_the_toy_task(tmp_path):
    out = tmp_path / "rounds.json"
    args = ["--task", "toy", "--steps", "5", "--warmup", "2", "--rounds", "2", "--json", str(out)]
    done = run_in_repo("benchmarks/loop_speed.py", *args)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "median ratio lit-gans / hand-written, 1 update(s) a batch" in done.stdout
    result = json.loads(out.read_text())
    assert result["task"] == "toy" and len(result["rounds"]) == 2
    assert all(r["hand_written"] > 0 and r["lit_gans"] > 0 for r in result["rounds"])
    ratios = [r["ratio"] for r in result["rounds"]]
    assert abs(result["median"] - sum(ratios) / 2) < 1e-9  # the median of two rounds is their mean
    assert all(abs(r["ratio"] - r["lit_gans"] / r["hand_written"]) < 0.01 * r["ratio"] for r in result["rounds"])


def test_loop_speed_benchmark_takes_turns_with_several_updates_a_batch(tmp_path):
    out = tmp_path / "rounds.json"
    args = [
        "--task",
        "toy",
        "--steps",
        "8",
        "--warmup",
        "2",
        "--rounds",
        "1",
        "--turns",
        "--updates_per_batch",
        "1",
        "4",
    ]
    done = run_in_repo("benchmarks/loop_speed.py", *args, "--json", str(out))
    assert done.returncode == 0, done.stderr[-2000:]
    assert "taking turns" in done.stdout
    reports = json.loads(out.read_text())
    assert [r["updates_per_batch"] for r in reports] == [1, 4] and all(r["turns"] for r in reports)
    for report in reports:
        (row,) = report["rounds"]
        assert row["hand_written"] > 0 and row["lit_gans"] > 0
        assert abs(row["ratio"] - row["lit_gans"] / row["hand_written"]) < 0.01 * row["ratio"]
