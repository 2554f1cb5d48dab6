"""The Tensor's attributes and helpers, and the original API's snippets."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

import minigrad
from minigrad import Tensor


def test_original_api_snippets():
    x = Tensor([1.0, 2.0, 3.0])
    assert isinstance(x.data, np.ndarray)
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 0.0])
    assert x.shape == (3,)
    assert Tensor(5.0).shape == ()
    assert Tensor([[1.0, 2.0], [3.0, 4.0]]).reshape(4, 1).T.shape == (1, 4)


def test_original_training_loop_on_raw_arrays():
    rng = np.random.default_rng(0)
    inputs = rng.standard_normal((32, 2))
    y = (inputs[:, :1] - 2 * inputs[:, 1:]) * 0.5
    w = Tensor(rng.standard_normal((2, 1)) * 0.1)
    b = Tensor(np.zeros(1))
    losses = []
    for _ in range(100):
        loss = ((Tensor(inputs) @ w + b - Tensor(y)) ** 2).mean()
        for p in (w, b):
            p.grad = np.zeros_like(p.data)
        loss.backward()
        for p in (w, b):
            p.data += -0.1 * p.grad
        losses.append(loss.item())
    assert losses[-1] < 1e-3 * losses[0]
    np.testing.assert_allclose(w.data.ravel(), [0.5, -1.0], atol=1e-2)


def test_attributes():
    t = Tensor(np.arange(6.0).reshape(2, 3))
    assert (t.shape, t.ndim, t.size, t.dtype) == ((2, 3), 2, 6, np.float64)
    assert t.T.shape == (3, 2)
    assert t.requires_grad
    assert len(t) == 2
    assert t.numpy() is t.data
    assert Tensor([2.5]).item() == 2.5
    assert isinstance(Tensor(2.5).item(), float)
    assert float(Tensor(1.5)) == 1.5
    assert np.asarray(t) is t.data
    with pytest.raises(ValueError):
        t.item()


def test_grad_reads_as_zeros_of_the_same_shape_and_dtype():
    t = Tensor(np.ones((2, 2), dtype=np.float32))
    g = t.grad
    assert g.shape == (2, 2) and g.dtype == np.float32 and not g.any()
    g += 1  # reading allocated it: in-place changes stick, as with an assigned array
    np.testing.assert_array_equal(t.grad, np.ones((2, 2)))


def test_repr_shows_data_and_grad_flag():
    assert repr(Tensor([1.0, 2.0])) == "Tensor([1., 2.], requires_grad=True)"
    r = repr(Tensor(np.ones((2, 2), dtype=np.float32), requires_grad=False))
    assert r == "Tensor([[1., 1.],\n        [1., 1.]], dtype=float32, requires_grad=False)"


def test_tensor_from_tensor_shares_data():
    a = Tensor([1.0, 2.0])
    b = Tensor(a, requires_grad=False)
    assert b.data is a.data and not b.requires_grad


@pytest.mark.parametrize(
    ("call", "shape"),
    [
        (lambda t: t.reshape(3, 8), (3, 8)),
        (lambda t: t.reshape((6, 4)), (6, 4)),
        (lambda t: t.reshape([-1]), (24,)),
        (lambda t: t.reshape(-1, 2), (12, 2)),
        (lambda t: t.transpose(), (4, 3, 2)),
        (lambda t: t.transpose(1, 0, 2), (3, 2, 4)),
        (lambda t: t.transpose((2, 0, 1)), (4, 2, 3)),
        (lambda t: t.transpose([0, -1, 1]), (2, 4, 3)),
        (lambda t: t[0], (3, 4)),
        (lambda t: t[:, 1:, ::2], (2, 2, 2)),
        (lambda t: t[..., None], (2, 3, 4, 1)),
        (lambda t: t[[1, 1, 0]], (3, 3, 4)),
        (lambda t: t[t.data > 10], (13,)),
        (lambda t: t[0, 0, 0], ()),
    ],
)
def test_shape_operations(call, shape):
    t = Tensor(np.arange(24.0).reshape(2, 3, 4))
    out = call(t)
    assert out.shape == shape
    assert isinstance(out.data, np.ndarray)
    out.sum().backward()
    assert t.grad.shape == t.shape


def test_scalar_results_are_0d_arrays():
    t = Tensor(np.arange(3.0))
    for out in (t.sum(), t.mean(), t.max(), t[1], Tensor(2.0) * Tensor(3.0), Tensor(1.0).exp()):
        assert isinstance(out.data, np.ndarray)
        assert out.shape == ()


def test_numpy_on_the_left_of_an_operator():
    t = Tensor([1.0, 2.0])
    for out in (np.ones(2) + t, np.float64(2.0) * t, np.ones(2) - t, np.ones(2) / t, np.eye(2) @ t):
        assert isinstance(out, Tensor)
        assert out.requires_grad


def test_results_of_operations_with_constants():
    t = Tensor([1.0, 2.0, 4.0])
    np.testing.assert_array_equal((2 - t).data, [1.0, 0.0, -2.0])
    np.testing.assert_array_equal((8 / t).data, [8.0, 4.0, 2.0])
    np.testing.assert_array_equal((2**t).data, [2.0, 4.0, 16.0])
    np.testing.assert_array_equal((t**2).data, [1.0, 4.0, 16.0])


def test_subclasses_work_on_either_side():
    class Parameter(Tensor):
        __slots__ = ()

    p = Parameter([1.0, 2.0])
    t = Tensor([3.0, 5.0])
    for out in (t - p, p - t, t / p, p**t, t @ p, p * t):
        assert type(out) is Tensor
    (t - p).sum().backward()
    np.testing.assert_array_equal(p.grad, [-1.0, -1.0])
    np.testing.assert_array_equal((t / p).data, [3.0, 2.5])


@pytest.mark.parametrize(("value", "expected"), [(0.0, False), (2.0, True), ([0.0], False)])
def test_truth_value_of_one_element_is_its_value(value, expected):
    assert bool(Tensor(value)) is expected
    assert bool(Tensor([[value]] if not isinstance(value, list) else [value])) is expected


@pytest.mark.parametrize("shape", [(2,), (0,), (2, 2)])
def test_truth_value_of_other_tensors_is_ambiguous(shape):
    with pytest.raises(ValueError, match=r"truth value of a Tensor .* is ambiguous.*\.any\(\)"):
        bool(Tensor(np.ones(shape)))
    with pytest.raises(ValueError, match="ambiguous"):
        if Tensor(np.zeros(shape)):
            pass


def test_len_counts_the_first_axis_and_refuses_0d():
    assert len(Tensor(np.ones((3, 2)))) == 3
    with pytest.raises(TypeError, match=r"len\(\) of a 0-d tensor"):
        len(Tensor(1.0))


def test_iteration_gives_rows_with_gradients_and_refuses_0d():
    x = Tensor(np.arange(6.0).reshape(3, 2))
    rows = list(x)
    assert [r.data.tolist() for r in rows] == [[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]]
    (rows[0] * 2 + rows[2]).sum().backward()
    assert x.grad.tolist() == [[2.0, 2.0], [0.0, 0.0], [1.0, 1.0]]
    with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
        list(Tensor(1.0))


def test_equality_is_identity_and_tensors_are_hashable():
    a, b = Tensor([1.0]), Tensor([1.0])
    assert a == a and a != b  # compare values through .data
    assert len({a, b, a}) == 2
    assert {a: 1}[a] == 1


def test_public_names_show_the_public_module():
    names = ["Tensor", "GradcheckError", "gradcheck", "no_grad", "is_grad_enabled"]
    for name in [*names, "concatenate", "stack", "where"]:
        obj = getattr(minigrad, name)
        assert obj.__module__ == "minigrad"
        assert pickle.loads(pickle.dumps(obj)) is obj  # pickled by reference, found there
    assert repr(Tensor) == "<class 'minigrad.Tensor'>"


def test_pickle_and_copy_of_a_tensor():
    x = Tensor(np.arange(3.0, dtype=np.float32), requires_grad=False)
    for y in (pickle.loads(pickle.dumps(x)), copy.copy(x), copy.deepcopy(x)):
        assert type(y) is Tensor and y is not x
        assert y.dtype == np.float32 and y.requires_grad is False
        np.testing.assert_array_equal(y.data, x.data)
    assert copy.deepcopy(x).data is not x.data
