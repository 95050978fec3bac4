"""Configuration: every group composes through the compose API; bad input fails naming the key."""


import numpy as np
import pytest
from helpers import REPO

from lindiff.errors import ConfigError, DataError
from lindiff.pipeline import checks as ldchecks
from lindiff.pipeline import config as ldc
from lindiff.pipeline import datasets as ldd
from lindiff.pipeline import entries as lde
from lindiff.pipeline import levels as ldl
from lindiff.pipeline import sweep as lds

CONF = REPO / "conf"


def _options(group):
    return sorted(p.stem for p in (CONF / group).glob("*.yaml"))


@pytest.mark.parametrize("data", [d for d in _options("data") if d not in ("file", "mnist")])
@pytest.mark.parametrize("sweep", ["default", "smoke"])
@pytest.mark.parametrize("wandb", _options("wandb"))
def test_groups_compose_and_validate(data, sweep, wandb):
    overrides = [f"data={data}", f"sweep={sweep}", f"wandb={wandb}"]
    if data == "spiked":
        overrides += ["learn.k=3", "sweep.rank=[3]", "sweep.n=[100]", "sweep.grids=[]", "sweep.fig3_indices=[0,1,2]"]
    if data in ("calpha", "disks"):  # no labels: the default sweep's class-conditioned grids do not apply
        overrides += ["sweep.grids=[]"]
    cfg = ldc.load(overrides)
    assert cfg.data.name == data and cfg.wandb.mode == wandb
    assert set(cfg.schedules) == set(_options("schedule"))
    assert lds.sweep_points(cfg)


def cfg_data_is_embedded(experiment: str) -> bool:
    return ldc.compose([f"experiment={experiment}"]).data.name != "mnist"


@pytest.mark.parametrize("experiment", _options("experiment"))
def test_experiment_presets(experiment):
    """Every experiment composes, names its sweep and runs a study of several points (the MNIST ones
    are checked without the data: the data checks are the dry runs' of test_presets)."""
    cfg = ldc.load([f"experiment={experiment}"], check_data=cfg_data_is_embedded(experiment))
    assert cfg.sweep.name == experiment
    assert sum(len(study.points(cfg)) for study in lds.GRID_STUDIES) >= 3


def test_mnist_and_file_groups_compose_without_data(tmp_path):
    cfg = ldc.apply_schema(ldc.compose(["data=mnist"]))
    assert cfg.data.name == "mnist" and cfg.data.split == "train"
    X = np.random.default_rng(0).random((40, 9))
    np.save(tmp_path / "x.npy", X)
    cfg = ldc.load(["data=file", f"data.path={tmp_path / 'x.npy'}", "sweep=smoke", "sweep.n=[20]", "learn.k=5",
                    "sweep.rank=[3]"])
    assert ldd.data_info(cfg.data).d == 9


def test_sweep_grid_union_and_points():
    cfg = ldc.load(["sweep=default"])
    points = lds.sweep_points(cfg)
    linear = 2 * 2 * 2  # n x rank x T on the linear schedule
    constant = 2  # the constant schedule at n = 1797, rank 20, both T
    assert len(points) == linear + constant + 3  # plus the class-conditioned grid
    assert {p.cond for p in points} == {"all", "c0", "c3", "c7"}
    assert {(p.schedule, p.n, p.rank) for p in points if p.schedule == "constant"} == {("constant", 1797, 20)}
    assert len({p.at("learn") for p in points}) == linear // 2 + constant + 3  # rank does not change the learn job


def test_paper_sweep_matches_the_paper_settings():
    cfg = ldc.apply_schema(ldc.compose(["sweep=paper", "data=mnist"]))
    ldchecks.check_values(cfg)
    points = lds.sweep_points(cfg)
    assert {p.rank for p in points} == {30}
    assert 65 in {p.T for p in points} and "linear" in {p.schedule for p in points}
    assert {p.cond for p in points} >= {f"c{i}" for i in range(10)}
    assert len({p.n for p in points if p.T == 65 and p.cond == "all" and p.schedule == "linear"}) >= 4
    runs = {(p.size, p.sampler) for p in lds.points(cfg, "deep_sample")}  # Fig. 7 on the class-conditional DDPM model
    assert runs == {("ddpmcfg", "ddpm")}
    assert {p.control for p in lds.points(cfg, "deep_control")} == {"untrained", "empirical", "wiener"}
    wider = ldc.apply_schema(ldc.compose(["sweep=paper", "data=mnist", "sweep.deep.size=[default,ddpm,ddpmcfg]",
                                          "sweep.deep.sampler=[ascent,ddpm,ddim]"]))  # the preset's comment
    runs = {(p.size, p.sampler) for p in lds.points(wider, "deep_sample")}
    assert runs == {("default", "ascent"), *((size, sampler) for size in ("ddpm", "ddpmcfg") for sampler in ("ddpm", "ddim"))}


@pytest.mark.bad_input
@pytest.mark.parametrize(
    "overrides, key",
    [
        (["sweep.T=[abc]"], "sweep.T"),
        (["sweep.T=abc"], "sweep.T"),
        (["sweep.T=[0]"], "sweep.T"),
        (["sweep.n=[1]"], "sweep.n"),
        (["sweep.n=[5000]"], "sweep.n"),
        (["sweep.rank=[0]"], "sweep.rank"),
        (["sweep.rank=[31]"], "learn.k"),
        (["learn.k=65", "sweep.rank=[65]"], "sweep.rank"),
        (["learn.k=65", "sweep.rank=[30]"], "learn.k"),
        (["sweep.rank=[]"], "sweep.rank"),
        (["sweep.T=[10,10]"], "sweep.T"),
        (["sweep.schedule=[quadratic]"], "sweep.schedule"),
        (["sweep.classes=[11]"], "sweep.classes"),
        (["sweep=nope"], "sweep"),
        (["data=nope"], "data"),
        (["wandb.mode=sometimes"], "wandb.mode"),
        (["schedules.linear.sigma_max=-1"], "schedules.linear.sigma_max"),
        (["schedules.linear.sigma_max=inf"], "schedules.linear.sigma_max"),
        (["learn.method=fast"], "learn.method"),
        (["data.name=imagenet"], "data.name"),
        (["+unknown_key=1"], "unknown_key"),
    ],
)
def test_bad_overrides_fail_naming_the_key(overrides, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        ldc.load(overrides)


@pytest.mark.bad_input
def test_missing_mnist_directory_says_how_to_get_it(tmp_path):
    with pytest.raises(DataError, match="data.download=true"):
        ldc.load(["data=mnist", f"data.dir={tmp_path / 'absent'}"])


def test_parse_overrides():
    assert ldc.parse_overrides("sweep=paper data=mnist 'sweep.T=[20,65]'") == [
        "sweep=paper", "data=mnist", "sweep.T=[20,65]"]
    assert ldc.parse_overrides(["a=1"]) == ["a=1"]
    assert ldc.parse_overrides(None) == []


def test_derived_seeds_are_stable_and_distinct():
    a = ldl.derive_seed(0, "learn", "digits/all/n100_s0/linear_T5").generate_state(2)
    b = ldl.derive_seed(0, "learn", "digits/all/n100_s0/linear_T5").generate_state(2)
    c = ldl.derive_seed(0, "generate", "digits/all/n100_s0/linear_T5").generate_state(2)
    d = ldl.derive_seed(1, "learn", "digits/all/n100_s0/linear_T5").generate_state(2)
    assert (a == b).all() and not (a == c).all() and not (a == d).all()


def test_cli_prints_resolved_yaml(capsys):
    from lindiff.pipeline.cli import main

    assert main(["config", "sweep=smoke"]) == 0
    out = capsys.readouterr().out
    assert "name: smoke" in out and "sigma_max: 10.0" in out
    assert main(["points", "sweep=smoke"]) == 0 and "digits/all/n100_s0/linear_T5/r4" in capsys.readouterr().out
    assert main(["config", "sweep.T=[0]"]) == 2


def test_theorem_schedule_scale():
    cfg = ldc.load(["sweep=smoke"])
    sched = lde.schedule_for(cfg, "constant", 50)
    np.testing.assert_allclose(sched.sigma[1:], cfg.schedules.constant.sigma_max / 50)
    assert lde.schedule_for(cfg, "linear", 50).sigma_bar[-1] == pytest.approx(cfg.data.sigma_max)


@pytest.mark.bad_input
@pytest.mark.parametrize(
    "overrides, key",
    [
        (["schedules.spectral.design.objective=l1"], "schedules.spectral.design.objective"),
        (["schedules.spectral.design.injection=sometimes"], "schedules.spectral.design.injection"),
        (["schedules.spectral.design.init=spectral"], "schedules.spectral.design.init"),
        (["schedules.spectral.design.steps=0"], "schedules.spectral.design.steps"),
        (["schedules.spectral.design.lr=-1"], "schedules.spectral.design.lr"),
        (["schedules.spectral.design.sigma_max_bounds=[2,1]"], "schedules.spectral.design.sigma_max_bounds"),
        (["schedules.spectral.design.components=31"], "schedules.spectral.design.components"),
        (["schedules.spectral.design.steps=many"], "schedules.spectral.design.steps"),
        (["schedules.spectral.design=null"], "schedules.spectral.design"),
        (["+schedules.linear.design.objective=w2"], "schedules.linear.design"),
    ],
)
def test_bad_design_options_fail_naming_the_key(overrides, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        ldc.load(["sweep.schedule=[linear,spectral]", *overrides])


def test_spectral_schedule_comes_from_its_design_artifact():
    cfg = ldc.load(["sweep.schedule=[linear,spectral]"])
    assert {p.schedule for p in lds.sweep_points(cfg)} == {"linear", "spectral", "constant"}  # constant: its own grid
    assert lde.design_components(cfg.schedules.spectral, cfg.learn.k) == cfg.learn.k
    with pytest.raises(ConfigError, match="design artifact"):
        lde.schedule_for(cfg, "spectral", 10)


def test_theorem_experiment_adds_the_constant_schedule_at_fixed_total_noise():
    cfg = ldc.load(["experiment=theorem"])
    assert {p.schedule for p in lds.sweep_points(cfg)} == {"linear", "constant", "constantmax"}
    assert max(p.T for p in lds.sweep_points(cfg)) >= 500
    for T in (10, 1000):
        fixed = lde.schedule_for(cfg, "constantmax", T)
        theorem = lde.schedule_for(cfg, "constant", T)
        np.testing.assert_allclose(np.diff(fixed.sigma_bar**2), fixed.sigma_bar[-1] ** 2 / T)  # constant increments
        assert fixed.sigma_bar[-1] == pytest.approx(cfg.data.sigma_max)
        assert theorem.sigma_bar[-1] == pytest.approx(cfg.data.sigma_max / np.sqrt(T))


def test_a_preset_folder_of_the_working_directory_loads(tmp_path, monkeypatch):
    folder = tmp_path / "myconf" / "experiment"
    folder.mkdir(parents=True)
    (folder / "mine.yaml").write_text("# @package _global_\ndefaults:\n  - override /sweep: smoke\nsweep:\n  name: mine\n")
    monkeypatch.chdir(tmp_path)
    cfg = ldc.load(["hydra.searchpath=[file://myconf]", "experiment=mine"])
    assert cfg.sweep.name == "mine" and list(cfg.sweep.T) == [5]
