"""Stage functions (lindiff.studies.linear_chain) and the rule-script glue (rule_job), without Snakemake."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from matplotlib.figure import Figure

from lindiff.data import load_digits
from lindiff.linear import analysis
from lindiff.linear.generate import injection_std, run_chain
from lindiff.linear.learn import learn_bases
from lindiff.linear.schedules import make_schedule
from lindiff.pipeline.jobs import rule_job
from lindiff.pipeline.levels import derive_seed
from lindiff.pipeline.wandb_file import find_wandb_files, read_wandb_file
from lindiff.studies import linear_chain

GENERATE = {"n_samples": 60, "n_trajectory": 2, "injection": "increment", "injection_scale": 1.0}


@pytest.fixture(scope="module")
def learned():
    X = load_digits().X[:120]
    schedule = make_schedule("linear", 6, sigma_max=10.0)
    return X, schedule, learn_bases(X, schedule, 8, seed=0)


def test_generate_point_runs_both_chains_from_the_same_noise(learned):
    X, schedule, bases = learned
    seed = derive_seed(0, "generate", "p")
    out = linear_chain.generate_point(bases, schedule.sigma, 4, GENERATE, seed)
    arrays = out.arrays
    assert arrays["deterministic"].shape == arrays["injected"].shape == (60, 64)
    assert arrays["deterministic"].dtype == np.float32 and arrays["trajectory"].shape[:2] == (7, 2)
    # an independent computation of the deterministic chain
    again = run_chain(bases, 60, rank=4, initial_std=float(bases.sigma_bar[-1]), seed=np.random.default_rng(seed),
                      n_trajectory=2)
    np.testing.assert_array_equal(arrays["deterministic"], again.samples.astype(np.float32))
    np.testing.assert_array_equal(arrays["noise_std"], injection_std(schedule.sigma, "increment", 1.0))
    assert not np.array_equal(arrays["deterministic"], arrays["injected"])
    # no injected noise: the injected chain is the deterministic one
    silent = linear_chain.generate_point(bases, schedule.sigma, 4, {**GENERATE, "injection_scale": 0.0}, seed)
    np.testing.assert_allclose(silent.arrays["injected"], silent.arrays["deterministic"], atol=1e-6)
    assert out.refine == {} and out.summary["rank"] == 4


def test_generate_point_uses_a_designed_schedule(learned):
    X, schedule, bases = learned
    design = {"noise_std": np.full(bases.T, 0.5), "initial_std": 2.0}
    out = linear_chain.generate_point(bases, schedule.sigma, 4, {**GENERATE, "injection_scale": 2.0}, 0, design=design,
                                design_options={"refine": False, "objective": "w2"})
    np.testing.assert_array_equal(out.arrays["noise_std"], np.full(bases.T, 1.0))
    assert float(out.arrays["initial_std"]) == 2.0 and "predicted_variance" not in out.arrays
    refined = linear_chain.generate_point(bases, schedule.sigma, 4, GENERATE, 0, design=design,
                                    design_options={"refine": True, "objective": "w2"})
    assert refined.refine["refine/objective"] <= refined.refine["refine/objective_initial"]
    assert refined.arrays["predicted_variance"].shape == (4,)


def test_analyze_point_metrics_match_independent_computations(learned):
    X, schedule, bases = learned
    samples = linear_chain.generate_point(bases, schedule.sigma, 4, GENERATE, 1).arrays
    point = {"point": "digits/all/n120_s0/linear_T6/r4", "n": 120, "schedule": "linear", "seed": 0, "cond": "all"}
    result = linear_chain.analyze_point(X, bases, samples, 4, [0.0, 1.0], 0.1, (8, 8), point)
    natural = analysis.pc_distribution(X, bases.U[0], bases.mean)
    generated = analysis.pc_distribution(samples["deterministic"].astype(np.float64), bases.U[0], bases.mean)
    assert result.metrics["distance_deterministic"] == analysis.distribution_distance(generated, natural)
    assert result.metrics["point"] == point["point"] and result.metrics["T"] == 6 and result.metrics["rank"] == 4
    assert result.metrics["c0_natural"] == float(natural["c_mean"].iloc[0])
    assert set(result.pc_distribution["source"]) == {"natural", "generated"}
    assert set(result.spectrum["chain"]) == {"deterministic", "injected"}
    assert any(k.startswith("spectral/injected/") for k in result.metrics)
    assert set(result.figures) == {"fig1", "fig5", "fig6", "fig6_spectrum"}
    assert all(isinstance(f, Figure) for f in result.figures.values())


def test_analyze_bases_slopes_follow_max_sin(learned):
    _, _, bases = learned
    wide, narrow = linear_chain.analyze_bases(bases, 0.5), linear_chain.analyze_bases(bases, 0.01)
    assert len(wide.sin_theta) == (bases.T + 1) * bases.k
    assert isinstance(wide.figure, Figure)
    assert not wide.slopes.equals(narrow.slopes)


# --------------------------------------------------------------------------- rule_job


class Wildcards(dict):
    """Stands in for Snakemake's Wildcards (a Namedlist: items(), len(), attribute access)."""

    __getattr__ = dict.__getitem__


class StandIn:
    """The parts of Snakemake's ``snakemake`` object that :func:`rule_job` reads."""

    def __init__(self, tmp_path, wildcards, mode="disabled"):
        self.log = [str(tmp_path / "rule.log")]
        self.input, self.output = [], []
        self.config = {"lindiff_runtime": {"wandb": {"mode": mode, "project": "test"},
                                           "results_dir": str(tmp_path / "results"), "sweep": "unit"}}
        self.params = type("Params", (), {"cfg": {"seed": 3, "n": 100}})()
        self.wildcards = Wildcards(wildcards)
        self.threads = 1
        self.rule = "ab_learn_linear"


RANK = {"data": "digits", "cond": "all", "n": "100", "seed": "3", "schedule": "linear", "T": "5", "rank": "4"}


def test_rule_job_logs_seeds_and_restores_stderr(tmp_path):
    stderr = sys.stderr
    with rule_job(StandIn(tmp_path, RANK), "generate") as job:
        assert sys.stderr is not stderr
        print("to the rule log", file=sys.stderr)
        assert job.point == "digits/all/n100_s3/linear_T5/r4"
        seed = job.seed().generate_state(2)
    assert sys.stderr is stderr
    text = (tmp_path / "rule.log").read_text()
    assert "stage generate, point digits/all/n100_s3/linear_T5/r4" in text and "to the rule log" in text
    assert text.rstrip().endswith("done")
    # the rank level seeds with the learn point: another rank, the same noise; another stage, other noise
    learn_seed = derive_seed(3, "generate", "digits/all/n100_s3/linear_T5").generate_state(2)
    np.testing.assert_array_equal(seed, learn_seed)
    with rule_job(StandIn(tmp_path, {**RANK, "rank": "8"}), "generate") as job:
        np.testing.assert_array_equal(job.seed().generate_state(2), seed)
    with rule_job(StandIn(tmp_path, RANK), "analyze") as job:
        assert not np.array_equal(job.seed().generate_state(2), seed)


def test_rule_job_stage_defaults_to_the_rule_name(tmp_path):
    """A script shared by two rules (use rule ... as ...) seeds each rule apart."""
    with rule_job(StandIn(tmp_path, RANK)) as job:
        assert job.stage == "ab_learn_linear"
        reused = job.seed().generate_state(2)
    with rule_job(StandIn(tmp_path, RANK), "learn") as job:
        assert not np.array_equal(job.seed().generate_state(2), reused)


def test_rule_job_logs_a_failure_and_reraises(tmp_path):
    with pytest.raises(RuntimeError, match="boom"):
        with rule_job(StandIn(tmp_path, RANK), "learn"):
            raise RuntimeError("boom")
    text = (tmp_path / "rule.log").read_text()
    assert "job failed" in text and "RuntimeError: boom" in text


def test_rule_job_records_the_point_in_wandb(tmp_path):
    with rule_job(StandIn(tmp_path, RANK, mode="offline"), "generate") as job:
        job.tracker.set_summary({"answer": 42})
    (path,) = find_wandb_files(tmp_path / "results" / "wandb")
    run = read_wandb_file(path)
    assert run.group == "digits/all/n100_s3/linear_T5" and run.job_type == "generate" and run.exit_code == 0
    assert run.name == "generate:digits/all/n100_s3/linear_T5/r4" and run.tags == ["unit"]
    assert run.config["n"] == 100 and run.config["sweep"] == "unit" and run.summary["answer"] == 42


def test_rule_job_limits_every_thread_pool_to_the_rules_threads(tmp_path):
    import os

    import torch
    from threadpoolctl import threadpool_info

    before = torch.get_num_threads()
    stand_in = StandIn(tmp_path, RANK)
    for threads in (1, 2):
        stand_in.threads = threads
        with rule_job(stand_in, "learn"):
            pools = threadpool_info()
            assert pools and all(pool["num_threads"] == threads for pool in pools), pools
            assert torch.get_num_threads() == threads and os.environ["OMP_NUM_THREADS"] == str(threads)
        assert f"threads {threads} (BLAS, OpenMP and torch pools limited to it)" in (tmp_path / "rule.log").read_text()
    assert torch.get_num_threads() == before


FAULTS = """
import resource, sys
import numpy as np
from lindiff.pipeline.jobs import retain_freed_memory
if sys.argv[1] == "retain":
    assert retain_freed_memory()
def batch():  # a training step's pattern: several large buffers live at once, then all freed
    buffers = [np.ones(3 * 2**19) for _ in range(8)]
    del buffers
batch()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    batch()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def test_a_job_keeps_freed_memory_instead_of_faulting_it_in_again():
    """With glibc's defaults eight live 12 MiB buffers are unmapped when freed and every next batch
    faults their pages in again; with the job's malloc settings the pages are reused."""
    import subprocess

    from lindiff.pipeline.jobs import retain_freed_memory

    if not retain_freed_memory():
        pytest.skip("not glibc: no mallopt")
    faults = {mode: int(subprocess.run([sys.executable, "-c", FAULTS, mode], capture_output=True, text=True,
                                       check=True).stdout) for mode in ("default", "retain")}
    assert faults["default"] > 10 * 3 * 2**19 * 8 // 4096, faults  # a buffer's pages or more, every batch
    assert faults["retain"] < faults["default"] // 100, faults


def test_rule_job_sets_the_allocator_when_asked_and_says_when_it_cannot(tmp_path, monkeypatch):
    from lindiff.pipeline import jobs

    calls = []
    monkeypatch.setattr(jobs, "retain_freed_memory", lambda: calls.append(1) or False)
    with rule_job(StandIn(tmp_path, RANK), "learn"):
        pass
    assert calls == [] and "malloc" not in (tmp_path / "rule.log").read_text()
    with rule_job(StandIn(tmp_path, RANK), "learn", retain_memory=True):
        pass
    assert calls == [1]
    assert "malloc left at its defaults" in (tmp_path / "rule.log").read_text()


def test_a_rerun_job_leaves_one_offline_run_to_sync(tmp_path):
    """wandb sync uploads every offline-run-* directory: a rerun replaces the job's earlier run."""
    for answer in (1, 2):
        with rule_job(StandIn(tmp_path, RANK, mode="offline"), "generate") as job:
            job.tracker.set_summary({"answer": answer})
    files = find_wandb_files(tmp_path / "results" / "wandb")
    assert len(files) == 1 and read_wandb_file(files[0]).summary["answer"] == 2
    assert "replaced the earlier offline W&B run(s) of this job: offline-run-" in (tmp_path / "rule.log").read_text()
    # another job's run is never touched
    with rule_job(StandIn(tmp_path, {**RANK, "rank": "8"}, mode="offline"), "generate"):
        pass
    assert len(find_wandb_files(tmp_path / "results" / "wandb")) == 2
