"""The ``lindiff`` command: inspect a configuration and its sweep without running anything.

    lindiff config sweep=paper data=mnist 'sweep.T=[20,65]'   # the resolved configuration (YAML)
    lindiff points sweep=default                              # the sweep points of every level
    lindiff --version

Overrides are Hydra override strings, as in ``snakemake --config overrides="..."``.
A bad value exits 2 with the message naming the key or file.
"""

from __future__ import annotations

import argparse
import sys

from lindiff import __version__
from lindiff.errors import ConfigError, DataError


def _load(args):
    from lindiff.pipeline.config import load

    return load(args.overrides, args.config_dir, check_data=not args.no_data_check)


def _config(args) -> int:
    from lindiff.pipeline.config import to_yaml

    print(to_yaml(_load(args)), end="")
    return 0


def _points(args) -> int:
    from lindiff.pipeline import sweep

    cfg = _load(args)
    levels = list(dict.fromkeys(grid.level for grid in sweep.GRID_STUDIES))  # every declared level, in order
    groups = {level: sweep.points(cfg, level) for level in levels}
    learn = {p.at("learn") for p in groups["rank"]}
    print(f"# {len(groups['rank'])} sweep points, {len(learn)} learn jobs, {len(groups['deep'])} deep models, "
          f"{len(groups['deep_sample'])} deep sampler runs, {len(groups['deep_control'])} Fig. 7 controls, "
          f"{len(groups['ab_point'])} A/B points, {len(groups['sampler_point'])} sampler points, "
          f"{sum(len(groups[level]) for level in ('gahb_calpha', 'gahb_disks'))} GAHB models")
    for level, points in groups.items():
        for point in points:
            print(f"{level}\t{point.id}")
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="lindiff", description=__doc__.splitlines()[0])
    top.add_argument("--version", action="version", version=f"lindiff {__version__}")
    commands = top.add_subparsers(dest="command", required=True)
    for name, run, text in (("config", _config, "print the resolved configuration"),
                            ("points", _points, "list the sweep points (level and id, one a line)")):
        sub = commands.add_parser(name, help=text, description=text)
        sub.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. sweep=paper data=mnist 'sweep.T=[20,65]'")
        sub.add_argument("--config-dir", default=None, help="a Hydra config directory (default: the shipped conf/)")
        sub.add_argument("--no-data-check", action="store_true", help="skip the checks that read the data")
        sub.set_defaults(run=run)
    return top


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except (ConfigError, DataError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
