"""Processes of a workflow run: stale Snakemake locks after a ``kill -9``, and orphaned jobs.

When the Snakemake process is killed (``kill -9``, a lost terminal, an out-of-memory kill), it
leaves its directory locks behind, and the job it was running goes on as an orphan, still
writing.  Two guards make the next run recover by itself:

* :class:`RunRegistry`: each Snakemake process that parses the Snakefile records itself (pid
  and start time) under ``.snakemake/lindiff/runs/``.  A later process that finds Snakemake's
  locks while every recorded process is gone removes those locks (they are stale) and says so;
  while a recorded process is alive, the locks stay and Snakemake refuses to run, as it should.
* :func:`watch_parent`: a job stops as soon as the Snakemake process that started it is gone
  (its outputs are then incomplete; the next run reruns them), instead of racing the rerun.

Linux start times come from ``/proc/<pid>/stat`` (so a reused pid is not mistaken for the
recorded process); elsewhere only the pid is checked.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from lindiff import artifacts


@dataclass(frozen=True)
class ProcessId:
    """A process on a host: pid plus start time (None where /proc is not available)."""

    pid: int
    start_time: str | None
    host: str

    @classmethod
    def of(cls, pid: int) -> ProcessId:
        return cls(pid=pid, start_time=process_start_time(pid), host=socket.gethostname())

    def alive(self) -> bool:
        """Whether this very process still runs (a process on another host counts as alive:
        it cannot be checked from here)."""
        if self.host != socket.gethostname():
            return True
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass
        if self.start_time is None:
            return True
        return process_start_time(self.pid) == self.start_time


def _stat_fields(pid: int) -> list[str] | None:
    """Fields of ``/proc/<pid>/stat`` after the command name (field 3 onwards), or None."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rfind(")") + 2:].split()


def process_start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (``/proc/<pid>/stat`` field 22)."""
    fields = _stat_fields(pid)
    return fields[19] if fields and len(fields) > 19 else None


def seconds_since_start(pid: int | None = None) -> float | None:
    """How long the process (default: this one) has been running, from ``/proc`` (None
    elsewhere): its start time in clock ticks since boot against the system's uptime."""
    start = process_start_time(os.getpid() if pid is None else pid)
    try:
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    if start is None:
        return None
    return max(0.0, uptime - int(start) / os.sysconf("SC_CLK_TCK"))


def parent_pid(pid: int) -> int | None:
    fields = _stat_fields(pid)
    return int(fields[1]) if fields and len(fields) > 1 else None


def _argv(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return raw.decode(errors="replace").split("\0")


def runs_snakemake(argv: list[str]) -> bool:
    """Whether a command line runs Snakemake itself (``.../bin/snakemake ...`` or ``python -m
    snakemake``), not merely mentions it (the shell running a job's ``.snakemake/scripts/...``)."""
    if any(Path(arg).name == "snakemake" for arg in argv[:2]):
        return True
    return any(a == "-m" and b == "snakemake" for a, b in zip(argv, argv[1:]))


def snakemake_ancestor(pid: int | None = None, max_depth: int = 8) -> ProcessId | None:
    """The nearest ancestor of ``pid`` (default: this process) running Snakemake, or None."""
    current = os.getpid() if pid is None else pid
    for _ in range(max_depth):
        current = parent_pid(current)
        if not current or current <= 1:
            return None
        if runs_snakemake(_argv(current)):
            return ProcessId.of(current)
    return None


def watch_parent(parent: ProcessId, on_gone: Callable[[], None], interval: float = 1.0) -> threading.Thread:
    """Call ``on_gone`` (from a daemon thread) once ``parent`` has stopped running."""

    def watch() -> None:
        while parent.alive():
            time.sleep(interval)
        on_gone()

    thread = threading.Thread(target=watch, name="lindiff-parent-watch", daemon=True)
    thread.start()
    return thread


class RunRegistry:
    """The Snakemake processes that ran the workflow in one working directory."""

    def __init__(self, snakemake_dir: str | os.PathLike[str] = ".snakemake"):
        self.snakemake_dir = Path(snakemake_dir)
        self.runs_dir = self.snakemake_dir / "lindiff" / "runs"
        self.locks_dir = self.snakemake_dir / "locks"

    def _entry(self, pid: int) -> Path:
        return self.runs_dir / f"{socket.gethostname()}-{pid}.json"

    def recorded(self) -> list[tuple[Path, ProcessId]]:
        out = []
        for path in sorted(self.runs_dir.glob("*.json")):
            try:
                out.append((path, ProcessId(**json.loads(path.read_text()))))
            except (OSError, ValueError, TypeError):
                path.unlink(missing_ok=True)  # unreadable: written by a process killed mid-write
        return out

    def register(self, pid: int | None = None) -> Path:
        me = ProcessId.of(os.getpid() if pid is None else pid)
        return artifacts.write_bytes(self._entry(me.pid), json.dumps(me.__dict__).encode())

    def unregister(self, pid: int | None = None) -> None:
        self._entry(os.getpid() if pid is None else pid).unlink(missing_ok=True)

    def remove_stale_locks(self, me: int | None = None) -> list[int]:
        """Remove Snakemake's locks if they were left by recorded processes that are all gone.

        Returns the pids of the dead processes whose locks were removed ([] when there were no
        locks, a recorded process is still alive, or nothing was recorded: then the locks are
        not ours to judge).  Dead processes' records are dropped either way."""
        me = os.getpid() if me is None else me
        dead, alive = [], []
        for path, process in self.recorded():
            if process.pid == me and process.host == socket.gethostname():
                continue
            if process.alive():
                alive.append(process.pid)
            else:
                dead.append(process.pid)
                path.unlink(missing_ok=True)
        locks = sorted(self.locks_dir.glob("*.lock")) if self.locks_dir.is_dir() else []
        if not locks or alive or not dead:
            return []
        for lock in locks:
            lock.unlink(missing_ok=True)
        return dead
