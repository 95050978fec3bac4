"""Experiment configuration: Hydra composition, the schema, value checks.

The configuration lives in the repository's ``conf/`` (Hydra config groups ``data/``,
``schedule/``, ``sweep/``, ``wandb/``, ``deep/``, ``experiment/``).  :func:`load` composes it with
the compose API (``version_base="1.3"``; no working-directory change, no output directories),
merges it into the typed schema (:mod:`lindiff.pipeline.schema`; a wrong type fails naming the
key), and checks values (:mod:`lindiff.pipeline.checks`), against the data too, before anything
runs.  Sweep points: :mod:`lindiff.pipeline.sweep`; their paths: :mod:`lindiff.pipeline.levels`.

Inspect a configuration without running anything (:mod:`lindiff.pipeline.cli`)::

    lindiff config sweep=paper data=mnist 'sweep.T=[20,65]'
    lindiff points sweep=smoke                  # the same as python -m lindiff points ...
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from lindiff.errors import ConfigError
from lindiff.pipeline.checks import check_values, rank_requirement
from lindiff.pipeline.datasets import data_info, data_set
from lindiff.pipeline.paths import check_paths
from lindiff.pipeline.resources import check_memory
from lindiff.pipeline.schema import LindiffConfig
from lindiff.pipeline.sweep import points


def default_config_dir() -> Path:
    """``$LINDIFF_CONF``, else the configuration shipped with the package (``lindiff/conf``,
    linked from the repository's ``conf/``)."""
    if os.environ.get("LINDIFF_CONF"):
        return Path(os.environ["LINDIFF_CONF"])
    return Path(__file__).resolve().parents[1] / "conf"


def parse_overrides(overrides) -> list[str]:
    """Hydra override strings from a shell-like string or a list (Snakemake's ``--config``)."""
    if overrides is None:
        return []
    if isinstance(overrides, str):
        return shlex.split(overrides)
    if isinstance(overrides, (list, tuple)):
        return [str(o) for o in overrides]
    raise ConfigError(f"overrides must be a string or a list of strings, got {overrides!r}")


def snakemake_overrides(value, config_args=()):
    """The ``overrides`` exactly as written on Snakemake's command line.

    Snakemake parses each ``--config KEY=VALUE`` value as YAML: a `` #`` starts a comment (the
    rest is dropped) and a quoted value loses its quotes.  ``config_args`` are the raw
    ``KEY=VALUE`` strings (``workflow.config_settings.config_args``, the same in the jobs'
    subprocesses): the text after ``overrides=`` is returned as given, for :func:`shlex.split`.
    A YAML list (``overrides="[sweep=smoke, 'data.path=my file.npy']"``) is kept as the list.
    Without a command-line entry (a config file or a profile), ``value`` is returned.
    """
    raw = None
    for arg in config_args or ():
        key, sep, text = str(arg).partition("=")
        if sep and key == "overrides":
            raw = text
    if raw is None or isinstance(value, (list, tuple)):
        return value
    return raw


#: YAML aliases allowed in one config file: enough for ordinary anchors, too few for an
#: exponential "billion laughs" expansion (k aliases expand to at most about e^(k/e) nodes).
MAX_YAML_ALIASES = 16


def _searchpath_dirs(overrides: list[str], base: Path) -> list[Path]:
    """The directories ``hydra.searchpath`` overrides add; each must be a ``file://`` directory
    inside the working directory (configs are code: they do not load from anywhere).  Every
    other ``hydra.*`` override is refused (the compose API ignores Hydra's run settings)."""
    dirs = []
    for override in overrides:
        key, _, value = override.lstrip("+~").partition("=")
        if not key.startswith("hydra."):
            continue
        if key != "hydra.searchpath":
            raise ConfigError(f"{key}: Hydra's own settings are not used by lindiff (only hydra.searchpath is)")
        for entry in value.strip("[]").split(","):
            entry = entry.strip().strip("'\"")
            if not entry:
                continue
            if not entry.startswith("file://"):
                raise ConfigError(f"hydra.searchpath: {entry!r}: only file:// directories inside the working directory")
            directory = Path(entry.removeprefix("file://")).expanduser()
            resolved = (base / directory).resolve()
            if resolved != base and base not in resolved.parents:
                raise ConfigError(
                    f"hydra.searchpath: {entry!r} is outside the working directory {base}; configs load only "
                    "from lindiff's config directory and folders of the working directory"
                )
            dirs.append(resolved)
    return dirs


def check_group_option(option, where: str) -> None:
    """A config group option names a file of its group: no ``..`` and no absolute path, which
    would load YAML from anywhere, past the search-path rule and the alias limit."""
    if not isinstance(option, str):
        return
    text = option.strip().strip("'\"")
    if text.startswith(("/", "~")) or ".." in text.replace("\\", "/").split("/"):
        raise ConfigError(f"{where}: the config group option {option!r} must name a file of its group "
                          "(no '..', no absolute path)")


def _check_defaults(path: Path, text: str) -> None:
    """The options of a config file's ``defaults:`` list (see :func:`check_group_option`)."""
    import yaml

    try:
        content = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path}: not valid YAML ({_first_line(exc)})") from None
    defaults = content.get("defaults") if isinstance(content, dict) else None
    for entry in defaults if isinstance(defaults, list) else []:
        for option in entry.values() if isinstance(entry, dict) else [entry]:
            check_group_option(option, f"config file {path}, defaults")


def check_yaml_files(directories) -> None:
    """Every ``*.yaml`` under ``directories`` is safe to load: at most :data:`MAX_YAML_ALIASES`
    YAML aliases (a 400-byte alias bomb otherwise runs for minutes and takes gigabytes), and a
    ``defaults:`` list that names files of the config directories only."""
    import yaml

    for directory in directories:
        for path in sorted(Path(directory).rglob("*.yaml")):
            try:
                text = path.read_text()
                aliases = sum(isinstance(t, yaml.AliasToken) for t in yaml.scan(text))
            except (OSError, yaml.YAMLError) as exc:
                raise ConfigError(f"config file {path}: not valid YAML ({_first_line(exc)})") from None
            if aliases > MAX_YAML_ALIASES:
                raise ConfigError(
                    f"config file {path}: {aliases} YAML aliases (at most {MAX_YAML_ALIASES}): write it without "
                    "anchors and aliases (use ${...} interpolation)"
                )
            _check_defaults(path, text)


def _is_dir(path: Path) -> bool:
    """``path.is_dir()``, False for a name the system refuses (too long, ...)."""
    try:
        return path.is_dir()
    except OSError:
        return False


def _check_group_overrides(overrides: list[str], roots: list[Path]) -> None:
    """Every override of a config group (its key a folder of a config directory) names an
    option of that group (see :func:`check_group_option`)."""
    for override in overrides:
        key, sep, value = override.lstrip("+~").partition("=")
        group = key.split("@")[0].strip("/")
        if sep and group and any(_is_dir(root / group) for root in roots):
            check_group_option(value, f"override {override!r}")


def compose(overrides=(), config_dir: str | os.PathLike | None = None) -> DictConfig:
    """Compose ``config.yaml`` with Hydra's compose API (no side effects on cwd).

    The config directory and the ``hydra.searchpath`` directories (inside the working
    directory only) are checked first (:func:`check_yaml_files`)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.errors import HydraException

    config_dir = Path(config_dir or default_config_dir()).resolve()
    if not (config_dir / "config.yaml").is_file():
        raise ConfigError(f"no config.yaml in the config directory {config_dir}")
    overrides = list(overrides)
    roots = [config_dir, *_searchpath_dirs(overrides, Path.cwd().resolve())]
    check_yaml_files(roots)
    _check_group_overrides(overrides, roots)
    try:
        with initialize_config_dir(config_dir=str(config_dir), version_base="1.3"):
            return hydra_compose(config_name="config", overrides=list(overrides))
    except (HydraException, OmegaConfBaseException) as exc:
        raise ConfigError(f"bad configuration override: {_first_line(exc)}") from None
    except OSError as exc:  # Hydra looks an override's key up as a config group folder
        named = [o for o in overrides if o.lstrip("+~").partition("=")[0].replace(".", "/") in str(exc.filename or "")
                 or o.lstrip("+~").partition("=")[0] in str(exc.filename or "")]
        where = f"override {named[0][:60]!r}..." if named else "an override"
        raise ConfigError(f"bad configuration override: {where} names a config path the system refuses "
                          f"({exc.strerror}); shorten the key") from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


def _schema_error(exc: OmegaConfBaseException, key: str | None = None) -> ConfigError:
    full_key = getattr(exc, "full_key", None)
    key = key or (full_key if isinstance(full_key, str) and full_key else "?")
    message = getattr(exc, "msg", None) or _first_line(exc)
    return ConfigError(f"config key {key}: {message.splitlines()[0]}")


def _paths(node, prefix: tuple = ()):
    """Every key path of a plain container, parents before children."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        yield (*prefix, key)
        yield from _paths(value, (*prefix, key))


def _nested(path: tuple, value):
    for key in reversed(path):
        value = {key: value} if isinstance(key, str) else [value]
    return value


def _locate(cfg: DictConfig, fresh) -> str | None:
    """The deepest key whose value alone makes merging into ``fresh()`` (the typed schema) or
    resolving fail: the key an error without one is about (a list element, an interpolation)."""
    plain = OmegaConf.to_container(cfg, resolve=False)
    failing = None
    for path in _paths(plain):
        if any(isinstance(k, int) for k in path):
            continue  # a list element: its list is the key
        value = plain
        for key in path:
            value = value[key]
        try:
            merged = OmegaConf.merge(fresh(), _nested(path, value))
            OmegaConf.select(merged, ".".join(path), throw_on_resolution_failure=True)
        except Exception:  # noqa: BLE001 - any failure marks the key; the original error is reported
            failing = ".".join(path)
    return failing


def apply_schema(cfg: DictConfig) -> DictConfig:
    """Merge into :class:`~lindiff.pipeline.schema.LindiffConfig`, ``data`` into the schema of
    its data set; a wrong type, unknown key or invalid choice fails naming the key."""
    entry = data_set(OmegaConf.select(cfg, "data.name", default=None))
    def fresh():
        typed = OmegaConf.structured(LindiffConfig)
        typed.data = OmegaConf.structured(entry.schema)
        return typed

    try:
        typed = OmegaConf.merge(fresh(), cfg)
        OmegaConf.resolve(typed)
        OmegaConf.to_container(typed, throw_on_missing=True)
    except OmegaConfBaseException as exc:
        full_key = getattr(exc, "full_key", None)
        known = isinstance(full_key, str) and full_key
        raise _schema_error(exc, None if known else _locate(cfg, fresh)) from None
    return typed


def resolved(cfg) -> dict:
    """The typed configuration as plain containers (choices as strings), interpolations resolved."""
    return OmegaConf.to_container(cfg, resolve=True, enum_to_str=True)


def load(overrides=(), config_dir=None, check_data: bool = True) -> DictConfig:
    """Compose, type-check and value-check the configuration.  Raises :class:`ConfigError`
    (or :class:`DataError` for a bad data file), naming the key or file."""
    cfg = apply_schema(compose(parse_overrides(overrides), config_dir))
    check_values(cfg)
    check_paths(cfg)
    check_memory(cfg, points(cfg, "rank"), points(cfg, "sampler_point"))
    if check_data:
        check_values(cfg, data_info(cfg.data, **rank_requirement(cfg)))
    return cfg


def notes(cfg) -> list[str]:
    """What a run of this configuration leaves out that its sweep asks for, one sentence each
    (reported at the start of a run; what it cannot do at all is refused by the checks)."""
    out = []
    if not cfg.deep.enabled and len(cfg.sweep.deep.n):
        out.append(f"sweep.deep.n={list(cfg.sweep.deep.n)} is skipped: data={cfg.data.name} has no deep denoiser "
                   "(deep.enabled=false); set sweep.deep.n=[] to silence this")
    if not cfg.deep.enabled and len(cfg.sweep.multiscale.n):
        out.append(f"sweep.multiscale.n={list(cfg.sweep.multiscale.n)} is skipped: data={cfg.data.name} has no deep "
                   "denoiser (deep.enabled=false); set sweep.multiscale.n=[] to silence this")
    if not cfg.deep.enabled and len(cfg.sweep.theory.n):
        out.append(f"sweep.theory.n={list(cfg.sweep.theory.n)} is skipped: data={cfg.data.name} has no deep "
                   "denoiser (deep.enabled=false); set sweep.theory.n=[] to silence this")
    return out


def to_yaml(cfg) -> str:
    return OmegaConf.to_yaml(resolved(cfg))
