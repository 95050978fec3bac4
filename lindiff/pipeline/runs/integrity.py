"""Corrupt artifacts are rebuilt, not trusted and not left to fail every rerun.

Two guards:

* :func:`scan_results`, run while Snakemake builds the DAG
  (:func:`lindiff.pipeline.runs.start.force_rebuild`): a cheap structural check of every
  artifact under the results directory that a rule of the workflow produces (see
  :func:`structural_problem`). A
  truncated or unreadable artifact is caught here and its job is forced to rerun, so the same
  run rebuilds it. It reads files and writes none; files at paths no rule declares are never
  opened.
* :func:`quarantine_corrupt_input`, used by :func:`lindiff.pipeline.jobs.rule_job`: a job whose
  input fails its loader's checks deeper (a zip CRC, a page checksum, a non-orthonormal basis:
  :class:`~lindiff.errors.CorruptArtifactError`) moves that input aside before it fails, so
  the next run rebuilds it instead of failing the same way again.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

from lindiff import artifacts
from lindiff.errors import CorruptArtifactError

ARTIFACT_SUFFIXES = (".npz", ".parquet", ".json", ".png")
PNG_START, PNG_END = b"\x89PNG\r\n\x1a\n", b"\x00\x00\x00\x00IEND\xaeB`\x82"  # signature, IEND chunk
SKIPPED_DIRS = ("wandb", "logs", "benchmarks")  # not artifacts: W&B runs, rule logs, timings
CORRUPT_SUFFIX = ".corrupt"


def structural_problem(path: str | os.PathLike[str]) -> str | None:
    """What is wrong with the artifact at ``path`` at a glance (None: nothing seen).

    Reads the zip directory of an ``.npz`` (each member must lie inside the file), the whole of a
    ``.parquet`` or ``.json`` (tables and metrics are small: page checksums and the content
    digest written with them are verified, so a final table no later job reads, such as a sweep's
    summary, is checked too), and the two ends of a ``.png`` (its signature and its closing IEND
    chunk: a truncated figure)."""
    path = Path(path)
    try:
        if path.suffix == ".npz":
            size = path.stat().st_size
            with zipfile.ZipFile(path) as archive:
                for member in archive.infolist():
                    if member.header_offset + member.compress_size > size:
                        return f"member {member.filename!r} reaches past the end of the file (truncated)"
        elif path.suffix == ".parquet":
            artifacts.read_parquet(path)
        elif path.suffix == ".json":
            artifacts.read_json(path)
        elif path.suffix == ".png":
            with open(path, "rb") as fh:
                start = fh.read(len(PNG_START))
                fh.seek(max(0, path.stat().st_size - len(PNG_END)))
                end = fh.read()
            if start != PNG_START or end != PNG_END:
                return "not a complete PNG image (truncated or overwritten)"
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
        return str(exc).removeprefix(f"{path}: ")
    except Exception as exc:  # pyarrow raises several types for corrupt files
        return f"{type(exc).__name__}: {exc}"
    return None


def artifact_files(results_dir: str | os.PathLike[str], *, is_artifact: Callable[[str], bool],
                   suffixes: tuple[str, ...] = ARTIFACT_SUFFIXES) -> list[str]:
    """The files under ``results_dir`` with one of ``suffixes`` for which ``is_artifact(path)``
    holds (the workflow passes: a rule produces it), as paths spelled from ``results_dir``
    as given (``os.path.join``), the way the rules spell their outputs."""
    root = os.fspath(results_dir)
    if not os.path.isdir(root):
        return []
    out = []
    for directory, subdirs, files in os.walk(root):
        if directory == root:
            subdirs[:] = [d for d in subdirs if d not in SKIPPED_DIRS]
        out.extend(os.path.join(directory, f) for f in files
                   if f.endswith(suffixes) and not f.startswith("."))
    return sorted(path for path in out if is_artifact(path))


def scan_results(paths: Iterable[str]) -> list[tuple[str, str]]:
    """``(path, problem)`` of every artifact among ``paths`` (see :func:`artifact_files`) that
    fails :func:`structural_problem`."""
    return [(path, problem) for path in paths if (problem := structural_problem(path)) is not None]


def quarantine(path: str | os.PathLike[str]) -> Path:
    """Move ``path`` aside to ``<path>.corrupt`` (replacing an older one); returns the new path."""
    path = Path(path)
    target = path.with_name(path.name + CORRUPT_SUFFIX)
    os.replace(path, target)
    return target


def quarantine_corrupt_input(exc: BaseException, inputs: Iterable[str]) -> str | None:
    """If ``exc`` is a :class:`CorruptArtifactError` about one of ``inputs``, move that file
    aside (so the next run rebuilds it) and say so; when it cannot be moved (a read-only or
    immutable folder), say what to do instead. None when ``exc`` is about no input."""
    if not isinstance(exc, CorruptArtifactError):
        return None
    wanted = Path(exc.path).resolve()
    for item in inputs:
        if Path(item).resolve() == wanted and Path(item).exists():
            try:
                moved = quarantine(item)
            except OSError as error:
                return (f"the corrupt input {item} could not be moved aside ({error.strerror or error}): remove "
                        "it (or make its folder writable), then rerun: the next run rebuilds it")
            return f"the corrupt input was moved aside to {moved}: the next run rebuilds it (and reruns this job)"
    return None
