"""Issue 4 B through the real ``snakemake`` CLI: the predicted spectrum of every sweep point,
``schedule=spectral`` (design -> learn -> generate -> compare) and the power-iteration table."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lindiff import artifacts
from lindiff.linear import spectral
from lindiff.pipeline.wandb_file import find_wandb_files, read_wandb_file

pytestmark = pytest.mark.slow  # end to end through the snakemake CLI

OVERRIDES = ("sweep=smoke sweep.schedule=[linear,constant,spectral] sweep.T=[5,20] sweep.n=[300] "
             "generate.n_samples=400 deep.enabled=false sweep.gahb.alpha=[] sweep.gahb.n=[] sweep.multiscale.n=[] "
             "sweep.theory.n=[] "
             "schedules.spectral.design.steps=80")
ROOT = "results/digits/all/n300_s0"
SWEEP = "results/sweeps/smoke"


@pytest.fixture(scope="module")
def workdir(workflow_run):
    return workflow_run(OVERRIDES, name="spectral")


def test_design_is_stored_and_used_by_learn_and_generate(workdir):
    for T in (5, 20):
        point = workdir / ROOT / f"spectral_T{T}"
        design = artifacts.load_schedule_design(point / "design/schedule.npz", T=T)
        summary = json.loads((point / "design/design.json").read_text())
        assert summary["objective"] < summary["objective_initial"]  # the optimizer lowered its objective
        assert summary["objective"] == pytest.approx(design["history"].min())
        bases, sigma = artifacts.load_bases(point / "learn/bases.npz")
        np.testing.assert_allclose(bases.sigma_bar, design["schedule"].sigma_bar)  # learned on the design
        assert design["data_sha256"] == artifacts.bases_data_checksum(point / "learn/bases.npz")
        # generate re-fits the designed injection to the learned chain (design.refine, the default);
        # its stored prediction is the exact second moment of the chain it ran
        samples = artifacts.load_npz(point / "r4/samples.npz", {"noise_std": 1, "initial_std": 0,
                                                                 "predicted_variance": 1})
        assert samples["noise_std"].shape == design["noise_std"].shape
        assert not np.allclose(samples["noise_std"], design["noise_std"])
        exact = spectral.chain_second_moment(bases, 4, samples["noise_std"], float(samples["initial_std"]))
        np.testing.assert_allclose(samples["predicted_variance"], np.diag(exact), rtol=1e-9)
        assert (point / "design/fig_design.png").read_bytes()[:4] == b"\x89PNG"


def test_predicted_spectrum_of_every_point_against_an_independent_computation(workdir):
    for schedule in ("linear", "constant", "spectral"):
        for T in (5, 20):
            point = workdir / ROOT / f"{schedule}_T{T}"
            bases, _ = artifacts.load_bases(point / "learn/bases.npz")
            samples = artifacts.load_npz(point / "r4/samples.npz", {"injected": 2, "deterministic": 2})
            table = artifacts.read_parquet(point / "r4/spectrum.parquet")
            metrics = json.loads((point / "r4/metrics.json").read_text())
            for chain in ("deterministic", "injected"):
                rows = table[table["chain"] == chain].sort_values("index")
                by_hand = ((samples[chain].astype(np.float64) @ bases.U[0][:, :4]) ** 2).mean(axis=0)
                np.testing.assert_allclose(rows["measured"], by_hand, rtol=1e-6)
                w2 = np.sum((np.sqrt(bases.eigvals[0, :4]) - np.sqrt(by_hand)) ** 2)
                assert metrics[f"spectral/{chain}/w2/measured"] == pytest.approx(w2, rel=1e-6)
                # the exact second moment given the bases agrees with 400 samples (s.e. ~7% per component)
                assert metrics[f"spectral/{chain}/spectrum_err/exact"] < 0.25, (schedule, T, chain)
            assert (point / "r4/fig6_spectrum.png").is_file()


def test_designed_schedule_compared_with_the_best_hand_schedule(workdir):
    table = artifacts.read_parquet(workdir / SWEEP / "spectral_schedule.parquet")
    assert sorted(table["T"]) == [5, 20] and (table["schedule"] == "spectral").all()
    summary = artifacts.read_parquet(workdir / SWEEP / "summary.parquet")
    for row in table.itertuples():
        hand = summary[(summary["T"] == row.T) & (summary["schedule"] != "spectral")]
        best = hand[["spectral/deterministic/w2/measured", "spectral/injected/w2/measured"]].to_numpy().min()
        assert row.best_hand_w2 == pytest.approx(best)
        design = artifacts.read_parquet(workdir / ROOT / f"spectral_T{row.T}/design/predicted_spectrum.parquet")
        eigvals = design["eigval"].to_numpy()[:4]
        w2 = np.sum((np.sqrt(eigvals) - np.sqrt(design["variance"][:4])) ** 2)
        assert row.w2_predicted_closed_form == pytest.approx(w2)
        # refined on the learned chain: the prediction of record is the exact variance, which the
        # generated samples follow (400 samples) far better than the closed form does
        samples = artifacts.load_npz(workdir / ROOT / f"spectral_T{row.T}/r4/samples.npz", {"predicted_variance": 1})
        refined = np.sum((np.sqrt(eigvals) - np.sqrt(samples["predicted_variance"])) ** 2)
        assert row.w2_predicted == pytest.approx(refined)
        spectrum = artifacts.read_parquet(workdir / ROOT / f"spectral_T{row.T}/r4/spectrum.parquet")
        measured = spectrum[spectrum["chain"] == "injected"].sort_values("index")["measured"].to_numpy()
        error = np.abs(measured - samples["predicted_variance"]).sum() / measured.sum()
        assert error < 0.15, error  # 400 samples: about 7% standard error per component
    # On this data the design beats sigma_t ~ t (sigma_bar_T = sigma_max) at every T, and its best
    # point beats every hand point of the sweep (at T=20 the theorem's constant schedule, whose
    # sigma_bar_T = sigma/sqrt(T) is close to the design's, comes within 10%).
    linear = summary[summary["schedule"] == "linear"].set_index("T")
    for row in table.itertuples():
        assert row.w2_measured < linear.loc[row.T, ["spectral/deterministic/w2/measured",
                                                    "spectral/injected/w2/measured"]].min()
    assert table["w2_measured"].min() < table["best_hand_w2_sweep"].min()
    assert (workdir / SWEEP / "fig_spectral_schedule.png").is_file()


def test_power_iteration_table_has_predictions_and_verdicts(workdir):
    power = artifacts.read_parquet(workdir / SWEEP / "power_iteration.parquet")
    assert set(power["schedule"]) == {"linear", "constant", "spectral"}
    np.testing.assert_allclose(power["power_retention_ratio"], power["power_rate"] ** power["T"])
    assert power["chain_energy_u0_predicted"].between(0, 1).all()
    assert power["power_energy_u0_predicted"].between(0, 1).all()
    # power iteration from the same noise, measured vs its closed form (400 samples)
    assert np.abs(power["power_energy_u0"] - power["power_energy_u0_predicted"]).max() < 0.05


def test_wandb_recorded_the_design_the_comparison_and_the_verdicts(workdir):
    runs = [read_wandb_file(path) for path in find_wandb_files(workdir / "results/wandb")]
    designs = [run for run in runs if run.job_type == "design_schedule"]
    assert len(designs) == 2
    for run in designs:
        objective = [row["design/objective"] for row in run.history if "design/objective" in row]
        assert objective[-1] < objective[0]
        assert run.summary["objective"] < run.summary["objective_initial"]
    refined = [run for run in runs if run.job_type == "generate" and "refine/objective" in run.summary]
    assert len(refined) == 2  # the two designed points, rank 4
    for run in refined:
        assert run.summary["refine/objective"] < run.summary["refine/objective_initial"]
    compare = next(run for run in runs if run.job_type == "compare_schedules")
    assert compare.summary["n_designed"] == 2
    assert any("schedule_comparison" in name for name in compare.files)
    aggregate = next(run for run in runs if run.job_type == "aggregate")
    verdicts = {k: v for k, v in aggregate.summary.items() if k.startswith("power_iteration_verdict/")}
    assert set(verdicts) == {f"power_iteration_verdict/{s}" for s in ("linear", "constant", "spectral")}
    analyze = next(run for run in runs if run.job_type == "analyze")
    assert "spectral/injected/spectrum_err/predicted_asymptotic" in analyze.summary
