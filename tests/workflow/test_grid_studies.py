"""The grid studies (lindiff.pipeline.sweep.GridStudy): one declaration of a study's axes gives
its grids, points, axis checks and path checks; the linear chain and the samplers study use it,
and the sweep table's columns and group keys derive from the same level declaration."""

from __future__ import annotations

import pytest
from omegaconf import OmegaConf

from lindiff.errors import ConfigError
from lindiff.pipeline import aggregate, levels
from lindiff.pipeline import config as ldc
from lindiff.pipeline.levels import FIELDS, LEVELS, Field, Level
from lindiff.pipeline.sweep import LINEAR, SAMPLERS, SWEEP_AXES, GridStudy


@pytest.fixture
def toy(monkeypatch):
    """A study declared in a few lines: a new path field ``width`` (an integer axis >= 3) and a
    level with it, over the ``sweep.toy`` section of a config."""
    monkeypatch.setitem(FIELDS, "width", Field("width", "[0-9]+", int, minimum=3))
    monkeypatch.setitem(LEVELS, "toy", Level("toy", "{data}/toy/w{width}_s{seed}"))
    study = GridStudy("toy", "sweep.toy", "toy", {"width": "width", "seed": "seed"}, enabled_by="width")
    cfg = OmegaConf.create({"data": {"name": "digits"},
                            "sweep": {"toy": {"width": [3, 5], "seed": [0], "grids": []}}})
    return study, cfg


def test_a_declared_study_expands_its_grid_into_points_and_paths(toy):
    study, cfg = toy
    points = study.points(cfg)
    assert [p.dir("results") for p in points] == ["results/digits/toy/w3_s0", "results/digits/toy/w5_s0"]
    cfg.sweep.toy.width = [4]  # change one axis: the points and paths follow
    assert [p.dir("results") for p in study.points(cfg)] == ["results/digits/toy/w4_s0"]
    cfg.sweep.toy.grids = [{"width": 7, "seed": [1, 2]}, {}]  # a union of grids over the base axes
    assert sorted((p.width, p.seed) for p in study.points(cfg)) == [(4, 0), (7, 1), (7, 2)]
    cfg.sweep.toy.width = []
    assert study.points(cfg) == [] and study.grids(cfg) == []  # off


@pytest.mark.parametrize("axes, grids, message", [
    ({"width": [2]}, [], r"sweep\.toy\.width=2: must be >= 3"),
    ({"width": [3, 3]}, [], r"sweep\.toy\.width has duplicate values"),
    ({"seed": []}, [], r"sweep\.toy\.seed is empty"),
    ({}, [{"width": 4.5}], r"sweep\.toy\.grids\[0\]\.width=4\.5: must be an integer"),
    ({}, [{"height": 4}], r"sweep\.toy\.grids: unknown axis 'height'; allowed: width, seed"),
])
def test_a_declared_study_checks_its_axes_naming_the_key(toy, axes, grids, message):
    study, cfg = toy
    for axis, values in axes.items():
        cfg.sweep.toy[axis] = values
    cfg.sweep.toy.grids = grids
    with pytest.raises(ConfigError, match=message):
        study.check_axes(cfg)


def test_a_value_that_cannot_form_its_path_field_fails_naming_the_axis(toy, monkeypatch):
    study, cfg = toy
    monkeypatch.setitem(FIELDS, "width", Field("width", "[0-9]", int))  # one digit only
    cfg.sweep.toy.width = [12]
    with pytest.raises(ConfigError, match=r"sweep\.toy\.width=12 cannot form the path field \{width\}"):
        study.check_paths(cfg)


def test_the_linear_chain_and_the_samplers_are_grid_studies():
    assert SWEEP_AXES == ("classes", "n", "seed", "schedule", "T", "rank")
    assert {FIELDS[f].axis for f in LEVELS["rank"].fields if FIELDS[f].axis} == set(LINEAR.axes)
    cfg = ldc.load(["sweep=spectral_samplers"], check_data=False)
    points = SAMPLERS.points(cfg)
    assert points and all(p.level == "sampler_point" for p in points)
    assert len({p.id for p in points}) == len(points)
    cfg = ldc.load(["sweep=smoke"], check_data=False)  # the samplers study is off there
    assert SAMPLERS.points(cfg) == []


def test_the_sweep_table_columns_and_group_keys_follow_the_rank_level():
    assert aggregate.AXES == list(levels.LEVELS["rank"].sort_fields)
    assert aggregate.other_axes("n", "rank") == ["data", "cond", "schedule", "T", "seed"]
    assert aggregate.GROUP == [a for a in aggregate.AXES if a != "schedule"]
