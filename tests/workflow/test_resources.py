"""Memory estimates (issue 12): refuse oversized sweeps before any job, naming the key, and
bound what the jobs really use (``max_rss`` of Snakemake's benchmark files)."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from helpers import run_snakemake

from lindiff.errors import ConfigError
from lindiff.pipeline import config as ldc
from lindiff.pipeline import datasets as ldd
from lindiff.pipeline import resources as ldr
from lindiff.pipeline.sweep import sweep_points


@pytest.mark.bad_input
@pytest.mark.parametrize(("override", "key"), [
    ("generate.n_samples=1000000000", "generate.n_samples"),
    ("sweep.T=[10000000]", "sweep.T"),
    ("max_job_mem_mb=100", "max_job_mem_mb=100"),
])
def test_oversized_jobs_are_refused_naming_the_key(override, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.").replace("[", r"\[")):
        ldc.load(["sweep=smoke", override], check_data=False)


@pytest.mark.bad_input
def test_huge_synthetic_data_is_refused_before_it_is_made():
    with pytest.raises(ConfigError, match="building the workflow"):
        ldc.load(["data=spiked", "data.n_total=100000000", "sweep=smoke", "learn.k=3", "sweep.rank=[3]"])


@pytest.mark.bad_input
def test_a_wide_data_file_is_refused_from_its_header(tmp_path):
    import numpy as np

    path = tmp_path / "wide.npy"
    np.lib.format.open_memmap(path, mode="w+", dtype=np.float64, shape=(10, 100000)).flush()
    assert ldd.data_shape(ldc.compose(["data=file", f"data.path={path}"]).data) == (10, 100000)
    with pytest.raises(ConfigError, match=r"the d x d Gram \(d=100000"):
        ldc.load(["data=file", f"data.path={path}", "sweep=smoke", "sweep.n=[10]", "sweep.rank=[4]", "learn.k=4"],
                 check_data=False)


def test_rules_declare_the_estimate(tmp_path):
    result = run_snakemake(tmp_path, "sweep=smoke sweep.deep.n=[] sweep.gahb.alpha=[] sweep.gahb.n=[] sweep.multiscale.n=[] "
                                     "sweep.theory.n=[] "
                                     "sweep.T=[200000]", "-n")
    assert result.returncode == 0, result.stdout[-2000:]
    cfg = ldc.load(["sweep=smoke", "sweep.deep.n=[]", "sweep.gahb.alpha=[]", "sweep.gahb.n=[]", "sweep.multiscale.n=[]",
                    "sweep.theory.n=[]", "sweep.T=[200000]"],
                   check_data=False)
    want = ldr.job_mem_mb("learn", cfg, (1797, 64), n=100, T=200000)
    assert want > 2000  # above the rule's floor, so the estimate is what shows
    learn = result.stdout[result.stdout.index("rule learn:"):]
    assert f"mem_mb={want}," in learn[: learn.index("\n\n")]


@pytest.mark.slow
def test_estimates_bound_the_measured_peaks(workflow_run):
    overrides = ("sweep=smoke sweep.deep.n=[] sweep.gahb.alpha=[] sweep.gahb.n=[] sweep.multiscale.n=[] sweep.theory.n=[] "
                 "generate.n_samples=40000 "
                 "sweep.T=[3000]")
    workdir = workflow_run(overrides, name="memory")
    cfg = ldc.load(overrides.split(), check_data=False)
    point = sweep_points(cfg)[0]
    dims = ldr.Dims(n_total=1797, d=64, n=point.n, T=point.T, k=cfg.learn.k,
                    n_samples=cfg.generate.n_samples, n_trajectory=cfg.generate.n_trajectory)
    measured = {}
    for stage in ("learn", "generate", "analyze", "analyze_bases"):
        (tsv,) = (workdir / "results/benchmarks" / stage).rglob("*.tsv")
        measured[stage] = float(pd.read_csv(tsv, sep="\t")["max_rss"].iloc[0])
    for stage, peak in measured.items():
        assert peak <= ldr.estimate(stage, dims).mem_mb, (stage, peak, ldr.estimate(stage, dims))


def test_multi_threaded_rules_take_the_data_sets_threads(tmp_path):
    """learn and the deep rules ask for data.threads cores: 1 on digits (so that on 2 cores they
    run beside the single-core stages), whatever it is set to otherwise; single-core rules stay."""
    overrides = "sweep=smoke sweep.gahb.alpha=[] sweep.gahb.n=[] sweep.multiscale.n=[] sweep.theory.n=[]"
    for threads in (1, 2):
        result = run_snakemake(tmp_path, f"{overrides} data.threads={threads}", "-n", "--cores", "2")
        assert result.returncode == 0, result.stdout[-2000:]
        blocks = {match.group(1): block for block in result.stdout.split("\n\n")
                  if (match := re.search(r"^\s*(?:local)?rule (\w+):$", block, re.MULTILINE))}
        for rule in ("learn", "train_denoiser", "sample_deep", "jacobian_analysis", "train_classifier"):
            assert ("threads: 2" in blocks[rule]) is (threads == 2), (rule, blocks[rule])
        assert "threads:" not in blocks["generate"]
    assert ldc.load(["sweep=smoke"], check_data=False).data.threads == 1
    assert ldc.load(["sweep=smoke", "data=spiked"], check_data=False).data.threads == 2
