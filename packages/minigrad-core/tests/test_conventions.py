"""Exact gradient values at the points where a convention decides (PyTorch's)."""

from __future__ import annotations

import numpy as np

from minigrad import Tensor, maximum, minimum


def grad_of(fn, values):
    x = Tensor(values)
    fn(x).sum().backward()
    return x.grad


def test_relu_gradient_is_zero_at_zero():
    np.testing.assert_array_equal(grad_of(Tensor.relu, [-1.0, 0.0, 2.0]), [0.0, 0.0, 1.0])


def test_abs_gradient_is_zero_at_zero():
    np.testing.assert_array_equal(grad_of(Tensor.abs, [-3.0, 0.0, 2.0]), [-1.0, 0.0, 1.0])


def test_clip_passes_gradient_one_at_its_bounds():
    g = grad_of(lambda x: x.clip(-1.0, 1.0), [-2.0, -1.0, 0.0, 1.0, 2.0])
    np.testing.assert_array_equal(g, [0.0, 1.0, 1.0, 1.0, 0.0])


def test_clip_with_one_bound():
    np.testing.assert_array_equal(grad_of(lambda x: x.clip(lo=0.0), [-1.0, 0.0, 1.0]), [0, 1, 1])
    np.testing.assert_array_equal(grad_of(lambda x: x.clip(hi=0.0), [-1.0, 0.0, 1.0]), [1, 1, 0])


def test_full_max_splits_gradient_evenly_between_ties():
    g = grad_of(Tensor.max, [[1.0, 3.0], [3.0, 3.0]])
    np.testing.assert_array_equal(g, [[0.0, 1 / 3], [1 / 3, 1 / 3]])


def test_axis_max_splits_gradient_evenly_between_ties_in_each_slice():
    g = grad_of(lambda x: x.max(axis=1), [[2.0, 2.0, 1.0], [0.0, 5.0, 4.0]])
    np.testing.assert_array_equal(g, [[0.5, 0.5, 0.0], [0.0, 1.0, 0.0]])
    g = grad_of(lambda x: x.max(axis=0, keepdims=True), [[2.0, 7.0], [2.0, 1.0]])
    np.testing.assert_array_equal(g, [[0.5, 1.0], [0.5, 0.0]])


def test_power_zero_has_gradient_zero_everywhere_including_zero():
    g = grad_of(lambda x: x**0, [0.0, 2.0, -3.0])
    np.testing.assert_array_equal(g, [0.0, 0.0, 0.0])
    assert np.all(np.isfinite(g))


def test_tensor_power_zero_exponent_gradient_is_zero_at_zero_base():
    x = Tensor([0.0, 2.0])
    y = Tensor([0.0, 0.0])
    (x**y).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])
    # d(x**y)/dy = x**y * log(x): 0 at x = 0 (y >= 0), log(2) at x = 2
    np.testing.assert_allclose(y.grad, [0.0, np.log(2.0)])


def test_documented_rules_of_the_original_api():
    rng = np.random.default_rng(1)
    a_val, b_val, g = rng.standard_normal((3, 4)), rng.standard_normal((4, 2)), rng.random((3, 2))
    a, b = Tensor(a_val), Tensor(b_val)
    (a @ b).backward(g)
    np.testing.assert_allclose(a.grad, g @ b_val.T)
    np.testing.assert_allclose(b.grad, a_val.T @ g)

    x_val = np.array([-1.5, 0.3, 2.0])
    t = np.tanh(x_val)
    np.testing.assert_allclose(grad_of(Tensor.tanh, x_val), 1 - t**2)
    s = 1 / (1 + np.exp(-x_val))
    np.testing.assert_allclose(grad_of(Tensor.sigmoid, x_val), s * (1 - s))


def test_broadcast_gradient_is_summed_back_to_the_operand_shape():
    a = Tensor(np.ones((2, 3)))
    b = Tensor([10.0, 20.0, 30.0])
    c = Tensor(5.0)
    (a * b * c).sum().backward()
    np.testing.assert_array_equal(b.grad, [10.0, 10.0, 10.0])
    np.testing.assert_array_equal(a.grad, [[50.0, 100.0, 150.0]] * 2)
    assert c.grad.shape == ()
    assert c.grad == 120.0  # sum(a * b) = 2 * (10 + 20 + 30)


def test_repeated_integer_indices_accumulate():
    x = Tensor([1.0, 2.0, 3.0])
    x[[2, 2, 0, 2]].sum().backward()
    np.testing.assert_array_equal(x.grad, [1.0, 0.0, 3.0])


def test_mean_gradient_is_one_over_count():
    g = grad_of(lambda x: x.mean(axis=0), np.zeros((4, 2)))
    np.testing.assert_array_equal(g, np.full((4, 2), 0.25))


def test_softmax_rows_sum_to_one_and_gradient_of_their_sum_is_zero():
    x = Tensor([[1.0, 2.0, 3.0], [-1.0, 0.0, 5.0]])
    s = x.softmax()
    np.testing.assert_allclose(s.data.sum(axis=1), 1.0)
    s.sum().backward()
    np.testing.assert_allclose(x.grad, 0.0, atol=1e-15)


def test_maximum_and_minimum_split_the_gradient_evenly_between_ties():
    # torch.maximum / torch.minimum: g / 2 to each of two equal operands
    a, b = Tensor([1.0, 2.0, 3.0]), Tensor([3.0, 2.0, 1.0])
    maximum(a, b).backward(np.array([1.0, 2.0, 4.0]))
    np.testing.assert_array_equal(a.grad, [0.0, 1.0, 4.0])
    np.testing.assert_array_equal(b.grad, [1.0, 1.0, 0.0])
    a, b = Tensor([1.0, 2.0, 3.0]), Tensor([3.0, 2.0, 1.0])
    minimum(a, b).backward(np.array([1.0, 2.0, 4.0]))
    np.testing.assert_array_equal(a.grad, [1.0, 1.0, 0.0])
    np.testing.assert_array_equal(b.grad, [0.0, 1.0, 4.0])


def test_maximum_ties_under_broadcasting_and_with_constants():
    a = Tensor([[0.0, 1.0, 2.0]])
    b = Tensor([[1.0], [2.0]])
    maximum(a, b).sum().backward()
    # row b = 1: b wins, tie, a wins; row b = 2: b wins, b wins, tie
    np.testing.assert_array_equal(a.grad, [[0.0, 0.5, 1.5]])
    np.testing.assert_array_equal(b.grad, [[1.5], [2.5]])
    np.testing.assert_array_equal(grad_of(lambda x: minimum(x, 0.0), [-1.0, 0.0, 1.0]), [1, 0.5, 0])
    np.testing.assert_array_equal(grad_of(lambda x: maximum(0.0, x), [-1.0, 0.0, 1.0]), [0, 0.5, 1])


def test_maximum_of_a_tensor_with_itself_passes_the_whole_gradient():
    np.testing.assert_array_equal(grad_of(lambda x: maximum(x, x), [-1.0, 2.0]), [1.0, 1.0])
    np.testing.assert_array_equal(grad_of(lambda x: minimum(x, x), [-1.0, 2.0]), [1.0, 1.0])


def test_leaky_relu_gradient_at_zero_is_the_negative_slope():
    g = grad_of(lambda x: x.leaky_relu(0.2), [-1.0, 0.0, 2.0])
    np.testing.assert_allclose(g, [0.2, 0.2, 1.0], rtol=1e-15)
    np.testing.assert_allclose(grad_of(Tensor.leaky_relu, [0.0]), [0.01], rtol=1e-15)


def test_sqrt_is_nan_below_zero_and_its_gradient_inf_at_zero_silently():
    x = Tensor([-1.0, 0.0, 4.0])  # (warnings are errors in the test run)
    y = x.sqrt()
    np.testing.assert_array_equal(y.data, [np.nan, 0.0, 2.0])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [np.nan, np.inf, 0.25])


def test_softplus_is_linear_strictly_above_its_threshold():
    x = Tensor([10.0, 10.5])
    y = x.softplus(beta=2.0, threshold=20.0)  # beta * x = 20 (not above it) and 21
    np.testing.assert_allclose(y.data, [10.0 + np.log1p(np.exp(-20.0)) / 2, 10.5], rtol=1e-15)
    y.sum().backward()
    np.testing.assert_allclose(x.grad, [1 / (1 + np.exp(-20.0)), 1.0], rtol=1e-15)
