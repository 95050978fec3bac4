"""Weights & Biases as a side channel for the workflow scripts.

Nothing in here does maths.  The workflow scripts open one W&B run per job with
:func:`start_run`, log metrics, figures and tables through the returned
:class:`Tracker`, and finish it.  W&B is strictly optional: if it cannot start (no
network, bad credentials, a timeout, wandb not installed) or fails later, the tracker
logs one WARNING and turns into a no-op, so a job never fails because of W&B.

Runs are normally **offline**.  wandb 0.31 then writes, under ``<run_dir>/wandb/``::

    offline-run-<YYYYmmdd_HHMMSS>-<run_id>/
        run-<run_id>.wandb        # the run itself: a binary record log (see below)
        files/media/...           # logged images, table JSON
        files/requirements.txt
        logs/debug*.log
    debug.log, debug-internal.log, latest-run -> offline-run-...

There is no config/summary JSON next to it; everything is inside the ``.wandb`` file,
which ``wandb sync`` uploads later.  (W&B also writes outside ``run_dir``: a core debug
log under ``~/.cache/wandb/logs`` and, for every logged table, staging copies under
``$WANDB_DATA_DIR``, default ``~/.local/share/wandb/artifacts/staging``.  Nothing is
written to the current working directory.)

:func:`lindiff.pipeline.wandb_file.read_wandb_file` reads such a file back (tests, tools).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from lindiff.errors import ConfigError, DataError

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "ALLOWED_MODES",
    "DEFAULT_MAX_TABLE_ROWS",
    "Tracker",
    "artifact_name",
    "artifact_type",
    "flatten_config",
    "keep_wandb_state_in",
    "make_run_id",
    "share_service",
    "start_run",
]

ALLOWED_MODES: tuple[str, ...] = ("offline", "online", "disabled")
DEFAULT_MAX_TABLE_ROWS = 10_000
DEFAULT_LOGGER_NAME = "lindiff.pipeline.tracking"

_MAX_RUN_ID_LEN = 64
_STAGE_SLUG_LEN = 40
_MAX_REASON_LEN = 500


# --------------------------------------------------------------------------- config & ids


def artifact_name(relative_path: str | Path) -> str:
    """The W&B artifact name of a results file: its path under the results directory with
    ``/`` as ``__`` and any character W&B does not allow as ``-`` (``digits__all__n100_s0__
    linear_T5__learn__bases.npz``); at most 128 characters (longer paths end in a hash)."""
    text = "__".join(Path(relative_path).parts)
    text = re.sub(r"[^A-Za-z0-9_.-]", "-", text)
    if len(text) > 128:
        text = f"{text[:111]}-{hashlib.sha256(text.encode()).hexdigest()[:16]}"
    return text


def artifact_type(relative_path: str | Path) -> str:
    """The W&B artifact type of a results file: its kind, the name without its last suffix
    (``bases``, ``samples``, ``metrics``, ``fig2_sin_theta``, ``analyze.config``)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "-", Path(relative_path).stem) or "file"


def flatten_config(cfg: Mapping[str, Any], sep: str = ".") -> dict[str, Any]:
    """Flatten a nested mapping into one level with ``sep``-joined keys.

    ``{"a": {"b": 1, "c": [1, 2]}}`` becomes ``{"a.b": 1, "a.c": [1, 2]}``.  Lists (and
    any other non-string sequence, e.g. tuples or OmegaConf ``ListConfig``) are kept as
    values and converted to plain lists, with mappings inside them converted to plain
    dicts, so the result is JSON-friendly.  An empty nested mapping stays as ``{}``.
    Keys are converted with ``str``.

    Raises:
        ConfigError: two different paths flatten to the same key
            (e.g. ``{"a.b": 1, "a": {"b": 2}}``).
    """
    flat: dict[str, Any] = {}
    _flatten_into(flat, cfg, prefix="", sep=sep)
    return flat


def _flatten_into(out: dict[str, Any], cfg: Mapping[Any, Any], prefix: str, sep: str) -> None:
    for key, value in cfg.items():
        full_key = f"{prefix}{sep}{key}" if prefix else str(key)
        if isinstance(value, Mapping) and len(value) > 0:
            _flatten_into(out, value, full_key, sep)
            continue
        if full_key in out:
            raise ConfigError(f"config key {full_key!r} occurs twice after flattening with {sep!r}")
        out[full_key] = _plain(value)


def _plain(value: Any) -> Any:
    """Convert mappings/sequences (recursively) to dicts/lists; leave scalars alone."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes, bytearray)):
        return [_plain(v) for v in value]
    return value


def make_run_id(stage: str, point: str) -> str:
    """A W&B run id unique to one job execution: ``<stage>-<hash(point)>-<random>``.

    The stage is lower-cased and reduced to ``[a-z0-9-]`` (at most 40 characters, ``run``
    if nothing is left); ``point`` (e.g. the sweep point's wildcards) contributes a
    stable 8-hex-digit SHA-256 prefix so runs of the same point are recognisable; 8
    random hex digits make every execution distinct, also for jobs started in parallel.
    The result is at most 58 characters of lowercase letters, digits and dashes.
    """
    slug = re.sub(r"[^a-z0-9]+", "-", stage.lower()).strip("-")[:_STAGE_SLUG_LEN].strip("-")
    digest = hashlib.sha256(point.encode("utf-8")).hexdigest()[:8]
    run_id = f"{slug or 'run'}-{digest}-{secrets.token_hex(4)}"
    assert len(run_id) <= _MAX_RUN_ID_LEN
    return run_id


def _check_mode(mode: object) -> str:
    if not isinstance(mode, str) or mode not in ALLOWED_MODES:
        allowed = ", ".join(repr(m) for m in ALLOWED_MODES)
        raise ConfigError(f"wandb.mode must be one of {allowed}, got {mode!r}")
    return mode


def _describe(exc: BaseException) -> str:
    """One line naming the exception type and its (whitespace-collapsed) message."""
    message = " ".join(str(exc).split())
    text = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    return text if len(text) <= _MAX_REASON_LEN else text[: _MAX_REASON_LEN - 3] + "..."


# --------------------------------------------------------------------------- tracker


class Tracker:
    """One W&B run, or a no-op stand-in when W&B is disabled or failed.

    Create it with :func:`start_run`.  Every method is safe to call in any state: on an
    inactive tracker it does nothing; on an active one, an exception from W&B is caught,
    reported once as a WARNING, and the tracker becomes inactive (its run is finished if
    possible).  Use it as a context manager to finish the run on exit (exit code 1 when
    the block raised; the exception is not swallowed).
    """

    def __init__(
        self,
        run: Any = None,
        *,
        run_id: str | None = None,
        run_path: Path | None = None,
        reason: str | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        self._run = run
        self._run_id = run_id
        self._run_path = run_path
        self._reason = reason if run is None else None
        self._logger = logger or logging.getLogger(DEFAULT_LOGGER_NAME)

    @classmethod
    def inactive(cls, reason: str, logger: logging.Logger | None = None) -> Tracker:
        """A no-op tracker whose :attr:`reason` is ``reason``."""
        return cls(None, reason=reason, logger=logger)

    # ----------------------------------------------------------------- properties

    @property
    def active(self) -> bool:
        """Whether calls reach W&B (False when disabled, failed, or finished)."""
        return self._run is not None

    @property
    def reason(self) -> str | None:
        """Why the tracker is inactive (``None`` while it is active)."""
        return self._reason

    @property
    def run_id(self) -> str | None:
        """The W&B run id (``None`` if no run was started)."""
        return self._run_id

    @property
    def run_path(self) -> Path | None:
        """The run's ``run-<id>.wandb`` file (its parent is the run's offline directory).

        Set when a run started (also after it finished, so callers can say where the run
        went); ``None`` if no run started.  Online runs write this transaction log too.
        """
        return self._run_path

    # ----------------------------------------------------------------- logging

    def log(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        """Log one history row (``run.log``); ``step`` must not decrease between calls."""
        row = {str(k): v for k, v in metrics.items()}
        self._call("log", lambda run: run.log(row, step=step))

    def define_step_metric(self, pattern: str, step_metric: str) -> None:
        """Plot metrics matching ``pattern`` (glob, e.g. ``"sin_theta/*"``) against ``step_metric``."""

        def define(run: Any) -> None:
            run.define_metric(step_metric)
            run.define_metric(pattern, step_metric=step_metric)

        self._call("define_metric", define)

    def log_image(
        self, key: str, png_path: str | Path, caption: str | None = None, step: int | None = None
    ) -> None:
        """Log the image file ``png_path`` under ``key`` (copied into the run's media)."""

        def log_image(run: Any) -> None:
            import wandb

            run.log({key: wandb.Image(str(png_path), caption=caption)}, step=step)

        self._call("log_image", log_image)

    def log_images(self, images: Mapping[str, str | Path], step: int | None = None) -> None:
        """Log several image files (``key -> png path``) in one history row (one ``log`` call),
        so that a job's figures sit side by side at one step in the W&B UI."""

        def log_images(run: Any) -> None:
            import wandb

            run.log({key: wandb.Image(str(path)) for key, path in images.items()}, step=step)

        if images:
            self._call("log_images", log_images)

    def log_table(
        self,
        key: str,
        df: pd.DataFrame,
        max_rows: int = DEFAULT_MAX_TABLE_ROWS,
        step: int | None = None,
    ) -> None:
        """Log a DataFrame as a ``wandb.Table`` under ``key``, keeping its first ``max_rows`` rows."""

        def log_table(run: Any) -> None:
            import wandb

            table_df = df.head(max_rows).copy()
            table_df.columns = [str(c) for c in table_df.columns]
            if len(df) > max_rows:
                self._logger.info(
                    "W&B table %r truncated to its first %d of %d rows", key, max_rows, len(df)
                )
            run.log({key: wandb.Table(dataframe=table_df)}, step=step)

        self._call("log_table", log_table)

    def log_lineage(self, inputs: Sequence[str | Path], outputs: Sequence[str | Path], root: str | Path,
                    stage: str) -> None:
        """Record the job's files as W&B artifacts **by reference** (``file://`` URIs; W&B stores
        their checksums, not their bytes), one artifact per file, named after its path under
        ``root`` (:func:`artifact_name`), so that a file keeps one name across jobs and reruns;
        its type is the file's kind (``bases``, ``samples``, ``metrics``...), its metadata the
        path and the ``stage`` that wrote it.

        ``outputs`` are logged (``log_artifact``: offline too).  ``inputs`` under ``root`` are
        declared used (``use_artifact``) in online mode only (W&B cannot record use offline):
        the server then links them to the versions their producers logged (same name, same
        checksums), and its lineage graph is the workflow's DAG."""
        root = Path(root).resolve()

        def reference(path: str | Path, metadata: dict) -> Any | None:
            import wandb

            path = Path(path).resolve()
            if not path.is_file() or root not in path.parents:
                return None
            relative = path.relative_to(root)
            artifact = wandb.Artifact(artifact_name(relative), type=artifact_type(relative),
                                      metadata={"path": str(relative), **metadata})
            artifact.add_reference(path.as_uri(), name=path.name)
            return artifact

        def lineage(run: Any) -> None:
            if not getattr(getattr(run, "settings", None), "_offline", False):
                for path in inputs:
                    artifact = reference(path, {})
                    if artifact is not None:
                        run.use_artifact(artifact)
            for path in outputs:
                artifact = reference(path, {"stage": stage})
                if artifact is not None:
                    run.log_artifact(artifact)

        self._call("log_artifact", lineage)

    def set_summary(self, values: Mapping[str, Any]) -> None:
        """Set run summary values (final numbers shown in the W&B run table)."""
        items = {str(k): v for k, v in values.items()}
        self._call("set_summary", lambda run: run.summary.update(items))

    def finish(self, exit_code: int = 0) -> None:
        """Finish the run (idempotent); the tracker is inactive afterwards."""
        run, self._run = self._run, None
        if run is None:
            return
        self._reason = "the W&B run has finished"
        try:
            run.finish(exit_code=exit_code)
        except Exception as exc:  # noqa: BLE001 - W&B must never break the job
            self._reason = f"W&B finish failed: {_describe(exc)}"
            self._logger.warning("%s", self._reason)
            return
        self._wait_until_written()

    def _wait_until_written(self, timeout: float = 15.0) -> None:
        """Offline: wait until W&B's service has written the run's exit record.

        ``run.finish()`` can return before the service has flushed the ``.wandb`` file (seen
        under load), so a job that exits, or a reader that starts, right after it could see
        an incomplete file.
        """
        path = self.run_path
        if path is None:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                from lindiff.pipeline.wandb_file import read_wandb_file

                if Path(path).is_file() and read_wandb_file(path).exit_code is not None:
                    return
            except DataError:
                pass  # still being written
            time.sleep(0.05)
        self._logger.warning("W&B offline file %s still incomplete %.0f s after finish", path, timeout)

    # ----------------------------------------------------------------- context manager

    def __enter__(self) -> Tracker:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.finish(exit_code=0 if exc_type is None else 1)

    def __repr__(self) -> str:
        state = "active" if self.active else f"inactive: {self._reason}"
        return f"Tracker(run_id={self._run_id!r}, {state})"

    # ----------------------------------------------------------------- internals

    def _call(self, action: str, func: Callable[[Any], None]) -> None:
        """Run ``func(run)`` if active; on any exception warn once and become a no-op."""
        run = self._run
        if run is None:
            return
        try:
            func(run)
        except Exception as exc:  # noqa: BLE001 - W&B must never break the job
            self._disable(f"W&B {action} failed, W&B logging is off for the rest of this job: {_describe(exc)}")

    def _disable(self, reason: str) -> None:
        run, self._run = self._run, None
        self._reason = reason
        self._logger.warning("%s", reason)
        try:  # keep what was logged so far in a well-formed run
            run.finish(exit_code=1)
        except Exception:  # noqa: BLE001 - already warned; nothing else to do
            return
        self._wait_until_written()


def start_run(
    mode: str,
    project: str,
    group: str | None,
    job_type: str | None,
    config: Mapping[str, Any] | None,
    run_dir: str | Path,
    name: str | None = None,
    run_id: str | None = None,
    entity: str | None = None,
    tags: Sequence[str] | None = None,
    init_timeout: float = 30.0,
    logger: logging.Logger | None = None,
    unreachable_marker: str | Path | None = None,
    save_requirements: bool = True,
) -> Tracker:
    """Start a W&B run for one job and wrap it in a :class:`Tracker`.

    Args:
        mode: ``"offline"`` (write the run under ``run_dir``; sync later with
            ``wandb sync``), ``"online"``, or ``"disabled"`` (no-op tracker, wandb is
            not even imported).
        project, group, job_type, name, entity, tags: the usual W&B run attributes.
        config: nested run configuration; it is passed through :func:`flatten_config`,
            so W&B sees dotted keys (``"data.n": 100``).
        run_dir: the job's own directory (created); W&B writes below ``run_dir/wandb``.
            It is passed explicitly (``dir=``), so ``$WANDB_DIR`` and the current working
            directory play no part.  Jobs must not share it.
        run_id: the W&B run id; default :func:`make_run_id` of ``job_type`` and ``name``
            (or the config).  Set ids explicitly and uniquely: parallel offline runs
            have been reported to collide on generated ids.
        init_timeout: seconds ``wandb.init`` may take before W&B is skipped.
        logger: where the WARNING goes if W&B is skipped
            (default ``logging.getLogger("lindiff.pipeline.tracking")``).
        unreachable_marker: a file shared by the jobs of one workflow run.  When online
            ``wandb.init`` fails, the reason is written there and the job logs **offline**
            instead (``wandb sync`` uploads it later); while the file exists, later online
            jobs go offline at once instead of waiting ``init_timeout`` each, and say why.
            The workflow removes it when a new run starts, so each run tries online again.
        save_requirements: save the environment's package list (``requirements.txt``) with
            the run; listing the installed distributions costs ~0.3 s, so the workflow
            saves it once per sweep (its sweep-level jobs), not once per job.

    Returns:
        An active tracker, or an inactive one (``active`` False, ``reason`` set) when the
        mode is ``"disabled"`` or W&B failed to start (any exception -- e.g. an
        unreachable server in online mode, a timeout -- is reported as a WARNING).

    Raises:
        ConfigError: ``mode`` is not one of :data:`ALLOWED_MODES` (checked first).

    Online mode reads the server URL and API key the usual way (``WANDB_BASE_URL``,
    ``WANDB_API_KEY``, netrc).  wandb reads the environment once per process, when the
    first run starts; later changes are ignored unless ``wandb.teardown()`` is called.
    """
    mode = _check_mode(mode)
    log = logger or logging.getLogger(DEFAULT_LOGGER_NAME)
    if mode == "disabled":
        log.info("W&B disabled (wandb.mode='disabled')")
        return Tracker.inactive("wandb.mode is 'disabled'", logger=log)

    flat = flatten_config(config or {})
    if run_id is None:
        point = name if name else json.dumps(flat, sort_keys=True, default=str)
        run_id = make_run_id(job_type or "run", point)
    marker = Path(unreachable_marker) if unreachable_marker is not None else None
    if mode == "online" and marker is not None and marker.is_file():
        log.warning("W&B online skipped without waiting: an earlier job of this run could not reach the server "
                    "(%s); logging offline instead (upload later with wandb sync)", _read_marker(marker))
        mode = "offline"

    # before wandb.init: a process that starts its own service puts that one's address there too
    service = "the workflow's shared W&B service" if os.environ.get("WANDB_SERVICE") else "its own W&B service"

    def init(run_mode: str) -> Any:
        return _init_wandb(mode=run_mode, project=project, group=group, job_type=job_type, config=flat,
                           run_dir=Path(run_dir), name=name, run_id=run_id, entity=entity, tags=tags,
                           init_timeout=init_timeout, save_requirements=save_requirements)

    try:
        run = init(mode)
    except Exception as exc:  # noqa: BLE001 - W&B must never break the job
        reason = f"W&B skipped ({mode} mode), wandb.init failed: {_describe(exc)}"
        if mode != "online" or marker is None:
            log.warning("%s", reason)
            return Tracker.inactive(reason, logger=log)
        _write_marker(marker, reason, job=name or run_id)
        log.warning("%s; logging offline instead (upload later with wandb sync); later jobs of this run "
                    "go offline without waiting", reason)
        try:
            import wandb

            wandb.teardown()  # the failed online run still holds its id in this process's W&B service,
            # and in a shared one (share_service) beyond this process: the offline run starts its own
            os.environ.pop("WANDB_SERVICE", None)
            service = "its own W&B service"
            for failed in (Path(run_dir) / "wandb").glob(f"run-*-{run_id}"):  # its half-made local copy
                shutil.rmtree(failed, ignore_errors=True)
            run = init("offline")
            mode = "offline"
        except Exception as offline_exc:  # noqa: BLE001
            reason = f"{reason}; offline too: {_describe(offline_exc)}"
            log.warning("%s", reason)
            return Tracker.inactive(reason, logger=log)

    run_path = _sync_file(run)
    log.info("W&B run %s (%s, %s) writes to %s", run_id, mode, service, run_path)
    return Tracker(run, run_id=run_id, run_path=run_path, logger=log)


def keep_wandb_state_in(folder: str | Path) -> None:
    """Point W&B's data (artifact staging), cache and config directories, which it keeps outside
    a run's directory unless told otherwise, at ``folder/{data,cache,config}`` for this process
    and the ones it starts."""
    for variable, sub in (("WANDB_DATA_DIR", "data"), ("WANDB_CACHE_DIR", "cache"), ("WANDB_CONFIG_DIR", "config")):
        os.environ[variable] = str((Path(folder) / sub).resolve())


def share_service(mode: str, state_dir: str | Path, logger: logging.Logger | None = None) -> bool:
    """Start one W&B service in this process for the runs of the processes it starts.

    ``wandb.init`` in a fresh process starts its own W&B service (``wandb-core``) and stops it
    at exit: about 0.3 s of every job (measured: a one-run process takes 1.23 s alone, 0.93 s
    attached to a running service). A workflow that starts its jobs as child processes on this
    machine calls this once, before the first job: W&B puts the service's address in
    ``WANDB_SERVICE``, the children inherit it, and their ``wandb.init`` attaches to the
    service instead (W&B says "Using an existing wandb-core service"); each run keeps its own
    settings, directory and id. The service stops when this process exits.

    Only for jobs on this machine: the address is a local socket, which a cluster node cannot
    reach. ``state_dir``: where the service keeps W&B's data, cache and config directories
    (each job sets its own for its run). Returns whether a service is shared: False for
    ``mode="disabled"``, when ``WANDB_SERVICE`` is already set (a service shared from further
    up), or when W&B cannot start (logged; each job then starts its own, as without this).
    """
    mode = _check_mode(mode)
    log = logger or logging.getLogger(DEFAULT_LOGGER_NAME)
    if mode == "disabled" or os.environ.get("WANDB_SERVICE"):
        return False
    if mode == "offline":  # as in _init_wandb: no error reports to a server, from the service either
        os.environ.setdefault("WANDB_ERROR_REPORTING", "false")
    keep_wandb_state_in(state_dir)
    try:
        import wandb

        wandb.setup()
    except Exception as exc:  # noqa: BLE001 - W&B must never break the workflow
        log.warning("W&B service not shared (each job starts its own): %s", _describe(exc))
        return False
    return bool(os.environ.get("WANDB_SERVICE"))


def _write_marker(marker: Path, reason: str, job: str) -> None:
    from lindiff.artifacts import write_bytes

    note = {"reason": reason, "job": job, "time": time.strftime("%Y-%m-%d %H:%M:%S")}
    write_bytes(marker, json.dumps(note).encode())


def _read_marker(marker: Path) -> str:
    try:
        note = json.loads(marker.read_text())
        return f"{note['job']} at {note['time']}: {note['reason']}"
    except (OSError, ValueError, KeyError, TypeError):
        return f"see {marker}"


def _sync_file(run: Any) -> Path | None:
    """The run's ``run-<id>.wandb`` path, or ``None`` if this wandb does not say."""
    sync_file = getattr(getattr(run, "settings", None), "sync_file", None)
    return Path(sync_file) if sync_file else None


def _init_wandb(
    *,
    mode: str,
    project: str,
    group: str | None,
    job_type: str | None,
    config: dict[str, Any],
    run_dir: Path,
    name: str | None,
    run_id: str,
    entity: str | None,
    tags: Sequence[str] | None,
    init_timeout: float,
    save_requirements: bool = True,
) -> Any:
    """Call ``wandb.init`` with explicit, quiet settings; returns the run."""
    import wandb

    _import_launch_only_when_used(wandb)
    if mode == "offline":
        # offline means no network; W&B's error reporting would still contact the server at exit
        # (WANDB_BASE_URL), and wait about 10 s for one that never answers. An explicit setting wins.
        os.environ.setdefault("WANDB_ERROR_REPORTING", "false")
    run_dir = run_dir.expanduser().resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    return wandb.init(
        mode=mode,
        project=project,
        entity=entity,
        group=group,
        job_type=job_type,
        name=name,
        id=run_id,
        tags=list(tags) if tags else None,
        config=config,
        dir=str(run_dir),
        # Several trackers may live in one process: never hand back (or finish) another
        # tracker's run, which is what reinit="default" does outside notebooks.
        reinit="create_new",
        settings=_wandb_settings(wandb, init_timeout, save_requirements),
    )


#: The module in which W&B Launch keeps the job inputs staged in this process.
_LAUNCH_INPUTS_MODULE = "wandb.sdk.launch.inputs.internal"


def _import_launch_only_when_used(wandb: Any) -> None:
    """Let ``wandb.init`` skip importing W&B Launch when no launch input can be staged.

    Every ``wandb.init`` (wandb 0.31) ends by applying the launch inputs staged in this
    process (``Run._detect_and_apply_job_inputs``), for which it imports the whole Launch
    package: 0.44 s of a 0.65 s offline init, measured here, in every job.  Inputs can only
    have been staged through that module, so while it has not been imported there are none
    and the call is skipped; once it is imported (a W&B Launch job), W&B's own method runs
    unchanged.  Does nothing if this wandb has no such method.
    """
    run_class = getattr(getattr(getattr(wandb, "sdk", None), "wandb_run", None), "Run", None)
    apply_inputs = getattr(run_class, "_detect_and_apply_job_inputs", None)
    if apply_inputs is None or getattr(apply_inputs, "_lindiff_lazy", False):
        return

    def detect_and_apply_job_inputs(run: Any) -> None:
        if _LAUNCH_INPUTS_MODULE in sys.modules:
            apply_inputs(run)

    detect_and_apply_job_inputs._lindiff_lazy = True  # type: ignore[attr-defined]
    run_class._detect_and_apply_job_inputs = detect_and_apply_job_inputs


def _wandb_settings(wandb: Any, init_timeout: float, save_requirements: bool = True) -> Any:
    """``wandb.Settings`` that keep W&B quiet; settings unknown to this wandb are dropped."""
    wanted: dict[str, Any] = {
        "silent": True,  # no banners / sync hints on the console
        "console": "off",  # no stdout/stderr capture (the job's logs stay the job's)
        "init_timeout": float(init_timeout),
        "x_disable_stats": True,  # no system-metrics sampler per job
        "x_save_requirements": bool(save_requirements),
    }
    known = getattr(wandb.Settings, "model_fields", wanted)
    return wandb.Settings(**{k: v for k, v in wanted.items() if k in known})
