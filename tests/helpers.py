"""Shared helpers of the tests: run the real ``snakemake`` CLI on this repository's workflow,
and the artifact paths of a point, derived from the sweep levels (never written out by hand)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

from lindiff.pipeline.levels import LEVELS

REPO = Path(__file__).resolve().parents[1]


def load_script(relative: str):
    """A script of the repository (``benchmarks/bench_jobs.py``) imported as a module, to call its ``main``."""
    path = REPO / relative
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def snakemake_command(workdir: Path, overrides: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "snakemake", "-s", str(REPO / "Snakefile"), "--directory", str(workdir),
            "--config", f"overrides={overrides}", *args]


def run_snakemake(workdir: Path, overrides: str, *args: str, env=None, timeout=600) -> subprocess.CompletedProcess:
    """``snakemake -s <repo>/Snakefile --directory workdir --config overrides=... args``."""
    return subprocess.run(snakemake_command(workdir, overrides, *args), capture_output=True, text=True,
                          env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}, timeout=timeout)


def point_dir(level: str, results: str = "results", **values) -> Path:
    """The directory of a point of ``level`` (``results/<pattern formatted with values>``)."""
    return Path(LEVELS[level].point(**values).dir(results))


def snakemake(workdir: Path, *args: str, overrides: str) -> subprocess.CompletedProcess:
    """:func:`run_snakemake` with the overrides as a keyword (reads like the command line)."""
    return run_snakemake(workdir, overrides, *args)


def planned_jobs(workdir: Path, overrides: str, until: str) -> dict[str, int]:
    """The jobs a dry run up to rule ``until`` plans with ``overrides``: rule -> count (Snakemake's
    job stats)."""
    dry = snakemake(workdir, "-n", "--quiet", "rules", "--until", until, overrides=overrides)
    assert dry.returncode == 0, dry.stderr[-3000:]
    rows = (line.split() for line in dry.stdout.splitlines())
    return {row[0]: int(row[1]) for row in rows if len(row) == 2 and row[1].isdigit() and row[0] != "total"}


def copy_run(source: Path, workdir: Path) -> Path:
    """A copy of the finished run in ``source`` (results, Snakemake's state, mtimes kept) in
    ``workdir``, for a test that changes a run shared with other tests."""
    shutil.copytree(source, workdir, symlinks=True, dirs_exist_ok=True)
    return workdir


def flip_inside_largest_member(path: Path, keep_mtime: bool = False) -> None:
    """Flip one byte in the stored data of the largest member of a zip file (an ``.npz``, a torch
    file): only the member's CRC can tell. ``keep_mtime``: leave its modification time as it was
    (else the write makes it newer, and Snakemake reruns the jobs that read it)."""
    import zipfile

    stat = path.stat()
    with zipfile.ZipFile(path) as archive:
        info = max(archive.infolist(), key=lambda m: m.compress_size)
    data = bytearray(path.read_bytes())
    local = data[info.header_offset + 26:info.header_offset + 30]  # the local header's name and extra lengths
    start = info.header_offset + 30 + int.from_bytes(local[:2], "little") + int.from_bytes(local[2:], "little")
    data[start + info.compress_size // 2] ^= 0x10
    path.write_bytes(bytes(data))
    if keep_mtime:
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))

