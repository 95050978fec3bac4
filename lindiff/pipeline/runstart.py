"""What the Snakefile's main process does once per run, before the DAG is built.

* record this Snakemake process and remove the locks a killed one left
  (:class:`~lindiff.pipeline.processes.RunRegistry`);
* forget an earlier run's "W&B server unreachable" note, so that each run tries online again
  (:func:`~lindiff.pipeline.jobs.wandb_unreachable_marker`);
* move corrupt artifacts aside (:mod:`~lindiff.pipeline.integrity`), so that this run rebuilds
  them.

A dry run changes nothing but the registry: it only reports what a real run would move.
"""

from __future__ import annotations

import atexit
import sys
from collections.abc import Callable
from pathlib import Path

from lindiff.pipeline import integrity
from lindiff.pipeline.jobs import wandb_unreachable_marker
from lindiff.pipeline.processes import RunRegistry


def _stderr(message: str) -> None:
    print(f"lindiff: {message}", file=sys.stderr)


def start_of_run(results_dir: str | Path, *, dryrun: bool, snakemake_dir: str | Path = ".snakemake",
                 report: Callable[[str], None] = _stderr) -> list[str]:
    """Prepare the working directory for a run; returns the artifacts moved aside as corrupt."""
    runs = RunRegistry(snakemake_dir)
    runs.register()
    atexit.register(runs.unregister)
    for pid in runs.remove_stale_locks():
        report(f"removed the stale locks of a killed Snakemake process (pid {pid})")
    if dryrun:
        for path, problem in integrity.scan_results(results_dir):
            report(f"{path} is corrupt ({problem}); a real run moves it aside and rebuilds it")
        return []
    wandb_unreachable_marker(results_dir).unlink(missing_ok=True)
    quarantined = []
    for path, problem in integrity.scan_results(results_dir):
        moved = integrity.quarantine(path)
        quarantined.append(str(path))
        report(f"{path} is corrupt ({problem}); moved aside to {moved}")
    return quarantined
