"""clip_grad_norm: the total norm against NumPy's, the scaling, PyTorch's edge cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from minigrad import Tensor
from minigrad.nn import MLP, SGD, clip_grad_norm, mse_loss

RNG = np.random.default_rng(0)


def tensors_with_grads(*shapes, scale=1.0, dtype=np.float64):
    out = []
    for shape in shapes:
        t = Tensor(np.zeros(shape, dtype=dtype))
        t.grad = (scale * RNG.normal(size=shape)).astype(dtype)
        out.append(t)
    return out


def flat(grads):
    return np.concatenate([np.ravel(g) for g in grads])


@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.0, 0.5, math.inf, "inf"])
def test_total_norm_is_numpys_norm_of_all_gradients(norm_type):
    params = tensors_with_grads((3, 4), (4,), (), (2, 0), (5, 1))
    grads = [p.grad.copy() for p in params]
    ord_ = math.inf if norm_type == "inf" else norm_type
    expected = (
        np.linalg.norm(flat(grads), ord=ord_)
        if ord_ >= 1
        else (np.sum(np.abs(flat(grads)) ** ord_) ** (1 / ord_))
    )
    total = clip_grad_norm(params, max_norm=1e9, norm_type=norm_type)
    assert type(total) is float
    assert total == pytest.approx(expected, rel=1e-13)
    for p, g in zip(params, grads, strict=True):  # far below max_norm: unchanged
        assert np.array_equal(p.grad, g)


@pytest.mark.parametrize("norm_type", [1.0, 2.0, math.inf])
def test_gradients_are_scaled_by_max_norm_over_total(norm_type):
    params = tensors_with_grads((3, 4), (4,), scale=10.0)
    grads = [p.grad.copy() for p in params]
    total = clip_grad_norm(params, max_norm=0.5, norm_type=norm_type)
    factor = 0.5 / (total + 1e-6)
    for p, g in zip(params, grads, strict=True):
        assert np.array_equal(p.grad, g * factor)
    # the new total is max_norm, up to the 1e-6 PyTorch adds
    new_total = np.linalg.norm(flat([p.grad for p in params]), ord=norm_type)
    assert new_total == pytest.approx(0.5, rel=1e-6)
    assert new_total < 0.5


def test_clipping_starts_where_pytorch_does():
    # PyTorch scales when max_norm / (total + 1e-6) < 1, which includes totals a hair
    # below max_norm; exactly at the threshold nothing changes.
    (p,) = tensors_with_grads((1,))
    p.grad = np.array([2.0])
    assert clip_grad_norm([p], max_norm=2.0) == 2.0
    assert p.grad[0] == 2.0 * 2.0 / (2.0 + 1e-6)
    p.grad = np.array([1.0])
    clip_grad_norm([p], max_norm=1.0 + 1e-6)
    assert p.grad[0] == 1.0


def test_gradients_never_computed_count_as_zeros():
    model = MLP(2, [4, 1], seed=0)
    unused = Tensor(np.ones(3))  # no backward pass ever reached it
    x = Tensor(RNG.normal(size=(8, 2)), requires_grad=False)
    mse_loss(model(x), np.full((8, 1), 10.0)).backward()
    params = [*model.parameters(), unused]
    expected = np.linalg.norm(flat([p.grad for p in model.parameters()]))
    assert clip_grad_norm(params, max_norm=1.0) == pytest.approx(expected, rel=1e-13)
    assert np.array_equal(unused.grad, np.zeros(3))
    assert clip_grad_norm([], max_norm=1.0) == 0.0
    assert clip_grad_norm([Tensor(np.ones(2))], max_norm=1.0) == 0.0


def test_the_callers_gradient_array_is_never_written_to():
    (p,) = tensors_with_grads((3,), scale=10.0)
    mine = p.grad
    kept = mine.copy()
    clip_grad_norm(p, max_norm=1.0)  # a single tensor is accepted too
    assert np.array_equal(mine, kept)
    assert p.grad is not mine
    assert np.linalg.norm(p.grad) == pytest.approx(1.0, rel=1e-5)


def test_clipped_gradients_accumulate_in_the_next_backward_pass():
    w = Tensor(np.array([3.0, 4.0]))
    (w * w).sum().backward()  # grad 2w = [6, 8], norm 10
    clip_grad_norm([w], max_norm=1.0)
    (w * w).sum().backward()
    assert w.grad == pytest.approx(np.array([0.6, 0.8]) + np.array([6.0, 8.0]), rel=1e-6)


def test_float32_gradients_stay_float32():
    params = tensors_with_grads((10,), (3, 3), scale=100.0, dtype=np.float32)
    expected = np.linalg.norm(flat([p.grad for p in params]).astype(np.float64))
    assert clip_grad_norm(params, max_norm=1.0) == pytest.approx(expected, rel=1e-12)
    assert all(p.grad.dtype == np.float32 for p in params)
    clipped = np.linalg.norm(flat([p.grad for p in params]).astype(np.float64))
    assert clipped == pytest.approx(1.0, rel=1e-5)


def test_a_generator_of_parameters_is_consumed_once():
    model = MLP(2, [3, 1], seed=0)
    for p in model.parameters():
        p.grad = np.full_like(p.data, 5.0)
    n = sum(p.data.size for p in model.parameters())
    assert clip_grad_norm((p for p in model.parameters()), max_norm=1.0) == pytest.approx(
        5.0 * math.sqrt(n)
    )
    assert np.linalg.norm(flat([p.grad for p in model.parameters()])) == pytest.approx(1.0, 1e-5)


def test_non_finite_norms_follow_pytorch():
    a, b = tensors_with_grads((2,), (2,))
    a.grad = np.array([np.inf, 1.0])
    b.grad = np.array([2.0, -3.0])
    assert clip_grad_norm([a, b], max_norm=1.0) == math.inf
    # factor 1 / inf = 0: finite gradients become 0, infinite ones 0 * inf = NaN
    assert np.isnan(a.grad[0]) and a.grad[1] == 0.0
    assert np.array_equal(b.grad, [0.0, 0.0])

    a.grad = np.array([np.nan, 1.0])
    b.grad = np.array([2.0, -3.0])
    assert math.isnan(clip_grad_norm([a, b], max_norm=1.0))
    assert np.isnan(a.grad).all() and np.isnan(b.grad).all()


def test_error_if_nonfinite_raises_and_changes_nothing():
    (a,) = tensors_with_grads((2,))
    a.grad = np.array([np.nan, 1.0])
    before = a.grad
    with pytest.raises(RuntimeError, match=r"total 2.0-norm of the gradients is nan"):
        clip_grad_norm([a], max_norm=1.0, error_if_nonfinite=True)
    assert a.grad is before
    a.grad = np.array([3.0, 4.0])
    assert clip_grad_norm([a], max_norm=1.0, error_if_nonfinite=True) == 5.0


def test_max_norm_zero_zeroes_and_infinite_max_norm_only_measures():
    (a,) = tensors_with_grads((3,))
    clip_grad_norm([a], max_norm=0)
    assert np.array_equal(a.grad, np.zeros(3))
    a.grad = np.array([3.0, 4.0, 0.0])
    assert clip_grad_norm([a], max_norm=math.inf) == 5.0
    assert np.array_equal(a.grad, [3.0, 4.0, 0.0])


def test_training_step_with_clipping():
    w = Tensor(np.array([10.0, -10.0]))
    opt = SGD([w], lr=1.0)
    opt.zero_grad()
    (w * w).sum().backward()
    clip_grad_norm([w], max_norm=1.0)
    opt.step()
    step = np.array([1.0, -1.0]) / math.sqrt(2)
    assert w.data == pytest.approx(np.array([10.0, -10.0]) - step, rel=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"max_norm": -1.0}, ValueError, "max_norm must be a non-negative number, got -1.0"),
        ({"max_norm": math.nan}, ValueError, "max_norm must be a non-negative number"),
        ({"max_norm": "1"}, ValueError, "max_norm must be a non-negative number"),
        ({"max_norm": True}, ValueError, "max_norm must be a non-negative number"),
        ({"max_norm": 1.0, "norm_type": 0}, ValueError, "norm_type must be a positive number"),
        ({"max_norm": 1.0, "norm_type": -2}, ValueError, "norm_type must be a positive number"),
        ({"max_norm": 1.0, "norm_type": "l2"}, ValueError, "norm_type must be a positive"),
    ],
)
def test_bad_arguments_are_refused(kwargs, error, message):
    with pytest.raises(error, match=message):
        clip_grad_norm(tensors_with_grads((2,)), **kwargs)


def test_parameters_must_be_tensors():
    with pytest.raises(TypeError, match="parameters must be a Tensor or an iterable of Tensors"):
        clip_grad_norm(3.0, max_norm=1.0)
    with pytest.raises(TypeError, match=r"parameters\[1\] is a ndarray, not a minigrad Tensor"):
        clip_grad_norm([Tensor([1.0]), np.ones(2)], max_norm=1.0)
