"""Compare two results trees: every .npz, .parquet and .json artifact, exactly.

    python tools/compare_results.py RESULTS_A RESULTS_B

Arrays must match exactly (same keys, dtypes, shapes and values, NaNs in the same places),
parquet tables exactly (schema and values), JSON exactly except for keys that hold timings,
timestamps, versions or machine paths (:data:`VOLATILE`; likewise parquet columns of timings).  W&B runs, logs and benchmarks are
skipped (they hold run ids and times).  Exits 1 listing every difference, 0 when identical.
Used to prove that a refactor changes no number (the same config and seed before and after).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

SKIP_DIRS = {"wandb", "logs", "benchmarks", "checkpoints"}
SUFFIXES = {".npz", ".parquet", ".json"}
# JSON keys whose values are not numbers of the science: timings, timestamps, versions, paths
VOLATILE = re.compile(r"seconds|_time$|created|timestamp|version|path$|dir$|^lindiff_sha256$")


def artifacts(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")
            if p.is_file() and p.suffix in SUFFIXES and not SKIP_DIRS & set(p.relative_to(root).parts)}


def compare_npz(a: Path, b: Path) -> list[str]:
    with np.load(a, allow_pickle=False) as x, np.load(b, allow_pickle=False) as y:
        if sorted(x.files) != sorted(y.files):
            return [f"keys {sorted(x.files)} != {sorted(y.files)}"]
        problems = []
        for key in x.files:
            u, v = x[key], y[key]
            if u.dtype != v.dtype or u.shape != v.shape:
                problems.append(f"{key}: {u.dtype}{u.shape} != {v.dtype}{v.shape}")
            elif not np.array_equal(u, v, equal_nan=u.dtype.kind in "fc"):
                problems.append(f"{key}: values differ (max |diff| {np.nanmax(np.abs(u.astype(float) - v)):.3g})"
                                if u.dtype.kind in "fiu" else f"{key}: values differ")
        return problems


def compare_parquet(a: Path, b: Path) -> list[str]:
    x, y = pq.read_table(a), pq.read_table(b)
    # timing columns (a training history's per-epoch "seconds") are not numbers of the science
    x, y = (t.drop_columns([c for c in t.column_names if VOLATILE.search(c)]) for t in (x, y))
    if x.schema.remove_metadata() != y.schema.remove_metadata():
        return [f"schema {x.schema.names} != {y.schema.names}"]
    return [] if x.equals(y) else ["values differ"]


def _strip(value):
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if not VOLATILE.search(str(k))}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def compare_json(a: Path, b: Path) -> list[str]:
    x, y = _strip(json.loads(a.read_text())), _strip(json.loads(b.read_text()))
    if x == y:
        return []
    if isinstance(x, dict) and isinstance(y, dict):
        keys = sorted(k for k in set(x) | set(y) if x.get(k) != y.get(k))
        return [f"keys differ: {keys[:10]}"]
    return ["values differ"]


COMPARE = {".npz": compare_npz, ".parquet": compare_parquet, ".json": compare_json}


def compare_trees(root_a: Path, root_b: Path) -> tuple[int, list[str]]:
    """``(number of files compared, differences)``."""
    files_a, files_b = artifacts(root_a), artifacts(root_b)
    problems = [f"only in {root_a}: {f}" for f in sorted(files_a - files_b)]
    problems += [f"only in {root_b}: {f}" for f in sorted(files_b - files_a)]
    common = sorted(files_a & files_b)
    for rel in common:
        problems += [f"{rel}: {p}" for p in COMPARE[Path(rel).suffix](root_a / rel, root_b / rel)]
    return len(common), problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a", type=Path)
    parser.add_argument("b", type=Path)
    args = parser.parse_args(argv)
    count, problems = compare_trees(args.a, args.b)
    by_kind = {s: sum(1 for f in artifacts(args.a) & artifacts(args.b) if f.endswith(s)) for s in SUFFIXES}
    for problem in problems:
        print(problem)
    print(f"compared {count} files ({', '.join(f'{n} {s}' for s, n in sorted(by_kind.items()))}): "
          f"{'identical' if not problems else f'{len(problems)} differences'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
