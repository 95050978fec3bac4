"""benchmarks/bench_topk_jacobian.py: the full decomposition against the matrix-free one, on random
models and along a saved model's stored path, each row with its products, calls and eigenvalue error."""

from __future__ import annotations

import dataclasses

import numpy as np
from helpers import load_script


def load_bench():
    return load_script("benchmarks/bench_topk_jacobian.py")


def test_random_models_compare_both_methods_and_the_asymmetry_estimate(capsys):
    rows = load_bench().main(["--sizes", "12", "--K", "4", "--probes", "8"])
    assert [r["method"] for r in rows] == ["full (jacrev + eigh)", "matrix-free, cold", "matrix-free, warm",
                                           "asymmetry, full", "asymmetry, 8 probes"]
    assert all(r["d"] == 144 for r in rows)
    assert max(r["error"] for r in rows[1:3]) < 1e-4
    assert rows[2]["products"] < rows[1]["products"] and rows[4]["products"] == 16
    assert 0 < rows[4]["error"] < 1  # an estimate from 8 directions
    assert "ratio" in capsys.readouterr().out


def test_along_a_saved_models_path(tmp_path, capsys):
    from lindiff.deep.train import default_config, initial_model, save_model

    cfg = default_config("digits_ddpm").model
    save_model(tmp_path / "model.pt", initial_model(dataclasses.replace(cfg, classes=10), (8, 8), seed=0))
    rng = np.random.default_rng(0)
    sigma = np.repeat(np.geomspace(1.0, 0.05, 6)[:, None], 2, axis=1)
    np.savez(tmp_path / "sample_path.npz", points=rng.uniform(size=(6, 2, 64)).astype(np.float32), sigma=sigma,
             labels=np.array([3, 7]), guidance=np.float64(1.5))
    rows = load_bench().main(["--model", str(tmp_path / "model.pt"), "--path", str(tmp_path / "sample_path.npz"),
                              "--K", "4", "--n-points", "4"])
    assert [r["method"] for r in rows[:4]] == ["full (jacrev + eigh)", "matrix-free, cold",
                                               "full (jacrev + eigh)", "matrix-free, warm"]
    assert len(rows) == 8 and len({r["sigma"] for r in rows}) == 4
    assert max(r["error"] for r in rows[1::2]) < 1e-4
    assert "path total" in capsys.readouterr().out
