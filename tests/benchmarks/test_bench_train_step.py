"""benchmarks/bench_train_step.py (issue 14): it times a real training step of a preset in both
precisions and prints their ratio."""

from __future__ import annotations

import re

from helpers import load_script


def test_the_benchmark_times_both_precisions_and_prints_the_ratio(capsys):
    bench = load_script("benchmarks/bench_train_step.py")
    assert bench.main(["--preset", "digits_ddpm", "--image-side", "8", "--n-train", "1000",
                       "--warmup", "1", "--repeats", "2"]) == 0
    out = capsys.readouterr().out
    assert "batch 64, 200 epochs x 15 steps" in out  # digits_ddpm: 1000 // 64 steps per epoch
    times = [float(t) for t in re.findall(r"precision +\S+: ([0-9.]+) ms/step", out)]
    assert len(times) == 2 and all(t > 0 for t in times)
    ratio = float(re.search(r"ratio float32 / bf16-mixed: ([0-9.]+)x", out).group(1))
    # the times print to 1 µs and the ratio to 0.01: the printed ratio is the printed times' to rounding
    assert abs(ratio - times[0] / times[1]) <= 0.01 * ratio + 0.005
