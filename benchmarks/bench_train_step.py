"""Benchmark: one optimizer step of a deep denoiser preset in float32 vs bf16-mixed, in one run.

    python benchmarks/bench_train_step.py                         # mnist_ddpm, 28x28, its batch size
    python benchmarks/bench_train_step.py --preset digits_ddpm --image-side 8
    python benchmarks/bench_train_step.py --n-data 20000 --repeats 20

For each ``TrainConfig.precision`` (``"32"`` and ``"bf16-mixed"``) it builds the preset's network
(same initial weights), runs ``--warmup`` steps and then ``--repeats`` timed steps of the real
training step (``lindiff.deep.train._train_epoch`` on a batch-sized data set: the loss of the
model kind, under the precision's autocast, Adam and the EMA update), and prints the median
seconds per step, the ratio float32 / bf16-mixed, and the preset's projected training time
(``epochs × ⌊n_train / batch_size⌋`` steps, without validation).  Machines here are shared:
compare the ratio, not the absolute seconds.  bf16 is fast only on CPUs with AVX-512 bf16 / AMX
units (or a GPU); elsewhere the ratio can fall below 1.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import statistics
import time

import numpy as np
import torch

from lindiff.deep.config import PRECISIONS, preset_config
from lindiff.deep.models import count_parameters, wrap_denoiser
from lindiff.deep.train import _train_epoch, split_sizes


def step_seconds(cfg, image_side: int, warmup: int, repeats: int, seed: int = 0) -> float:
    """Median seconds of one training step of ``cfg`` on random images (the cost does not depend
    on the data)."""
    torch.manual_seed(seed)
    model = wrap_denoiser(cfg.model, (image_side, image_side))
    ema = copy.deepcopy(model) if cfg.ema_decay > 0 else None
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    gen = torch.Generator().manual_seed(seed)
    images = torch.rand(cfg.batch_size, 1, image_side, image_side, generator=gen)
    for _ in range(warmup):
        _train_epoch(model, opt, images, cfg, gen, None, ema)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        _train_epoch(model, opt, images, cfg, gen, None, ema)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="mnist_ddpm")
    parser.add_argument("--image-side", type=int, default=28)
    parser.add_argument("--n-data", type=int, default=50000, help="data rows (the paper sweep's MNIST n)")
    parser.add_argument("--n-train", type=int, default=None,
                        help="training rows (default: what training keeps of --n-data after its validation split)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    base = preset_config(args.preset)
    n_train = args.n_train if args.n_train is not None else split_sizes(args.n_data, base)[0]
    net = wrap_denoiser(base.model, (args.image_side, args.image_side))
    steps = base.epochs * (n_train // base.batch_size)
    print(f"preset {args.preset}: {base.model.kind}, {count_parameters(net)} parameters, batch {base.batch_size}, "
          f"{base.epochs} epochs x {n_train // base.batch_size} steps, {torch.get_num_threads()} threads")
    seconds = {}
    for precision in PRECISIONS:
        cfg = dataclasses.replace(base, precision=precision)
        seconds[precision] = step_seconds(cfg, args.image_side, args.warmup, args.repeats)
        print(f"  precision {precision:>10}: {1e3 * seconds[precision]:.3f} ms/step  "
              f"-> {steps * seconds[precision] / 60:.1f} min of training steps")
    ratio = seconds["32"] / seconds["bf16-mixed"]
    print(f"  ratio float32 / bf16-mixed: {ratio:.2f}x (preset precision: {base.precision})")
    return 0 if np.isfinite(ratio) else 1


if __name__ == "__main__":
    raise SystemExit(main())
