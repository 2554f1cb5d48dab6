"""Stable functions stay finite and silent for inputs of any magnitude."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from minigrad import Tensor

LARGE = [-1e4, -100.0, -1.0, 0.0, 1.0, 100.0, 1e4]


@pytest.fixture
def strict():
    # Overflow, division by zero and invalid operations raise; underflow to 0 is the
    # correct result here (exp(-1e4)) and stays NumPy's default, silent.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise"):
            yield


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_is_finite_and_exact_in_both_tails(strict, dtype):
    x = Tensor(np.array(LARGE, dtype=dtype))
    s = x.sigmoid()
    assert s.dtype == dtype
    assert np.all(np.isfinite(s.data))
    assert s.data[0] == 0.0 and s.data[-1] == 1.0
    assert s.data[3] == 0.5
    # the small tail is exact, not 0 from cancellation: sigmoid(-100) = e**-100 / (1 + e**-100)
    if dtype == np.float64:
        np.testing.assert_allclose(s.data[1], np.exp(-100.0), rtol=1e-12)
    s.sum().backward()
    assert np.all(np.isfinite(x.grad))
    np.testing.assert_allclose(x.grad[3], 0.25)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_is_finite_for_huge_inputs(strict, dtype):
    x = Tensor(np.array([[1e4, 1e4 - 1, -1e4], [-1e4, -1e4, -1e4]], dtype=dtype))
    s = x.softmax()
    assert s.dtype == dtype
    assert np.all(np.isfinite(s.data))
    np.testing.assert_allclose(s.data.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(s.data[1], [1 / 3] * 3, rtol=1e-6)
    np.testing.assert_allclose(s.data[0, :2], [1 / (1 + np.exp(-1)), 1 / (1 + np.e)], rtol=1e-5)
    (s * Tensor(np.arange(6.0).reshape(2, 3).astype(dtype))).sum().backward()
    assert np.all(np.isfinite(x.grad))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_log_softmax_is_finite_for_huge_inputs(strict, dtype):
    x = Tensor(np.array([[0.0, 1e4], [-1e4, 1e4], [3.0, 3.0]], dtype=dtype))
    ls = x.log_softmax()
    assert ls.dtype == dtype
    assert np.all(np.isfinite(ls.data))
    np.testing.assert_allclose(ls.data[0], [-1e4, 0.0])
    np.testing.assert_allclose(ls.data[1], [-2e4, 0.0])
    np.testing.assert_allclose(ls.data[2], [-np.log(2)] * 2, rtol=1e-6)
    ls[:, 0].sum().backward()
    assert np.all(np.isfinite(x.grad))
    np.testing.assert_allclose(x.grad[0], [1.0, -1.0])  # 1 - softmax, -softmax
    np.testing.assert_allclose(x.grad[2], [0.5, -0.5])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tanh_saturates_without_warnings(strict, dtype):
    x = Tensor(np.array(LARGE, dtype=dtype))
    y = x.tanh()
    y.sum().backward()
    assert y.data[0] == -1.0 and y.data[-1] == 1.0
    assert x.grad[0] == 0.0 and x.grad[3] == 1.0


def test_exp_and_log_follow_numpy_at_their_limits():
    with np.errstate(over="ignore", divide="ignore"):
        assert Tensor([1e4]).exp().data[0] == np.inf
        assert Tensor([-1e4]).exp().data[0] == 0.0
        assert Tensor([0.0]).log().data[0] == -np.inf
    with pytest.warns(RuntimeWarning, match="overflow"):
        Tensor([1e4]).exp()
    with pytest.warns(RuntimeWarning, match="divide by zero"):
        Tensor([0.0]).log()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "activation",
    [
        lambda x: x.softplus(),
        lambda x: x.softplus(beta=0.5, threshold=1e5),  # the log branch at +-1e4 too
        lambda x: x.gelu(),
        lambda x: x.gelu(approximate="tanh"),
        lambda x: x.leaky_relu(),
    ],
    ids=["softplus", "softplus-no-threshold", "gelu", "gelu-tanh", "leaky_relu"],
)
def test_smooth_activations_are_finite_and_exact_in_both_tails(strict, dtype, activation):
    x = Tensor(np.array(LARGE, dtype=dtype))
    y = activation(x)
    assert y.dtype == dtype
    assert np.all(np.isfinite(y.data))
    # like relu far from 0: x itself above, (almost) nothing below
    np.testing.assert_allclose(y.data[-2:], [100.0, 1e4], rtol=1e-6)
    assert abs(y.data[0]) <= 100.0 and abs(y.data[1]) <= 1.0
    y.sum().backward()
    assert x.grad.dtype == dtype
    assert np.all(np.isfinite(x.grad))
    np.testing.assert_allclose(x.grad[-2:], [1.0, 1.0], rtol=1e-6)


def test_gelu_and_softplus_keep_their_relative_accuracy_in_the_lower_tail():
    # gelu(-10) = -10 * Phi(-10) and softplus(-30) = log(1 + e**-30), both tiny: computed
    # without cancellation, not as 0 or a rounding error
    np.testing.assert_allclose(Tensor([-10.0]).gelu().data, [-10 * 7.619853024160527e-24])
    np.testing.assert_allclose(Tensor([-30.0]).softplus().data, [np.log1p(np.exp(-30.0))])
    u = np.sqrt(2 / np.pi) * (-6.0 + 0.044715 * -216.0)  # gelu('tanh') = x sigmoid(2 u)
    np.testing.assert_allclose(Tensor([-6.0]).gelu("tanh").data, [-6.0 / (1 + np.exp(-2 * u))])
