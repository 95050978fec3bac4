"""Tests of lindiff.deep: bias-free denoisers, training, samplers and Jacobians."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lindiff.deep.evaluate import (
    add_noise,
    compare_psnr,
    denoiser_psnr,
    fit_linear_denoiser,
    linear_denoiser_psnr,
    psnr,
)
from lindiff.deep.jacobian import (
    asymmetry,
    default_method,
    fastest_method,
    homogeneity_error,
    jacobian,
    jacobian_batched,
    jacobian_gated,
    jacobian_loop,
    path_jacobian_analysis,
    symmetric_eigh,
)
from lindiff.deep.models import (
    BFBatchNorm2d,
    DenoiserConfig,
    FlatDenoiser,
    ProjectionDenoiser,
    build_denoiser,
)
from lindiff.deep.sample import sample_ascent, sample_ve
from lindiff.deep.train import (
    CHECKPOINT_NAME,
    TrainConfig,
    default_config,
    load_checkpoint,
    load_model,
    save_model,
    snapshot_epoch,
    snapshot_path,
    train_denoiser,
)
from lindiff.errors import ConfigError, DataError
from lindiff.linear.learn import learn_bases
from lindiff.linear.schedules import make_schedule

# torch's forward-mode AD loads its decompositions through the deprecated torch.jit.script
pytestmark = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")

TINY = TrainConfig(
    model=DenoiserConfig(kind="bfcnn", channels=8, depth=4),
    epochs=3,
    batch_size=32,
    lr=3e-3,
    val_sigmas=(0.2,),
    max_val=64,
)


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """Tiny models gain nothing from threads, and OpenMP threads degrade badly when the
    shared test machine is oversubscribed; restore torch's setting afterwards."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def digits_X(digits) -> np.ndarray:
    return digits.X


@pytest.fixture(scope="module")
def trained(digits_X):
    """A small UNet trained for a few seconds on 1000 digits."""
    cfg = TrainConfig(model=DenoiserConfig(kind="unet", channels=16, depth=2, blocks=1), epochs=15, batch_size=32,
                      lr=2e-3, val_sigmas=(0.1, 0.4), max_val=100)
    return train_denoiser(digits_X[:1000], (8, 8), cfg, seed=0, device="cpu", progress=False)


def random_model(kind: str, image_shape=(8, 8), seed: int = 0) -> FlatDenoiser:
    """An untrained model in eval mode with non-trivial batch-norm statistics and gains."""
    torch.manual_seed(seed)
    cfg = DenoiserConfig(kind=kind, channels=8, depth=3 if kind == "unet" else 4, blocks=1)
    model = FlatDenoiser(build_denoiser(cfg), image_shape, cfg)
    gen = torch.Generator().manual_seed(seed)
    for module in model.modules():
        if isinstance(module, BFBatchNorm2d):
            module.running_sd.copy_(0.5 + 1.5 * torch.rand(module.running_sd.shape, generator=gen))
            module.gain.data.copy_(0.5 + torch.rand(module.gain.shape, generator=gen))
    return model.eval()


def assert_same_weights(a: torch.nn.Module, b: torch.nn.Module) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for key in sa:
        assert torch.equal(sa[key], sb[key]), key


# --------------------------------------------------------------------------- models


@pytest.mark.parametrize("kind", ["bfcnn", "unet"])
@pytest.mark.parametrize("shape", [(8, 8), (28, 28)])
def test_model_is_bias_free_and_homogeneous(kind, shape):
    model = random_model(kind, shape)
    for module in model.modules():
        if isinstance(module, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
            assert module.bias is None
    rng = np.random.default_rng(0)
    Y = torch.as_tensor(rng.uniform(0, 1, (3, shape[0] * shape[1])), dtype=torch.float32)
    with torch.no_grad():
        out = model(Y)
        assert out.shape == Y.shape
        for a in (0.1, 2.5, 7.0):
            torch.testing.assert_close(model(a * Y), a * out, rtol=1e-4, atol=1e-5)
        assert torch.all(model(torch.zeros_like(Y)) == 0)


@pytest.mark.parametrize("kind", ["bfcnn", "unet"])
def test_denoiser_equals_jacobian_times_input(kind, digits_X):
    model = random_model(kind)
    y = add_noise(digits_X[5:6], 0.2, seed=1)[0]
    J = jacobian(model, y, "loop")
    assert homogeneity_error(model, y, J) < 1e-4


def test_config_validation():
    with pytest.raises(ConfigError, match="kind"):
        DenoiserConfig(kind="mlp")
    with pytest.raises(ConfigError, match="kernel_size"):
        DenoiserConfig(kernel_size=4)
    with pytest.raises(ConfigError, match="depth"):
        DenoiserConfig(kind="bfcnn", depth=1)
    with pytest.raises(ConfigError, match="epochs"):
        TrainConfig(epochs=0)
    with pytest.raises(ConfigError, match="sigma_min"):
        TrainConfig(sigma_min=2.0, sigma_max=1.0)
    with pytest.raises(ConfigError, match="dataset_name"):
        default_config("cifar")
    cfg = default_config("mnist")
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ConfigError, match="unknown"):
        TrainConfig.from_dict({"epochz": 3})


# --------------------------------------------------------------------------- training


def test_tiny_model_trains_and_lowers_loss(digits_X):
    cfg = TrainConfig(model=TINY.model, epochs=4, batch_size=32, lr=3e-3, val_sigmas=(0.2,), max_val=64)
    logged = []
    result = train_denoiser(digits_X[:600], (8, 8), cfg, seed=0, device="cpu", progress=False,
                            log_fn=lambda epoch, record: logged.append((epoch, record)))
    losses = [r["loss"] for r in result.history]
    assert len(losses) == 4 and losses[-1] < losses[0]
    assert [e for e, _ in logged] == [1, 2, 3, 4]
    assert {"epoch", "loss", "lr", "psnr_0.2", "seconds"} <= set(result.history[0])
    assert not result.model.training


def test_trained_model_beats_identity(trained, digits_X):
    X_test = digits_X[1400:]
    for sigma, margin in ((0.1, 0.2), (0.2, 2.0), (0.4, 4.0)):  # measured: +0.7, +3.4, +5.8 dB
        noisy = psnr(X_test, add_noise(X_test, sigma, seed=3))
        assert denoiser_psnr(trained.model, X_test, sigma, seed=3) > noisy + margin


def test_same_seed_same_weights_different_seed_differs(digits_X):
    a = train_denoiser(digits_X[:300], (8, 8), TINY, seed=1, device="cpu", progress=False)
    b = train_denoiser(digits_X[:300], (8, 8), TINY, seed=1, device="cpu", progress=False)
    c = train_denoiser(digits_X[:300], (8, 8), TINY, seed=2, device="cpu", progress=False)
    assert_same_weights(a.model, b.model)
    assert a.history == [{**r, "seconds": a.history[i]["seconds"]} for i, r in enumerate(b.history)]
    assert any(not torch.equal(p, q) for p, q in zip(a.model.parameters(), c.model.parameters()))


class _Interrupt(Exception):
    pass


def _train_stopped_after_2(X, checkpoint_dir) -> None:
    """Train TINY (seed 4) with checkpoints in ``checkpoint_dir`` and stop it after epoch 2."""

    def stop_after_2(epoch, record):
        if epoch == 2:
            raise _Interrupt

    with pytest.raises(_Interrupt):
        train_denoiser(X, (8, 8), TINY, seed=4, device="cpu", checkpoint_dir=checkpoint_dir, progress=False,
                       log_fn=stop_after_2)


def test_resume_from_interrupted_run_matches_uninterrupted(digits_X, tmp_path):
    X = digits_X[:300]
    full = train_denoiser(X, (8, 8), TINY, seed=4, device="cpu", progress=False)

    _train_stopped_after_2(X, tmp_path)
    assert load_checkpoint(tmp_path / CHECKPOINT_NAME)["epoch"] == 2
    resumed = train_denoiser(X, (8, 8), TINY, seed=4, device="cpu", checkpoint_dir=tmp_path, progress=False)
    assert resumed.resumed_from == 2
    assert_same_weights(full.model, resumed.model)
    assert [r["loss"] for r in resumed.history] == [r["loss"] for r in full.history]
    # a finished checkpoint is returned without further training
    again = train_denoiser(X, (8, 8), TINY, seed=4, device="cpu", checkpoint_dir=tmp_path, progress=False)
    assert again.resumed_from == TINY.epochs
    assert_same_weights(full.model, again.model)
    # a checkpoint of another run is refused
    with pytest.raises(ConfigError, match="checkpoint_dir"):
        train_denoiser(X, (8, 8), TINY, seed=5, device="cpu", checkpoint_dir=tmp_path, progress=False)


def test_snapshots_hold_the_weights_of_their_epoch(digits_X, tmp_path):
    """A snapshot of epoch 2 of a full run equals the model of a run stopped after epoch 2 (its
    checkpoint, an independent route); the final model differs; a resumed run finds the snapshot."""
    X = digits_X[:300]
    full = train_denoiser(X, (8, 8), TINY, seed=4, device="cpu", progress=False, checkpoint_dir=tmp_path / "full",
                          snapshot_epochs=(2,))
    assert set(full.snapshots) == {2} and full.snapshots[2] == snapshot_path(tmp_path / "full", 2)

    _train_stopped_after_2(X, tmp_path / "stopped")
    snapshot = load_model(full.snapshots[2])
    assert_same_weights(snapshot, load_model(tmp_path / "stopped" / CHECKPOINT_NAME))
    assert any(not torch.equal(p, q) for p, q in zip(snapshot.parameters(), full.model.parameters()))
    assert torch.load(full.snapshots[2], weights_only=True)["extra"] == {"seed": 4, "epoch": 2}
    again = train_denoiser(X, (8, 8), TINY, seed=4, device="cpu", progress=False, checkpoint_dir=tmp_path / "full",
                           snapshot_epochs=(2,))
    assert again.resumed_from == TINY.epochs and again.snapshots == full.snapshots
    # a checkpoint written past an epoch without its snapshot cannot give it
    with pytest.raises(DataError, match=r"snapshot_e1\.pt'\] were not written"):
        train_denoiser(X, (8, 8), TINY, seed=4, device="cpu", progress=False, checkpoint_dir=tmp_path / "full",
                       snapshot_epochs=(1,))
    with pytest.raises(ConfigError, match="give one"):
        train_denoiser(X, (8, 8), TINY, seed=4, device="cpu", progress=False, snapshot_epochs=(1,))
    with pytest.raises(ConfigError, match=r"\[4\] outside the epochs 1 … 3"):
        train_denoiser(X, (8, 8), TINY, seed=4, device="cpu", progress=False, checkpoint_dir=tmp_path, snapshot_epochs=(4,))
    assert [snapshot_epoch(f, 30) for f in (0.1, 0.5, 0.001, 1.0)] == [3, 15, 1, 30]


def test_checkpoint_and_model_round_trip(trained, tmp_path, digits_X):
    path = save_model(tmp_path / "model.pt", trained.model, extra={"note": "test"})
    state = torch.load(path, weights_only=True)
    assert state["model_config"] == trained.model.config.to_dict()
    loaded = load_model(path)
    assert_same_weights(trained.model, loaded)
    Y = add_noise(digits_X[:10], 0.2, seed=0)
    np.testing.assert_array_equal(loaded.denoise(Y), trained.model.denoise(Y))
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(DataError, match="bad.pt"):
        load_model(tmp_path / "bad.pt")


def test_training_checkpoint_loads_with_weights_only(digits_X, tmp_path):
    result = train_denoiser(digits_X[:200], (8, 8), TINY, seed=0, device="cpu", checkpoint_dir=tmp_path, progress=False)
    state = torch.load(tmp_path / CHECKPOINT_NAME, weights_only=True)
    assert state["epoch"] == TINY.epochs and len(state["history"]) == TINY.epochs
    assert_same_weights(result.model, load_model(tmp_path / CHECKPOINT_NAME))
    assert not list(tmp_path.glob("*.tmp"))


def test_train_input_validation(digits_X):
    with pytest.raises(ConfigError, match="image_shape"):
        train_denoiser(digits_X[:50], (7, 7), TINY, progress=False)
    with pytest.raises(DataError, match="NaN"):
        train_denoiser(np.full((10, 64), np.nan), (8, 8), TINY, progress=False)
    with pytest.raises(ConfigError, match="device"):
        train_denoiser(digits_X[:50], (8, 8), TINY, device="tpu", progress=False)


# --------------------------------------------------------------------------- evaluation


def test_linear_denoiser_is_the_wiener_filter(digits_X):
    X_train, X_test = digits_X[:1000], digits_X[1000:1200]
    filt = fit_linear_denoiser(X_train)
    C = np.cov(X_train.T, bias=True)
    sigma = 0.3
    Y = add_noise(X_test, sigma, seed=0)
    expected = filt.mean + (Y - filt.mean) @ np.linalg.solve(C + sigma**2 * np.eye(64), C).T
    np.testing.assert_allclose(filt.denoise(Y, sigma), expected, atol=1e-8)
    value = linear_denoiser_psnr(X_train, X_test, sigma, seed=0)
    assert value == pytest.approx(psnr(X_test, expected))
    assert value > psnr(X_test, Y)


def test_compare_psnr_table(trained, digits_X):
    table = compare_psnr(trained.model, digits_X[:1000], digits_X[1400:], sigmas=(0.1, 0.4))
    assert list(table.columns) == ["sigma", "noisy", "linear", "deep", "gain"]
    assert np.allclose(table["gain"], table["deep"] - table["linear"])


# --------------------------------------------------------------------------- Jacobians


def test_jacobian_of_linear_map_is_the_map():
    rng = np.random.default_rng(0)
    A = torch.as_tensor(rng.standard_normal((20, 20)))

    def f(y):
        return A @ y

    y = rng.standard_normal(20)
    for method in ("loop", "jacrev", "jacfwd"):
        np.testing.assert_allclose(jacobian(f, y, method), A.numpy(), atol=1e-12)
    assert default_method(f) == "jacrev"


@pytest.mark.parametrize("kind", ["bfcnn", "unet"])
def test_batched_and_gated_jacobians_match_the_loop(kind, digits_X):
    model = random_model(kind)
    y = add_noise(digits_X[7:8], 0.3, seed=2)[0]
    reference = jacobian_loop(model, y)
    assert reference.shape == (64, 64)
    candidates = {
        "jacrev": jacobian_batched(model, y, "jacrev"),
        "jacrev_chunked": jacobian_batched(model, y, "jacrev", chunk_size=16),
        "jacfwd": jacobian_batched(model, y, "jacfwd"),
        "jacfwd_chunked": jacobian_batched(model, y, "jacfwd", chunk_size=20),
        "gated": jacobian_gated(model, y),
        "gated_chunked": jacobian_gated(model, y, chunk_size=10),
        "auto": jacobian(model, y),
    }
    for name, J in candidates.items():
        np.testing.assert_allclose(J, reference, atol=1e-5, err_msg=name)
    assert default_method(model) == "gated"
    # the gates are released: the model is a plain ReLU net again
    with torch.no_grad():
        out = model(torch.as_tensor(y, dtype=torch.float32))
    np.testing.assert_allclose(out.numpy(), reference @ y, atol=1e-4)


def test_jacobian_uses_eval_mode_and_restores_training(trained, digits_X):
    model = trained.model
    model.train()
    try:
        y = add_noise(digits_X[3:4], 0.2, seed=0)[0]
        J = jacobian(model, y, "jacrev")
        assert model.training
        assert homogeneity_error(model, y, J) < 1e-4
    finally:
        model.eval()


def test_fastest_method_reports_timings(digits_X):
    model = random_model("bfcnn")
    name, timings = fastest_method(model, digits_X[0], repeats=1)
    assert name in timings and set(timings) == {"jacrev", "jacfwd", "gated"}


def test_symmetric_eigh_and_asymmetry():
    rng = np.random.default_rng(1)
    M = rng.standard_normal((6, 6))
    vals, vecs = symmetric_eigh(M)
    S = 0.5 * (M + M.T)
    assert np.all(np.diff(vals) <= 0)
    np.testing.assert_allclose(vecs @ np.diag(vals) @ vecs.T, S, atol=1e-12)
    assert asymmetry(S) == pytest.approx(0.0)
    assert asymmetry(M) > 0.1
    with pytest.raises(DataError):
        symmetric_eigh(np.zeros((2, 3)))


def test_projection_denoiser_recovers_pca_projection(digits_X):
    schedule = make_schedule("linear", 4, sigma_max=0.5)
    bases = learn_bases(digits_X, schedule, k=12, seed=0)
    U = bases.U[2]
    projector = ProjectionDenoiser(U)
    y = add_noise(digits_X[:1], 0.3, seed=0)[0]
    P = U @ U.T
    for method in ("loop", "jacrev", "jacfwd", "gated"):
        np.testing.assert_allclose(jacobian(projector, y, method), P, atol=1e-6)
    vals, vecs = symmetric_eigh(jacobian(projector, y))
    np.testing.assert_allclose(vals[:12], 1.0, atol=1e-6)
    np.testing.assert_allclose(vals[12:], 0.0, atol=1e-6)
    top = vecs[:, :12]
    np.testing.assert_allclose(top @ top.T, P, atol=1e-6)  # same span as U
    result = path_jacobian_analysis(projector, np.stack([y, 0.5 * y, digits_X[0]]), K=12)
    np.testing.assert_allclose(result.eigvals[0, :, :12], 1.0, atol=1e-6)
    assert result.homogeneity.max() < 1e-10 and result.asymmetry.max() < 1e-10


def test_path_analysis_sin_theta(trained, digits_X):
    path = sample_ve(trained.model, make_schedule("geometric", 5, sigma_max=0.8), n=2, d=64, eta=0.0, seed=0)
    result = path_jacobian_analysis(trained.model, path.path, K=10, sigma=path.sigma)
    assert result.sin_theta.shape == (2, 6, 10)
    np.testing.assert_allclose(result.sin_theta[:, -1], 0.0, atol=1e-6)
    assert np.all((result.sin_theta >= 0) & (result.sin_theta <= 1))
    assert list(result.t) == [5, 4, 3, 2, 1, 0]
    assert result.homogeneity.max() < 1e-3
    table = result.table()
    assert {"t", "sigma", "index", "sin_theta", "eigval"} <= set(table.columns)
    assert len(table) == 2 * 6 * 10
    assert np.all(table.loc[table["t"] == 0, "sin_theta"] < 1e-6)
    np.testing.assert_allclose(table.loc[table["step"] == 0, "sigma"], 0.8)
    with pytest.raises(ConfigError, match="K"):
        path_jacobian_analysis(trained.model, path.path, K=0)


# --------------------------------------------------------------------------- samplers


def test_ascent_sampler_path(trained):
    out = sample_ascent(trained.model, n=3, d=64, sigma_0=1.0, sigma_final=0.05, h0=0.05, beta=0.5,
                        max_steps=300, seed=0)
    steps = out.steps
    assert out.path.shape == (steps + 1, 3, 64) and out.sigma.shape == (steps + 1, 3)
    assert out.sigma[-1].max() < out.sigma[0].min()
    assert np.all(out.sigma[-1] <= 0.05) or steps == 300
    again = sample_ascent(trained.model, n=3, d=64, sigma_0=1.0, sigma_final=0.05, h0=0.05, beta=0.5,
                          max_steps=300, seed=0)
    np.testing.assert_array_equal(out.path, again.path)


@pytest.mark.parametrize("eta", [0.0, 1.0])
def test_ve_sampler_path(trained, eta):
    schedule = make_schedule("geometric", 8, sigma_max=1.0)
    out = sample_ve(trained.model, schedule, n=4, d=64, eta=eta, seed=0)
    assert out.path.shape == (9, 4, 64) and out.sigma.shape == (9, 4)
    np.testing.assert_allclose(out.sigma[:, 0], schedule.sigma_bar[::-1])
    noise = [np.linalg.norm(trained.model.denoise(x) - x) for x in out.path]
    assert noise[-2] < noise[0]
    short = sample_ve(trained.model, schedule, n=4, d=64, eta=eta, seed=0, denoise_last=False)
    assert short.path.shape == (8, 4, 64)
    np.testing.assert_array_equal(short.path, out.path[:-1])


def test_ve_sampler_with_linear_denoiser_is_ddim():
    rng = np.random.default_rng(0)
    U = np.linalg.qr(rng.standard_normal((16, 3)))[0]
    schedule = make_schedule("linear", 4)
    out = sample_ve(ProjectionDenoiser(U), schedule, n=2, d=16, eta=0.0, init_mean=0.0, seed=1)
    x = out.path[0]
    sb = schedule.sigma_bar
    for t in range(4, 0, -1):
        x0 = x @ U @ U.T
        x = x0 + sb[t - 1] / sb[t] * (x - x0)
    np.testing.assert_allclose(out.path[-1], x, atol=1e-12)


def test_sampler_validation(trained):
    with pytest.raises(ConfigError, match="beta"):
        sample_ascent(trained.model, n=1, d=64, beta=0.0)
    with pytest.raises(ConfigError, match="schedule"):
        sample_ve(trained.model, "geometric", n=1, d=64)
    with pytest.raises(ConfigError, match="init_mean"):
        sample_ve(trained.model, make_schedule("linear", 3), n=1, d=64, init_mean=np.zeros(3))


# --------------------------------------------------------------------------- plots


def test_plots_build(trained, digits_X, tmp_path):
    from lindiff.plots import deep as plots

    path = sample_ve(trained.model, make_schedule("geometric", 4, sigma_max=0.8), n=1, d=64, seed=0)
    result = path_jacobian_analysis(trained.model, path.path, K=8, sigma=path.sigma)
    figures = [
        plots.fig7_sin_theta_jacobian(result),
        plots.fig7_sin_theta_jacobian(result.table(), x="t"),
        plots.shrinkage_spectra(result),
        plots.eigenvector_images(result, (8, 8), count=8),
        plots.training_curves(trained.history),
        plots.path_snapshots(path, (8, 8), n_snapshots=5, n_samples=1),
    ]
    for i, fig in enumerate(figures):
        plots.save_figure(fig, tmp_path / f"fig{i}.png")
        assert (tmp_path / f"fig{i}.png").stat().st_size > 1000
    with pytest.raises(DataError):
        plots.fig7_sin_theta_jacobian(result, x="epoch")


def _spiked_linear_map(d: int = 300, seed: int = 0):
    """``f(y) = A y`` with a known symmetric part: 10 leading eigenvalues 10…5 over a [0, 1] bulk,
    plus an antisymmetric part (which the symmetrised Jacobian drops)."""
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    lam = np.concatenate([np.linspace(10, 5, 10), rng.uniform(0, 1, d - 10)])
    skew = rng.standard_normal((d, d)) / np.sqrt(d)
    A = Q @ np.diag(lam) @ Q.T + 0.1 * (skew - skew.T)
    matrix = torch.as_tensor(A)
    return (lambda y: matrix @ y), A, rng.standard_normal(d)


def test_matrix_free_top_eigenpairs_match_the_full_decomposition():
    from lindiff.deep.jacobian import top_symmetric_eigenpairs

    f, A, y = _spiked_linear_map()
    top = top_symmetric_eigenpairs(f, y, 5)
    vals, vecs = symmetric_eigh(A)
    np.testing.assert_allclose(top.eigvals, vals[:5], rtol=1e-4)
    assert np.linalg.svd(vecs[:, :5].T @ top.vectors, compute_uv=False).min() >= 0.999
    assert top.products < 2 * len(y)  # fewer products than the two full Jacobians' columns

    model = random_model("unet", image_shape=(16, 16)).double()  # d = 256
    point = np.random.default_rng(1).uniform(size=256)
    vals, vecs = symmetric_eigh(jacobian(model, point, "jacrev"))
    top = top_symmetric_eigenpairs(model, point, 4)
    np.testing.assert_allclose(top.eigvals, vals[:4], rtol=1e-4)
    assert np.linalg.svd(vecs[:, :4].T @ top.vectors, compute_uv=False).min() >= 0.999


def test_the_asymmetry_estimate_matches_the_full_jacobians():
    """Hutchinson's estimate of ‖J − Jᵀ‖_F / ‖J‖_F from products only: within 5% of the exact
    value with 2000 probes, closer with more, and 0 for a symmetric map."""
    from lindiff.deep.jacobian import asymmetry_estimate

    f, A, y = _spiked_linear_map()
    exact = asymmetry(A)
    assert exact > 0.01
    coarse, fine = asymmetry_estimate(f, y, probes=50), asymmetry_estimate(f, y, probes=2000)
    assert abs(fine - exact) < 0.05 * exact
    assert abs(fine - exact) < abs(coarse - exact) or abs(coarse - exact) < 0.01 * exact
    symmetric = torch.as_tensor(0.5 * (A + A.T))
    assert asymmetry_estimate(lambda v: symmetric @ v, y, probes=8) < 1e-12
    with pytest.raises(ConfigError, match="probes"):
        asymmetry_estimate(f, y, probes=0)


def test_a_warm_start_from_the_previous_point_saves_products():
    """Along a path the eigenvectors move little: starting from the previous point's needs fewer
    products than a random start, for the same eigenpairs."""
    from lindiff.deep.jacobian import top_symmetric_eigenpairs

    f, A, y = _spiked_linear_map()
    first = top_symmetric_eigenpairs(f, y, 5)
    cold, warm = top_symmetric_eigenpairs(f, 1.01 * y, 5), top_symmetric_eigenpairs(f, 1.01 * y, 5, start=first.vectors)
    np.testing.assert_allclose(warm.eigvals, cold.eigvals, rtol=1e-6)
    assert warm.products < cold.products and warm.calls < cold.calls
    with pytest.raises(ConfigError, match="K must be an integer"):
        top_symmetric_eigenpairs(f, y, 0)
