"""Losses: values by hand, gradients by gradcheck, stability at +-1e4, argument checks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from minigrad import Tensor, gradcheck
from minigrad.nn import binary_cross_entropy_with_logits, cross_entropy, mse_loss

REDUCTIONS = ["mean", "sum", "none"]


def const(x, dtype=float):
    return Tensor(np.asarray(x, dtype=dtype), requires_grad=False)


# ------------------------------------------------------------------- mse_loss


def test_mse_values_by_hand():
    pred, target = Tensor([1.0, 2.0, 3.0]), [0.0, 4.0, 3.0]  # squared errors 1, 4, 0
    assert mse_loss(pred, target).item() == pytest.approx(5 / 3)
    assert mse_loss(pred, target, reduction="sum").item() == 5.0
    np.testing.assert_array_equal(mse_loss(pred, target, "none").data, [1.0, 4.0, 0.0])
    assert mse_loss(pred, 2.0).item() == pytest.approx(2 / 3)  # a scalar target broadcasts


def test_mse_gradient_by_hand():
    pred = Tensor([[1.0], [3.0]])
    mse_loss(pred, np.array([[0.0], [1.0]])).backward()
    np.testing.assert_allclose(pred.grad, [[1.0], [2.0]])  # 2 * (pred - target) / n


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse_gradcheck(reduction):
    rng = np.random.default_rng(0)
    pred, target = Tensor(rng.normal(size=(4, 3))), Tensor(rng.normal(size=(4, 3)))
    assert gradcheck(lambda p, t: mse_loss(p, t, reduction), pred, target)


def test_mse_refuses_silent_broadcasting():
    with pytest.raises(ValueError, match=r"target has shape \(5,\).*input's shape \(5, 1\)"):
        mse_loss(Tensor(np.zeros((5, 1))), np.zeros(5))


# ------------------------------------------------------------------- BCE with logits


def bce_by_hand(x, y):
    p = 1 / (1 + math.exp(-x))
    return -(y * math.log(p) + (1 - y) * math.log(1 - p))


def test_bce_values_by_hand():
    xs, ys = [0.0, 2.0, -1.5, 0.3], [1.0, 0.0, 0.25, 1.0]
    expected = [bce_by_hand(x, y) for x, y in zip(xs, ys, strict=True)]
    assert expected[0] == pytest.approx(math.log(2))
    out = binary_cross_entropy_with_logits(Tensor(xs), ys, reduction="none")
    np.testing.assert_allclose(out.data, expected, rtol=1e-12)
    total = binary_cross_entropy_with_logits(Tensor(xs), ys, reduction="sum").item()
    assert total == pytest.approx(sum(expected), rel=1e-12)
    assert binary_cross_entropy_with_logits(Tensor(xs), ys).item() == pytest.approx(
        sum(expected) / 4, rel=1e-12
    )


def test_bce_gradient_is_exact_at_zero():
    x = Tensor([0.0, 0.0, 0.0])
    binary_cross_entropy_with_logits(x, [1.0, 0.0, 0.5], reduction="sum").backward()
    np.testing.assert_array_equal(x.grad, [-0.5, 0.5, 0.0])  # sigmoid(0) - y


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_gradcheck(reduction):
    rng = np.random.default_rng(1)
    x = Tensor(rng.normal(scale=3, size=(5, 2)))
    y = Tensor(rng.uniform(size=(5, 2)))
    assert gradcheck(lambda a, b: binary_cross_entropy_with_logits(a, b, reduction), x, y)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_is_stable_for_huge_logits(dtype):
    # filterwarnings=error: an overflow warning would fail the test
    x = Tensor(np.array([1e4, -1e4, 1e4, -1e4], dtype=dtype))
    y = np.array([0.0, 1.0, 1.0, 0.0])
    loss = binary_cross_entropy_with_logits(x, y, reduction="none")
    assert loss.data.dtype == dtype
    np.testing.assert_allclose(loss.data, [1e4, 1e4, 0.0, 0.0])
    loss.sum().backward()
    assert x.grad.dtype == dtype
    np.testing.assert_array_equal(x.grad, [1.0, -1.0, 0.0, 0.0])  # sigmoid(x) - y


def test_bce_keeps_float32():
    x = Tensor(np.array([0.5, -0.5], dtype=np.float32))
    loss = binary_cross_entropy_with_logits(x, [1.0, 0.0])
    assert loss.data.dtype == np.float32
    loss.backward()
    assert x.grad.dtype == np.float32


# ------------------------------------------------------------------- cross_entropy


def test_cross_entropy_values_by_hand():
    # -log softmax([1, 2, 3])[2] = log(e + e^2 + e^3) - 3
    row = [1.0, 2.0, 3.0]
    by_hand = math.log(sum(math.exp(v) for v in row)) - 3.0
    logits = Tensor([row, [0.0, 0.0, 0.0]])
    out = cross_entropy(logits, np.array([2, 1]), reduction="none")
    np.testing.assert_allclose(out.data, [by_hand, math.log(3)], rtol=1e-12)
    assert cross_entropy(logits, np.array([2, 1])).item() == pytest.approx(
        (by_hand + math.log(3)) / 2, rel=1e-12
    )
    assert cross_entropy(logits, [2, 1], reduction="sum").item() == pytest.approx(
        by_hand + math.log(3), rel=1e-12
    )


def test_cross_entropy_gradient_is_softmax_minus_onehot():
    rng = np.random.default_rng(2)
    z = rng.normal(size=(6, 4))
    labels = np.array([0, 3, 3, 1, 2, 0])
    logits = Tensor(z)
    cross_entropy(logits, labels).backward()
    softmax = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(logits.grad, (softmax - np.eye(4)[labels]) / 6, rtol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(5,), (4, 5), (2, 3, 5)])
def test_cross_entropy_gradcheck(reduction, shape):
    rng = np.random.default_rng(3)
    logits = Tensor(rng.normal(size=shape))
    labels = rng.integers(0, shape[-1], size=shape[:-1])
    out = cross_entropy(logits, labels, "none")
    assert out.shape == shape[:-1]
    assert gradcheck(lambda z: cross_entropy(z, labels, reduction), logits)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_is_stable_for_huge_logits(dtype):
    logits = Tensor(np.array([[1e4, 0.0], [0.0, 1e4], [-1e4, 1e4]], dtype=dtype))
    loss = cross_entropy(logits, np.array([0, 0, 1]), reduction="none")
    assert loss.data.dtype == dtype
    np.testing.assert_allclose(loss.data, [0.0, 1e4, 0.0])
    loss.sum().backward()
    np.testing.assert_array_equal(logits.grad, [[0.0, 0.0], [-1.0, 1.0], [0.0, 0.0]])  # p - onehot


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (np.array([0.0, 1.0]), r"integer class labels, got dtype float64; convert"),
        (np.array(["a", "b"]), "integer class labels, got dtype <U1"),
        (np.array([0, 3]), r"label 3 is outside \[0, 3\)"),
        (np.array([-1, 0]), r"label -1 is outside \[0, 3\)"),
        (np.array([0, 1, 2]), r"target has shape \(3,\), expected \(2,\)"),
        (np.array([[0], [1]]), r"target has shape \(2, 1\), expected \(2,\)"),
        (Tensor([0.0, 1.5]), r"target tensor must hold whole numbers .*got the value 1\.5"),
        (Tensor([0.0, np.nan]), r"target tensor must hold whole numbers .*got the value nan"),
        (Tensor([0.0, 3.0]), r"label 3 is outside \[0, 3\)"),
        (Tensor([-1.0, 0.0]), r"label -1 is outside \[0, 3\)"),
        (Tensor([0.0, 1.0, 2.0]), r"target has shape \(3,\), expected \(2,\)"),
    ],
)
def test_cross_entropy_refuses_bad_labels(labels, message):
    with pytest.raises(ValueError, match=message):
        cross_entropy(Tensor(np.zeros((2, 3))), labels)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_takes_labels_in_a_tensor(dtype):
    rng = np.random.default_rng(4)
    logits = rng.normal(size=(5, 3)).astype(dtype)
    labels = np.array([2, 0, 1, 1, 2])
    a, b = Tensor(logits), Tensor(logits)
    from_array = cross_entropy(a, labels)
    from_tensor = cross_entropy(b, Tensor(labels.astype(dtype), requires_grad=False))
    assert from_tensor.dtype == dtype
    assert from_tensor.item() == from_array.item()
    from_array.backward()
    from_tensor.backward()
    np.testing.assert_array_equal(b.grad, a.grad)


def test_cross_entropy_refuses_scalar_input():
    with pytest.raises(ValueError, match="must have a class axis"):
        cross_entropy(Tensor(1.0), np.array(0))


@pytest.mark.parametrize("loss", [mse_loss, binary_cross_entropy_with_logits])
def test_unknown_reduction_is_refused(loss):
    with pytest.raises(ValueError, match="reduction must be 'mean', 'sum' or 'none', got 'avg'"):
        loss(Tensor([0.0]), [0.0], reduction="avg")
    with pytest.raises(ValueError, match="reduction must be"):
        cross_entropy(Tensor([[0.0, 1.0]]), [0], reduction="max")


def test_losses_accept_constant_inputs():
    # no gradient wanted: plain arrays and no-grad tensors work and record nothing
    assert mse_loss(np.array([1.0]), [0.0]).item() == 1.0
    out = binary_cross_entropy_with_logits(const([0.0]), [1.0])
    assert not out.requires_grad
