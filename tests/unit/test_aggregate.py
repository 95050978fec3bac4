"""Cross-sweep tables: designed vs hand schedules, the power-iteration verdicts, and their figures."""

import numpy as np
import pandas as pd
import pytest

from lindiff import artifacts, plots
from lindiff.errors import DataError
from lindiff.linear import design as linear_design
from lindiff.studies import sweep_table


def _summary():
    rows = []
    w2 = {  # (schedule, T) -> (deterministic, injected)
        ("linear", 10): (5.0, 3.0), ("cosine", 10): (4.0, 6.0), ("spectral", 10): (2.0, 0.5),
        ("linear", 50): (1.0, 2.5), ("spectral", 50): (3.0, 2.0),
    }
    for (schedule, T), (det, inj) in w2.items():
        rows.append({"data": "digits", "cond": "all", "n": 100, "schedule": schedule, "T": T, "seed": 0, "rank": 4,
                     "id": f"digits/all/n100_s0/{schedule}_T{T}/r4",  # the axes before the id, as summary_table writes
                     "spectral/deterministic/w2/measured": det, "spectral/injected/w2/measured": inj})
    return pd.DataFrame(rows)


def test_schedule_comparison_picks_the_best_hand_schedule_of_the_same_point():
    summary = _summary()
    predicted = {"digits/all/n100_s0/spectral_T10/r4": 0.1, "digits/all/n100_s0/spectral_T50/r4": 1.5}
    table = sweep_table.schedule_comparison(summary, predicted, ["spectral"])
    assert list(table["T"]) == [10, 50]
    first, second = table.iloc[0], table.iloc[1]
    # T=10: hand schedules linear (5, 3) and cosine (4, 6): the best is linear's injected chain, 3
    assert (first["best_hand_schedule"], first["best_hand_chain"], first["best_hand_w2"]) == ("linear", "injected", 3.0)
    assert first["w2_measured"] == 0.5 and first["w2_predicted"] == 0.1 and first["improvement"] == 6.0
    # T=50: only linear, whose deterministic chain (1.0) beats the design (2.0)
    assert (second["best_hand_chain"], second["best_hand_w2"]) == ("deterministic", 1.0)
    assert second["improvement"] == 0.5
    assert (table["best_hand_w2_sweep"] == 1.0).all()  # over the whole sweep at rank 4


def test_schedule_comparison_errors():
    summary = _summary()
    with pytest.raises(DataError, match="no design prediction"):
        sweep_table.schedule_comparison(summary, {}, ["spectral"])
    with pytest.raises(DataError, match="designed schedule"):
        sweep_table.schedule_comparison(summary[summary["schedule"] != "spectral"], {}, ["spectral"])
    with pytest.raises(DataError, match="lacks columns"):
        sweep_table.schedule_comparison(summary.drop(columns="spectral/injected/w2/measured"), {}, ["spectral"])


def _power_table():
    return pd.DataFrame({
        "schedule": ["linear"] * 3 + ["constant"] * 3,
        "T": [10, 100, 1000] * 2,
        "chain_energy_u0": [0.8, 0.9, 0.97, 0.6, 0.3, 0.1],
        "power_energy_u0": [0.99, 1.0, 1.0] * 2,
        "chain_retention_ratio": [0.3, 0.01, 1e-4, 0.9, 0.95, 0.99],
        "power_retention_ratio": [0.1, 1e-10, 1e-100] * 2,
        "chain_energy_u0_predicted": [0.78, 0.91, 0.96, 0.55, 0.3, 0.12],
    })


def test_power_iteration_verdict_states_where_the_theorem_holds():
    verdicts = sweep_table.power_iteration_verdict(_power_table())
    assert set(verdicts) == {"linear", "constant"}
    assert "behaviour appears:" in verdicts["linear"]
    assert "0.80 -> 0.97" in verdicts["linear"] and "T 10 -> 1000" in verdicts["linear"]
    partial = _power_table().assign(chain_energy_u0=[0.4, 0.6, 0.68, 0.6, 0.3, 0.1])
    assert "only in part" in sweep_table.power_iteration_verdict(partial)["linear"]
    assert "does NOT appear" in verdicts["constant"]
    single = sweep_table.power_iteration_verdict(_power_table().iloc[:1])
    assert "one T only" in single["linear"]


def test_power_iteration_figure_with_ratios_and_verdicts():
    table = _power_table()
    fig = plots.power_iteration_convergence(table, sweep_table.power_iteration_verdict(table))
    assert len(fig.axes) == 2
    assert len(fig.axes[0].lines) == 5  # 2 schedules x (measured, closed form) + power iteration
    assert len(fig.axes[1].lines) == 3 and fig.axes[1].get_yscale() == "log"
    assert "does NOT appear" in fig._supxlabel.get_text()


def test_spectral_figures_render():
    table = pd.DataFrame({"index": [0, 1, 2], "eigval": [4.0, 1.0, 0.5], "measured": [3.5, 0.9, 0.4],
                          "stderr": [0.1, 0.05, 0.02], "exact": [3.6, 0.95, 0.41],
                          "predicted_measured_cos": [3.4, 0.8, 0.3], "predicted_asymptotic": [3.0, 0.0, 0.0]})
    fig = plots.fig6_spectrum({"deterministic": table, "injected": table}, "title")
    assert len(fig.axes) == 2 and all(ax.get_yscale() == "log" for ax in fig.axes)
    predicted = pd.DataFrame({"index": [0, 1, 2], "eigval": [4.0, 1.0, 0.5], "variance": [3.9, 1.1, 0.4]})
    fig = plots.spectral_design(np.sqrt(np.arange(4.0)), np.ones(3), np.array([1.0, 0.5, 0.2]), predicted,
                                references={"linear": np.linspace(0, np.sqrt(3), 4)})
    assert len(fig.axes) == 4
    comparison = sweep_table.schedule_comparison(
        _summary(), {"digits/all/n100_s0/spectral_T10/r4": 0.1, "digits/all/n100_s0/spectral_T50/r4": 1.5}, ["spectral"])
    fig = plots.schedule_comparison(comparison, {"design": predicted})
    assert len(fig.axes) == 2 and len(fig.axes[0].patches) == 3 * len(comparison)


def test_schedule_design_artifact_round_trip(tmp_path):
    pytest.importorskip("torch")
    eigvals = np.array([9.0, 4.0, 1.0])
    design = linear_design.design_schedule(eigvals, d=20, n=500, T=8, steps=20)
    path = artifacts.save_schedule_design(tmp_path / "schedule.npz", design, eigvals, data_sha256="abc")
    loaded = artifacts.load_schedule_design(path, T=8)
    np.testing.assert_array_equal(loaded["schedule"].sigma_bar, design.schedule.sigma_bar)
    np.testing.assert_array_equal(loaded["noise_std"], design.noise_std)
    assert loaded["initial_std"] == design.initial_std and loaded["data_sha256"] == "abc"
    with pytest.raises(DataError, match="T=8 steps, expected T=9"):
        artifacts.load_schedule_design(path, T=9)
    artifacts.save_npz(tmp_path / "bad.npz", sigma=np.array([0.0, 1.0]), sigma_bar=np.array([0.0, 1.0]),
                       noise_std=np.array([-1.0]), initial_std=np.float64(1.0), eigvals=eigvals, history=np.ones(2))
    with pytest.raises(DataError, match="noise_std"):
        artifacts.load_schedule_design(tmp_path / "bad.npz")


def test_load_npz_reads_only_the_keys_asked_for(tmp_path):
    path = artifacts.save_npz(tmp_path / "s.npz", big=np.ones((3, 4)), small=np.arange(2.0))
    assert set(artifacts.load_npz(path, {}, keys=("small", "absent"))) == {"small"}
    assert set(artifacts.load_npz(path, {"big": 2}, keys=("small",))) == {"big", "small"}
    assert set(artifacts.load_npz(path, {})) == {"big", "small"}
