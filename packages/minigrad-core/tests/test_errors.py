"""Errors a user can act on: the op, both shapes, what to do."""

from __future__ import annotations

import re

import numpy as np
import pytest

from minigrad import Tensor, concatenate, maximum, minimum, stack, where


@pytest.mark.parametrize(
    ("name", "op"),
    [
        ("add", lambda a, b: a + b),
        ("subtract", lambda a, b: a - b),
        ("multiply", lambda a, b: a * b),
        ("divide", lambda a, b: a / b),
        ("power", lambda a, b: a**b),
    ],
)
def test_broadcast_mismatch_names_the_op_and_both_shapes(name, op):
    a, b = Tensor(np.ones((2, 3))), Tensor(np.ones(4))
    with pytest.raises(ValueError, match=re.escape(f"{name}: shapes (2, 3) and (4,)")):
        op(a, b)
    with pytest.raises(ValueError, match=re.escape(f"{name}: shapes (2, 3) and (4,)")):
        op(a, np.ones(4))  # an array operand too


def test_broadcast_mismatch_with_array_on_the_left():
    with pytest.raises(ValueError, match=re.escape("subtract: shapes (4,) and (2, 3)")):
        np.ones(4) - Tensor(np.ones((2, 3)))


def test_matmul_mismatch_names_both_shapes_and_the_axes():
    with pytest.raises(ValueError, match=re.escape("matmul: shapes (2, 3) and (4, 5)")) as info:
        Tensor(np.ones((2, 3))) @ Tensor(np.ones((4, 5)))
    assert "(3)" in str(info.value) and "(4)" in str(info.value)
    with pytest.raises(ValueError, match=r"matmul: shapes \(\) and \(3,\).*use \*"):
        Tensor(2.0) @ Tensor(np.ones(3))


def test_concatenate_stack_where_name_the_shapes():
    a, b = Tensor(np.ones((2, 3))), Tensor(np.ones((2, 4)))
    with pytest.raises(ValueError, match=re.escape("concatenate: shapes (2, 3) and (2, 4)")):
        concatenate([a, b])
    with pytest.raises(ValueError, match=re.escape("stack: shapes (2, 3) and (2, 4)")):
        stack([a, b])
    with pytest.raises(ValueError, match=re.escape("where: shapes (5,) and (2, 3) and (2, 4)")):
        where(np.ones(5, dtype=bool), a, b)
    with pytest.raises(ValueError, match="at least one tensor"):
        concatenate([])


def test_reshape_and_transpose_errors():
    with pytest.raises(
        ValueError, match=re.escape("reshape: cannot reshape a tensor of shape (2, 3)")
    ):
        Tensor(np.ones((2, 3))).reshape(4, 2)
    with pytest.raises(ValueError, match="transpose: axes"):
        Tensor(np.ones((2, 3))).transpose(0, 0)


def test_unsupported_operands_raise_type_error():
    x = Tensor([1.0])
    with pytest.raises(TypeError):
        x + "a"
    with pytest.raises(TypeError):
        x * None
    with pytest.raises(TypeError):
        x * (1 + 2j)


def test_grad_assignment_of_the_wrong_shape():
    x = Tensor([1.0, 2.0])
    with pytest.raises(ValueError, match=r"grad must have the tensor's shape \(2,\)"):
        x.grad = np.zeros(3)


def test_clip_needs_a_bound_and_max_needs_elements():
    with pytest.raises(ValueError, match="clip: give at least one"):
        Tensor([1.0]).clip()
    with pytest.raises(ValueError, match="max: cannot take the maximum over an axis of length 0"):
        Tensor(np.ones((0, 2))).max()


@pytest.mark.parametrize(
    ("name", "call", "axis"),
    [
        ("sum", lambda x: x.sum(axis=3), "3"),
        ("sum", lambda x: x.sum(axis=(0, -3)), "(0, -3)"),
        ("mean", lambda x: x.mean(axis=2), "2"),
        ("max", lambda x: x.max(axis=-3), "-3"),
        ("softmax", lambda x: x.softmax(axis=5), "5"),
        ("log_softmax", lambda x: x.log_softmax(axis=2), "2"),
    ],
)
def test_axis_out_of_range_names_the_op_the_axis_and_the_shape(name, call, axis):
    message = f"{name}: axis {axis} is out of bounds for a tensor of shape (2, 3)"
    with pytest.raises(ValueError, match=re.escape(message)) as info:
        call(Tensor(np.ones((2, 3))))
    assert "valid axes are -2 to 1" in str(info.value)
    assert isinstance(info.value, IndexError)  # NumPy's AxisError, as NumPy raises


def test_repeated_axis_names_the_op():
    with pytest.raises(ValueError, match=re.escape("mean: invalid axis (0, 0)")):
        Tensor(np.ones((2, 3))).mean(axis=(0, 0))


def test_reducing_a_0d_tensor():
    with pytest.raises(ValueError, match=r"sum: axis 1 .* a 0-d tensor has no axes"):
        Tensor(2.0).sum(axis=1)
    assert Tensor(2.0).max(axis=0).item() == 2.0  # NumPy allows axis 0 of a 0-d array


def test_concatenate_and_stack_axis_out_of_range():
    a, b = Tensor(np.ones((2, 3))), Tensor(np.ones((2, 3)))
    message = "concatenate: axis 2 is out of bounds for a tensor of shape (2, 3)"
    with pytest.raises(ValueError, match=re.escape(message)):
        concatenate([a, b], axis=2)
    with pytest.raises(ValueError, match=r"stack: axis -4 .* the result has 3 axes"):
        stack([a, b], axis=-4)


def test_transpose_axis_out_of_range():
    with pytest.raises(ValueError, match=re.escape("transpose: axes (0, 5) are not a permutation")):
        Tensor(np.ones((2, 3))).transpose(0, 5)


def test_item_and_float_of_several_elements():
    with pytest.raises(ValueError, match=r"item: the tensor has 2 elements \(shape \(2,\)\)"):
        Tensor([1.0, 2.0]).item()
    with pytest.raises(TypeError, match=r"float\(\) of a tensor of shape \(2,\)"):
        float(Tensor([1.0, 2.0]))
    assert float(Tensor([[2.5]])) == 2.5


@pytest.mark.parametrize("data", [[[1.0, 2.0], [3.0]], [1.0, [2.0, 3.0]]])
@pytest.mark.parametrize("dtype", [None, np.float32])
def test_ragged_data_is_refused_with_a_short_message(data, dtype):
    with pytest.raises(
        ValueError, match="Tensor: data must be a rectangular array of numbers"
    ) as info:
        Tensor(data, dtype=dtype)
    assert "different lengths" in str(info.value)
    assert "inhomogeneous" not in str(info.value)


AXIS_OPS = {
    "sum": lambda x, axis: x.sum(axis=axis),
    "mean": lambda x, axis: x.mean(axis=axis),
    "max": lambda x, axis: x.max(axis=axis),
    "softmax": lambda x, axis: x.softmax(axis=axis),
    "log_softmax": lambda x, axis: x.log_softmax(axis=axis),
    "concatenate": lambda x, axis: concatenate([x, x], axis=axis),
    "stack": lambda x, axis: stack([x, x], axis=axis),
}


@pytest.mark.parametrize("name", AXIS_OPS)
@pytest.mark.parametrize("axis", [10**20, -(10**20), np.int64(7)])
def test_a_huge_axis_is_out_of_range_for_every_op_with_an_axis(name, axis):
    with pytest.raises(ValueError, match=rf"{name}: axis {axis} is out of bounds") as info:
        AXIS_OPS[name](Tensor(np.ones((2, 3))), axis)
    assert isinstance(info.value, IndexError)  # NumPy's AxisError, not OverflowError
    assert "(2, 3)" in str(info.value)


@pytest.mark.parametrize("name", AXIS_OPS)
@pytest.mark.parametrize("axis", [1.0, "0", True, (0, 1.5)])
def test_an_axis_that_is_not_an_int_is_a_type_error_naming_the_op(name, axis):
    if name in {"concatenate", "stack"} and isinstance(axis, tuple):
        axis = [0.5]
    message = rf"{name}: axis must be .*int.*got {re.escape(repr(axis))}"
    with pytest.raises(TypeError, match=message):
        AXIS_OPS[name](Tensor(np.ones((2, 3))), axis)


def test_concatenate_with_axis_none_flattens_and_sends_gradients_back():
    a, b = Tensor(np.ones((2, 3))), Tensor(np.ones(2))
    out = concatenate([a, b], axis=None)
    assert out.shape == (8,)
    (out * np.arange(8.0)).sum().backward()
    np.testing.assert_array_equal(a.grad, np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(b.grad, [6.0, 7.0])


def test_linear_takes_a_plain_array_weight_as_a_constant():
    x = Tensor(np.ones((4, 2)))
    out = x.linear(np.full((2, 3), 2.0), np.ones(3), "relu")
    out.sum().backward()
    np.testing.assert_array_equal(out.data, np.full((4, 3), 5.0))
    np.testing.assert_array_equal(x.grad, np.full((4, 2), 6.0))
    with pytest.raises(ValueError, match=r"linear: shapes \(4, 2\) and \(3, 3\)"):
        x.linear(np.ones((3, 3)))


def test_define_op_refuses_a_rule_that_does_not_return_one_gradient_per_input():
    from minigrad import define_op

    single = define_op("single", lambda a: (a * 2, None), lambda g, saved: g * 2)
    pair = define_op("pair", lambda a: (a * 2, None), lambda g, saved: (g, g))
    x = Tensor([1.0, 2.0])
    with pytest.raises(TypeError, match=r"single: .* one gradient per input \(1 here.*got ndarray"):
        single(x).sum().backward()
    with pytest.raises(TypeError, match=r"pair: .* got tuple of length 2"):
        pair(x).sum().backward()


def test_define_op_sums_a_broadcast_gradient_back_and_treats_arrays_as_constants():
    from minigrad import define_op, gradcheck

    scaled_add = define_op("scaled_add", lambda a, b: (a + 2 * b, None), lambda g, s: (g, 2 * g))
    a, b = Tensor(np.ones((3, 2))), Tensor(np.ones(2))
    assert gradcheck(scaled_add, a, b)
    out = scaled_add(a, np.ones(2))  # the array is a constant
    out.sum().backward()
    np.testing.assert_array_equal(a.grad, np.ones((3, 2)))


def test_maximum_and_minimum_name_the_shapes():
    a = Tensor(np.ones((2, 3)))
    for name, fn in (("maximum", maximum), ("minimum", minimum)):
        with pytest.raises(ValueError, match=re.escape(f"{name}: shapes (2, 3) and (4,)")):
            fn(a, np.ones(4))


def test_activation_arguments_are_checked_naming_the_op():
    x = Tensor([1.0, -1.0])
    with pytest.raises(ValueError, match=r"gelu: approximate must be 'none' .* 'tanh', got 'foo'"):
        x.gelu(approximate="foo")
    with pytest.raises(TypeError, match="leaky_relu: negative_slope must be a real number"):
        x.leaky_relu("0.1")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="softplus: beta must be a real number, got None"):
        x.softplus(beta=None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="softplus: threshold must be a real number"):
        x.softplus(threshold=[20.0])  # type: ignore[arg-type]
