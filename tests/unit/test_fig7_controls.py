"""Fig. 7's controls (lindiff.studies.fig7_controls): the closed-form Jacobians against
autograd, the Wiener reference, the untrained twin's weights, the bootstrap and the permutation null."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from lindiff.deep.config import DenoiserConfig
from lindiff.deep.train import TrainConfig, initial_model, save_model, train_denoiser, untrained_model
from lindiff.diffusion.denoisers import EmpiricalDenoiser
from lindiff.errors import ConfigError, DataError
from lindiff.plots import deep as deep_plots
from lindiff.studies import fig7
from lindiff.studies.fig7_controls import (
    bootstrap_statistics,
    closed_form_spectra,
    controls_table,
    degenerate_fraction,
    permutation_p,
)


def test_empirical_jacobian_is_autograds():
    """The closed form (posterior covariance / σ²) against torch autograd through an independent
    torch posterior mean, at several points and levels."""
    rng = np.random.default_rng(0)
    X = rng.random((40, 6))
    empirical = EmpiricalDenoiser(X)
    X_t = torch.as_tensor(X)

    def posterior_mean(y, sigma):
        weights = torch.softmax(-((y[None, :] - X_t) ** 2).sum(1) / (2 * sigma**2), dim=0)
        return weights @ X_t

    for sigma in (0.1, 0.3, 1.0):
        y = X[3] + sigma * rng.standard_normal(6)
        J_auto = torch.autograd.functional.jacobian(lambda v, s=sigma: posterior_mean(v, s), torch.as_tensor(y)).numpy()
        J = empirical.jacobian(y, sigma)
        # to the rows' weight the closed form leaves out (1e-12 of it)
        np.testing.assert_allclose(J, J_auto, rtol=1e-7, atol=1e-10)
        np.testing.assert_allclose(J, J.T, atol=1e-14)
        np.testing.assert_allclose(empirical(y[None], sigma)[0], posterior_mean(torch.as_tensor(y), sigma).numpy(),
                                   atol=1e-12)
    with pytest.raises(ConfigError, match="sigma"):
        empirical.jacobian(X[0], 0.0)


def _paths(X, m=4, P=6, seed=1):
    """Points of m 'paths' at P decreasing noise levels around training rows, as (P, m, d)."""
    rng = np.random.default_rng(seed)
    sigma = np.geomspace(1.0, 0.05, P)[:, None].repeat(m, axis=1)
    base = X[rng.integers(0, len(X), m)]
    return base[None] + sigma[..., None] * rng.standard_normal((P, m, X.shape[1])), sigma


def test_wiener_control_does_not_rotate_and_the_empirical_one_does():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((300, 8)) * np.linspace(3.0, 0.5, 8)  # distinct variances: no eigenvalue ties
    path, sigma = _paths(X)
    wiener = closed_form_spectra("wiener", X, path, sigma, K=5)
    assert wiener.sin_theta.shape == (4, 6, 5)
    # the same eigenvectors at every point and level: sin θ at the floor of the float32 vectors (√(2·6e-8))
    assert np.max(wiener.sin_theta) < 1e-3
    np.testing.assert_allclose(wiener.sigma, sigma.T)
    assert np.max(wiener.asymmetry) < 1e-12
    empirical = closed_form_spectra("empirical", X, path, sigma, K=5)
    assert np.max(empirical.sin_theta[:, 0]) > 0.1  # the memorizing denoiser's eigenbasis turns with y
    with pytest.raises(ConfigError, match="control"):
        closed_form_spectra("untrained", X, path, sigma, K=5)


def test_the_untrained_twin_holds_the_initial_weights(tmp_path, monkeypatch):
    """untrained_model rebuilds the weights train_denoiser started from (checked by a training
    whose optimiser never steps: its result is its initial state); another seed differs."""
    rng = np.random.default_rng(0)
    X = rng.random((64, 64))
    cfg = TrainConfig(model=DenoiserConfig(kind="ddpm", channels=8, depth=2, blocks=1), epochs=1, batch_size=32,
                      ema_decay=0.0, val_sigmas=(0.2,), max_val=16)
    monkeypatch.setattr(torch.optim.Adam, "step", lambda self, closure=None: None)
    start = train_denoiser(X, (8, 8), cfg, seed=7, device="cpu", progress=False).model
    monkeypatch.undo()
    trained = train_denoiser(X, (8, 8), cfg, seed=7, device="cpu", progress=False).model
    save_model(tmp_path / "model.pt", trained, extra={"seed": 7})
    twin = untrained_model(tmp_path / "model.pt")
    assert twin.conditional and twin.config == trained.config
    for key, value in start.state_dict().items():
        assert torch.equal(twin.state_dict()[key], value), key
    assert any(not torch.equal(twin.state_dict()[k], v) for k, v in trained.state_dict().items())
    other = initial_model(cfg.model, (8, 8), seed=8)
    assert any(not torch.equal(other.state_dict()[k], v) for k, v in start.state_dict().items())
    save_model(tmp_path / "no_seed.pt", trained)
    with pytest.raises(Exception, match="seed"):
        untrained_model(tmp_path / "no_seed.pt")


def _ordered_curves(m=12, P=15, K=8, seed=0, ordered=True):
    """sin θ curves whose index i crosses 0.5 at σ ∝ 1/(i+1) (ordered) or at shuffled levels."""
    rng = np.random.default_rng(seed)
    sigma = np.geomspace(1.0, 0.01, P)
    crossing = 0.5 / (np.arange(K) + 1.0)
    if not ordered:
        crossing = rng.permutation(crossing)
    curves = 1.0 / (1.0 + (crossing[None, None, :] / sigma[None, :, None]) ** 2)
    sin = np.clip(curves + 0.03 * rng.standard_normal((m, P, K)), 0.0, 1.0)
    sin[:, -1] = 0.0
    return np.broadcast_to(sigma, (m, P)).copy(), sin, 1.0 / (np.arange(K) + 1.0)


def test_bootstrap_intervals_cover_the_all_paths_value():
    sigma, sin, eigvals = _ordered_curves()
    table = bootstrap_statistics(sigma, sin, eigvals, n_boot=100, seed=0).set_index("statistic")
    rho = table.loc["spearman_crossing_vs_index"]
    assert rho["value"] == pytest.approx(fig7.fig7_statistics(sigma, sin, eigvals)["spearman_crossing_vs_index"])
    assert rho["low"] <= rho["value"] <= rho["high"] and rho["high"] < 0  # clearly negative, interval included
    crossings = table.loc[[f"sigma_cross/{i}" for i in range(8)]]
    assert ((crossings["low"] <= crossings["value"]) & (crossings["value"] <= crossings["high"])).all()
    assert (crossings["defined"] == 1.0).all()
    with pytest.raises(ConfigError, match="n_boot"):
        bootstrap_statistics(sigma, sin, eigvals, n_boot=0)


def test_permutation_null_separates_ordered_from_shuffled_indices():
    assert permutation_p(*_ordered_curves()[:2], n_perm=500) < 0.01
    assert permutation_p(*_ordered_curves(ordered=False, seed=3)[:2], n_perm=500) > 0.05
    flat_sigma, flat_sin, _ = _ordered_curves()
    assert np.isnan(permutation_p(flat_sigma, np.zeros_like(flat_sin)))  # nothing crosses


def test_controls_table_puts_the_trained_model_first_and_checks_its_rows_agree():
    """Two control jobs' tables (each: the trained model and its control, the same resamples)
    make one table, the trained model once; its rows must agree between the jobs."""
    sigma, sin, eigvals = _ordered_curves()
    _, shuffled, _ = _ordered_curves(ordered=False, seed=3)
    trained = bootstrap_statistics(sigma, sin, eigvals, n_boot=30, seed=4)
    tables, metrics = [], []
    for name, curves in (("wiener", np.zeros_like(sin)), ("untrained", shuffled)):
        tables.append(pd.concat([trained.assign(denoiser="trained"),
                                 bootstrap_statistics(sigma, curves, eigvals, n_boot=30, seed=4).assign(denoiser=name)]))
        metrics.append({"trained/permutation_p": 0.001, f"{name}/permutation_p": None if name == "wiener" else 0.4})
    table = controls_table(tables, metrics)
    assert list(table["denoiser"]) == ["trained", "untrained", "wiener"]  # the trained model, then CONTROLS' order
    row = table.set_index("denoiser").loc["trained"]
    assert row["rho_low"] <= row["rho"] <= row["rho_high"] < 0 and row["permutation_p"] == 0.001
    assert np.isnan(table.set_index("denoiser").loc["wiener", "rho"]) and table["n_crossed"].iloc[-1] == 0
    metrics[1]["trained/permutation_p"] = 0.002
    with pytest.raises(DataError, match="'trained' statistics differ"):
        controls_table(tables, metrics)
    panels = [(name, fig7.index_summary(sigma, curves), None, name) for name, curves in
              (("trained", sin), ("untrained", shuffled), ("empirical", sin), ("wiener", np.zeros_like(sin)))]
    fig = deep_plots.fig7_grid(panels, "title")
    assert len(fig.axes) == 8  # a plot and its colour bar per panel


def test_a_class_conditional_models_closed_forms_are_those_of_each_paths_class_guided():
    """Path j is taken with the denoiser of its class's rows, guided as the sampler guided the
    model: (1 + w) J_c − w J (computed here independently at one point). A class's own Wiener
    filter does not rotate; guided, it mixes two filters whose eigenvectors differ and turns with σ."""
    rng = np.random.default_rng(5)
    X = np.concatenate([rng.random((30, 5)), rng.random((30, 5)) + 1.0])
    labels = np.repeat([0, 1], 30)
    path = X[[0, 40]][None] + 0.3 * rng.standard_normal((4, 2, 5))
    sigma = np.repeat(np.geomspace(0.8, 0.1, 4)[:, None], 2, axis=1)
    guided = closed_form_spectra("empirical", X, path, sigma, K=3, labels=labels, path_labels=[0, 1], guidance=0.5)
    J = 1.5 * EmpiricalDenoiser(X[labels == 1]).jacobian(path[2, 1], sigma[2, 1]) \
        - 0.5 * EmpiricalDenoiser(X).jacobian(path[2, 1], sigma[2, 1])
    np.testing.assert_allclose(guided.eigvals[1, 2], np.linalg.eigvalsh((J + J.T) / 2)[::-1], atol=1e-10)
    plain = closed_form_spectra("empirical", X, path, sigma, K=3)
    assert not np.allclose(plain.eigvals[1, 0], guided.eigvals[1, 0])  # at σ = 0.8 the classes mix
    wiener = closed_form_spectra("wiener", X, path, sigma, K=3, labels=labels, path_labels=[0, 1])
    assert wiener.sin_theta.max() < 1e-3  # the eigenvectors are stored in float32
    guided_wiener = closed_form_spectra("wiener", X, path, sigma, K=3, labels=labels, path_labels=[0, 1], guidance=0.5)
    assert guided_wiener.sin_theta.max() > 0.1
    with pytest.raises(ConfigError, match="labels and path_labels go together"):
        closed_form_spectra("wiener", X, path, sigma, K=3, labels=labels)
    with pytest.raises(DataError, match="label 7, which no training row has"):
        closed_form_spectra("wiener", X, path, sigma, K=3, labels=labels, path_labels=[0, 7])


def test_points_where_the_jacobian_is_zero_are_counted():
    eigvals = np.ones((2, 4, 3))
    eigvals[0, 2:] = 0.0  # a memorizing denoiser near its training image
    assert degenerate_fraction(eigvals) == 0.25
    X = np.random.default_rng(0).random((20, 4))
    path = X[:1][None] + 1e-3 * np.ones((2, 1, 4))  # at a training image, far below its neighbours' distance
    result = closed_form_spectra("empirical", X, path, np.array([[0.005], [0.004]]), K=2)
    assert degenerate_fraction(result.eigvals) == 1.0
