"""Tensor.linear: the composed operations' values and gradients, in one array."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from minigrad import Tensor

ACTIVATIONS = {
    None: lambda z: z,
    "linear": lambda z: z,
    "relu": Tensor.relu,
    "tanh": Tensor.tanh,
    "sigmoid": Tensor.sigmoid,
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("activation", list(ACTIVATIONS))
@pytest.mark.parametrize("x_shape", [(6, 3), (3,), (2, 4, 3)])
def test_linear_equals_the_composed_operations(x_shape, activation, dtype):
    rng = np.random.default_rng(3)
    values = [rng.standard_normal(s).astype(dtype) for s in (x_shape, (3, 5), (5,))]
    weights = rng.standard_normal((*x_shape[:-1], 5))

    fused = [Tensor(v) for v in values]
    out = fused[0].linear(fused[1], fused[2], activation)
    composed = [Tensor(v) for v in values]
    ref = ACTIVATIONS[activation](composed[0] @ composed[1] + composed[2])

    assert out.dtype == ref.dtype == dtype
    np.testing.assert_allclose(out.data, ref.data, rtol=1e-6)
    out.backward(weights.astype(dtype))
    ref.backward(weights.astype(dtype))
    for a, b in zip(fused, composed, strict=True):
        assert a.grad.dtype == dtype
        np.testing.assert_allclose(a.grad, b.grad, rtol=1e-5, atol=1e-6)


def test_linear_without_bias_and_with_constant_input():
    x = Tensor(np.ones((4, 2)), requires_grad=False)
    w = Tensor([[1.0, 2.0], [3.0, 4.0]])
    out = x.linear(w)
    np.testing.assert_array_equal(out.data, np.tile([4.0, 6.0], (4, 1)))
    out.sum().backward()
    np.testing.assert_array_equal(w.grad, np.full((2, 2), 4.0))
    np.testing.assert_array_equal(x.grad, 0.0)


def test_linear_errors_name_the_shapes():
    x, w = Tensor(np.ones((4, 3))), Tensor(np.ones((2, 5)))
    with pytest.raises(ValueError, match=r"linear: shapes \(4, 3\) and \(2, 5\)"):
        x.linear(w)
    with pytest.raises(ValueError, match=r"linear: shapes \(3, 5\) and \(4,\)"):
        x.linear(Tensor(np.ones((3, 5))), Tensor(np.ones(4)))
    with pytest.raises(ValueError, match="unknown activation 'gelu'"):
        x.linear(Tensor(np.ones((3, 5))), activation="gelu")


def graph_bytes(build):
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((512, 64)), requires_grad=False)
    w1, w2 = Tensor(rng.standard_normal((64, 256))), Tensor(rng.standard_normal((256, 8)))
    b1, b2 = Tensor(np.zeros(256)), Tensor(np.zeros(8))
    tracemalloc.start()
    try:
        start, _ = tracemalloc.get_traced_memory()
        loss = build(x, w1, b1, w2, b2)
        held, _ = tracemalloc.get_traced_memory()
        loss.backward()
    finally:
        tracemalloc.stop()
    return held - start


def test_linear_keeps_one_activation_per_layer():
    hidden = 512 * 256 * 8  # one (512, 256) float64 activation

    def composed(x, w1, b1, w2, b2):
        return ((x @ w1 + b1).relu() @ w2 + b2).sum()

    def fused(x, w1, b1, w2, b2):
        return x.linear(w1, b1, "relu").linear(w2, b2).sum()

    assert graph_bytes(composed) > 2.9 * hidden  # x @ w1, + b1 and relu each keep one
    assert graph_bytes(fused) < 1.2 * hidden
