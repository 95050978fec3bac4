"""Paths from the configuration: confined to the working directory unless absolute, writable."""

from __future__ import annotations

import os
from pathlib import Path

from lindiff.errors import ConfigError


def confined_path(key: str, value: str, base: Path | None = None) -> Path:
    """Resolve a path from the config: relative paths must stay inside ``base`` (the working
    directory); reaching elsewhere takes an absolute path, i.e. the user's explicit choice."""
    base = (base or Path.cwd()).resolve()
    path = Path(os.path.expanduser(value))
    if path.is_absolute():
        return path
    resolved = (base / path).resolve()
    if resolved != base and base not in resolved.parents:
        raise ConfigError(
            f"{key}={value!r} leaves the working directory {base}; give an absolute path to use a location outside it"
        )
    return resolved


def check_writable(key: str, path: Path) -> None:
    """The directory ``path`` exists and is writable, or can be created (nothing is created)."""
    probe = path
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        raise ConfigError(f"{key}={str(path)!r} cannot be created: {probe} is not a directory")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise ConfigError(f"{key}={str(path)!r} is not writable (no write permission on {probe})")


def check_results_dir(value: str, base: Path | None = None) -> Path:
    """``results_dir`` (interpolations such as ``${oc.env:HOME}`` already resolved) must name a
    folder of its own: not empty, not the working directory, nor one of its ancestors, a
    filesystem root or the home directory (artifacts, W&B runs and logs would be mixed with
    everything else there, and cleaning the results would remove it)."""
    base = (base or Path.cwd()).resolve()
    if not str(value).strip():
        raise ConfigError("results_dir is empty; give a folder for the artifacts, e.g. results_dir=results")
    path = confined_path("results_dir", value, base).resolve()
    home = Path.home().resolve()
    if path == base or path in base.parents or path == Path(path.anchor) or path == home:
        what = ("the working directory" if path == base else "a filesystem root" if path == Path(path.anchor)
                else "your home directory" if path == home else "an ancestor of the working directory")
        raise ConfigError(f"results_dir={value!r} is {what} ({path}); give a folder of its own, e.g. results_dir=results")
    check_writable("results_dir", path)
    return path


def check_paths(cfg, base: Path | None = None) -> None:
    """Paths from the config: confined to the working directory unless absolute; results writable
    and a folder of their own."""
    check_results_dir(cfg.results_dir, base)
    if cfg.data.name == "file" and cfg.data.path:
        confined_path("data.path", cfg.data.path, base)
    if cfg.data.name == "mnist" and cfg.data.dir:
        confined_path("data.dir", cfg.data.dir, base)


