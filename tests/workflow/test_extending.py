"""Adding a data set is one registry entry (lindiff.pipeline.datasets.DATA_SETS) beside its schema,
its loader and its config file: a toy set registered in a temporary copy of the configuration is
loaded, checked, swept, estimated and drawn with no other edit (what docs/extending.md says)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field

import numpy as np
import pytest
from helpers import REPO

from lindiff import data as library_data
from lindiff.errors import ConfigError
from lindiff.pipeline import config as ldc
from lindiff.pipeline import datasets as ldd
from lindiff.pipeline import sweep as lds
from lindiff.pipeline.schema import DataConfig


@dataclass
class ToyData(DataConfig):
    side: int = field(default=3, metadata={"min": 2})  # pixels per side
    n_total: int = field(default=60, metadata={"min": 2})


def make_toy(n: int, side: int) -> library_data.Dataset:
    """Uniform noise images: full rank, values in [0, 1]."""
    X = np.random.default_rng(0).uniform(size=(n, side * side))
    return library_data.Dataset(X=X, name="toy", image_shape=(side, side))


@pytest.fixture
def toy_conf(tmp_path, monkeypatch):
    """A copy of the shipped configuration with ``data=toy``, and the toy set's registry entry."""
    conf = tmp_path / "conf"
    shutil.copytree(REPO / "conf", conf)
    (conf / "data" / "toy.yaml").write_text("name: toy\nside: 3\nn_total: 60\nsigma_max: 2.0\n")
    (conf / "deep" / "toy.yaml").write_text((conf / "deep" / "spiked.yaml").read_text())  # no deep preset
    monkeypatch.setitem(library_data._LOADERS, "toy", make_toy)
    monkeypatch.setitem(ldd.DATA_SETS, "toy", ldd.DataSet(
        "toy", ToyData, arguments=lambda c: {"n": c.n_total, "side": c.side},
        shape=lambda c: (int(c.n_total), int(c.side) ** 2), image_shape=lambda c: (int(c.side),) * 2))
    return conf


SMALL = ["data=toy", "sweep=smoke", "sweep.n=[20,40]", "learn.k=5", "sweep.rank=[3]", "sweep.gahb.alpha=[]",
         "sweep.gahb.n=[]"]


def test_a_registered_data_set_is_loaded_checked_swept_and_drawn(toy_conf):
    cfg = ldc.load(SMALL, config_dir=toy_conf)
    paths = [p.dir("results") for p in lds.points(cfg, "rank")]
    assert paths == ["results/toy/all/n20_s0/linear_T5/r3", "results/toy/all/n40_s0/linear_T5/r3"]
    assert ldd.data_shape(cfg.data) == (60, 9) and ldd.image_shape(cfg.data) == (3, 3)
    assert ldd.data_files(cfg.data) == [] and ldd.data_source(cfg.data) == "data=toy"
    loaded = ldd.load_data(cfg.data)
    np.testing.assert_array_equal(loaded.X, make_toy(60, 3).X)
    info = ldd.data_info(cfg.data, rank_needed=5)
    assert (info.n_total, info.d, info.rank) == (60, 9, {"all": 5})


@pytest.mark.bad_input
@pytest.mark.parametrize("override, message", [
    ("data.side=1", r"data\.side=1: must be >= 2"),  # the schema's bounds
    ("+data.colour=3", r"data\.colour"),  # an unknown key
    ("sweep.n=[61]", r"sweep\.n=61 exceeds the 60 samples of the data set"),  # against the loaded data
    ("learn.k=10", r"learn\.k=10 exceeds the data dimension d=9"),
    ("max_job_mem_mb=1", r"max_job_mem_mb=1"),  # the memory check reads the entry's shape
])
def test_a_registered_data_set_is_checked_naming_the_key(toy_conf, override, message):
    with pytest.raises(ConfigError, match=message):
        ldc.load([*SMALL, override], config_dir=toy_conf)


@pytest.mark.bad_input
def test_an_unregistered_data_set_is_refused_naming_the_registry(toy_conf, monkeypatch):
    monkeypatch.delitem(ldd.DATA_SETS, "toy")
    with pytest.raises(ConfigError, match=r"data\.name='toy' is unknown; allowed: digits, mnist"):
        ldc.load(SMALL, config_dir=toy_conf)
