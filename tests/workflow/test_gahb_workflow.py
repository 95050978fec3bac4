"""The GAHB study (sweep.gahb): its points and config checks, and the rules end to end through
the real ``snakemake`` CLI in a temporary directory, read back from the artifacts and W&B."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import point_dir, snakemake

from lindiff import artifacts
from lindiff.data import make_disks
from lindiff.diffusion.denoisers import fit_wiener
from lindiff.errors import ConfigError
from lindiff.pipeline import config as ldc
from lindiff.pipeline import entries as lde
from lindiff.pipeline import sweep as lds
from lindiff.pipeline.wandb_file import find_wandb_files, read_wandb_file
from lindiff.studies.gahb import optimal_calpha_slope, wiener_tangent_alignment

# --------------------------------------------------------------------------- config


def test_gahb_sweep_composes_and_lists_its_points():
    cfg = ldc.load(["sweep=gahb"])
    data_points = lds.points(cfg, "gahb_calpha_data", "gahb_disks_data")
    assert [p.id for p in data_points if p.level == "gahb_calpha_data"] == [f"gahb/s0/calpha/a{a}" for a in range(1, 6)]
    assert [p.id for p in data_points if p.level == "gahb_disks_data"] == ["gahb/s0/disks/n10", "gahb/s0/disks/n100",
                                                                          "gahb/s0/disks/n1000"]
    models = lds.points(cfg, "gahb_calpha", "gahb_disks")
    assert len(models) == 8 and {p.size for p in models} == {"default"}
    assert {p.at("gahb_study").id for p in models} == {"gahb/s0/deep_default"}
    assert lds.points(cfg, "deep") == [] and len(lds.sweep_points(cfg)) == 1
    # the training sets of the disk models are prefixes of one generated set, with the same test rows
    disks = [lde.gahb_data_config(cfg, "disks", n) for n in (10, 1000)]
    assert disks[0] == disks[1] and disks[0]["n_total"] == 1000 + cfg.sweep.gahb.disk_images
    assert lde.gahb_sizes(cfg, "disks", 10) == (10, 20)
    calpha = lde.gahb_data_config(cfg, "calpha", 3.0)
    assert calpha["alpha"] == calpha["alpha_background"] == 3.0 and calpha["n_total"] == 4000 + 200
    default = lde.deep_train_config(cfg, "default", "gahb")
    assert (default.model.channels, default.sigma_max, default.min_snr_gamma) == (16, 1.0, 400.0)  # the geometric preset
    assert lde.deep_train_config(cfg, "quick", "gahb").model.channels == 4


@pytest.mark.parametrize("sweep", ["default", "paper", "generalization"])
def test_gahb_is_off_elsewhere(sweep):
    cfg = ldc.load([f"sweep={sweep}"], check_data=False)
    assert lds.points(cfg, "gahb_calpha", "gahb_disks") == []


@pytest.mark.bad_input
@pytest.mark.parametrize(
    "override, message",
    [
        ("sweep.gahb.alpha=[0,2]", "sweep.gahb.alpha=0.0: must be positive and finite"),
        ("sweep.gahb.alpha=[2,2]", "sweep.gahb.alpha has duplicate values"),
        ("sweep.gahb.alpha=[0.00001]", "sweep.gahb.alpha='1e-05' cannot form the path field"),
        ("sweep.gahb.n=[1,10]", "sweep.gahb.n=1: must be >= 2"),
        ("sweep.gahb.size=[huge]", "sweep.gahb.size: unknown model size 'huge'"),
        ("sweep.gahb.seed=[]", "sweep.gahb.seed is empty"),
        ("sweep.gahb.steps=0", "sweep.gahb.steps=0"),
        ("gahb.calpha.data.size=4", "gahb.calpha.data.size=4: must be >= 8"),
        ("gahb.disks.data.radius=[1,30]", "gahb.disks.data.radius="),
        ("gahb.calpha.data.blur=-1", "gahb.calpha.data.blur=-1"),
        ("gahb.calpha.slope_range=[0.3,0.1]", "gahb.calpha.slope_range=[0.3, 0.1]"),
        ("gahb.calpha.slope_range=[0.6,0.9]", "holds 0 of gahb.calpha.sigmas"),
        ("gahb.disks.sigmas=[-1]", "gahb.disks.sigmas=[-1.0]"),
        ("gahb.disks.K=2000", "gahb.disks.K=2000 exceeds the dimension d=1024"),
        ("gahb.disks.n_vectors=30", "gahb.disks.n_vectors=30 exceeds gahb.disks.K=20"),
        ("+gahb.sizes.big-1={}", "gahb.sizes.big-1"),
        ("gahb.sizes.quick.model.channels=0", "gahb.sizes.quick: "),
    ],
)
def test_bad_gahb_values_fail_naming_the_key(override, message):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("(", r"\(")):
        ldc.load(["sweep=gahb", "sweep.gahb.size=[default,quick]", override])


def test_gahb_trains_blind_models_only():
    with pytest.raises(ConfigError, match="gahb.sizes.cond: the GAHB study trains blind denoisers"):
        ldc.load(["sweep=gahb", "+gahb.sizes.cond={model: {kind: ddpm}}", "sweep.gahb.size=[cond]"])


# --------------------------------------------------------------------------- workflow

# the smoke sweep's linear point, no Fig. 7 models; one C^alpha model and two disk models
OVERRIDES = ("sweep=smoke sweep.deep.n=[] sweep.gahb.alpha=[2] sweep.gahb.n=[20,40] sweep.gahb.steps=20 "
             "sweep.gahb.n_train=100 sweep.gahb.disk_images=3 gahb.calpha.n_test=50 gahb.disks.K=8 "
             "gahb.disks.n_vectors=4")
GAHB_RULES = {"gahb_calpha_subset", "gahb_disks_subset", "gahb_calpha_train", "gahb_disks_train",
              "gahb_calpha_curve", "gahb_disks_jacobian", "gahb_summary"}


def model_dir(run, family, **values):
    level = "gahb_calpha" if family == "calpha" else "gahb_disks"
    return run / point_dir(level, seed=0, size="quick", **values)


@pytest.fixture(scope="module")
def gahb_run(workflow_run):
    return workflow_run(OVERRIDES, "--until", "gahb_summary", name="gahb")


@pytest.mark.slow
def test_gahb_artifacts_and_tables(gahb_run):
    study = gahb_run / point_dir("gahb_study", seed=0, size="quick")
    for name in ("calpha_slopes.parquet", "disks_alignment.parquet", "fig_calpha_psnr.png", "fig_disks_alignment.png"):
        assert (study / name).is_file(), name
    calpha = model_dir(gahb_run, "calpha", alpha="2")
    for name in ("model.pt", "train_metrics.json", "curve.parquet", "curve_metrics.json", "fig_curve.png"):
        assert (calpha / name).is_file(), name
    curve = pd.read_parquet(calpha / "curve.parquet")
    sigmas = ldc.load(["sweep=smoke"]).gahb.calpha.sigmas
    assert len(curve) == 2 * len(sigmas) and set(curve["denoiser"]) == {"deep", "wiener"}
    slopes = pd.read_parquet(study / "calpha_slopes.parquet")
    assert slopes["alpha"].tolist() == [2.0] and slopes["optimal_slope"].iloc[0] == pytest.approx(optimal_calpha_slope(2))
    metrics = artifacts.read_json(calpha / "curve_metrics.json")
    assert slopes["deep_slope"].iloc[0] == pytest.approx(metrics["deep_slope"])
    slope_range = ldc.load(["sweep=smoke"]).gahb.calpha.slope_range
    in_range = curve[curve["sigma"].between(*slope_range)].pivot(index="sigma", columns="denoiser", values="output_psnr")
    assert len(in_range) >= 2
    assert metrics["deep_margin_db"] == pytest.approx((in_range["deep"] - in_range["wiener"]).min())
    assert slopes["deep_margin_db"].iloc[0] == pytest.approx(metrics["deep_margin_db"])
    assert artifacts.read_json(calpha / "train_metrics.json")["n_train"] == 100

    alignment = pd.read_parquet(study / "disks_alignment.parquet")
    disk_sigmas = ldc.load(["sweep=smoke"]).gahb.disks.sigmas
    assert sorted(set(alignment["n"])) == [20, 40] and len(alignment) == 2 * 2 * len(disk_sigmas)
    for n in (20, 40):
        table = pd.read_parquet(model_dir(gahb_run, "disks", n=n) / "disk_jacobians.parquet")
        assert len(table) == 3 * len(disk_sigmas) and (table["eigval_0"] >= table["eigval_7"]).all()
        assert table["alignment"].between(0, 1 + 1e-9).all()
        assert (model_dir(gahb_run, "disks", n=n) / "fig_eigenvectors.png").is_file()
    assert not list(gahb_run.rglob(".*.tmp"))


@pytest.mark.slow
def test_gahb_disk_splits_share_their_test_disks_and_the_wiener_baseline_is_independent(gahb_run):
    """The two disk models train on prefixes of one generated set and are measured on the same
    held-out disks; the Wiener alignment they record matches a computation from the generator."""
    splits = {n: gahb_run / point_dir("gahb_disks_data", seed=0, n=n) for n in (20, 40)}
    train = {n: artifacts.load_npz(path / "train.npz", {"indices": 1})["indices"] for n, path in splits.items()}
    test = {n: artifacts.load_npz(path / "test.npz", {"indices": 1})["indices"] for n, path in splits.items()}
    np.testing.assert_array_equal(train[20], np.arange(20))
    np.testing.assert_array_equal(train[40], np.arange(40))
    np.testing.assert_array_equal(test[20], test[40])
    np.testing.assert_array_equal(test[20], np.arange(40, 43))
    data = ldc.load(["sweep=smoke"]).gahb.disks.data
    disks = make_disks(43, size=data.size, seed=data.data_seed)
    wiener = fit_wiener(disks.dataset.X[:20])
    expected = np.median(wiener_tangent_alignment(wiener.basis, disks.tangents()[40:]))
    recorded = artifacts.read_json(model_dir(gahb_run, "disks", n=20) / "disk_metrics.json")
    assert recorded["wiener/alignment_median"] == pytest.approx(expected, rel=1e-9)
    assert recorded["chance"] == pytest.approx(5 / 1024)


@pytest.mark.slow
def test_gahb_recorded_in_wandb(gahb_run):
    runs = [read_wandb_file(path) for path in find_wandb_files(gahb_run / "results/wandb")]
    assert GAHB_RULES <= {run.job_type for run in runs}
    summary = next(run for run in runs if run.job_type == "gahb_summary")
    assert summary.group == "gahb/s0/deep_quick" and summary.exit_code == 0
    slopes = pd.read_parquet(gahb_run / point_dir("gahb_study", seed=0, size="quick") / "calpha_slopes.parquet")
    assert summary.summary["slope/deep/a2"] == pytest.approx(slopes["deep_slope"].iloc[0])
    assert any(f.startswith("media/table/") for f in summary.files) and any("media/images" in f for f in summary.files)
    jacobian = next(run for run in runs if run.job_type == "gahb_disks_jacobian" and run.config["n_train"] == 40)
    table = pd.read_parquet(model_dir(gahb_run, "disks", n=40) / "disk_jacobians.parquet")
    first = table[table["sigma"] == table["sigma"].min()]
    key = f"deep/{first['sigma'].iloc[0]:g}/alignment_median"
    assert jacobian.summary[key] == pytest.approx(float(np.median(first["alignment"])))
    assert jacobian.group == "gahb/s0/deep_quick"


@pytest.mark.slow
def test_changing_the_disk_measurement_reruns_only_it(gahb_run):
    dry = snakemake(gahb_run, "-n", "--quiet", "rules", "--until", "gahb_summary",
                    overrides=OVERRIDES + " gahb.disks.sigmas=[0.03,0.1]")
    assert dry.returncode == 0, dry.stderr[-3000:]
    rules = set(dry.stdout.split()) & GAHB_RULES
    assert rules == {"gahb_disks_jacobian", "gahb_summary"}
    counts = dry.stdout.split().count("gahb_disks_jacobian")
    assert counts >= 1
    dry = snakemake(gahb_run, "-n", "--quiet", "rules", "--until", "gahb_summary",
                    overrides=OVERRIDES.replace("sweep.gahb.alpha=[2]", "sweep.gahb.alpha=[2,3]"))
    assert dry.returncode == 0, dry.stderr[-3000:]
    assert set(dry.stdout.split()) & GAHB_RULES == {"gahb_calpha_subset", "gahb_calpha_train", "gahb_calpha_curve",
                                                    "gahb_summary"}
