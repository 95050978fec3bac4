"""End to end through the real ``snakemake`` CLI on the smoke sweep, in a temporary directory."""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from helpers import REPO, copy_run, flip_inside_largest_member, load_script, point_dir, run_snakemake

from lindiff import artifacts
from lindiff.pipeline.wandb_file import find_wandb_files, read_wandb_file

pytestmark = pytest.mark.slow  # end to end through the snakemake CLI

OVERRIDES = ("sweep=smoke sweep.multiscale.n=[] sweep.theory.n=[] generate.n_samples=200 deep.jacobian.n_points=4 deep.paths=3 "
             "deep.quality.n_samples=100 "
             "deep.sizes.ddpmquick.epochs=5 sweep.deep.control=[untrained,permuted,empirical,wiener,early] "
             "deep.jacobian.n_boot=50 deep.jacobian.n_perm=200")
POINT = point_dir("learn", data="digits", cond="all", n=100, seed=0, schedule="linear", T=5)
STAGES = {"data", "learn", "analyze_bases", "generate", "analyze", "aggregate",
          "train_denoiser", "train_variant", "sample_deep", "jacobian_analysis", "fig7_control", "fig7_controls",
          "train_classifier",
          "linear_chain_samples",
          "quality_table", "gahb_calpha_subset", "gahb_disks_subset", "gahb_calpha_train", "gahb_disks_train",
          "gahb_calpha_curve", "gahb_disks_jacobian", "gahb_summary"}
DEEP = point_dir("deep", data="digits", n=200, size="quick", seed=0)
ASCENT = point_dir("deep_sample", data="digits", n=200, size="quick", seed=0, sampler="ascent",
                   schedule="adaptive", T=400)
DDIM = point_dir("deep_sample", data="digits", n=200, size="ddpmquick", seed=0, sampler="ddim",
                 schedule="vplinear", T=10)
QUALITY = point_dir("trainset", data="digits", n=200, seed=0) / "quality"
CONTROLS = ("untrained", "permuted", "empirical", "wiener", "early")  # in their declared order


def snakemake(workdir: Path, *args: str, overrides: str = OVERRIDES) -> subprocess.CompletedProcess:
    return run_snakemake(workdir, overrides, *args)


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory) -> tuple[Path, float]:
    """The smoke sweep run once for this module: its working directory and Snakemake's wall time."""
    workdir = tmp_path_factory.mktemp("smoke")
    start = time.perf_counter()
    result = snakemake(workdir, "--cores", "2")
    wall = time.perf_counter() - start
    assert result.returncode == 0, result.stderr[-3000:]
    return workdir, wall


@pytest.fixture(scope="module")
def workdir(smoke_run) -> Path:
    return smoke_run[0]


def _bench_jobs():
    return load_script("benchmarks/bench_jobs.py")


def test_bench_jobs_times_every_job(smoke_run):
    """benchmarks/bench_jobs.py reads every job's wall, set-up and work time back (the lines
    ``rule_job`` logs) from the smoke run, before any test below reruns a job; its runner
    brings the finished sweep up to date (nothing to do)."""
    workdir, wall = smoke_run
    bench = _bench_jobs()
    jobs = bench.job_table(workdir / "results")
    assert {"data", "learn", "generate", "analyze", "aggregate", "train_denoiser"} <= set(jobs["rule"])
    assert jobs[["wall", "setup", "work", "tracking"]].notna().all().all(), jobs
    assert ((jobs["work"] >= 0) & (jobs["work"] <= jobs["wall"]) & (jobs["setup"] > 0)).all(), jobs
    assert wall >= jobs["wall"].max()
    text = bench.report("smoke", wall, jobs)
    assert "median fixed cost per job" in text and "generate" in text
    assert bench.run_sweep("smoke", 2, workdir, OVERRIDES.removeprefix("sweep=smoke ")) > 0
    assert len(bench.job_table(workdir / "results")) == len(jobs)  # it ran nothing again


def test_all_targets_built(workdir):
    expected = [
        POINT.parent / "data/train.npz",
        POINT / "learn/bases.npz",
        POINT / "learn/config.yaml",
        POINT / "sin_theta.parquet",
        POINT / "fig2_sin_theta.png",
        POINT / "r4/samples.npz",
        POINT / "r4/metrics.json",
        POINT / "r4/pc_distribution.parquet",
        POINT / "r4/fig1_trajectory.png",
        POINT / "r4/fig5_correlations.png",
        POINT / "r4/fig6_distribution.png",
        Path("results/sweeps/smoke/summary.parquet"),
        Path("results/sweeps/smoke/fig3_dataset_size.png"),
        Path("results/sweeps/smoke/fig6_distributions.png"),
        Path("results/sweeps/smoke/power_iteration.png"),
        Path("results/sweeps/smoke/fig1_trajectories.png"),
        DEEP / "model.pt",
        DEEP / "train_metrics.json",
        ASCENT / "sample_path.npz",
        ASCENT / "jacobian.parquet",
        ASCENT / "fig7_sin_theta_jacobian.png",
        ASCENT / "fig_eigenvectors.png",
        DDIM / "samples.npz",
        DDIM / "fig7_index_statistics.png",
        QUALITY / "classifier.pt",
        QUALITY / "quality.parquet",
        QUALITY / "fig_quality.png",
    ]
    for path in expected:
        assert (workdir / path).is_file(), path
    for png in workdir.glob("results/**/*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # every rule wrote its log and benchmark
    for stage in STAGES:
        assert list((workdir / "results/logs" / stage).rglob("*.log")), stage
        assert list((workdir / "results/benchmarks" / stage).rglob("*.tsv")), stage
    assert not list(workdir.rglob(".*.tmp")), "temporary files left behind"


def test_artifacts_hold_what_they_should(workdir):
    bases, sigma = artifacts.load_bases(workdir / POINT / "learn/bases.npz")
    with np.load(workdir / POINT / "learn/bases.npz", allow_pickle=False) as raw:
        assert raw["U"].dtype == np.float32 and raw["U"].shape == (6, 64, 30)
    assert bases.sigma_bar[-1] == pytest.approx(10.0) and sigma.shape == (6,)
    assert bases.n_train == 100
    samples = artifacts.load_npz(workdir / POINT / "r4/samples.npz", {"deterministic": 2, "trajectory": 3})
    assert samples["deterministic"].shape == (200, 64) and samples["trajectory"].shape == (6, 4, 64)
    # the deterministic samples lie in the span of the clean rank-4 basis
    U0 = bases.U[0][:, :4]
    x = samples["deterministic"].astype(np.float64)
    np.testing.assert_allclose(x, x @ U0 @ U0.T, atol=1e-3 * np.abs(x).max())
    metrics = artifacts.read_json(workdir / POINT / "r4/metrics.json")
    assert metrics["rank"] == 4 and 0 <= metrics["energy_u0_deterministic"] <= 1
    summary = pd.read_parquet(workdir / "results/sweeps/smoke/summary.parquet")
    assert len(summary) == 1 and summary.loc[0, "n"] == 100 and summary.loc[0, "T"] == 5
    sidecar = yaml.safe_load((workdir / POINT / "learn/config.yaml").read_text())
    assert sidecar["lindiff_version"] and sidecar["config"]["T"] == 5 and len(sidecar["data_sha256"]) == 64


def test_deep_stages_hold_the_fig7_analysis(workdir):
    from lindiff.deep.train import load_model

    model = load_model(workdir / DEEP / "model.pt")
    assert model.image_shape == (8, 8)
    for run in (ASCENT, DDIM):
        table = pd.read_parquet(workdir / run / "jacobian.parquet")
        final = table[table["t"] == 0]
        np.testing.assert_allclose(final["sin_theta"], 0.0, atol=1e-6)  # t = 0 is the reference basis
        assert table["sin_theta"].between(0, 1 + 1e-9).all()
        assert table["sample"].nunique() == 3  # deep.paths
    metrics = artifacts.read_json(workdir / ASCENT / "jacobian_metrics.json")
    assert metrics["homogeneity_error_mean"] < 1e-3  # bias-free: f(y) = J(y) y
    assert metrics["linear/sigma_ref"] == 0.0 and "verdict/deep" in metrics
    conditional = artifacts.read_json(workdir / DDIM / "jacobian_metrics.json")
    assert conditional["homogeneity_error_mean"] > metrics["homogeneity_error_mean"]  # biases: f(y) != J(y) y
    samples = artifacts.load_npz(workdir / DDIM / "samples.npz", {"samples": 2})["samples"]
    assert samples.shape == (100, 64)  # deep.quality.n_samples, the 3 recorded paths among them
    path = artifacts.load_npz(workdir / DDIM / "sample_path.npz", {"points": 3, "sigma": 2})
    np.testing.assert_array_equal(path["points"][-1], samples[:3])
    assert path["sigma"][0].max() <= 1.0  # deep.record_sigma
    train = artifacts.read_json(workdir / DEEP / "train_metrics.json")
    assert {"psnr_deep/0.2", "psnr_linear/0.2"} <= set(train)
    quality = pd.read_parquet(workdir / QUALITY / "quality.parquet")
    assert list(quality["kind"]) == ["real", "linear", "linear", "deep", "deep"]
    assert quality["n"].eq(100).all() and quality["confident_fraction"].between(0, 1).all()
    real = quality.iloc[0]
    assert real["frechet_distance"] < quality["frechet_distance"].iloc[1:].min()  # real images: the floor
    hist = quality[[f"class_{c}" for c in range(10)]].to_numpy()
    np.testing.assert_allclose(hist.sum(axis=1), 1.0)


def test_fig7_controls_are_taken_at_the_trained_models_points(workdir):
    """Each control of each sampler run: Jacobians at the trained model's own path points and
    levels, the statistics of both with bootstrap intervals and a permutation p; the Wiener
    filter does not rotate; every control resamples the same paths (the trained rows agree)."""
    for run in (ASCENT, DDIM):
        trained = artifacts.load_npz(workdir / run / "jacobian_spectra.npz", {"sigma": 2, "sin_theta": 3, "path_steps": 1})
        tables = {}
        for control in CONTROLS:
            folder = workdir / run / f"control_{control}"
            spectra = artifacts.load_npz(folder / "jacobian_spectra.npz", {"sigma": 2, "sin_theta": 3, "path_steps": 1})
            np.testing.assert_array_equal(spectra["path_steps"], trained["path_steps"])
            np.testing.assert_allclose(spectra["sigma"], trained["sigma"])
            assert spectra["sin_theta"].shape == trained["sin_theta"].shape and spectra["sin_theta"].shape[0] == 3
            table = pd.read_parquet(folder / "statistics.parquet")
            assert set(table["denoiser"]) == {"trained", control}
            rho = table[table["statistic"] == "spearman_crossing_vs_index"].set_index("denoiser")
            defined = rho.dropna(subset=["value"])
            assert ((defined["low"] <= defined["median"]) & (defined["median"] <= defined["high"])).all()
            metrics = artifacts.read_json(folder / "control_metrics.json")
            assert metrics["control"] == control and 0 < metrics["trained/permutation_p"] <= 1
            assert 0 <= metrics["degenerate_fraction"] <= 1
            assert (folder / "fig7_control.png").stat().st_size > 0
            tables[control] = table[table["denoiser"] == "trained"].reset_index(drop=True)
            if control == "wiener":
                assert spectra["sin_theta"].max() < 1e-3  # one eigenbasis at every point and level
                assert metrics["wiener/n_crossed"] == 0 and metrics["degenerate_fraction"] == 0
        for control in CONTROLS[1:]:
            pd.testing.assert_frame_equal(tables["untrained"], tables[control])
        # all of them side by side: one table, the trained model first, each row its job's numbers
        summary = pd.read_parquet(workdir / run / "fig7_controls.parquet").set_index("denoiser")
        assert list(summary.index) == ["trained", *CONTROLS]
        for control in CONTROLS:
            metrics = artifacts.read_json(workdir / run / f"control_{control}" / "control_metrics.json")
            assert summary.loc[control, "n_crossed"] == metrics[f"{control}/n_crossed"]
            rho = metrics[f"{control}/spearman_crossing_vs_index"]
            assert (rho is None and np.isnan(summary.loc[control, "rho"])) or summary.loc[control, "rho"] == rho
        assert (workdir / run / "fig7_controls.png").stat().st_size > 0


def test_the_deep_shrinkage_is_set_beside_the_wiener_filters(workdir):
    """Every sampler run: each Jacobian eigenvalue beside the Wiener shrinkage along its eigenvector;
    a DDPM/DDIM run also the gain products per index (none for the ascent, which has no one-step
    form); the scalars reach the metrics and W&B's summary."""
    runs = {run.name: run for run in map(read_wandb_file, find_wandb_files(workdir / "results/wandb"))
            if run.job_type == "jacobian_analysis"}
    for run in (ASCENT, DDIM):
        spectra = artifacts.load_npz(workdir / run / "jacobian_spectra.npz", {"sin_theta": 3})
        shrinkage = pd.read_parquet(workdir / run / "shrinkage_wiener.parquet")
        assert len(shrinkage) == spectra["sin_theta"].size  # paths x points x K
        assert shrinkage["wiener"].between(0, 1).all() and (shrinkage["data_variance"] > 0).all()
        transfer = pd.read_parquet(workdir / run / "transfer.parquet")
        metrics = artifacts.read_json(workdir / run / "jacobian_metrics.json")
        summary = runs[f"jacobian_analysis:{run.relative_to('results')}"].summary
        assert summary["shrinkage/spearman_jacobian_vs_wiener"] == metrics["shrinkage/spearman_jacobian_vs_wiener"]
        if run == ASCENT:
            assert transfer.empty and "transfer/deep_index0" not in metrics
        else:
            assert list(transfer["index"]) == list(range(spectra["sin_theta"].shape[-1]))
            assert (transfer[["deep", "wiener_local", "gaussian"]] > 0).all().all() and transfer["steps"].gt(0).all()
            assert summary["transfer/deep_index0"] == metrics["transfer/deep_index0"] == transfer["deep"].iloc[0]
        assert (workdir / run / "fig_shrinkage_wiener.png").stat().st_size > 0


def test_the_trained_controls_are_the_networks_they_claim(workdir):
    """The permuted control's network trained on a pixel permutation of the model's training set
    (the same sorted pixels per image, other data; the permutation in its model file) from the
    model's own seed; the early control is the model's snapshot at 10% of its epochs."""
    for model_dir, run in ((DEEP, ASCENT), (DDIM.parent, DDIM)):
        main = yaml.safe_load((workdir / model_dir / "train.config.yaml").read_text())
        permuted = yaml.safe_load((workdir / model_dir / "variant_permuted" / "train.config.yaml").read_text())
        assert permuted["sorted_pixels_sha256"] == main["sorted_pixels_sha256"]
        assert permuted["data_sha256"] != main["data_sha256"]
        extra = torch.load(workdir / model_dir / "variant_permuted" / "model.pt", weights_only=True)["extra"]
        main_extra = torch.load(workdir / model_dir / "model.pt", weights_only=True)["extra"]
        assert sorted(extra["permutation"]) == list(range(64)) and extra["permutation"] != list(range(64))
        assert extra["seed"] == main_extra["seed"]
        epochs = main["train_config"]["epochs"]
        assert main["snapshot_epochs"] == {"early": max(1, round(0.1 * epochs)), "middle": max(1, round(0.5 * epochs))}
        snapshot = torch.load(workdir / model_dir / "snapshot_early.pt", weights_only=True)
        assert snapshot["extra"] == {"seed": main_extra["seed"], "epoch": main["snapshot_epochs"]["early"]}
        trained = artifacts.load_npz(workdir / run / "jacobian_spectra.npz", {"eigvals": 3})["eigvals"]
        for control in ("permuted", "early"):
            eigvals = artifacts.load_npz(workdir / run / f"control_{control}" / "jacobian_spectra.npz", {"eigvals": 3})
            assert not np.allclose(eigvals["eigvals"], trained)


def test_wandb_offline_runs_read_back(workdir):
    runs = [read_wandb_file(path) for path in find_wandb_files(workdir / "results/wandb")]
    assert {run.job_type for run in runs} == STAGES
    assert len({run.run_id for run in runs}) == len(runs)
    learn = next(run for run in runs if run.job_type == "learn")
    assert learn.group == "digits/all/n100_s0/linear_T5"
    assert learn.config["T"] == 5 and learn.config["n"] == 100 and learn.config["schedule.name"] == "linear"
    assert learn.config["seed"] == 0 and learn.config["data.name"] == "digits"
    bases_run = next(run for run in runs if run.job_type == "analyze_bases")
    assert {"sigma_bar", "sin_theta/0"} <= set().union(*(row.keys() for row in bases_run.history))
    analyze = next(run for run in runs if run.job_type == "analyze")
    # one group per learn point: its learn, generate and analyze runs together, the rank in the config
    assert analyze.config["rank"] == 4 and analyze.group == learn.group and analyze.name.endswith("/r4")
    assert {run.job_type for run in runs if run.group == learn.group} == {"learn", "analyze_bases", "generate", "analyze"}
    assert set(analyze.tags) == {"smoke", "digits"}
    assert analyze.summary["rank"] == 4
    assert any("media/images" in name for run in runs for name in run.files)


def test_local_jobs_attach_to_one_wandb_service(workdir):
    """A local run starts one W&B service and every job's run attaches to it (each job's log
    says which service it used); the runs read back above were written through it."""
    logs = sorted((workdir / "results/logs").rglob("*.log"))
    said = {log: re.search(r"W&B run \S+ \(offline, (.+?)\) writes to", log.read_text()) for log in logs}
    assert len(logs) >= len(STAGES) and all(said.values()), [str(log) for log, match in said.items() if not match]
    assert {match.group(1) for match in said.values()} == {"the workflow's shared W&B service"}


def test_wandb_records_each_output_as_an_artifact_by_reference(workdir):
    """Lineage (issue 13): each job logs its outputs as W&B artifacts by reference, named after
    their path, with the file's md5 as W&B's digest (checked here independently)."""
    import base64
    import hashlib

    from lindiff.pipeline.tracking import artifact_name

    runs = {run.job_type: run for run in map(read_wandb_file, find_wandb_files(workdir / "results/wandb"))}
    results = (workdir / "results").resolve()
    learn = {a["name"]: a for a in runs["learn"].artifacts}
    bases = results / POINT.relative_to("results") / "learn/bases.npz"
    entry = learn[artifact_name(bases.relative_to(results))]
    assert entry["type"] == "bases" and entry["metadata"] == {"path": str(bases.relative_to(results)), "stage": "learn"}
    (ref,) = entry["entries"]
    assert ref["ref"] == bases.as_uri() and ref["size"] == bases.stat().st_size
    assert ref["digest"] == base64.b64encode(hashlib.md5(bases.read_bytes()).digest()).decode()
    assert set(learn) == {artifact_name(Path(p).relative_to(results)) for p in
                          (bases, bases.with_name("config.yaml"))}
    analyze = {a["metadata"]["path"] for a in runs["analyze"].artifacts if "path" in a["metadata"]}  # not W&B's tables
    assert {"metrics.json", "fig5_correlations.png", "analyze.config.yaml"} <= {Path(p).name for p in analyze}


def test_rerun_one_rule_rebuilds_only_its_outputs(workdir):
    learned = workdir / POINT / "learn/bases.npz"
    generated = workdir / POINT / "r4/samples.npz"
    analyzed = workdir / POINT / "r4/metrics.json"
    before = {p: p.stat().st_mtime_ns for p in (learned, generated, analyzed)}
    result = snakemake(workdir, "--cores", "1", "--forcerun", "analyze", str(POINT / "r4/metrics.json"))
    assert result.returncode == 0, result.stderr[-3000:]
    assert analyzed.stat().st_mtime_ns > before[analyzed]
    assert learned.stat().st_mtime_ns == before[learned]
    assert generated.stat().st_mtime_ns == before[generated]


def test_the_readme_rerun_command_reruns_exactly_one_job(tmp_path):
    """Two points (ranks 3 and 4) so that rerunning too much is visible: the README's
    `--forcerun analyze -- <target>` rewrites that point's metrics and nothing else."""
    overrides = ("sweep=smoke generate.n_samples=100 sweep.deep.n=[] sweep.gahb.alpha=[] sweep.gahb.n=[] sweep.multiscale.n=[] "
                 "sweep.theory.n=[] "
                 "sweep.rank=[3,4]")
    assert run_snakemake(tmp_path, overrides, "--cores", "2").returncode == 0
    artifacts_before = {p: p.stat().st_mtime_ns for p in (tmp_path / "results").rglob("*")
                        if p.is_file() and "wandb" not in p.parts and "logs" not in p.parts and "benchmarks" not in p.parts}
    target = POINT / "r4/metrics.json"
    readme = (REPO / "README.md").read_text()
    assert "--forcerun analyze -- results/" in readme
    result = run_snakemake(tmp_path, overrides, "--cores", "1", "--forcerun", "analyze", "--", str(target))
    assert result.returncode == 0, result.stderr[-3000:]
    changed = {p.relative_to(tmp_path) for p, mtime in artifacts_before.items() if p.stat().st_mtime_ns != mtime}
    assert changed and all(p.parent == POINT / "r4" for p in changed), sorted(changed)
    assert target in changed and POINT / "r3/metrics.json" not in changed


def test_changing_rank_does_not_relearn(workdir):
    learned = workdir / POINT / "learn/bases.npz"
    before = learned.stat().st_mtime_ns
    dry = snakemake(workdir, "-n", "--quiet", "rules", overrides=OVERRIDES + " sweep.rank=[3]")
    assert dry.returncode == 0, dry.stderr[-3000:]
    assert "learn" not in dry.stdout.split() and "generate" in dry.stdout.split()
    result = snakemake(workdir, "--cores", "2", overrides=OVERRIDES + " sweep.rank=[3]")
    assert result.returncode == 0, result.stderr[-3000:]
    assert learned.stat().st_mtime_ns == before
    assert (workdir / POINT / "r3/metrics.json").is_file()


def test_report_holds_every_figure_with_its_caption(workdir):
    result = snakemake(workdir, "--report", "results/report.html")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "WARNING" not in result.stderr and "ERROR" not in result.stderr, result.stderr[-3000:]  # captions are valid RST
    html = (workdir / "results/report.html").read_text(errors="replace")
    for name in ("fig2_sin_theta", "fig5_correlations", "fig6_distribution", "fig3_dataset_size", "power_iteration",
                 "fig1_trajectories", "fig7_sin_theta_jacobian", "fig_quality", "fig_training"):
        assert f"{name}.png" in html, name
        caption = (REPO / "workflow/report" / f"{name}.rst").read_text().strip()[:40]
        assert caption in html or json.dumps(caption)[1:-1] in html, f"the caption of {name}"


@pytest.mark.bad_input
def test_bad_override_fails_before_any_job(tmp_path):
    result = snakemake(tmp_path, "--cores", "1", overrides="sweep=smoke sweep.T=[0]")
    assert result.returncode != 0
    assert "sweep.T" in result.stderr
    assert not (tmp_path / "results").exists()


def test_a_corrupt_or_diverging_model_writes_no_samples(workdir, tmp_path):
    """A model file with flipped bytes (mtime kept) was loaded and sampled: samples up to 1e30,
    non-finite values written. Now its CRCs are checked before torch reads it (the job fails naming
    it and moves it aside, so the next run retrains it), and non-finite samples are never written."""
    import torch

    from lindiff.deep.train import load_model, save_model

    run = copy_run(workdir, tmp_path / "run")
    model, samples = run / DDIM.parent / "model.pt", run / DDIM / "samples.npz"
    log = run / "results/logs/sample_deep" / f"{DDIM.relative_to('results')}.log"
    target = ("--cores", "2", "--forcerun", "sample_deep", "--", str(DDIM / "samples.npz"))
    flip_inside_largest_member(model, keep_mtime=True)  # nothing tells Snakemake the file changed
    failed = snakemake(run, *target)
    assert failed.returncode != 0
    assert "fails its CRC check" in log.read_text() and model.with_name("model.pt.corrupt").exists()
    assert not samples.exists()

    diverging = load_model(workdir / DDIM.parent / "model.pt")
    with torch.no_grad():
        next(diverging.parameters()).fill_(float("nan"))
    save_model(model, diverging)  # a valid file whose weights give NaN
    failed = snakemake(run, *target)
    assert failed.returncode != 0
    assert "gave non-finite samples" in log.read_text() and not samples.exists()

