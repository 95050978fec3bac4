"""Every sweep preset and experiment composes and dry-runs through Snakemake; per-option schemas."""

from __future__ import annotations

import pytest
from helpers import REPO, run_snakemake

from lindiff.errors import ConfigError
from lindiff.pipeline import config as ldc
from lindiff.pipeline import sweep as lds

CONF = REPO / "conf"
SWEEPS = sorted(p.stem for p in (CONF / "sweep").glob("*.yaml"))
EXPERIMENTS = sorted(p.stem for p in (CONF / "experiment").glob("*.yaml"))
NEEDS_MNIST = {"paper", "multiscale", "theory"}


def _overrides(group: str, name: str, request) -> str:
    overrides = f"{group}={name}"
    if name in NEEDS_MNIST:  # (experiment=theory selects MNIST itself)
        overrides += f" data=mnist data.dir={request.getfixturevalue('mnist_dir')}"
    return overrides


@pytest.mark.parametrize(("group", "name"), [("sweep", s) for s in SWEEPS] + [("experiment", e) for e in EXPERIMENTS])
def test_preset_composes_and_dry_runs(group, name, request, tmp_path):
    overrides = _overrides(group, name, request)
    cfg = ldc.load(overrides)
    points = lds.sweep_points(cfg)
    assert points and cfg.sweep.name
    result = run_snakemake(tmp_path, overrides, "-n", "--quiet", "rules")
    assert result.returncode == 0, result.stderr[-3000:]
    # the dry run plans one analyze job per sweep point and one aggregate
    counts = dict(line.split()[:2] for line in result.stdout.splitlines() if len(line.split()) == 2
                  and line.split()[1].isdigit())
    assert int(counts["analyze"]) == len(points) and int(counts["aggregate"]) == 1, result.stdout


def test_each_data_set_has_its_own_schema():
    digits = ldc.load(["sweep=smoke"], check_data=False)
    assert set(digits.data) == {"name", "sigma_max", "threads"}
    spiked = ldc.load(["data=spiked", "sweep=smoke", "learn.k=3", "sweep.rank=[3]"], check_data=False)
    assert spiked.data.d == 200 and list(spiked.data.lambdas) == [5.0, 3.0, 2.0]
    with pytest.raises(ConfigError, match=r"data\.d"):
        ldc.load(["sweep=smoke", "+data.d=5"], check_data=False)
    with pytest.raises(ConfigError, match=r"data\.split.*train, test"):
        ldc.load(["data=mnist", "sweep=smoke", "data.split=validation"], check_data=False)
    with pytest.raises(ConfigError, match=r"data\.n_total=1: must be >= 2"):
        ldc.load(["data=spiked", "sweep=smoke", "data.n_total=1"], check_data=False)


def test_choices_are_enums_and_resolve_to_strings():
    cfg = ldc.load(["sweep=smoke", "learn.method=naive"], check_data=False)
    assert cfg.learn.method == "naive"
    plain = ldc.resolved(cfg)
    assert type(plain["learn"]["method"]) is str and type(plain["wandb"]["mode"]) is str
    with pytest.raises(ConfigError, match=r"learn\.noise.*cumulative, independent"):
        ldc.load(["sweep=smoke", "learn.noise=sometimes"], check_data=False)
    with pytest.raises(ConfigError, match=r"schedules\.linear\.name.*geometric"):
        ldc.load(["sweep=smoke", "schedules.linear.name=quadratic"], check_data=False)


def test_the_workflow_profile_is_loaded_and_sets_cores(tmp_path):
    """profiles/default sits beside the Snakefile, so Snakemake loads it without a flag; it sets
    cores, so a plain `snakemake` (no --cores) runs."""
    result = run_snakemake(tmp_path, "sweep=smoke", "-n")
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout + result.stderr
    assert "Using workflow specific profile" in out and "profiles/default" in out
    assert "rerun-incomplete" in (REPO / "profiles/default/config.yaml").read_text()
