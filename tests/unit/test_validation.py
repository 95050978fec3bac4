"""Tests for lindiff.validation: the shared array checks, and the call sites that use them."""

from __future__ import annotations

import numpy as np
import pytest

from lindiff.errors import ConfigError, DataError
from lindiff.validation import check_matrix, check_vector

# ---------------------------------------------------------------------------
# check_matrix
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "X",
    [[[1, 2, 3], [4, 5, 6]], np.arange(6, dtype=np.int32).reshape(2, 3), np.ones((2, 3), np.float32),
     np.ones((2, 3), bool), np.ones((2, 3), ">f8")],
    ids=["list", "int32", "float32", "bool", "big-endian"],
)
def test_check_matrix_converts_to_float64(X):
    out = check_matrix(X, "X")
    assert out.dtype == np.float64 and out.shape == (2, 3)
    np.testing.assert_array_equal(out, np.asarray(X).astype(np.float64))


def test_check_matrix_copies_only_when_needed_or_asked():
    X = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    assert check_matrix(X, "X") is X
    assert check_matrix(X, "X", require_real=True) is X
    converted = check_matrix(X.astype(np.float32), "X")
    assert converted.flags.f_contiguous  # the layout is kept
    copied = check_matrix(X, "X", copy=True)
    assert copied is not X and not np.shares_memory(copied, X) and copied.flags.f_contiguous
    assert not np.shares_memory(check_matrix(X, "X", require_real=True, copy=True), X)
    assert not np.shares_memory(check_matrix(X, "X", dtype=None, require_real=True, copy=True), X)


def test_check_matrix_dtype_none_keeps_the_dtype():
    X = np.zeros((3, 2), np.uint8)
    out = check_matrix(X, "train", dtype=None, require_real=True, finite=False)
    assert out is X and out.dtype == np.uint8
    assert check_matrix(X, "train", dtype=np.float32).dtype == np.float32


@pytest.mark.parametrize(
    ("X", "kwargs", "words"),
    [
        (np.ones(4), {}, ["2-D", "(4,)"]),
        (np.ones((2, 3, 4)), {}, ["2-D", "(n_samples, d)", "(2, 3, 4)"]),
        (np.ones((1, 3)), {"min_rows": 2}, ["at least 2 sample", "(1, 3)"]),
        (np.ones((0, 3)), {"min_rows": 1}, ["at least 1 sample"]),
        (np.ones((2, 0)), {"min_cols": 1}, ["at least 1 feature"]),
        (np.ones((2, 4)), {"d": 3}, ["d=3", "(2, 4)"]),
        (np.array([[0.0, 1.0], [1.0, np.nan], [np.inf, 0.0]]), {}, ["2 non-finite", "row 1"]),
        (np.array([["a", "b"]]), {"require_real": True}, ["real numeric", "<U1"]),
        (np.array([[1, None]], dtype=object), {"require_real": True}, ["real numeric", "object"]),
        (np.ones((2, 2), complex), {"require_real": True}, ["real numeric", "complex"]),
    ],
    ids=["1-D", "3-D", "min_rows", "no-rows", "min_cols", "d", "finite", "str", "object", "complex"],
)
@pytest.mark.parametrize("error", [DataError, ConfigError])
def test_check_matrix_rejects_with_the_argument_name(X, kwargs, words, error):
    with pytest.raises(error) as info:
        check_matrix(X, "X_test", error=error, **kwargs)
    message = str(info.value)
    assert message.startswith("X_test ")
    for word in words:
        assert word in message


def test_check_matrix_default_error_is_data_error_and_constraints_are_optional():
    with pytest.raises(DataError, match=r"^Y must be 2-D"):
        check_matrix([1.0, 2.0], "Y")
    assert check_matrix(np.zeros((0, 3)), "Y").shape == (0, 3)  # no row minimum unless asked
    with_nan = check_matrix([[np.nan, 1.0]], "Y", finite=False)
    assert np.isnan(with_nan[0, 0])


def test_check_matrix_without_require_real_casts_like_numpy():
    np.testing.assert_array_equal(check_matrix(np.array([["1.5", "2"]]), "X"), [[1.5, 2.0]])
    with pytest.raises(ValueError):
        check_matrix(np.array([["a"]]), "X")


# ---------------------------------------------------------------------------
# check_vector
# ---------------------------------------------------------------------------


def test_check_vector_converts_to_float64():
    out = check_vector([1, 2, 3], "eigvals")
    assert out.dtype == np.float64 and out.shape == (3,)
    x = np.arange(3.0)
    assert check_vector(x, "x") is x
    assert not np.shares_memory(check_vector(x, "x", copy=True), x)
    assert check_vector(np.arange(3, dtype=np.int16), "x", dtype=None).dtype == np.int16
    assert check_vector([], "x").shape == (0,)


@pytest.mark.parametrize(
    ("x", "kwargs", "words"),
    [
        (np.ones((2, 2)), {}, ["1-D", "(2, 2)"]),
        (np.float64(1.0), {}, ["1-D", "()"]),
        ([1.0, 2.0], {"length": 3}, ["length 3", "length 2"]),
        ([1.0, np.nan, np.inf], {}, ["2 non-finite", "index 1"]),
        (np.array(["a"]), {"require_real": True}, ["real numeric"]),
    ],
    ids=["2-D", "0-D", "length", "finite", "str"],
)
@pytest.mark.parametrize("error", [DataError, ConfigError])
def test_check_vector_rejects_with_the_argument_name(x, kwargs, words, error):
    with pytest.raises(error) as info:
        check_vector(x, "noise_std", error=error, **kwargs)
    message = str(info.value)
    assert message.startswith("noise_std ")
    for word in words:
        assert word in message


def test_check_vector_default_error_is_data_error():
    with pytest.raises(DataError, match="^v must be 1-D"):
        check_vector([[1.0]], "v")
    assert np.isinf(check_vector([np.inf], "v", finite=False)[0])


# ---------------------------------------------------------------------------
# the call sites keep their error types
# ---------------------------------------------------------------------------


def test_call_sites_raise_their_error_type_naming_the_argument():
    from lindiff.data import Dataset, center
    from lindiff.deep.evaluate import fit_linear_denoiser
    from lindiff.linear import spectral
    from lindiff.studies import generalization as gen

    with pytest.raises(DataError, match=r"^data set 't': X must have at least 1 sample"):
        Dataset(X=np.ones((0, 2)), name="t")
    with pytest.raises(DataError, match=r"^data set 't': X must be a real numeric array"):
        Dataset(X=np.array([["1"]]), name="t")
    with pytest.raises(DataError, match=r"^center\(\): X holds 1 non-finite"):
        center(np.array([[1.0], [np.nan]]))
    with pytest.raises(DataError, match="^X_train must have at least 1 sample"):
        fit_linear_denoiser(np.zeros((0, 3)))
    with pytest.raises(ConfigError, match="^variances holds 1 non-finite"):
        spectral.w2_to_data([1.0, np.nan], [1.0, 1.0])
    with pytest.raises(DataError, match="^B must have d=2 columns"):
        gen.cosine_similarity_rows(np.ones((2, 2)), np.ones((2, 3)))
    with pytest.raises(DataError, match="^train must be a real numeric array"):
        gen.nearest_neighbor_similarity(np.ones((2, 2)), np.array([["a", "b"]]))
    train = np.arange(6, dtype=np.uint8).reshape(3, 2)
    assert gen._matrix_view("train", train) is train  # no float64 copy of a training set


def test_check_keys_names_the_unknown_and_the_allowed():
    from lindiff.errors import ConfigError
    from lindiff.validation import check_keys

    assert check_keys({"a": 1}, ("a", "b"), "thing") == {"a": 1}
    with pytest.raises(ConfigError, match=r"unknown thing key\(s\) \['c'\]; allowed: \['a', 'b'\]"):
        check_keys({"a": 1, "c": 2}, ("a", "b"), "thing", ConfigError)
    with pytest.raises(DataError, match="thing must be a dict, got list"):
        check_keys([1], ("a",), "thing")
