"""The smoke sweep on a real one-node SLURM cluster through profiles/slurm.

The cluster (slurmctld, slurmd, munged on 127.0.0.1, config and state in a temporary
directory) is started by ``tests/integration/slurm_cluster.sh``, which installs Debian's
``slurm-wlm`` and ``munge`` with apt-get when they are missing, and is always stopped
afterwards. The test needs root (``SlurmUser=root``); it is skipped, with the reason, without
root, without the SLURM executor plugin, without apt-get and an installed SLURM, or when
``LINDIFF_SKIP_SLURM=1`` is set (the explicit opt-out).

Run it alone: ``.venv/bin/python -m pytest tests/workflow/test_slurm.py -v``.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from helpers import REPO

from lindiff import artifacts
from lindiff.pipeline.wandb_file import find_wandb_files, read_wandb_file

SCRIPT = REPO / "tests" / "integration" / "slurm_cluster.sh"
PROFILE = REPO / "profiles" / "slurm"
# The linear stages only (sweep.deep.n=[]): six rules, four SLURM jobs (see UNITS).
# data.threads=2: learn asks for 2 cores (digits' default is 1), so the test sees threads reach sbatch
OVERRIDES = ("sweep=smoke generate.n_samples=100 sweep.deep.n=[] sweep.gahb.alpha=[] sweep.gahb.n=[] sweep.multiscale.n=[] "
             "sweep.theory.n=[] "
             "data.threads=2")
POINT = Path("results/digits/all/n100_s0/linear_T5")
# rule -> W&B job_type (the stage)
RULES = {
    "prepare_data": "data",
    "learn": "learn",
    "analyze_bases": "analyze_bases",
    "generate": "generate",
    "analyze": "analyze",
    "aggregate": "aggregate",
}
# What is submitted: one SLURM job per rule, except that the generate and analyze jobs of the
# sweep point form one group job (group "point"), and aggregate is a localrule (run by Snakemake).
UNITS = {
    "rule_prepare_data": ("prepare_data",),
    "rule_learn": ("learn",),
    "rule_analyze_bases": ("analyze_bases",),
    "group_point_analyze_generate": ("generate", "analyze"),  # the executor names it group_<group>_<rules>
}
LOCAL_RULES = ("aggregate",)
START_TIMEOUT = 420  # apt-get update + install on a fresh machine, then the daemons
RUN_TIMEOUT = 240  # the smoke sweep: ~110 s measured on 2 cores
# a group job's Snakemake id is a UUID; its log sits in group_<group>_<rules>/
SUBMITTED = re.compile(r"Job (\S+) has been submitted with SLURM jobid (\d+) \(log: (\S+)\)")

# `slow` (deselect with -m "not slow"): minutes, starts daemons, may apt-get install.
pytestmark = [pytest.mark.slow, pytest.mark.slurm, pytest.mark.timeout(START_TIMEOUT + RUN_TIMEOUT + 120)]


def _memory_mb() -> int:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    except OSError:
        pass
    return 0


def skip_reason() -> str | None:
    """Why this machine cannot run the test cluster, or None."""
    if os.environ.get("LINDIFF_SKIP_SLURM") == "1":
        return "LINDIFF_SKIP_SLURM=1: SLURM integration test opted out"
    if not sys.platform.startswith("linux"):
        return "the SLURM test cluster needs Linux"
    if importlib.util.find_spec("snakemake_executor_plugin_slurm") is None:
        return "snakemake-executor-plugin-slurm is not installed (pip install snakemake-executor-plugin-slurm)"
    if os.geteuid() != 0:
        return ("starting slurmctld/slurmd needs root (SlurmUser=root); run as root, "
                "or set LINDIFF_SKIP_SLURM=1 to skip this test explicitly")
    installed = all(shutil.which(tool) for tool in ("slurmctld", "slurmd", "sbatch", "squeue", "munged"))
    if not installed and shutil.which("apt-get") is None:
        return "SLURM (slurm-wlm, munge) is not installed and there is no apt-get to install it"
    if shutil.which("bash") is None:
        return "tests/integration/slurm_cluster.sh needs bash"
    if _memory_mb() and _memory_mb() * 0.9 < 2000:
        return f"the learn job asks SLURM for 2000 MB; this machine has {_memory_mb()} MB"
    return None


@dataclass
class Cluster:
    dir: Path
    env: dict[str, str]  # os.environ plus SLURM_CONF, LINDIFF_SLURM_DIR, PATH (see `slurm_cluster.sh env`)

    def run(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess:
        return subprocess.run(list(args), capture_output=True, text=True, env=self.env, timeout=timeout)


def _script(*args: str, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def cluster():
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    # short path: the munge socket lives inside (unix socket paths are limited to 108 bytes)
    cluster_dir = Path(tempfile.mkdtemp(prefix="lindiff-slurm.", dir="/tmp"))
    try:
        started = _script("start", str(cluster_dir), timeout=START_TIMEOUT)
        if started.returncode == 3:  # SLURM missing and apt-get could not install it (offline?)
            pytest.skip(f"could not install slurm-wlm/munge: {started.stderr.strip().splitlines()[-1]}")
        assert started.returncode == 0, f"cluster did not start:\n{started.stderr[-4000:]}"
        # the environment exactly as `eval "$(slurm_cluster.sh env DIR)"` sets it
        shell = subprocess.run(
            ["bash", "-c", 'eval "$(bash "$0" env "$1")" && env -0', str(SCRIPT), str(cluster_dir)],
            capture_output=True, text=True, timeout=30, check=True,
        )
        env = dict(item.split("=", 1) for item in shell.stdout.split("\0") if "=" in item)
        assert env["SLURM_CONF"] == str(cluster_dir / "slurm.conf")
        yield Cluster(dir=cluster_dir, env={**env, "PYTHONUNBUFFERED": "1"})
    finally:
        stopped = _script("stop", str(cluster_dir), timeout=120)
        shutil.rmtree(cluster_dir, ignore_errors=True)
        assert stopped.returncode == 0, stopped.stderr[-2000:]


@dataclass
class SweepRun:
    workdir: Path
    result: subprocess.CompletedProcess
    wall_s: float
    partition: str

    @property
    def output(self) -> str:
        return self.result.stdout + self.result.stderr


@pytest.fixture(scope="module")
def sweep(cluster, tmp_path_factory) -> SweepRun:
    workdir = tmp_path_factory.mktemp("slurm_smoke")
    partitions = cluster.run("sinfo", "-h", "-o", "%P")
    assert partitions.returncode == 0, partitions.stderr
    partition = partitions.stdout.split()[0].rstrip("*")
    command = [
        sys.executable, "-m", "snakemake",
        "-s", str(REPO / "Snakefile"), "--directory", str(workdir),
        "--workflow-profile", str(PROFILE),
        "--config", f"overrides={OVERRIDES}",
        # this cluster has no accounting daemon: sacct cannot report, squeue can (MinJobAge=3600)
        "--slurm-status-command", "squeue",
        # The executor checks this long after a submission, then 10 s longer each time nothing
        # has finished (1 s, 12 s, 33 s, ...). The jobs take ~8-12 s each (two Snakemake starts
        # and the script): 15 s catches most on the first check (5 levels: ~95 s, vs ~110-170 s with 1).
        "--slurm-init-seconds-before-status-checks", "15",
        "--slurm-keep-successful-logs",
        # the site override documented in the profile (a command-line key replaces the profile's)
        "--default-resources", "mem_mb=1000", "runtime=10", f"slurm_partition={partition}",
    ]
    start = time.monotonic()
    result = subprocess.run(command, capture_output=True, text=True, env=cluster.env, cwd=workdir,
                            timeout=RUN_TIMEOUT)
    wall_s = time.monotonic() - start
    print(f"smoke sweep under SLURM: {wall_s:.1f} s wall time")
    assert result.returncode == 0, (result.stdout + result.stderr)[-6000:]
    return SweepRun(workdir=workdir, result=result, wall_s=wall_s, partition=partition)


def test_every_artifact_is_built(sweep):
    workdir = sweep.workdir
    expected = [
        POINT.parent / "data/train.npz",
        POINT.parent / "data/config.yaml",
        POINT / "learn/bases.npz",
        POINT / "learn/config.yaml",
        POINT / "sin_theta.parquet",
        POINT / "small_noise_slopes.parquet",
        POINT / "fig2_sin_theta.png",
        POINT / "r4/samples.npz",
        POINT / "r4/generate.config.yaml",
        POINT / "r4/metrics.json",
        POINT / "r4/pc_distribution.parquet",
        POINT / "r4/analyze.config.yaml",
        POINT / "r4/fig1_trajectory.png",
        POINT / "r4/fig5_correlations.png",
        POINT / "r4/fig6_distribution.png",
        Path("results/sweeps/smoke/summary.parquet"),
        Path("results/sweeps/smoke/fig1_trajectories.png"),
        Path("results/sweeps/smoke/fig3_dataset_size.png"),
        Path("results/sweeps/smoke/fig6_distributions.png"),
        Path("results/sweeps/smoke/power_iteration.png"),
        Path("results/sweeps/smoke/power_iteration.parquet"),
    ]
    missing = [str(path) for path in expected if not (workdir / path).is_file()]
    assert not missing, missing
    for stage in RULES.values():
        assert list((workdir / "results/logs" / stage).rglob("*.log")), stage
        assert list((workdir / "results/benchmarks" / stage).rglob("*.tsv")), stage
    summary = pd.read_parquet(workdir / "results/sweeps/smoke/summary.parquet")
    assert len(summary) == 1 and summary.loc[0, "n"] == 100 and summary.loc[0, "T"] == 5
    samples = artifacts.load_npz(workdir / POINT / "r4/samples.npz", {"deterministic": 2, "trajectory": 3})
    assert samples["deterministic"].shape == (100, 64) and np.isfinite(samples["deterministic"]).all()
    assert not list(workdir.rglob(".*.tmp")), "temporary files left behind"
    assert sweep.wall_s < RUN_TIMEOUT


def test_jobs_ran_as_slurm_jobs(sweep, cluster):
    submitted = SUBMITTED.findall(sweep.output)
    units = {re.search(r"/((?:rule|group)_[a-z_]+)/", log).group(1): (int(slurm_id), Path(log))
             for _, slurm_id, log in submitted}
    # fewer SLURM jobs than rules: one per rule, the point's generate + analyze as one group job,
    # aggregate and `all` run by Snakemake itself
    assert sorted(units) == sorted(UNITS), submitted
    assert len({slurm_id for slurm_id, _ in units.values()}) == len(UNITS) < len(RULES)
    for rule in (*LOCAL_RULES, "all"):
        assert f"localrule {rule}:" in sweep.output, rule
    for unit, (slurm_id, log) in units.items():
        # the executor's per-job SLURM log (kept by --slurm-keep-successful-logs): written by
        # slurmd for job <id>, holding the job-side Snakemake run of exactly this unit's rules
        assert log.resolve().is_relative_to((sweep.workdir / ".snakemake/slurm_logs").resolve()), log
        assert log.name == f"{slurm_id}.log" and log.is_file(), log
        text = log.read_text(errors="replace")
        assert "--executor slurm-jobstep" in text, unit
        for rule in UNITS[unit]:
            assert re.search(rf"^\s*(local)?rule {rule}:", text, re.M), (unit, rule)
            assert re.search(rf"Finished jobid: \d+ \(Rule: {rule}\)", text), (unit, rule)
    # what slurmctld itself says about the jobs (squeue keeps finished jobs for MinJobAge)
    ids = ",".join(str(slurm_id) for slurm_id, _ in units.values())
    queue = cluster.run("squeue", "-h", "--states=all", "-j", ids, "-o", "%i|%T|%k|%P|%C|%m|%l|%M")
    assert queue.returncode == 0, queue.stderr
    jobs = {int(row.split("|")[0]): row.split("|")[1:] for row in queue.stdout.split()}
    print("SLURM jobs (unit: id, elapsed):",
          ", ".join(f"{unit}: {slurm_id}, {jobs[slurm_id][-1]}" for unit, (slurm_id, _) in units.items()))
    for unit, (slurm_id, _) in units.items():
        state, comment, partition, cpus, memory, time_limit, _elapsed = jobs[slurm_id]
        assert state == "COMPLETED", (unit, jobs[slurm_id])
        assert partition == sweep.partition
        # the rules' threads/mem_mb/runtime reached sbatch (--cpus-per-task, --mem, -t); a group
        # job takes the max memory of jobs in series and the sum of their runtimes
        expected = {"rule_learn": ("2", "2000M", "30:00"), "rule_analyze_bases": ("1", "1000M", "10:00"),
                    "group_point_analyze_generate": ("1", "1500M", "20:00")}.get(unit, ("1", "1500M", "10:00"))
        assert (cpus, memory, time_limit) == expected, (unit, jobs[slurm_id])


def test_wandb_runs_of_the_jobs_are_distinct(sweep):
    files = find_wandb_files(sweep.workdir / "results/wandb")
    runs = [read_wandb_file(path) for path in files]
    assert sorted(run.job_type for run in runs) == sorted(RULES.values())
    assert len({run.run_id for run in runs}) == len(runs)
    for path, run in zip(files, runs):
        # results/wandb/<stage>/<point>/wandb/offline-run-*/run-<id>.wandb: one directory per job
        assert path.relative_to(sweep.workdir / "results/wandb").parts[0] == run.job_type
        assert path.name == f"run-{run.run_id}.wandb"
    assert len({path.parent for path in files}) == len(files)
    learn = next(run for run in runs if run.job_type == "learn")
    assert learn.group == "digits/all/n100_s0/linear_T5" and learn.config["T"] == 5
