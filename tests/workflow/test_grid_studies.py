"""The grid studies (lindiff.pipeline.sweep.GridStudy): one declaration of a study's axes gives
its grids, points, axis checks and path checks; every study uses it (GRID_STUDIES), and the sweep
table's columns and group keys derive from the same level declaration."""

from __future__ import annotations

import pytest
from omegaconf import OmegaConf

from lindiff.errors import ConfigError, DataError
from lindiff.pipeline import config as ldc
from lindiff.pipeline import levels
from lindiff.pipeline import sweep as lds
from lindiff.pipeline.levels import FIELDS, LEVELS, Field, Level
from lindiff.pipeline.sweep import GRID_STUDIES, LINEAR, SAMPLERS, SWEEP_AXES, GridStudy
from lindiff.studies import sweep_table


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


@pytest.mark.bad_input
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


@pytest.mark.bad_input
def test_a_value_that_cannot_form_its_path_field_fails_naming_the_axis(toy, monkeypatch):
    study, cfg = toy
    monkeypatch.setitem(FIELDS, "width", Field("width", "[0-9]", int))  # one digit only
    cfg.sweep.toy.width = [12]
    with pytest.raises(ConfigError, match=r"sweep\.toy\.width=12 cannot form the path field \{width\}"):
        study.check_paths(cfg)


def test_the_linear_chain_and_the_samplers_are_grid_studies():
    assert SWEEP_AXES == ("classes", "n", "seed", "schedule", "T", "rank")
    assert {FIELDS[f].axis for f in LEVELS["rank"].fields if FIELDS[f].axis} == set(LINEAR.axis_fields())
    cfg = ldc.load(["sweep=spectral_samplers"], check_data=False)
    points = SAMPLERS.points(cfg)
    assert points and all(p.level == "sampler_point" for p in points)
    assert len({p.id for p in points}) == len(points)
    cfg = ldc.load(["sweep=smoke"], check_data=False)  # the samplers study is off there
    assert SAMPLERS.points(cfg) == []


def test_the_sweep_table_columns_and_group_keys_follow_the_rank_level():
    """The workflow's sweep table lists a point's fields before its id; the summary and the
    figures' groups read the axes from there, in the order the rank level declares."""
    import pandas as pd

    cfg = ldc.load(["sweep=smoke", "sweep.n=[50,100]"], check_data=False)
    table = pd.DataFrame([{**p.as_dict(), "id": p.id, "rank_dir": p.dir("r")} for p in lds.points(cfg, "rank")])
    assert sweep_table.axes_of(table) == list(levels.LEVELS["rank"].sort_fields)
    assert sweep_table.other_axes(table, "n", "rank") == ["data", "cond", "schedule", "T", "seed"]
    summary = sweep_table.summary_table(table, [{"w2": 1.0, "n": -1}, {"w2": 2.0}])
    assert sweep_table.axes_of(summary) == list(levels.LEVELS["rank"].sort_fields)
    assert summary["n"].tolist() == [50, 100] and summary["w2"].tolist() == [1.0, 2.0]  # axes win over metrics
    with pytest.raises(DataError, match="needs an id column"):
        sweep_table.axes_of(table.drop(columns="id"))


def _with_axis(cfg, section: str, axis: str, values) -> OmegaConf:
    """A copy of a composed config with one more list under ``section`` (as the schema would
    have it once the axis is declared there)."""
    plain = OmegaConf.to_container(cfg, resolve=True)
    node = plain
    for key in section.split("."):
        node = node[key]
    node[axis] = values
    return OmegaConf.create(plain)


@pytest.mark.parametrize("level, section, enable", [
    ("sampler_point", "sweep.samplers", ["sweep=spectral_samplers"]),
    ("deep", "sweep.deep", ["sweep=smoke"]),
    ("gahb_disks", "sweep.gahb", ["sweep=gahb"]),
])
def test_a_field_added_to_a_level_is_an_axis_of_its_study_with_no_other_edit(monkeypatch, level, section, enable):
    """Adding an axis is the field, its place in the level's pattern and its config list: the real
    study's points, paths and checks follow (two values, so that a point per value must appear)."""
    cfg = ldc.load(enable, check_data=False)
    before = [p.dir("results") for p in lds.points(cfg, level)]
    assert before
    monkeypatch.setitem(FIELDS, "width", Field("width", "[0-9]+", int, minimum=3))
    old = LEVELS[level]
    monkeypatch.setitem(LEVELS, level, Level(level, old.pattern + "/w{width}", order=(*old.sort_fields, "width"),
                                             seed_level=old.seed_level, group_level=old.group_level))
    toy = _with_axis(cfg, section, "width", [3, 5])
    after = lds.points(toy, level)
    assert len(after) == 2 * len(before)
    assert {p.width for p in after} == {3, 5}
    assert {p.dir("results") for p in after} == {f"{path}/w{w}" for path in before for w in (3, 5)}
    study = next(g for g in GRID_STUDIES if g.level == level)
    assert study.axis_fields()["width"] == "width"
    with pytest.raises(ConfigError, match=rf"{section}\.width=2: must be >= 3"):
        study.check_axes(_with_axis(cfg, section, "width", [2, 5]))
    with pytest.raises(ConfigError, match=rf"{section}\.width has duplicate values"):
        study.check_axes(_with_axis(cfg, section, "width", [3, 3]))


def test_every_study_is_declared_once_and_its_points_come_from_the_declaration():
    """The deep, A/B, GAHB and receptive-field studies expand through the same declaration as the linear chain."""
    assert {g.name for g in GRID_STUDIES} == {"linear", "samplers", "deep", "generalization", "gahb", "multiscale", "theory"}
    cfg = ldc.load(["sweep=smoke", "sweep.deep.size=[quick,ddpmquick]", "sweep.deep.sampler=[ascent,ddim]",
                    "sweep.deep.T=[5,7]"], check_data=False)
    runs = {(p.size, p.sampler, p.schedule, p.T) for p in lds.points(cfg, "deep_sample")}
    # the blind size runs the ascent once (its adaptive schedule, its most steps); the
    # noise-conditional one every non-ascent sampler x schedule x T
    assert runs == {("quick", "ascent", "adaptive", lds.ascent_steps(cfg)),
                    ("ddpmquick", "ddim", "vplinear", 5), ("ddpmquick", "ddim", "vplinear", 7)}
    cfg = ldc.load(["sweep=generalization", "sweep.generalization.deep.n=[2,50]", "sweep.generalization.seed=[0,3]"],
                   check_data=False)
    ab = lds.points(cfg, "ab_point")
    assert {p.kind for p in ab} == {"linear", "deep"} and {p.abseed for p in ab} == {0, 3}
    assert {p.n for p in ab if p.kind == "deep"} == {2, 50}
    with pytest.raises(ConfigError, match=r"sweep\.generalization\.deep\.n=1: must be >= 2"):
        ldc.load(["sweep=generalization", "sweep.generalization.deep.n=[1]"], check_data=False)
    with pytest.raises(ValueError, match="no grid study declares"):
        lds.points(cfg, "learn")
