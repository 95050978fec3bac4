"""A user's data file drives reruns (issue 12, item 2): replacing data.path reruns the jobs that
read it, and the results follow the new data; an untouched file reruns nothing."""

from __future__ import annotations

import os

import numpy as np
import pytest
from helpers import point_dir, run_snakemake

from lindiff import artifacts

pytestmark = pytest.mark.slow

OVERRIDES = ("data=file data.path=user.npy sweep=smoke sweep.grids=[] sweep.deep.n=[] sweep.gahb.alpha=[] sweep.gahb.n=[] "
             "generate.n_samples=50 "
             "learn.k=8 sweep.rank=[4] sweep.fig3_indices=[0,2]")


def test_replacing_the_data_file_reruns_its_jobs(tmp_path):
    rng = np.random.default_rng(0)
    np.save(tmp_path / "user.npy", rng.random((300, 16)))
    assert run_snakemake(tmp_path, OVERRIDES, "--cores", "2").returncode == 0
    train = point_dir("data", data="file", cond="all", n=100, seed=0) / "data/train.npz"
    bases = point_dir("learn", data="file", cond="all", n=100, seed=0, schedule="linear", T=5) / "learn/bases.npz"
    first = artifacts.load_npz(tmp_path / train, {"sha256": 0})["sha256"]
    first_bases = artifacts.load_npz(tmp_path / bases, {"eigvals": 2})["eigvals"]

    nothing = run_snakemake(tmp_path, OVERRIDES, "-n", "--quiet", "rules")
    assert nothing.returncode == 0 and "prepare_data" not in nothing.stdout.split(), nothing.stdout

    np.save(tmp_path / "other.npy", 3.0 * rng.random((300, 16)))
    os.replace(tmp_path / "other.npy", tmp_path / "user.npy")  # the user replaces the file
    planned = run_snakemake(tmp_path, OVERRIDES, "-n", "--quiet", "rules")
    assert {"prepare_data", "learn", "generate", "analyze", "aggregate"} <= set(planned.stdout.split()), planned.stdout
    assert run_snakemake(tmp_path, OVERRIDES, "--cores", "2").returncode == 0
    second = artifacts.load_npz(tmp_path / train, {"sha256": 0})["sha256"]
    assert second != first
    assert not np.allclose(artifacts.load_npz(tmp_path / bases, {"eigvals": 2})["eigvals"], first_bases)
