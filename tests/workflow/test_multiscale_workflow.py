"""The receptive-field study (sweep.multiscale): its points and config checks, and the rules end to
end through the real ``snakemake`` CLI in a temporary directory, read back from the artifacts and W&B."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from helpers import planned_jobs, point_dir

from lindiff import artifacts
from lindiff.deep.train import load_model
from lindiff.errors import ConfigError
from lindiff.pipeline import config as ldc
from lindiff.pipeline import sweep as lds
from lindiff.pipeline.wandb_file import find_wandb_files, read_wandb_file
from lindiff.studies.multiscale import radial_power_spectrum, total_variance

OVERRIDES = "sweep=smoke sweep.deep.n=[] sweep.gahb.alpha=[] sweep.gahb.n=[]"
MS_RULES = {"ms_train", "ms_synthesize", "ms_summary"}
STUDY = {"data": "digits", "wavelet": "haar", "n": 300, "seed": 0}


# --------------------------------------------------------------------------- config


def test_the_multiscale_sweep_lists_every_model_and_synthesis():
    cfg = ldc.load(["sweep=multiscale", "data=mnist"], check_data=False)
    models = lds.points(cfg, "ms_model")
    names = {(p.scale, p.rf) for p in models}
    assert names == {("flat", "full"), ("low", "full")} | {(s, rf) for rf in ("5", "9", "13") for s in ("flat", "j1", "j2")}
    syntheses = {(p.arch, p.rf) for p in lds.points(cfg, "ms_synth")}
    assert syntheses == {("flat", "full")} | {(a, rf) for rf in ("5", "9", "13") for a in ("flat", "wavelet")}
    assert {p.at("ms_study").id for p in models} == {"mnist/multiscale/haar/n10000_s0"}
    # off unless asked for, and skipped (with a note) on data without deep models
    assert lds.points(ldc.load([]), "ms_model") == []
    spiked = ldc.load(["sweep=smoke", "data=spiked", "sweep.deep.n=[]"], check_data=False)
    assert lds.points(spiked, "ms_model") == [] and "sweep.multiscale.n=[300] is skipped" in ldc.notes(spiked)[0]


@pytest.mark.bad_input
@pytest.mark.parametrize("override, message", [
    ("sweep.multiscale.wavelet=[bior2.2]", r"sweep\.multiscale\.wavelet='bior2\.2' is not orthogonal"),
    ("sweep.multiscale.rf=[4]", r"sweep\.multiscale\.rf=4: receptive_field=4 is not 1 \+ \(kernel_size − 1\)·m"),
    ("sweep.multiscale.rf=[19]", r"sweep\.multiscale\.rf=19: receptive_field=19 needs 9 convolutions"),
    ("sweep.multiscale.rf=[0]", r"sweep\.multiscale\.rf=0: must be >= 1"),
    ("multiscale.train.model.kind=unet", r"multiscale\.train\.model: the study's models are BF-CNNs"),
    ("multiscale.train.model.depth=1", r"multiscale\.train: depth must be >= 2"),
    ("multiscale.full.kind=ddpm", r"multiscale\.full"),
    ("multiscale.levels=0", r"multiscale\.levels"),
    ("multiscale.psnr_sigmas=[]", r"multiscale\.psnr_sigmas is empty"),
    ("sweep.multiscale.n=[1500]", r"sweep\.multiscale\.n=1500 \+ multiscale\.n_test=500 held-out images exceed the 1797"),
])
def test_bad_multiscale_values_fail_naming_the_key(override, message):
    with pytest.raises(ConfigError, match=message):
        ldc.load(["sweep=smoke", override])


@pytest.mark.bad_input
def test_a_low_pass_model_that_does_not_see_its_whole_image_is_refused():
    """MNIST padded to 32x32 with one level leaves a 16x16 low-pass image; the depth-8 BF-CNN's RF
    of 17 does not cover it (31 is needed)."""
    with pytest.raises(ConfigError, match=r"receptive field 17 does not cover its 16x16 grid \(multiscale\.levels=1\)"):
        ldc.load(["sweep=multiscale", "data=mnist", "multiscale.levels=1"], check_data=False)


# --------------------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def ms_run(workflow_run):
    return workflow_run(OVERRIDES, "--until", "ms_summary", name="multiscale")


@pytest.mark.slow
def test_multiscale_models_have_the_receptive_fields_and_bands_they_declare(ms_run):
    for scale, rf, bands, grid in [("flat", "3", 1, [8, 8]), ("j1", "3", 3, [4, 4]), ("j2", "3", 3, [2, 2]),
                                   ("low", "full", 1, [2, 2]), ("flat", "full", 1, [8, 8])]:
        directory = ms_run / point_dir("ms_model", scale=scale, rf=rf, **STUDY)
        metrics = artifacts.read_json(directory / "train_metrics.json")
        model = load_model(directory / "model.pt")
        assert (model.bands, model.condition_bands) == (bands, 1 if scale.startswith("j") else 0)
        assert metrics["grid"] == grid and metrics["n_train"] == 300 and metrics["n_test"] == 500
        if rf != "full":  # measured by perturbing one input pixel of the trained model
            assert metrics["receptive_field_measured"] == int(rf), (scale, metrics)
        # the unconditional models keep the mean they were trained around: a flat one the mean pixel value
        # (translation-invariant), the low-pass model the mean image; the conditional ones none
        mean = np.asarray(artifacts.load_torch(directory / "model.pt", "model file")["extra"]["mean"])
        assert mean.shape == (bands * grid[0] * grid[1],) and (np.any(mean != 0) == (not scale.startswith("j")))
        assert (np.ptp(mean) == 0) == (scale != "low")


@pytest.mark.slow
def test_multiscale_table_and_figures(ms_run):
    study = ms_run / point_dir("ms_study", **STUDY)
    for name in ("table.parquet", "fig_psnr.png", "fig_samples.png", "fig_spectrum.png"):
        assert (study / name).is_file(), name
    table = pd.read_parquet(study / "table.parquet")
    assert table["model"].tolist() == ["flat_rf3", "wavelet_rf3", "flat_rffull"]
    sigmas = ldc.load(["sweep=smoke"]).multiscale.psnr_sigmas
    for sigma in sigmas:
        # the PSNR of the denoised held-out images against theirs with noise alone (identical noise, the same
        # 500 images for every model): a denoiser after one epoch cannot be far below the identity
        assert table[f"psnr/{sigma}"].between(-10 * np.log10(sigma**2) - 3, 60).all()
        assert table[f"wiener_psnr/{sigma}"].nunique() == 1
    wavelet = artifacts.read_json(ms_run / point_dir("ms_synth", arch="wavelet", rf="3", **STUDY) / "metrics.json")
    parts = [artifacts.read_json(ms_run / point_dir("ms_model", scale=s, rf=rf, **STUDY) / "train_metrics.json")
             for s, rf in (("low", "full"), ("j2", "3"), ("j1", "3"))]
    assert wavelet["parameters"] == sum(m["parameters"] for m in parts)
    for row in table.itertuples():
        samples = artifacts.load_npz(ms_run / point_dir("ms_synth", arch=row.arch, rf=row.rf, **STUDY) / "samples.npz",
                                     {"samples": 2})["samples"]
        assert samples.shape == (200, 64) and np.isfinite(samples).all()
        assert 0 <= row.confident_fraction <= 1 and row.frechet_distance > 0
        # the recorded radial spectrum is the stored samples' (as drawn: clipped to [0, 1])
        metrics = artifacts.read_json(ms_run / point_dir("ms_synth", arch=row.arch, rf=row.rf, **STUDY) / "metrics.json")
        _, power = radial_power_spectrum(np.clip(samples.astype(np.float64), 0, 1), (8, 8))
        np.testing.assert_allclose(metrics["radial_power"], power, rtol=1e-5)
        assert row.spectrum_error_db == pytest.approx(metrics["spectrum_error_db"]) and row.spectrum_error_db > 0
        assert row.sample_variance == pytest.approx(total_variance(np.clip(samples.astype(np.float64), 0, 1)), rel=1e-6)
    assert table["data_variance"].nunique() == 1 and table["data_variance"].iloc[0] > 0
    assert not list(ms_run.rglob(".*.tmp"))


@pytest.mark.slow
def test_multiscale_recorded_in_wandb(ms_run):
    runs = [read_wandb_file(path) for path in find_wandb_files(ms_run / "results/wandb")]
    assert MS_RULES <= {run.job_type for run in runs}
    summary = next(run for run in runs if run.job_type == "ms_summary")
    assert summary.group == "digits/multiscale/haar/n300_s0" and summary.exit_code == 0
    assert any(f.startswith("media/table/") for f in summary.files)
    synth = next(run for run in runs if run.job_type == "ms_synthesize" and run.config["arch"] == "wavelet")
    metrics = artifacts.read_json(ms_run / point_dir("ms_synth", arch="wavelet", rf="3", **STUDY) / "metrics.json")
    assert synth.summary["confident_fraction"] == pytest.approx(metrics["confident_fraction"])
    assert synth.group == summary.group


def planned(run, extra: str) -> dict[str, int]:
    return planned_jobs(run, f"{OVERRIDES} {extra}", "ms_summary")


@pytest.mark.slow
def test_changing_the_synthesis_or_adding_an_rf_reruns_only_what_depends_on_it(ms_run):
    # the three syntheses and the table, no training
    assert planned(ms_run, "multiscale.synthesis.beta=0.3") == {"ms_synthesize": 3, "ms_summary": 1}
    # the RF-5 models (flat, j1, j2) and their two syntheses; the low-pass model and the full-RF
    # reference are shared by every RF and stay
    assert planned(ms_run, "sweep.multiscale.rf=[3,5]") == {"ms_train": 3, "ms_synthesize": 2, "ms_summary": 1}
    # the PSNR levels are read by every stage
    assert planned(ms_run, "multiscale.psnr_sigmas=[0.1]") == {"ms_train": 5, "ms_synthesize": 3, "ms_summary": 1}
