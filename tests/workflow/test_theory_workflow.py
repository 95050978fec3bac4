"""The theory-vs-network study (sweep.theory): its points and config checks, and the rules end to end
through the real ``snakemake`` CLI in a temporary directory, read back from the artifacts and W&B."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import planned_jobs, point_dir

from lindiff import artifacts
from lindiff.deep.config import DATA_CENTER, DATA_SCALE
from lindiff.diffusion.denoisers import EmpiricalDenoiser, fit_wiener
from lindiff.diffusion.local import LocalDenoiser, PatchSizes
from lindiff.diffusion.samplers import Sampler
from lindiff.diffusion.schedules import noise_levels
from lindiff.errors import ConfigError
from lindiff.pipeline import config as ldc
from lindiff.pipeline import sweep as lds
from lindiff.pipeline.levels import LEVELS, derive_seed
from lindiff.pipeline.wandb_file import find_wandb_files, read_wandb_file
from lindiff.studies.theory import SAMPLE_STAGE, THEORY_DENOISERS, clipped, path_agreement, sample_in_units

OVERRIDES = "sweep=smoke sweep.deep.n=[] sweep.gahb.alpha=[] sweep.gahb.n=[] sweep.multiscale.n=[]"
THEORY_RULES = {"theory_network", "theory_calibrate", "theory_sample", "theory_summary"}
RUN = {"data": "digits", "n": 200, "seed": 0, "size": "ddpmquick", "sampler": "ddim", "schedule": "vplinear", "T": 5}


# --------------------------------------------------------------------------- config


def test_the_theory_experiment_lists_the_network_and_every_analytic_denoiser():
    cfg = ldc.load(["experiment=theory"], check_data=False)
    points = lds.points(cfg, "theory_denoiser")
    assert sorted(p.theory for p in points) == sorted(["network", *THEORY_DENOISERS])
    assert {p.at("deep_sample").id for p in points} == {"mnist/all/n5000_s0/deep_ddpmtheory/ddim_vplinear_T20"}
    assert lds.points(cfg, "deep") == []  # the network is the study's own input, not a Fig. 7 model
    fewer = ldc.load(["experiment=theory", "theory.denoisers=[local,wiener]"], check_data=False)
    assert sorted(p.theory for p in lds.points(fewer, "theory_denoiser")) == ["local", "network", "wiener"]
    # off unless asked for, and skipped (with a note) on data without deep models
    assert lds.points(ldc.load([]), "theory_denoiser") == []
    spiked = ldc.load(["sweep=smoke", "data=spiked", "sweep.deep.n=[]", "sweep.multiscale.n=[]"], check_data=False)
    assert lds.points(spiked, "theory_denoiser") == [] and any("sweep.theory.n=[200] is skipped" in n
                                                               for n in ldc.notes(spiked))


@pytest.mark.bad_input
@pytest.mark.parametrize("override, message", [
    ("sweep.theory.size=[quick]", r"sweep\.theory\.size='quick': the study samples a noise-conditional network"),
    ("sweep.theory.size=[huge]", r"sweep\.theory\.size: unknown model size 'huge'"),
    ("sweep.theory.sampler=[bogus]", r"sweep\.theory\.sampler: unknown sampler 'bogus'"),
    ("sweep.theory.sampler=[chain]", r"sweep\.theory\.sampler=chain: the study samples with ddpm, ddim or ode"),
    ("theory.patch_sizes=[2]", r"theory\.patch_sizes must be odd"),
    ("theory.patch_sizes=[0]", r"theory\.patch_sizes.*must be >= 1|theory\.patch_sizes must be an integer >= 1"),
    ("theory.patch_sizes=[3,3]", r"theory\.patch_sizes=\[3, 3\]: give distinct odd patch sides"),
    ("theory.patch_sizes=[]", r"theory\.patch_sizes=\[\]: give distinct odd patch sides"),
    ("theory.pool=500", r"theory\.pool=500 exceeds the network's training images sweep\.theory\.n=200"),
    ("theory.pool=0", r"theory\.pool=0: must be >= 1"),
    ("theory.pool_size=0", r"theory\.pool_size=0: must be >= 1"),
    ("theory.threshold=0", r"theory\.threshold=0(\.0)?: must be positive"),
    ("theory.threshold=2", r"theory\.threshold=2(\.0)?: must be <= 1"),
    ("theory.denoisers=[local,local]", r"theory\.denoisers has duplicates"),
    ("theory.denoisers=[bogus]", r"theory\.denoisers.*bogus"),
    ("theory.calibrate=network2", r"theory\.calibrate.*network2"),
    ("theory.mse_sigmas=[]", r"theory\.mse_sigmas is empty"),
    ("theory.n_test=2000", r"sweep\.theory\.n=200 \+ theory\.n_test=2000 \+ theory\.calibration_images=32 held-out"),
])
def test_bad_theory_values_fail_naming_the_key(override, message):
    with pytest.raises(ConfigError, match=message):
        ldc.load(["sweep=smoke", override])


# --------------------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def theory_run(workflow_run):
    return workflow_run(OVERRIDES, "--until", "theory_summary", name="theory")


def _denoiser_dir(run, theory):
    return run / point_dir("theory_denoiser", theory=theory, **RUN)


@pytest.mark.slow
def test_every_denoiser_samples_from_the_networks_seed(theory_run, digits):
    """Re-run the Wiener filter's sampler in this process from the run's seed: it gives the stored
    samples, and its first point is the network's (the same initial noise)."""
    network = artifacts.load_npz(_denoiser_dir(theory_run, "network") / "path.npz", {"points": 3, "sigma": 1})
    train = artifacts.load_npz(theory_run / point_dir("trainset", data="digits", n=200, seed=0) / "data" / "train.npz",
                               {"indices": 1})
    X = digits.X[train["indices"]]
    run_id = LEVELS["deep_sample"].id(**RUN)
    levels = noise_levels("vplinear", 5)
    seed = derive_seed(0, SAMPLE_STAGE, run_id)
    wiener = clipped(fit_wiener(X), (0.0, 1.0))
    again = sample_in_units(wiener, levels.sigma_bar, Sampler("ddim"), 64, 64, seed, DATA_CENTER, DATA_SCALE, record=None)
    stored = artifacts.load_npz(_denoiser_dir(theory_run, "wiener") / "samples.npz", {"samples": 2})["samples"]
    np.testing.assert_allclose(again.samples, stored, atol=1e-12)
    np.testing.assert_array_equal(again.path[0], network["points"][0])  # the same start as the network
    np.testing.assert_allclose(network["sigma"], levels.sigma_bar[::-1] / DATA_SCALE)


@pytest.mark.slow
def test_per_step_agreement_is_measured_at_the_networks_path_points(theory_run, digits):
    path = artifacts.load_npz(_denoiser_dir(theory_run, "network") / "path.npz",
                              {"points": 3, "sigma": 1, "estimates": 3})
    train = artifacts.load_npz(theory_run / point_dir("trainset", data="digits", n=200, seed=0) / "data" / "train.npz",
                               {"indices": 1})
    empirical = clipped(EmpiricalDenoiser(digits.X[train["indices"]]), (0.0, 1.0))
    expected = path_agreement(empirical, path["points"], path["sigma"], path["estimates"])
    stored = artifacts.read_json(_denoiser_dir(theory_run, "empirical") / "metrics.json")["steps"]
    assert len(stored) == 5 and [r["step"] for r in stored] == [0, 1, 2, 3, 4]
    for got, want in zip(stored, expected, strict=True):
        assert got["r2"] == pytest.approx(want["r2"], abs=1e-10) and got["sigma"] == pytest.approx(want["sigma"])
    # the local machine's calibration: one size per calibrated level, each a candidate; its samples use them
    calibration = artifacts.read_json(_denoiser_dir(theory_run, "local") / "calibration.json")
    sizes = PatchSizes.from_dict(calibration["patch_sizes"])
    assert set(sizes.size.tolist()) <= set(ldc.load(["sweep=smoke"]).theory.patch_sizes)
    assert np.shape(calibration["mse"]) == (len(calibration["sigma"]), len(calibration["sizes"]))
    assert calibration["reference"] == "target"  # against the network (theory.calibrate=network)
    chosen = np.argmin(calibration["mse"], axis=1)
    assert [calibration["sizes"][i] for i in chosen] == sizes.size.tolist()
    assert isinstance(LocalDenoiser(digits.X[:5], (8, 8), sizes)(digits.X[:2], 1.0), np.ndarray)


@pytest.mark.slow
def test_theory_tables_and_figures(theory_run):
    study = theory_run / point_dir("deep_sample", **RUN) / "theory"
    for name in ("mse.parquet", "steps.parquet", "final.parquet", "fig_agreement.png", "fig_samples.png"):
        assert (study / name).is_file(), name
    cfg = ldc.load(["sweep=smoke"])
    names = ["network", *THEORY_DENOISERS]
    mse = pd.read_parquet(study / "mse.parquet")
    assert sorted(mse["denoiser"].unique()) == sorted(names)
    assert sorted(mse["sigma"].unique()) == sorted(cfg.theory.mse_sigmas) and (mse["mse"] > 0).all()
    # the memorizing denoiser of 200 images is worst on held-out images at the smallest noise
    smallest = mse[mse["sigma"] == min(cfg.theory.mse_sigmas)].set_index("denoiser")["mse"]
    assert smallest.idxmax() == "empirical"
    steps = pd.read_parquet(study / "steps.parquet")
    assert sorted(steps["denoiser"].unique()) == sorted(THEORY_DENOISERS) and len(steps) == 5 * len(THEORY_DENOISERS)
    assert steps["r2"].le(1.0).all() and steps["pearson"].between(-1, 1).all()
    final = pd.read_parquet(study / "final.parquet").set_index("denoiser")
    assert final.index.tolist() == names
    assert final.loc["network", "r2_median"] == 1.0
    assert (final["r2_low"] <= final["r2_median"]).all() and (final["r2_median"] <= final["r2_high"]).all()
    assert not list(theory_run.rglob(".*.tmp"))


@pytest.mark.slow
def test_theory_recorded_in_wandb(theory_run):
    runs = [read_wandb_file(path) for path in find_wandb_files(theory_run / "results/wandb")]
    assert THEORY_RULES <= {run.job_type for run in runs}
    summary = next(run for run in runs if run.job_type == "theory_summary")
    assert summary.group == "digits/all/n200_s0/deep_ddpmquick" and summary.exit_code == 0
    assert sum(f.startswith("media/table/") for f in summary.files) == 3
    final = pd.read_parquet(theory_run / point_dir("deep_sample", **RUN) / "theory" / "final.parquet")
    local = final.set_index("denoiser").loc["local", "r2_median"]
    assert summary.summary["final_r2/local"] == pytest.approx(local)
    calibrate = [run for run in runs if run.job_type == "theory_calibrate"]
    assert sorted(run.config["theory"] for run in calibrate) == ["equivariant", "local"]


def planned(run, extra: str) -> dict[str, int]:
    return planned_jobs(run, f"{OVERRIDES} {extra}", "theory_summary")


@pytest.mark.slow
def test_changing_one_denoisers_option_reruns_only_that_denoiser(theory_run):
    assert planned(theory_run, "") == {}
    # the locality masks: its samples and the table
    assert planned(theory_run, "theory.threshold=0.05") == {"theory_sample": 1, "theory_summary": 1}
    # the equivariant pool: its calibration, its samples and the table
    assert planned(theory_run, "theory.pool_size=500") == {"theory_calibrate": 1, "theory_sample": 1,
                                                                "theory_summary": 1}
    # the candidates: both calibrated machines
    assert planned(theory_run, "theory.patch_sizes=[1,3,5]") == {"theory_calibrate": 2, "theory_sample": 2,
                                                                      "theory_summary": 1}
    # the bootstrap: the table alone; one denoiser less: the table alone
    assert planned(theory_run, "theory.n_boot=10") == {"theory_summary": 1}
    assert planned(theory_run, "theory.denoisers=[local,wiener]") == {"theory_summary": 1}
