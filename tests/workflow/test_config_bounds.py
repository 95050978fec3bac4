"""Values that used to be silently changed, or caught only inside a job, fail at config time
naming the key."""

from __future__ import annotations

import pytest

from lindiff.errors import ConfigError
from lindiff.pipeline import config as ldc
from lindiff.pipeline import sweep as lds

SMOKE = ["sweep=smoke"]


@pytest.mark.bad_input
@pytest.mark.parametrize(("override", "message"), [
    ("analyze.taus=[5.0]", r"analyze\.taus=\[5\.0\]: give fractions of T in \[0, 1\]"),
    ("analyze.taus=[]", r"analyze\.taus=\[\]"),
    ("analyze.taus=[-0.1,0.5]", r"analyze\.taus"),
    ("schedules.geometric.ratio=0.5", r"schedules\.geometric\.ratio=0\.5: must be >= 1"),
    ("generate.injection_scale=-1", r"generate\.injection_scale=-1\.0: must be >= 0"),
    ("sweep.fig3_indices=[0,40]", r"sweep\.fig3_indices: 40 is not a stored component .*learn\.k=30"),
    ("schedules.linear.sigma_max=1e308", r"schedules\.linear\.sigma_max=1e\+308: must be <= 1e\+150"),
    ("data.sigma_max=1e200", r"data\.sigma_max=1e\+200: must be <= 1e\+150"),
    ("sweep.seed=[18446744073709551616]", r"sweep\.seed=18446744073709551616: must be <= 9223372036854775807"),
    ("schedules.spectral.design.seed=-3", r"schedules\.spectral\.design\.seed=-3: must be >= 0"),
    ("sweep.grids=[{T:[5.7]}]", r"sweep\.grids\[0\]\.T=5\.7: must be an integer"),
    ("sweep.grids=[{n:[100.9]}]", r"sweep\.grids\[0\]\.n=100\.9: must be an integer"),
    ("sweep.grids=[{},{T:[abc]}]", r"sweep\.grids\[1\]\.T='abc': must be an integer"),
    ("sweep.grids=[{schedule:[3]}]", r"sweep\.grids\[0\]\.schedule=3: must be a string"),
    ("sweep.classes=[-1]", r"sweep\.classes='-1' \(in paths 'c-1'\) cannot form the path field \{cond\}"),
    ("sweep.name=../elsewhere", r"sweep\.name='\.\./elsewhere' cannot form the path field \{sweep\}"),
    # NaN passes every comparison and inf every lower bound: a field that declares a bound is finite
    ("generate.injection_scale=nan", r"generate\.injection_scale=nan: must be a finite number"),
    ("generate.injection_scale=inf", r"generate\.injection_scale=inf: must be a finite number"),
    ("schedules.geometric.ratio=nan", r"schedules\.geometric\.ratio=nan: must be a finite number"),
    ("schedules.geometric.ratio=inf", r"schedules\.geometric\.ratio=inf: must be a finite number"),
    ("deep.quality.confidence=nan", r"deep\.quality\.confidence=nan: must be a finite number"),
    ("schedules.linear.sigma_max=-inf", r"schedules\.linear\.sigma_max=-inf: must be a finite number"),
    # values that ran and made nonsense, or failed only inside a job
    ("analyze.max_sin=-1", r"analyze\.max_sin=-1\.0: must be positive and finite"),
    ("analyze.max_sin=nan", r"analyze\.max_sin=nan: must be a finite number"),
    ("analyze.max_sin=5", r"analyze\.max_sin=5\.0: must be <= 1"),
    ("sweep.gahb.alpha=[2.0000001,2.0000002]", r"sweep\.gahb\.alpha=2\.0000001 would be stored as '2'"),
    ("sweep.gahb.alpha=[2.5,2.50000001]", r"sweep\.gahb\.alpha=2\.50000001 would be stored as '2\.5'"),
    ("schedules.spectral.design.lr=1e10", r"schedules\.spectral\.design\.lr=10000000000\.0: must be <= 1"),
    ("diffusion.design.lr=2", r"diffusion\.design\.lr=2\.0: must be <= 1"),
    ("generate.n_samples=1", r"generate\.n_samples=1: must be >= 2"),
    ("generate.n_trajectory=0", r"generate\.n_trajectory=0: must be >= 1"),
    ("schedules.linear.sigma_max=1e-200", r"schedules\.linear\.sigma_max=1e-200: must be >= 1e-06"),
    ("data.sigma_max=1e-320", r"data\.sigma_max=1e-320: must be >= 1e-06"),
    ("deep.psnr_sigmas=[]", r"deep\.psnr_sigmas is empty"),
    ("deep.psnr_sigmas=[-0.1]", r"deep\.psnr_sigmas=\[-0\.1\]: every value must be positive"),
    ("+deep.sampler.sigma_o=0.5", r"deep\.sampler: unknown key\(s\) \['sigma_o'\]; allowed: sigma_0"),
    ("deep.sampler.h0=5", r"deep\.sampler\.h0 must be in \(0\.0, 1\.0\], got h0=5\.0"),
    ("deep.sampler.beta=0", r"deep\.sampler\.beta must be in \(0\.0, 1\.0\]"),
    ("deep.sampler.sigma_final=2", r"deep\.sampler\.sigma_final must be in \(0\.0, 1\.0\]"),
    ("sweep.fig3_indices=[]", r"sweep\.fig3_indices is empty"),
    ("sweep.name=" + "a" * 300, r"sweep\.name=a{20}\.\.\. \(300 characters\) cannot form the path field \{sweep\}"),
    ("wandb.project=../../etc", r"wandb\.project='\.\./\.\./etc': use letters, digits"),
    ("wandb.entity=a/b", r"wandb\.entity='a/b'"),
    ("+schedules." + "b" * 300 + "={name: linear}", r"override '\+schedules\.b+'\.\.\. names a config path the system refuses"),
    ("sweep.grids=[5]", r"config key sweep\.grids: Cannot assign int"),
    ("learn.k=${learn.k}", r"config key learn\.k: Recursive interpolation"),
    # the Fig. 7 controls: names from their declaration, counts with their bounds
    ("sweep.deep.control=[trained]", r"config key sweep\.deep\.control\[0\]: Invalid value 'trained'"),
    ("sweep.deep.control=[wiener,wiener]", r"sweep\.deep\.control has duplicate values"),
    ("deep.jacobian.n_boot=0", r"deep\.jacobian\.n_boot=0: must be >= 1"),
    ("deep.jacobian.n_perm=-1", r"deep\.jacobian\.n_perm=-1: must be >= 1"),
])
def test_fails_at_config_time_naming_the_key(override, message):
    with pytest.raises(ConfigError, match=message):
        ldc.load([*SMOKE, override], check_data=False)


def test_the_values_at_the_bounds_pass():
    cfg = ldc.load([*SMOKE, "analyze.taus=[0.0,1.0]", "schedules.geometric.ratio=1.0", "generate.injection_scale=0",
                    "sweep.fig3_indices=[0,29]", "sweep.seed=[9223372036854775807]", "sweep.grids=[{T:[7], n:[50]}]"],
                   check_data=False)
    assert {(p.T, p.n) for p in lds.sweep_points(cfg)} == {(7, 50)}


@pytest.mark.bad_input
@pytest.mark.timeout(60)
def test_a_fifo_as_the_data_file_is_refused_not_read(tmp_path, monkeypatch):
    """The memory estimate read the data file's header before anything checked it was a regular
    file: a FIFO blocked the run forever. Now it is refused at once, naming the file."""
    import os

    from lindiff.errors import DataError

    monkeypatch.chdir(tmp_path)
    os.mkfifo("f.npy")
    with pytest.raises((ConfigError, DataError), match=r"f\.npy.*not a regular file"):
        ldc.load([*SMOKE, "data=file", "data.path=f.npy", "sweep.grids=[]", "learn.k=4", "sweep.rank=[2]",
                  "sweep.deep.n=[]", "sweep.gahb.alpha=[]", "sweep.gahb.n=[]",
                 "sweep.multiscale.n=[]", "sweep.theory.n=[]"])


@pytest.mark.bad_input
def test_a_sweep_too_large_to_plan_is_refused_from_its_grid_sizes():
    """20 x 20 x 20 x 20 values (160,000 points) grew past 4 GB in a dry run. Now the grids' sizes
    are counted before any point is made, and a sweep above max_points fails naming its axes."""
    def values(start):
        return "[" + ",".join(str(start + i) for i in range(20)) + "]"

    huge = [*SMOKE, f"sweep.n={values(10)}", f"sweep.T={values(1)}", f"sweep.rank={values(1)}", f"sweep.seed={values(0)}",
            "learn.k=30"]
    with pytest.raises(ConfigError, match=r"sweep expands to 160000 points \(sweep\.n: 20 x sweep\.seed: 20 x "
                                          r"sweep\.T: 20 x sweep\.rank: 20\), more than max_points=10000"):
        ldc.load(huge, check_data=False)
    small = [*SMOKE, "sweep.T=[5,6,7]", "sweep.rank=[2,3]"]  # 6 points
    with pytest.raises(ConfigError, match=r"6 points .* more than max_points=5"):
        ldc.load([*small, "max_points=5"], check_data=False)
    assert len(lds.sweep_points(ldc.load([*small, "max_points=6"], check_data=False))) == 6


@pytest.mark.bad_input
@pytest.mark.parametrize("override", ["+schedule@schedules.evil=../../../../outside/evil", "data=/etc/hostname",
                                      "sweep=../sweep/smoke", "wandb=~/evil"])
def test_a_group_option_cannot_load_yaml_from_elsewhere(override):
    """``..`` or an absolute path in a config group option loaded YAML from anywhere, past the
    search-path rule and the alias limit (a 9^9 alias bomb there grew to 667 MB)."""
    with pytest.raises(ConfigError, match=r"the config group option .* must name a file of its group"):
        ldc.load([*SMOKE, override], check_data=False)


@pytest.mark.bad_input
def test_a_preset_whose_defaults_leave_the_config_directories_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "myconf/experiment").mkdir(parents=True)
    preset = tmp_path / "myconf/experiment/escape.yaml"
    preset.write_text("# @package _global_\ndefaults:\n  - override /sweep: ../../outside/evil\n")
    with pytest.raises(ConfigError, match=r"escape\.yaml, defaults: the config group option '\.\./\.\./outside/evil'"):
        ldc.load(["hydra.searchpath=[file://myconf]", "experiment=escape"], check_data=False)
    preset.write_text("# @package _global_\ndefaults:\n  - override /sweep: smoke\n")  # a group's own option
    assert ldc.load(["hydra.searchpath=[file://myconf]", "experiment=escape"], check_data=False).sweep.name == "smoke"


@pytest.mark.bad_input
@pytest.mark.parametrize("kind, message", [
    ("trailing", r"has 2 bytes after its array of shape \(40, 9\)"),
    ("both_x", r"holds both 'X' and 'data': which is meant is ambiguous"),
    ("both_labels", r"holds both 'labels' and 'y'"),
    ("one_column", r"has d=1 column: a basis, its angles and the power-iteration rates need at least two"),
])
def test_an_ambiguous_or_unusable_data_file_is_refused_before_any_job(tmp_path, kind, message):
    import numpy as np

    from lindiff.errors import DataError

    rng = np.random.default_rng(0)
    X = rng.uniform(size=(40, 1 if kind == "one_column" else 9))
    path = tmp_path / ("data.npz" if kind.startswith("both") else "data.npy")
    if kind == "both_x":
        np.savez(path, X=X, data=X)
    elif kind == "both_labels":
        np.savez(path, X=X, labels=np.zeros(40, int), y=np.zeros(40, int))
    else:
        np.save(path, X)
        if kind == "trailing":
            with open(path, "ab") as fh:
                fh.write(b"\0\0")
    overrides = [*SMOKE, "data=file", f"data.path={path}", "sweep.n=[20]", "learn.k=1", "sweep.rank=[1]",
                 "sweep.fig3_indices=[0]", "sweep.deep.n=[]", "sweep.gahb.alpha=[]", "sweep.gahb.n=[]",
                 "sweep.multiscale.n=[]", "sweep.theory.n=[]"]
    with pytest.raises((ConfigError, DataError), match=message):
        ldc.load(overrides)


@pytest.mark.bad_input
def test_the_quality_chain_rank_is_checked_against_the_data():
    with pytest.raises(ConfigError, match=r"deep\.quality\.linear\.rank=100 exceeds the data dimension d=64"):
        ldc.load([*SMOKE, "deep.quality.linear.rank=100"])


def test_a_study_the_data_cannot_run_is_reported_not_skipped_silently():
    """data=disks has no deep denoiser: the smoke sweep's deep models are named as skipped."""
    cfg = ldc.load([*SMOKE, "data=disks", "sweep.gahb.alpha=[]", "sweep.gahb.n=[]"], check_data=False)
    assert ldc.notes(cfg) == ["sweep.deep.n=[200] is skipped: data=disks has no deep denoiser (deep.enabled=false); "
                              "set sweep.deep.n=[] to silence this",
                              "sweep.multiscale.n=[300] is skipped: data=disks has no deep denoiser (deep.enabled=false); "
                              "set sweep.multiscale.n=[] to silence this",
                              "sweep.theory.n=[200] is skipped: data=disks has no deep denoiser (deep.enabled=false); "
                              "set sweep.theory.n=[] to silence this"]
    assert ldc.notes(ldc.load(SMOKE, check_data=False)) == []
