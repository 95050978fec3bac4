"""What the Snakefile's main process does for a run, in the order Snakemake allows it.

* While the Snakefile is parsed (every call, dry runs, ``--lint`` and ``--list-rules``
  included): record this Snakemake process and remove the locks a killed one left
  (:class:`~lindiff.pipeline.runs.processes.RunRegistry`), under ``.snakemake/`` only. Nothing under
  the results directory is touched then: Snakemake does not yet know whether this is a dry run.
* While the DAG is built (:func:`force_rebuild`, from the input function of ``all``):
  check every artifact that a rule of this workflow produces (:mod:`~lindiff.pipeline.runs.integrity`)
  and hand each corrupt one to Snakemake as a forced file, like ``--forcerun`` on it. Its job
  and the jobs after it rerun and overwrite it; a dry run lists them. Nothing is moved: files at
  paths no rule declares (a user's notes, an editor's settings) are never read, let alone moved.
  Likewise each job whose provenance sidecar records other params than the job has now
  (:func:`force_rebuild_of_stale`): Snakemake compares params with its own records under
  ``.snakemake/metadata``, which a cleaned or copied working directory loses; the sidecar
  travels with the results.
* When a real run starts (``onstart``, never in a dry run): forget an earlier run's "W&B server
  unreachable" note, so that each run tries online again
  (:func:`~lindiff.pipeline.jobs.wandb_unreachable_marker`), and, when the jobs run on this
  machine, start the W&B service that all of them attach to
  (:func:`~lindiff.pipeline.tracking.share_service`).
"""

from __future__ import annotations

import atexit
import sys
from collections.abc import Callable
from pathlib import Path

from lindiff.pipeline.jobs import wandb_unreachable_marker
from lindiff.pipeline.runs import integrity
from lindiff.pipeline.runs.processes import RunRegistry
from lindiff.pipeline.tracking import share_service

#: the provenance sidecars' suffix (``config.yaml``, ``learn.config.yaml`` ...)
SIDECAR_SUFFIX = ".yaml"


def _stderr(message: str) -> None:
    print(f"lindiff: {message}", file=sys.stderr)


def start_of_run(snakemake_dir: str | Path = ".snakemake", *, notes=(),
                 report: Callable[[str], None] = _stderr) -> RunRegistry:
    """Record this Snakemake process and remove the stale locks of a killed one (parse time);
    report the ``notes`` about the configuration (a study it skips, ...)."""
    for note in notes:
        report(note)
    runs = RunRegistry(snakemake_dir)
    runs.register()
    atexit.register(runs.unregister)
    for pid in runs.remove_stale_locks():
        report(f"removed the stale locks of a killed Snakemake process (pid {pid})")
    return runs


def force_rebuild(results_dir: str | Path, *, is_artifact: Callable[[str], bool],
                  current_config: Callable[[str], dict | None], forced_files: set, dryrun: bool,
                  report: Callable[[str], None] = _stderr) -> list[str]:
    """Add every corrupt artifact and every stale sidecar under ``results_dir`` to
    ``forced_files`` (Snakemake's DAG ``forcefiles``), so that their jobs rerun; returns their
    paths. One walk of the tree; reads files, writes none.

    ``is_artifact(path)`` says whether a rule of the workflow produces ``path``: only those files
    are checked; ``current_config(path)`` gives the params a sidecar's job has now (see
    :func:`stale_sidecars`)."""
    paths = integrity.artifact_files(results_dir, is_artifact=is_artifact,
                                     suffixes=(*integrity.ARTIFACT_SUFFIXES, SIDECAR_SUFFIX))
    sidecars = [path for path in paths if path.endswith(SIDECAR_SUFFIX)]
    corrupt = [path for path in paths if not path.endswith(SIDECAR_SUFFIX)]
    return (force_rebuild_of_corrupt(corrupt, forced_files=forced_files, dryrun=dryrun, report=report)
            + force_rebuild_of_stale(sidecars, current_config=current_config, forced_files=forced_files,
                                     dryrun=dryrun, report=report))


def force_rebuild_of_corrupt(paths, *, forced_files: set, dryrun: bool,
                             report: Callable[[str], None] = _stderr) -> list[str]:
    """Add each of the artifact ``paths`` that fails its structural check to ``forced_files``;
    returns them."""
    corrupt = []
    for path, problem in integrity.scan_results(paths):
        forced_files.add(path)
        corrupt.append(path)
        rebuilt = "a real run rebuilds it" if dryrun else "this run rebuilds it"
        report(f"{path} is corrupt ({problem}); {rebuilt} (its job and the jobs after it rerun)")
    return corrupt


def start_real_run(results_dir: str | Path, wandb_mode: str, local_jobs: bool) -> None:
    """At the start of a real run: remove the note an earlier run left for its own jobs; when
    the jobs run on this machine (``local_jobs``: Snakemake's local executor), share one W&B
    service between them."""
    wandb_unreachable_marker(results_dir).unlink(missing_ok=True)
    if local_jobs and share_service(wandb_mode, Path(results_dir) / "wandb" / "service"):
        _stderr("W&B: this run's jobs attach to one W&B service (WANDB_SERVICE)")


def stale_sidecars(paths, current_config: Callable[[str], dict | None]) -> list[str]:
    """The sidecars among ``paths`` whose recorded ``config`` differs from ``current_config(path)``
    (the params the job that writes it has now; None: not a sidecar of this workflow), or that
    cannot be read at all."""
    import yaml

    from lindiff.artifacts import as_yaml_data

    stale = []
    for path in paths:
        current = current_config(path)
        if current is None:
            continue
        try:
            recorded = yaml.safe_load(Path(path).read_text())
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            recorded = None  # garbage: rewritten like a stale one
        if not isinstance(recorded, dict) or recorded.get("config") != as_yaml_data(current):
            stale.append(path)
    return stale


def force_rebuild_of_stale(paths, *, current_config: Callable[[str], dict | None], forced_files: set,
                           dryrun: bool, report: Callable[[str], None] = _stderr) -> list[str]:
    """Add each sidecar among ``paths`` whose job's params changed since it was written (or that
    cannot be read) to ``forced_files`` (its job and the jobs after it rerun); returns them."""
    stale = stale_sidecars(paths, current_config)
    for path in stale:
        forced_files.add(path)
    if stale:
        rebuilt = "a real run reruns those it needs" if dryrun else "this run reruns those it needs"
        report(f"{len(stale)} job(s) ran with other settings than they have now, or their sidecars are unreadable "
               f"(e.g. {stale[0]}; Snakemake's own records do not say so): {rebuilt}")
    return stale


def sidecar_params(workflow, path: str) -> dict | None:
    """The params (``params.cfg``) that the job writing the sidecar ``path`` has now; None when no
    rule of ``workflow`` writes a sidecar there (or its params need more than the wildcards)."""
    from snakemake.iocontainers import Wildcards

    for rule in workflow.rules:
        if "sidecar" not in rule.output.keys() or "cfg" not in rule.params.keys() or not rule.is_producer(path):
            continue
        wildcards = rule.get_wildcards(path)
        if rule.output.sidecar.apply_wildcards(wildcards) != path:
            continue  # another output of the rule
        cfg = rule.params.cfg
        try:
            return cfg(Wildcards(fromdict=wildcards)) if callable(cfg) else cfg
        except TypeError:
            return None
    return None
