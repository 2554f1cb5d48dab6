"""The dtype policy: what Tensor() makes, and float32 staying float32 through a graph."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from minigrad import Tensor, concatenate, maximum, minimum, stack, where


@pytest.mark.parametrize(
    "data", [3, 2.5, True, [1, 2], [[True, False]], np.arange(3), np.array([1, 2], np.int8)]
)
def test_python_numbers_ints_and_bools_become_float64(data):
    t = Tensor(data)
    assert t.dtype == np.float64
    np.testing.assert_array_equal(t.data, np.asarray(data, dtype=np.float64))


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_floating_arrays_keep_their_dtype_without_a_copy(dtype):
    data = np.ones(3, dtype=dtype)
    t = Tensor(data)
    assert t.dtype == dtype
    assert t.data is data
    assert t.grad.dtype == dtype


def test_dtype_argument_forces_one():
    assert Tensor([1, 2], dtype=np.float32).dtype == np.float32
    assert Tensor(np.ones(2), dtype="float32").dtype == np.float32


def test_integer_dtype_is_refused():
    with pytest.raises(ValueError, match=r"floating-point dtype.*got int64"):
        Tensor([1, 2], dtype=np.int64)


def test_non_numbers_are_refused():
    with pytest.raises(TypeError, match="must be numbers"):
        Tensor(["a", "b"])
    with pytest.raises(TypeError, match="must be numbers"):
        Tensor([1 + 2j])


def f32(*shape):
    return Tensor(np.random.default_rng(len(shape)).uniform(0.5, 1.5, shape).astype(np.float32))


# Every op, with Python and NumPy float64 scalars mixed in: a float32 graph stays
# float32 (values and gradients) also under NumPy 1.x promotion rules, 0-d included.
OPS = {
    "scalars": lambda x: (2.0 * x + np.float64(1.5) - 1) / 3 ** (x * 0.5) - 2 / x,
    "numpy-scalars": lambda x: x * np.float64(2.0) + np.int64(1) - np.float64(0.5) ** x,
    "pow": lambda x: x**2 + x**0.5 + x ** np.float64(3),
    "unary": lambda x: x.exp() + x.log() + x.tanh() + x.relu() + x.sigmoid() + x.abs() - x,
    "clip": lambda x: x.clip(0.7, np.float64(1.2)),
    "sqrt-square-sin-cos": lambda x: x.sqrt() + x.square() + x.sin() + x.cos(),
    "activations": lambda x: x.leaky_relu(0.1) + x.gelu() + x.gelu("tanh") + x.softplus(2, 3),
    "maximum-minimum": lambda x: maximum(x, np.float64(1.0)) + minimum(1.2, x) + maximum(x, x),
    "reductions": lambda x: x.sum() + x.mean() + x.max(),
    "softmax": lambda x: x.reshape(1, -1).softmax() + x.reshape(1, -1).log_softmax(),
    "where": lambda x: where(x.data > 1, x, np.float64(2.0)),
    "concat-stack": lambda x: concatenate([x.reshape(-1), np.ones(2)]) * stack([x.sum(), 1.0])[0],
}


@pytest.mark.parametrize("shape", [(), (4,), (2, 3)])
@pytest.mark.parametrize("op", OPS.values(), ids=OPS.keys())
def test_float32_stays_float32_through_the_graph(op, shape):
    x = f32(*shape)
    y = op(x)
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32
    assert np.all(np.isfinite(x.grad))


def test_float32_matmul_layer():
    x, w, b = f32(5, 3), f32(3, 4), f32(4)
    loss = ((x @ w + b).tanh() ** 2).mean()
    assert loss.dtype == np.float32
    loss.backward()
    assert w.grad.dtype == np.float32 and b.grad.dtype == np.float32


def test_mixing_float32_and_float64_tensors_promotes_but_gradients_keep_each_dtype():
    a = Tensor(np.ones(3, dtype=np.float32))
    b = Tensor(np.full(3, 2.0))
    y = a * b
    assert y.dtype == np.float64
    y.sum().backward()
    assert a.grad.dtype == np.float32
    assert b.grad.dtype == np.float64
    np.testing.assert_array_equal(a.grad, [2.0, 2.0, 2.0])


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_python_scalars_of_any_size_keep_the_tensor_dtype(dtype):
    # NumPy 1.x would promote for a Python scalar beyond the array's range; NumPy 2 not.
    x = Tensor(np.array([1.0, -2.0], dtype=dtype))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the overflow, where there is one
        for y in (x * 1e300, 1e300 + x, x - 2**70, 1e300 - x, x / 1e-300, 1e300 / x, x * 3):
            assert y.dtype == dtype
            y.sum().backward()
            assert x.grad.dtype == dtype
    x.zero_grad()
    (x * 3 + 2).sum().backward()  # a Python int is a float here, not an integer array
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])
