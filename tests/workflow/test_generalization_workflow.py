"""The A/B generalization study (sweep.generalization): config checks, and the rules end to end
through the real ``snakemake`` CLI in a temporary directory."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import snakemake

from lindiff import artifacts
from lindiff.errors import ConfigError
from lindiff.pipeline import config as ldc
from lindiff.pipeline import entries as lde
from lindiff.pipeline import sweep as lds
from lindiff.pipeline.wandb_file import find_wandb_files, read_wandb_file

# --------------------------------------------------------------------------- config


def test_generalization_sweep_composes_and_lists_its_points():
    cfg = ldc.load(["sweep=generalization"])
    g = cfg.sweep.generalization
    points = lds.points(cfg, "ab_point")
    linear = [p for p in points if p.kind == "linear"]
    deep = [p for p in points if p.kind == "deep"]
    assert [p.n for p in linear] == sorted(g.n) and max(g.n) == 1797 // 2
    assert [p.n for p in deep] == sorted(g.deep.n)
    assert linear[0].abmodel == f"linear_{g.schedule}_T{g.T}_r{g.rank}"
    assert linear[0].id == f"digits/generalization/s0/{linear[0].abmodel}/n2"
    assert linear[0].study_id == f"digits/generalization/s0/{linear[0].abmodel}"
    assert len(lds.sweep_points(cfg)) == 1  # one cheap regular point
    params = lde.ab_schedule_params(cfg)
    assert params["sigma_max"] == g.sigma_max and params["name"] == "linear"


@pytest.mark.parametrize("sweep", ["default", "smoke", "paper"])
def test_generalization_is_off_elsewhere(sweep):
    cfg = ldc.load([f"sweep={sweep}"], check_data=False)
    assert lds.points(cfg, "ab_point") == []


@pytest.mark.bad_input
@pytest.mark.parametrize(
    "override, message",
    [
        ("sweep.generalization.n=[1,10]", "sweep.generalization.n=1: must be >= 2"),
        ("sweep.generalization.n=[10,899]", "sweep.generalization.n=899 exceeds the half size 898"),
        ("sweep.generalization.deep.n=[900]", "sweep.generalization.deep.n=900 exceeds the half size 898"),
        ("sweep.generalization.deep.n=[1]", "sweep.generalization.deep.n=1"),
        ("sweep.generalization.n=[10,10]", "sweep.generalization.n has duplicate"),
        ("sweep.generalization.seed=[]", "sweep.generalization.seed is empty"),
        ("sweep.generalization.schedule=quadratic", "sweep.generalization.schedule: unknown schedule 'quadratic'"),
        ("sweep.generalization.rank=65", "sweep.generalization.rank=65 exceeds the data dimension d=64"),
        ("sweep.generalization.rank=0", "sweep.generalization.rank=0"),
        ("sweep.generalization.T=0", "sweep.generalization.T=0"),
        ("sweep.generalization.sigma_max=-1", "sweep.generalization.sigma_max=-1"),
        ("sweep.generalization.n_samples=0", "sweep.generalization.n_samples=0"),
        ("sweep.generalization.deep.size=huge", "sweep.generalization.deep.size: unknown model size 'huge'"),
        ("sweep.generalization.deep.steps=0", "sweep.generalization.deep.steps=0"),
        ("+sweep.generalization.deep.sampler.eta=1", "sweep.generalization.deep.sampler: unknown key"),
        ("sweep.generalization.T=abc", "sweep.generalization.T"),
    ],
)
def test_bad_generalization_values_fail_naming_the_key(override, message):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("(", r"\(")):
        ldc.load(["sweep=generalization", override])


@pytest.mark.bad_input
def test_generalization_deep_needs_a_deep_denoiser():
    overrides = ["data=spiked", "learn.k=3", "sweep.rank=[3]", "sweep.n=[100]", "sweep.grids=[]",
                 "sweep=generalization", "sweep.generalization.rank=3", "sweep.generalization.n=[2,100]"]
    with pytest.raises(ConfigError, match="deep.enabled=false"):
        ldc.load(overrides)
    cfg = ldc.load(overrides + ["sweep.generalization.deep.n=[]"])  # the linear part alone is fine
    assert {p.kind for p in lds.points(cfg, "ab_point")} == {"linear"}


# --------------------------------------------------------------------------- workflow

# Tiny regular point (the schema needs one) + the linear study on digits at three sizes.
BASE = "sweep=generalization sweep.n=[100] sweep.T=[5] sweep.rank=[4] generate.n_samples=50"
LINEAR = BASE + " sweep.generalization.n=[2,100,898] sweep.generalization.n_samples=60 sweep.generalization.deep.n=[]"
STUDY = "results/digits/generalization/s0/linear_linear_T20_r10"


@pytest.fixture(scope="module")
def linear_run(workflow_run):
    return workflow_run(LINEAR, name="ab_linear")


@pytest.mark.slow
def test_linear_study_artifacts(linear_run):
    study = linear_run / STUDY
    for name in ("generalization_curve.parquet", "fig_generalization.png"):
        assert (study / name).is_file(), name
    for n in (2, 100, 898):
        for name in ("samples.npz", "ab_metrics.json", "ab_pairs.parquet", "fig_ab_pairs.png",
                     "A/bases.npz", "B/bases.npz", "A/config.yaml"):
            assert (study / f"n{n}" / name).is_file(), (n, name)
    halves = artifacts.load_npz(linear_run / "results/digits/generalization/s0/halves.npz", {"idx_a": 1, "idx_b": 1})
    assert (len(halves["idx_a"]), len(halves["idx_b"])) == (899, 898)
    assert not set(halves["idx_a"]) & set(halves["idx_b"])
    # the learn stage ran on the training subset: the first n of its half
    subset = artifacts.load_npz(linear_run / "results/digits/generalization/s0/train/n100/B/train.npz", {"indices": 1})
    np.testing.assert_array_equal(subset["indices"], halves["idx_b"][:100])
    bases, _ = artifacts.load_bases(study / "n100/A/bases.npz")
    assert bases.n_train == 100 and bases.k == 10 and bases.T == 20 and bases.mean is not None
    assert bases.sigma_bar[-1] == pytest.approx(0.3)  # sweep.generalization.sigma_max
    pairs = pd.read_parquet(study / "n100/ab_pairs.parquet")
    assert len(pairs) == 60 and {"cos_ab", "nn_sim_a", "nn_index_b", "a_closer_to_train"} <= set(pairs.columns)
    for stage in ("split_halves", "ab_subset", "ab_learn_linear", "ab_generate_linear", "ab_compare", "ab_curve"):
        assert list((linear_run / "results/logs" / stage).rglob("*.log")), stage
        assert list((linear_run / "results/benchmarks" / stage).rglob("*.tsv")), stage
    assert not list(linear_run.rglob(".*.tmp"))


@pytest.mark.slow
def test_linear_transition_curve(linear_run):
    """n = 2: memorization (every sample closer to a training image than to its partner, and
    in the span of its two training images); n = 898 >= d: A and B agree."""
    curve = pd.read_parquet(linear_run / STUDY / "generalization_curve.parquet").set_index("n")
    assert list(curve.index) == [2, 100, 898]
    small, large = curve.loc[2], curve.loc[898]
    assert small["frac_closer_to_train"] > 0.9 and large["frac_closer_to_train"] < 0.1
    assert large["cos_ab"] > 0.85 and large["cos_ab"] > small["cos_ab"] + 0.5
    assert small["span_cos"] == pytest.approx(1.0, abs=1e-3)
    assert curve["n_pairs"].eq(60).all()
    metrics = artifacts.read_json(linear_run / STUDY / "n2/ab_metrics.json")
    assert metrics["cos_ab"] == pytest.approx(small["cos_ab"]) and metrics["model"] == "linear_linear_T20_r10"


@pytest.mark.slow
def test_linear_study_recorded_in_wandb(linear_run):
    runs = [read_wandb_file(path) for path in find_wandb_files(linear_run / "results/wandb")]
    curve_runs = [run for run in runs if run.job_type == "ab_curve"]
    assert len(curve_runs) == 1
    run = curve_runs[0]
    assert run.group == "digits/generalization/s0/linear_linear_T20_r10" and run.exit_code == 0
    rows = [row for row in run.history if "curve/cos_ab" in row]
    assert [row["n"] for row in rows] == [2, 100, 898]
    table = pd.read_parquet(linear_run / STUDY / "generalization_curve.parquet")
    assert [row["curve/cos_ab"] for row in rows] == pytest.approx(list(table["cos_ab"]))
    assert any(f.startswith("media/table/") for f in run.files) and any("media/images" in f for f in run.files)
    assert run.summary["frac_closer_to_train_at_min_n"] == pytest.approx(table["frac_closer_to_train"].iloc[0])
    learns = {run.group for run in runs if run.job_type == "ab_learn_linear"}
    assert "digits/generalization/s0/linear_linear_T20_r10/n2/A" in learns and len(learns) == 6
    compare = next(run for run in runs if run.job_type == "ab_compare" and run.group.endswith("/n898"))
    assert compare.config["n"] == 898 and compare.config["centered"] is True
    assert compare.summary["cos_ab"] == pytest.approx(table["cos_ab"].iloc[-1])


@pytest.mark.slow
def test_changing_the_study_reruns_only_the_study(linear_run):
    dry = snakemake(linear_run, "-n", "--quiet", "rules", overrides=LINEAR.replace("n_samples=60", "n_samples=40"))
    assert dry.returncode == 0, dry.stderr[-3000:]
    rules = set(dry.stdout.split())
    assert {"ab_generate_linear", "ab_compare", "ab_curve"} <= rules
    assert not rules & {"ab_learn_linear", "split_halves", "learn", "generate"}


@pytest.mark.slow
def test_deep_study_tiny(tmp_path):
    """Two deep models per n (n = 2, 50), a few optimizer steps each: artifacts, checkpoints, curve."""
    overrides = (BASE + " sweep.generalization.n=[] sweep.generalization.deep.n=[2,50]"
                 " sweep.generalization.deep.steps=30 sweep.generalization.deep.n_samples=4"
                 " sweep.generalization.deep.sampler.max_steps=50")
    result = snakemake(tmp_path, "--cores", "2", overrides=overrides)
    assert result.returncode == 0, result.stderr[-3000:]
    study = tmp_path / "results/digits/generalization/s0/deep_quick"
    curve = pd.read_parquet(study / "generalization_curve.parquet")
    assert list(curve["n"]) == [2, 50] and curve["n_pairs"].eq(4).all()
    assert curve[["cos_ab", "nn_sim", "frac_closer_to_train"]].notna().all().all()
    for n in (2, 50):
        for half in "AB":
            metrics = artifacts.read_json(study / f"n{n}/{half}/train_metrics.json")
            assert metrics["n_train"] == n and 30 <= metrics["steps"] < 30 + n
            # the shared train_denoiser stage: held-out rows of the other half, and the memorization gap
            assert metrics["n_test"] == 500 and {"psnr_deep/0.1", "psnr_linear/0.1", "psnr_train/0.1"} <= set(metrics)
            assert len(list((study / f"n{n}/{half}/checkpoints").glob("*/checkpoint.pt"))) == 1
        samples = artifacts.load_npz(study / f"n{n}/samples.npz", {"samples_a": 2, "samples_b": 2})
        assert samples["samples_a"].shape == (4, 64)
    runs = [read_wandb_file(p) for p in find_wandb_files(tmp_path / "results/wandb")]
    assert {"ab_train_denoiser", "ab_sample_deep", "ab_compare", "ab_curve"} <= {r.job_type for r in runs}
