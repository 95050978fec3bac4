"""A user's data file drives reruns: replacing data.path reruns the jobs that read it, and the
results follow the new data, even when the new file carries an older modification time; an
untouched file reruns nothing. A config change reruns its jobs even when Snakemake's own records
(.snakemake/metadata) are gone: the jobs' sidecars say what they ran with."""

from __future__ import annotations

import os
import re
import shutil

import numpy as np
import pytest
from helpers import point_dir, run_snakemake

from lindiff import artifacts

pytestmark = pytest.mark.slow

OVERRIDES = ("data=file data.path=user.npy sweep=smoke sweep.grids=[] sweep.deep.n=[] sweep.gahb.alpha=[] sweep.gahb.n=[] "
             "sweep.multiscale.n=[] sweep.theory.n=[] "
             "generate.n_samples=50 "
             "learn.k=8 sweep.rank=[4] sweep.fig3_indices=[0,2]")


def jobs_planned(result) -> set[str]:
    """The rules of a ``-n --quiet rules`` run's job table (``rule  count`` lines)."""
    assert result.returncode == 0, result.stderr[-3000:]
    return {m.group(1) for m in re.finditer(r"^(\w+)\s+\d+$", result.stdout, flags=re.M)} - {"total"}


def test_replacing_the_data_file_reruns_its_jobs(tmp_path):
    rng = np.random.default_rng(0)
    np.save(tmp_path / "user.npy", rng.random((300, 16)))
    assert run_snakemake(tmp_path, OVERRIDES, "--cores", "2").returncode == 0
    train = point_dir("data", data="file", cond="all", n=100, seed=0) / "data/train.npz"
    bases = point_dir("learn", data="file", cond="all", n=100, seed=0, schedule="linear", T=5) / "learn/bases.npz"
    first = artifacts.load_npz(tmp_path / train, {"sha256": 0})["sha256"]
    first_bases = artifacts.load_npz(tmp_path / bases, {"eigvals": 2})["eigvals"]

    assert jobs_planned(run_snakemake(tmp_path, OVERRIDES, "-n", "--quiet", "rules")) == set()

    np.save(tmp_path / "other.npy", 3.0 * rng.random((300, 16)))
    os.replace(tmp_path / "other.npy", tmp_path / "user.npy")  # the user replaces the file
    planned = jobs_planned(run_snakemake(tmp_path, OVERRIDES, "-n", "--quiet", "rules"))
    assert {"prepare_data", "learn", "generate", "analyze", "aggregate"} <= planned, planned
    assert run_snakemake(tmp_path, OVERRIDES, "--cores", "2").returncode == 0
    second = artifacts.load_npz(tmp_path / train, {"sha256": 0})["sha256"]
    assert second != first
    assert not np.allclose(artifacts.load_npz(tmp_path / bases, {"eigvals": 2})["eigvals"], first_bases)

    # a file restored with other content and an older mtime (cp -p of an old copy) is a change
    np.save(tmp_path / "old.npy", 2.0 * rng.random((300, 16)))
    os.utime(tmp_path / "old.npy", (1577836800, 1577836800))  # 2020-01-01
    os.replace(tmp_path / "old.npy", tmp_path / "user.npy")
    restored = jobs_planned(run_snakemake(tmp_path, OVERRIDES, "-n", "--quiet", "rules"))
    assert {"prepare_data", "learn", "generate", "analyze"} <= restored, restored
    assert run_snakemake(tmp_path, OVERRIDES, "--cores", "2").returncode == 0
    assert artifacts.load_npz(tmp_path / train, {"sha256": 0})["sha256"] not in (first, second)

    # Snakemake's records lost: an unchanged config reruns nothing, a changed one reruns its jobs
    shutil.rmtree(tmp_path / ".snakemake" / "metadata")
    assert jobs_planned(run_snakemake(tmp_path, OVERRIDES, "-n", "--quiet", "rules")) == set()
    changed = run_snakemake(tmp_path, OVERRIDES + " generate.injection_scale=0.5", "-n", "--quiet", "rules")
    planned = jobs_planned(changed)
    assert {"generate", "analyze", "aggregate"} <= planned and not {"prepare_data", "learn"} & planned, planned
    assert "ran with other settings than they have now" in changed.stderr
