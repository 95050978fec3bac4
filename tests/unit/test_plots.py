"""Tests of lindiff.plots (figure structure, atomic PNG writes) and the lindiff.studies.demo job."""

from __future__ import annotations

import json
import math
import os
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from lindiff import plots
from lindiff.errors import DataError
from lindiff.linear import analysis
from lindiff.linear.learn import learn_bases
from lindiff.linear.schedules import make_schedule
from lindiff.studies import demo

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _assert_png(path: Path, min_bytes: int = 2000) -> None:
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC, f"{path} is not a PNG"
    assert len(data) > min_bytes, f"{path} is suspiciously small ({len(data)} bytes)"


@pytest.fixture(scope="module")
def small_bases():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((120, 16)) * np.linspace(3.0, 0.2, 16)
    return learn_bases(X, make_schedule("linear", 6, sigma_max=3.0), k=5, seed=0)


@pytest.fixture(scope="module")
def sin_table(small_bases):
    return analysis.sin_theta_table(small_bases)


def _profile(k: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"index": np.arange(k), "c_mean": rng.random(k), "c_std": 0.1 * rng.random(k)})


# --------------------------------------------------------------------------- save_figure


def test_save_figure_writes_png_atomically(tmp_path, sin_table):
    fig = plots.fig2_sin_theta(sin_table)
    target = tmp_path / "nested" / "dir" / "fig.png"
    returned = plots.save_figure(fig, target, dpi=80)
    assert returned == target
    _assert_png(target)
    assert sorted(p.name for p in target.parent.iterdir()) == ["fig.png"]  # no temp file left
    # Overwriting an existing file works and still leaves no temp file.
    plots.save_figure(fig, target, dpi=60)
    _assert_png(target)
    assert sorted(p.name for p in target.parent.iterdir()) == ["fig.png"]


def test_save_figure_gives_ordinary_permissions(tmp_path):
    umask = os.umask(0o022)
    os.umask(umask)
    target = plots.save_figure(plots.fig5_correlations({0: (np.eye(2), np.eye(2))}), tmp_path / "p.png")
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask


def test_save_figure_cleans_up_on_error(tmp_path):
    class Broken(Figure):
        def savefig(self, *args, **kwargs):
            raise RuntimeError("render failed")

    with pytest.raises(RuntimeError, match="render failed"):
        plots.save_figure(Broken(), tmp_path / "x.png")
    assert list(tmp_path.iterdir()) == []


def test_plots_do_not_touch_pyplot_state():
    import sys

    before = "matplotlib.pyplot" in sys.modules
    plots.fig5_correlations({0: (np.eye(3), np.eye(3))})
    assert ("matplotlib.pyplot" in sys.modules) == before


# --------------------------------------------------------------------------- figure functions


@pytest.mark.parametrize("n_traj, n_steps, n_columns", [(1, 1, 10), (3, 4, 10), (2, 7, 3)])
def test_fig1_trajectory_grid(n_traj, n_steps, n_columns):
    rng = np.random.default_rng(1)
    trajectory = rng.standard_normal((6, n_traj, 12))
    fig = plots.fig1_trajectory_grid(
        trajectory, (3, 4), n_columns=n_columns, n_steps=n_steps,
        row_labels=[f"s{i}" for i in range(n_traj)], positive_final=True,
    )
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 1


def test_decimated_steps_run_from_T_to_0():
    steps = plots.decimated_steps(50, 11)
    assert steps[0] == 50 and steps[-1] == 0 and len(steps) == 11
    assert np.all(np.diff(steps) < 0)
    assert list(plots.decimated_steps(2, 10)) == [2, 1, 0]


def test_fig1_rejects_bad_shapes():
    with pytest.raises(DataError, match="image_shape"):
        plots.fig1_trajectory_grid(np.zeros((3, 1, 10)), (3, 4))
    with pytest.raises(DataError, match="trajectory"):
        plots.fig1_trajectory_grid(np.zeros((3, 10)), (2, 5))


@pytest.mark.parametrize("xscale", ["linear", "log"])
def test_fig2_sin_theta(sin_table, xscale):
    fig = plots.fig2_sin_theta(sin_table, xscale=xscale)
    assert len(fig.axes) == 2  # plot + colour bar
    assert fig.axes[0].get_ylim() == pytest.approx((0.0, 1.05))
    assert fig.axes[0].get_xscale() == xscale


def test_fig2_small_inputs(sin_table):
    fig = plots.fig2_sin_theta(sin_table, indices=[2], overlay=())
    assert len(fig.axes) == 2
    two_levels = sin_table[sin_table["t"] <= 1]
    assert len(plots.fig2_sin_theta(two_levels, indices=[0], overlay=("asymptotic",)).axes) == 2


def test_fig2_reports_missing_columns(sin_table):
    with pytest.raises(DataError, match="sin_theta_eq12"):
        plots.fig2_sin_theta(sin_table.drop(columns="sin_theta_eq12"))


def test_fig3_dataset_size(sin_table):
    tables = {50: sin_table, 100: sin_table, 400: sin_table}
    assert len(plots.fig3_dataset_size(tables, indices=(0, 2, 4)).axes) == 3
    # Indices absent from every table are dropped; one n and one index still work.
    assert len(plots.fig3_dataset_size({10: sin_table}, indices=(1, 99), xscale="log").axes) == 1


@pytest.mark.parametrize("n_pairs, per_row", [(1, 2), (3, 2), (4, 2), (2, 1)])
def test_fig5_correlations(n_pairs, per_row):
    rng = np.random.default_rng(2)
    pairs = {tau: (rng.standard_normal((4, 4)), rng.standard_normal((4, 4))) for tau in range(n_pairs)}
    fig = plots.fig5_correlations(pairs, pairs_per_row=per_row)
    assert len(fig.axes) == 2 * n_pairs + 1  # heatmaps + shared colour bar
    for ax in fig.axes[:-1]:
        assert ax.images[0].get_clim() == (0.0, 1.0)
        assert np.all(np.asarray(ax.images[0].get_array()) >= 0)


def test_fig5_with_real_bases(small_bases):
    pairs = analysis.basis_correlations(small_bases, 3, [0, 5])
    assert len(plots.fig5_correlations(pairs).axes) == 5


@pytest.mark.parametrize("Ts", [(5,), (5, 10), (5, 10, 20, 40)])
def test_fig6_distributions(Ts):
    without = {T: _profile(6, T) for T in Ts}
    with_noise = {T: _profile(6, T + 1) for T in Ts}
    fig = plots.fig6_distributions(without, with_noise, _profile(6, 7), _profile(6, 8), "T = 5")
    assert len(fig.axes) == 3


def test_fig6_single_index():
    one = {3: _profile(1, 0)}
    assert len(plots.fig6_distributions(one, one, _profile(1, 1), _profile(1, 2), "best").axes) == 3


def test_power_iteration_convergence():
    table = pd.DataFrame(
        {
            "T": [10, 10, 100, 100],
            "schedule": ["linear", "constant"] * 2,
            "chain_energy_u0": [0.3, 0.2, 0.6, 0.1],
            "power_energy_u0": [0.99, 0.99, 1.0, 1.0],
        }
    )
    fig = plots.power_iteration_convergence(table)
    assert len(fig.axes) == 1
    assert len(fig.axes[0].lines) == 3  # two schedules + power-iteration reference
    single = plots.power_iteration_convergence(table.iloc[:1])
    assert len(single.axes[0].lines) == 2


def test_power_iteration_reports_missing_columns():
    with pytest.raises(DataError, match="power_energy_u0"):
        plots.power_iteration_convergence(pd.DataFrame({"T": [1], "schedule": ["x"], "chain_energy_u0": [0.5]}))


# --------------------------------------------------------------------------- demo


def _finite_numbers(value):
    """All numbers in a JSON tree (booleans excluded)."""
    if isinstance(value, dict):
        for v in value.values():
            yield from _finite_numbers(v)
    elif isinstance(value, list):
        for v in value:
            yield from _finite_numbers(v)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield value


def test_demo_quick_writes_all_outputs(tmp_path, capsys):
    out = tmp_path / "demo"
    assert demo.main(["--quick", "--out", str(out)]) == 0
    for name in demo.OUTPUT_FILES:
        assert (out / name).is_file(), f"missing {name}"
    for name in demo.OUTPUT_FILES:
        if name.endswith(".png"):
            _assert_png(out / name, min_bytes=5000)
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")], "temporary files left behind"
    assert str(out.resolve()) in capsys.readouterr().out

    sin_table = pd.read_parquet(out / "sin_theta.parquet")
    assert {"t", "sigma_bar", "index", "sin_theta", "sin_theta_eq12", "sin_theta_asymptotic"} <= set(sin_table)
    by_n = pd.read_parquet(out / "sin_theta_by_n.parquet")
    assert {"n", "sigma_bar", "index", "sin_theta"} <= set(by_n)

    profiles = pd.read_parquet(out / "pc_distribution.parquet")
    assert list(profiles.columns) == ["source", "T", "injection", "index", "c_mean", "c_std", "distance"]
    assert set(profiles["source"]) == {"generated", "natural"}
    assert set(profiles.loc[profiles["source"] == "generated", "injection"]) == {"none", "increment"}
    assert np.all(np.isfinite(profiles[["c_mean", "c_std"]].to_numpy()))

    power = pd.read_parquet(out / "power_iteration.parquet")
    assert {"T", "schedule", "chain_energy_u0", "power_energy_u0"} <= set(power)
    assert set(power["schedule"]) == {"linear", "constant"}
    energies = power[["chain_energy_u0", "power_energy_u0"]].to_numpy()
    assert np.all((energies >= 0) & (energies <= 1 + 1e-9))

    summary = json.loads((out / "summary.json").read_text())
    for key in ("config", "data", "best_T", "best_injection", "best_distance", "power_iteration", "runtime_s"):
        assert key in summary
    assert summary["data"]["d"] == 64
    assert summary["best_T"] in summary["config"]["T_values"]
    numbers = list(_finite_numbers(summary))
    assert numbers and all(math.isfinite(x) for x in numbers)
