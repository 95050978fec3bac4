"""The samplers study in the workflow (issue 15): config, bad input before any job, a real run
through the snakemake CLI (artifacts, numbers against the closed form, W&B read back), and a
selective rerun."""

import re

import numpy as np
import pytest
from helpers import point_dir, run_snakemake

from lindiff import artifacts
from lindiff.errors import ConfigError
from lindiff.pipeline import config as ldc
from lindiff.pipeline import sweep as lds
from lindiff.pipeline.wandb_file import find_wandb_files, read_wandb_file

STUDY = ("sweep=spectral_samplers sweep.n=[300] sweep.rank=[5] sweep.T=[5] learn.k=5 sweep.fig3_indices=[0,2,4] "
         "generate.n_samples=50 "
         "sweep.samplers.grids=[] sweep.samplers.n=[1297] sweep.samplers.T=[5] "
         "sweep.samplers.schedule=[vpcosine,designed] sweep.samplers.sampler=[ddpm,ddim] "
         "sweep.samplers.denoiser=[wiener,empirical] diffusion.n_samples=4000 diffusion.design.steps=100")


def _point(schedule, sampler, denoiser, results="results"):
    return point_dir("sampler_point", results, data="digits", n=1297, seed=0, schedule=schedule, T=5,
                     sampler=sampler, denoiser=denoiser)


# --------------------------------------------------------------------------- configuration


def test_the_preset_composes_with_its_grids():
    cfg = ldc.load(["sweep=spectral_samplers"], check_data=False)
    points = lds.points(cfg, "sampler_point")
    # 4 schedules x 4 T x 2 samplers (wiener) + 3 x 5 x 4 at T=10 + 2 x 3 designed at T=10, minus overlaps
    assert len(points) == 92
    assert {p.denoiser for p in points} == {"wiener", "empirical", "projection", "deep"}
    assert len({p.at("sampler_levels") for p in points}) == 41
    assert lds.points(ldc.load([], check_data=False), "sampler_point") == []  # off by default


@pytest.mark.bad_input
@pytest.mark.parametrize("overrides, message", [
    (["sweep.samplers.sampler=[euler]"], r"sweep\.samplers\.sampler: unknown sampler 'euler'"),
    (["sweep.samplers.schedule=[warp]"], r"sweep\.samplers\.schedule: unknown sampler schedule 'warp'"),
    (["sweep.samplers.T=[0]"], r"sweep\.samplers\.T=0: must be >= 1"),
    (["sweep.samplers.grids=[{denoiser: [magic]}]"], r"sweep\.samplers\.denoiser: unknown denoiser"),
    (["sweep.samplers.grids=[{steps: [3]}]"], r"sweep\.samplers\.grids: unknown axis 'steps'"),
    (["diffusion.samplers.ddim.eta=1.5"], r"diffusion\.samplers\.ddim\.eta=1\.5: must be <= 1"),
    (["diffusion.samplers.ddim.eta=-0.5"], r"diffusion\.samplers\.ddim\.eta=-0\.5: must be >= 0"),
    (["+diffusion.schedules.karras.params.rho=-1"], r"diffusion\.schedules\.karras: rho must be a positive"),
    (["+diffusion.schedules.karras.params.sigma_min=100"], r"diffusion\.schedules\.karras: sigma_max must be > sigma_min"),
    (["+diffusion.schedules.karras.params.gamma=1"], r"diffusion\.schedules\.karras: .*unknown parameter"),
    (["diffusion.design.bounds=[5,1]"], r"diffusion\.design\.bounds"),
    (["sweep.samplers.sampler=[chain]"], r"diffusion\.samplers\.chain is the chain"),
    (["sweep.samplers.denoiser=[projection]", "diffusion.projection_rank=100"], r"diffusion\.projection_rank=100"),
    (["sweep.samplers.denoiser=[empirical]", "diffusion.empirical_chunk=400000", "diffusion.n_samples=400000",
      "max_job_mem_mb=3000"],
     r"sample_sampler of .*empirical.*diffusion\.empirical_chunk"),
    (["sweep.samplers.n=[1797]", "sweep.samplers.denoiser=[deep]"], r"sweep\.samplers\.n=1797 plus deep\.n_test=500"),
])
def test_bad_samplers_config_fails_naming_the_key(overrides, message):
    with pytest.raises(ConfigError, match=message):
        ldc.load(["sweep=spectral_samplers", *overrides])


@pytest.mark.bad_input
def test_bad_input_fails_before_any_job(tmp_path):
    result = run_snakemake(tmp_path, "sweep=spectral_samplers diffusion.samplers.ddim.eta=2", "--cores", "1")
    assert result.returncode != 0
    assert "diffusion.samplers.ddim.eta=2" in result.stdout + result.stderr
    assert not (tmp_path / "results").exists() or not any((tmp_path / "results").rglob("*.npz"))


# --------------------------------------------------------------------------- a real run


@pytest.fixture(scope="module")
def study(workflow_run):
    return workflow_run(STUDY, name="samplers")


@pytest.mark.slow
def test_wiener_runs_match_their_closed_form(study):
    for schedule in ("vpcosine", "designed"):
        for sampler in ("ddpm", "ddim"):
            table = artifacts.read_parquet(study / _point(schedule, sampler, "wiener") / "spectrum.parquet")
            assert len(table) == 61  # digits: 3 constant pixels are outside the support
            relative = np.abs(table["measured_variance"] / table["predicted_variance"] - 1)
            # 4000 samples: the std of a variance estimate is sqrt(2/4000) = 2.2%
            assert np.median(relative) < 0.03 and relative.max() < 0.12, (schedule, sampler, relative.max())
            metrics = artifacts.read_json(study / _point(schedule, sampler, "wiener") / "metrics.json")
            assert metrics["w2_measured"] == pytest.approx(metrics["w2_predicted"], rel=0.15)


@pytest.mark.slow
def test_the_designed_schedule_wins_when_measured(study):
    for sampler in ("ddpm", "ddim"):
        w2 = {s: artifacts.read_json(study / _point(s, sampler, "wiener") / "metrics.json")["w2_measured"]
              for s in ("vpcosine", "designed")}
        assert w2["designed"] < 0.8 * w2["vpcosine"], (sampler, w2)
        levels = artifacts.read_json(study / point_dir("sampler_levels", data="digits", n=1297, seed=0,
                                                       schedule="designed", T=5, sampler=sampler) / "levels.json")
        assert levels["loss_final"] < levels["loss_initial"]


@pytest.mark.slow
def test_the_comparison_and_its_figures(study):
    sweep = study / "results/sweeps/spectral_samplers"
    summary = artifacts.read_parquet(sweep / "samplers.parquet")
    assert len(summary) == 8 and set(summary["denoiser"]) == {"wiener", "empirical"}
    for name in ("fig_samplers_w2.png", "fig_frequency_response.png", "fig_sampler_schedules.png", "fig_denoisers.png"):
        assert (sweep / name).stat().st_size > 10_000, name
    empirical = artifacts.read_json(study / _point("vpcosine", "ddpm", "empirical") / "metrics.json")
    assert empirical["nonfinite_samples"] == 0


@pytest.mark.slow
def test_wandb_recorded_each_sampler_run(study):
    runs = [read_wandb_file(p) for p in find_wandb_files(study / "results/wandb")]
    samples = [r for r in runs if r.job_type == "sample_sampler"]
    assert len(samples) == 8
    run = next(r for r in samples if r.config["denoiser"] == "wiener" and r.config["schedule.name"] == "designed"
               and r.config["sampler.name"] == "ddpm")
    metrics = artifacts.read_json(study / _point("designed", "ddpm", "wiener") / "metrics.json")
    assert run.summary["w2_measured"] == pytest.approx(metrics["w2_measured"])
    assert run.group == "digits/all/n1297_s0/samplers/designed_T5/ddpm"  # the denoisers of one sampler together
    assert any("media/images" in name for name in run.files)
    compare = next(r for r in runs if r.job_type == "compare_samplers")
    assert compare.summary["points"] == 8


@pytest.mark.slow
def test_changing_one_option_reruns_only_its_jobs(study):
    """diffusion.empirical_chunk is a param of the empirical runs only: 4 of the 8 sampler jobs rerun."""
    result = run_snakemake(study, STUDY + " diffusion.empirical_chunk=128", "-n", "--cores", "1")
    assert result.returncode == 0, result.stdout[-3000:]
    jobs = dict(re.findall(r"^(\w+)\s+(\d+)$", result.stdout, flags=re.M))
    assert jobs.get("sample_sampler") == "4" and "sampler_levels" not in jobs and "fit_gaussian" not in jobs
    blocks = re.findall(r"^(?:local)?rule sample_sampler:\n(.*?)\n\n", result.stdout, flags=re.M | re.S)
    outputs = [re.search(r"output: (\S+)", block).group(1) for block in blocks]
    reruns = [re.search(r"samplers/\w+_T5/\w+/(\w+)/", out).group(1) for out in outputs]
    assert reruns == ["empirical"] * 4, outputs
