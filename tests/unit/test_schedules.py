import numpy as np
import pytest

from lindiff.errors import ConfigError
from lindiff.linear.schedules import SCHEDULES, from_increments, make_schedule


@pytest.mark.parametrize("name", SCHEDULES)
@pytest.mark.parametrize("T", [1, 2, 65])
def test_schedule_invariants(name, T):
    sched = make_schedule(name, T, sigma_max=3.0)
    assert sched.T == T
    assert sched.sigma.shape == sched.sigma_bar.shape == (T + 1,)
    assert sched.sigma[0] == 0 and sched.sigma_bar[0] == 0
    assert np.all(sched.sigma[1:] > 0)
    np.testing.assert_allclose(sched.sigma_bar**2, np.cumsum(sched.sigma**2), rtol=1e-12, atol=1e-12)
    assert sched.sigma_bar[-1] == pytest.approx(3.0)


def test_linear_increments_proportional_to_t():
    sched = make_schedule("linear", 65, sigma_max=1.0)
    t = np.arange(1, 66)
    ratio = sched.sigma[1:] / t
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-12)
    # sigma_bar_T^2 = a^2 * T(T+1)(2T+1)/6
    assert sched.sigma_bar[-1] ** 2 == pytest.approx(ratio[0] ** 2 * 65 * 66 * 131 / 6)


def test_constant_step_is_the_theorem_schedule():
    T, sigma = 40, 2.0
    sched = make_schedule("constant", T, step=sigma / T)
    np.testing.assert_allclose(sched.sigma[1:], sigma / T)
    assert sched.sigma_bar[-1] == pytest.approx(sigma / np.sqrt(T))


def test_geometric_and_cosine_shapes():
    geo = make_schedule("geometric", 10, sigma_max=5.0, ratio=50.0)
    steps = geo.sigma_bar[2:] / geo.sigma_bar[1:-1]
    np.testing.assert_allclose(steps, steps[0], rtol=1e-12)
    assert geo.sigma_bar[-1] / geo.sigma_bar[1] == pytest.approx(50.0)
    cos = make_schedule("cosine", 20, sigma_max=2.0)
    np.testing.assert_allclose(cos.sigma_bar, 2.0 * np.sin(np.pi * np.arange(21) / 40), atol=1e-12)


def test_step_scaling_sets_largest_increment():
    sched = make_schedule("linear", 10, step=0.5)
    assert sched.sigma.max() == pytest.approx(0.5)


@pytest.mark.parametrize(
    "kwargs, key",
    [
        (dict(name="quadratic", T=5), "schedule"),
        (dict(name="linear", T=0), "T"),
        (dict(name="linear", T=-3), "T"),
        (dict(name="linear", T=2.5), "T"),
        (dict(name="linear", T="abc"), "T"),
        (dict(name="linear", T=5, sigma_max=-1.0), "sigma_max"),
        (dict(name="linear", T=5, sigma_max=float("nan")), "sigma_max"),
        (dict(name="linear", T=5, sigma_max=float("inf")), "sigma_max"),
        (dict(name="constant", T=5, step=-0.1), "step"),
        (dict(name="geometric", T=5, ratio=0.5), "ratio"),
    ],
)
def test_bad_parameters_name_the_key(kwargs, key):
    with pytest.raises(ConfigError, match=key):
        make_schedule(**kwargs)


def test_from_increments_rejects_negative():
    with pytest.raises(ConfigError, match="sigma"):
        from_increments("custom", np.array([0.0, 1.0, -1.0]))
