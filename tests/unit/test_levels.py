"""The sweep levels: one declaration of point ↔ path, used by the sweep, the jobs and the workflow."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from lindiff.errors import ConfigError
from lindiff.pipeline import config as ldc
from lindiff.pipeline import levels
from lindiff.pipeline import sweep as lds
from lindiff.pipeline.levels import FIELDS, LEVELS


def test_every_level_is_made_of_declared_fields_and_is_unique():
    for level in LEVELS.values():
        assert set(level.fields) <= set(FIELDS), level.name
        assert set(level.sort_fields) == set(level.fields), level.name
    assert len({frozenset(level.fields) for level in LEVELS.values()}) == len(LEVELS)


def test_point_ids_paths_and_seed_keys_follow_the_patterns():
    point = LEVELS["rank"].point(data="digits", cond="c3", n=150, schedule="linear", T=50, seed=0, rank=20)
    assert point.id == "digits/c3/n150_s0/linear_T50/r20"
    assert point.dir("results") == "results/digits/c3/n150_s0/linear_T50/r20"
    assert point.at("learn").id == "digits/c3/n150_s0/linear_T50"
    assert point.at("data").dir("out") == "out/digits/c3/n150_s0"
    assert point.label == 3 and point.n == 150
    # the rank level seeds with its learn point: chains of every rank share the noise
    assert LEVELS["rank"].seed_key(**point.as_dict()) == point.at("learn").id
    assert LEVELS["learn"].seed_key(**point.as_dict()) == point.at("learn").id
    assert LEVELS["sweep"].id(sweep="default") == "default"
    assert LEVELS["sweep"].path("results", "summary.parquet") == "results/sweeps/{sweep}/summary.parquet"


def test_point_id_and_seed_key_from_wildcards():
    wildcards = {"data": "digits", "cond": "all", "n": "100", "seed": "0", "schedule": "linear", "T": "5", "rank": "4"}
    assert levels.point_id(wildcards) == "digits/all/n100_s0/linear_T5/r4"
    assert levels.seed_key(wildcards) == "digits/all/n100_s0/linear_T5"
    deep = {"data": "digits", "n": "200", "seed": "0", "size": "quick"}
    assert levels.point_id(deep) == "digits/all/n200_s0/deep_quick" == levels.seed_key(deep)
    half = {"data": "digits", "abseed": "0", "schedule": "linear", "T": "20", "rank": "10", "n": "2", "half": "A"}
    assert levels.point_id(half) == "digits/generalization/s0/linear_linear_T20_r10/n2/A"
    with pytest.raises(ConfigError, match="no sweep level"):
        levels.point_id({"data": "digits", "rank": "4"})


def test_fix_fills_some_wildcards():
    assert LEVELS["data"].fix(cond="all") == "{data}/all/n{n}_s{seed}"


@pytest.mark.parametrize("level", sorted(LEVELS))
def test_each_pattern_parses_back_with_the_wildcard_constraints(level):
    """A formatted path matches the level's regex built from FIELDS (what Snakemake does)."""
    level = LEVELS[level]
    examples = {"data": "digits", "cond": "c7", "n": 12, "seed": 3, "schedule": "geometric", "T": 65, "rank": 20,
                "size": "quick", "sweep": "paper", "abseed": 1, "abmodel": "deep_quick", "half": "B",
                "sampler": "ancestral", "denoiser": "empirical", "alpha": "2.5", "control": "untrained",
                "variant": "permuted", "wavelet": "db2", "scale": "j2", "rf": "full", "arch": "wavelet",
                "theory": "equivariant"}
    regex = re.escape(level.pattern)
    for name in level.fields:
        regex = regex.replace(re.escape("{" + name + "}"), f"(?P<{name}>{FIELDS[name].regex})", 1)
    values = {f: examples[f] for f in level.fields}
    match = re.fullmatch(regex, level.format(**values))
    assert match and level.typed(match.groupdict()) == values


def test_sweep_points_sort_like_the_declared_order():
    cfg = ldc.load(["sweep=default"])
    points = lds.sweep_points(cfg)
    assert points == sorted(points)
    keys = [tuple(getattr(p, f) for f in LEVELS["rank"].sort_fields) for p in points]
    assert keys == sorted(keys)
    assert lds.SWEEP_AXES == ("classes", "n", "seed", "schedule", "T", "rank")


def test_a_value_that_cannot_form_a_path_fails_at_config_time():
    overrides = ["+schedules.lin_2={name: linear, sigma_max: 10.0, scale: sigma_max, ratio: 100.0}",
                 "sweep=smoke", "sweep.schedule=[lin_2]"]
    with pytest.raises(ConfigError, match=r"schedules\.lin_2.*\{schedule\}"):
        ldc.load(overrides, check_data=False)
    with pytest.raises(ConfigError, match=r"deep\.sizes\.big-1"):
        ldc.load(["sweep=smoke", "+deep.sizes.big-1={epochs: 1}"], check_data=False)
    ldc.load(["sweep=smoke", "+schedules.lintwo={name: linear, sigma_max: 10.0}"], check_data=False)


def test_wildcards_object_of_snakemake_is_accepted():
    """Snakemake passes a Namedlist (items()); a plain mapping works too."""
    wildcards = SimpleNamespace(items=lambda: [("sweep", "smoke")])
    assert levels.point_id(wildcards) == "smoke"


def test_wandb_groups_gather_a_learn_points_chain():
    wildcards = {"data": "digits", "cond": "all", "n": "100", "seed": "0", "schedule": "linear", "T": "5", "rank": "4"}
    learn = {k: v for k, v in wildcards.items() if k != "rank"}
    assert levels.group_id(wildcards) == levels.group_id(learn) == "digits/all/n100_s0/linear_T5"
    assert levels.group_id({"data": "digits", "n": "200", "seed": "0", "size": "quick"}) == "digits/all/n200_s0/deep_quick"
    assert levels.group_id({"sweep": "smoke"}) == "smoke"
