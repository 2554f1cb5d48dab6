"""The gradient rules: one vector-Jacobian product per operation, collected in `RULES`.

A rule is a plain function ``rule(g, saved, inputs) -> grads``. It receives ``g``, the
gradient of the operation's result, whatever the forward pass saved for it, and the
operation's input tensors (to see which require a gradient); it returns one gradient
per input, or ``None`` for an input that needs none. A constant operand (``x * 2``)
stands in ``inputs`` as `minigrad._tensor.CONSTANT`, which never requires a gradient.

What a rule does not do, because `minigrad._graph` does it for every rule once: sum a
gradient back over the axes along which its input was broadcast, cast it to the
input's dtype, and add it to what the input already received. A rule returns either
an array of its input's shape or one of the broadcast result's shape; a reduction
broadcasts its gradient back itself (`broadcast_to_shape`). Rules compute on plain
arrays, never on tensors, and never refer to the node they belong to.

The rules follow the order of the table of operations in the README. The activations'
derivatives are written once, as functions of the activation's output, in `SLOPES`:
the plain ops, `Tensor.linear` and the in-place variants below all use them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from minigrad._shapes import broadcast_to_shape, column_sums, is_basic_index
from minigrad._shapes import restore_reduced_axes as _restore

if TYPE_CHECKING:
    from minigrad._tensor import Tensor

Array = npt.NDArray[Any]
Grads = tuple[Array | None, ...]
Inputs = tuple["Tensor", ...]
Rule = Callable[[Array, Any, Inputs], Grads]

# -- arithmetic ----------------------------------------------------------------------


def add(g: Array, saved: None, inputs: Inputs) -> Grads:
    return (g if inputs[0].requires_grad else None, g if inputs[1].requires_grad else None)


def sub(g: Array, saved: None, inputs: Inputs) -> Grads:
    return (g if inputs[0].requires_grad else None, -g if inputs[1].requires_grad else None)


def neg(g: Array, saved: None, inputs: Inputs) -> Grads:
    return (-g,)


def mul(g: Array, saved: tuple[Array, Array], inputs: Inputs) -> Grads:
    a, b = saved
    return (g * b if inputs[0].requires_grad else None, g * a if inputs[1].requires_grad else None)


def scale(g: Array, c: Array, inputs: Inputs) -> Grads:
    # a * c for a constant c (a number or an array): the commonest op with a constant,
    # recorded with one input, which saves W4 about 7 % of its forward pass over `mul`
    return (g * c,)


def div(g: Array, saved: tuple[Array, Array], inputs: Inputs) -> Grads:
    a, b = saved  # d(a/b)/db = -a / b**2
    return (
        g / b if inputs[0].requires_grad else None,
        -g * a / (b * b) if inputs[1].requires_grad else None,
    )


def pow(g: Array, saved: tuple[Array, Array, Array], inputs: Inputs) -> Grads:
    a, b, out = saved
    return (
        g * power_slope(a, b) if inputs[0].requires_grad else None,
        g * exponent_slope(a, b, out) if inputs[1].requires_grad else None,
    )


def power_slope(a: Array, b: Array) -> Array:
    """``d(a**b)/da = b * a**(b-1)``, taken as 0 where ``b == 0`` (so ``x**0`` has 0 at 0)."""
    if b.ndim == 0 and b >= 1:  # a square, a cube: nothing to mask, no 0 ** negative
        slope: Array = b * a ** (b - 1)  # (the original API's W1 loop: 5 % of its step)
        return slope
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = b * a ** (b - 1)
    result: Array = np.where(b == 0, a.dtype.type(0), slope)
    return result


def exponent_slope(a: Array, b: Array, out: Array) -> Array:
    """``d(a**b)/db = a**b * log(a)``, taken as 0 where ``a == 0`` and ``b >= 0``.

    For a negative base the logarithm is ``nan``, as in PyTorch.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = out * np.log(a)
    result: Array = np.where((a == 0) & (b >= 0), out.dtype.type(0), slope)
    return result


def matmul(g: Array, saved: tuple[Array, Array], inputs: Inputs) -> Grads:
    # C = A @ B: dA = dC @ B.T, dB = A.T @ dC (batch axes are summed back by the graph).
    a, b = saved
    return (
        _matmul_grad_a(g, a, b) if inputs[0].requires_grad else None,
        _matmul_grad_b(g, a, b) if inputs[1].requires_grad else None,
    )


def _matmul_grad_a(g: Array, a: Array, b: Array) -> Array:
    if b.ndim == 1:
        if a.ndim == 1:  # inner product: g is 0-d
            return g * b
        return g[..., None] * b  # (..., m, 1) * (k,) -> (..., m, k)
    if a.ndim == 1:  # (k,) @ (..., k, n): g is (..., n)
        row: Array = np.matmul(g[..., None, :], b.swapaxes(-1, -2))[..., 0, :]
        return row
    grad: Array = g @ (b.T if b.ndim == 2 else b.swapaxes(-1, -2))
    return grad


def _matmul_grad_b(g: Array, a: Array, b: Array) -> Array:
    if a.ndim == 1:
        if b.ndim == 1:
            return g * a
        return a[:, None] * g[..., None, :]  # (k, 1) * (..., 1, n) -> (..., k, n)
    if b.ndim == 1:  # (..., m, k) @ (k,): g is (..., m)
        col: Array = np.matmul(a.swapaxes(-1, -2), g[..., None])[..., 0]
        return col
    grad: Array = (a.T if a.ndim == 2 else a.swapaxes(-1, -2)) @ g
    return grad


# -- the dense layer -----------------------------------------------------------------


def linear(g: Array, saved: tuple[Array, Array, Array, str | None], inputs: Inputs) -> Grads:
    x, w, out, activation = saved
    if activation is not None:
        g = g * SLOPES[activation](out)
    return _affine_grads(g, x, w, inputs)


def _affine_grads(g: Array, x: Array, w: Array, inputs: Inputs) -> Grads:
    """Gradients of ``x @ w (+ b)`` for the gradient ``g`` of the result."""
    nin, nout = w.shape
    gx = None
    if inputs[0].requires_grad:
        gx = g @ w.T
    # Every leading axis is a batch axis. (Their number of rows is given, not -1: with an
    # axis of length 0, -1 would be ambiguous.)
    rows = g if g.ndim == 2 else g.reshape(math.prod(g.shape[:-1]), nout)
    gw = None
    if inputs[1].requires_grad:
        gw = (x if x.ndim == 2 else x.reshape(math.prod(x.shape[:-1]), nin)).T @ rows
    if len(inputs) == 2:
        return (gx, gw)
    return (gx, gw, column_sums(rows) if inputs[2].requires_grad else None)


# -- reductions: each broadcasts its gradient back to its input's shape ---------------


def sum(g: Array, saved: tuple[Any, bool, tuple[int, ...]], inputs: Inputs) -> Grads:
    axis, keepdims, shape = saved
    return (broadcast_to_shape(_restore(g, axis, keepdims), shape),)


def mean(g: Array, saved: tuple[Any, bool, int, tuple[int, ...]], inputs: Inputs) -> Grads:
    axis, keepdims, count, shape = saved
    grad = broadcast_to_shape(_restore(g, axis, keepdims), shape)
    grad /= g.dtype.type(count)  # (after spreading: no 0 / 0 for an empty input)
    return (grad,)


def max(g: Array, saved: tuple[Array, Any, bool, Array], inputs: Inputs) -> Grads:
    a, axis, keepdims, top = saved  # `top`: the maxima with keepdims
    mask = a == top
    share = mask / mask.sum(axis=axis, keepdims=True, dtype=a.dtype)  # ties split evenly
    return (_restore(g, axis, keepdims) * share,)


# -- shape and indexing --------------------------------------------------------------


def reshape(g: Array, shape: tuple[int, ...], inputs: Inputs) -> Grads:
    return (g.reshape(shape),)


def transpose(g: Array, inverse: tuple[int, ...] | None, inputs: Inputs) -> Grads:
    return (g.transpose(inverse),)


def getitem(g: Array, saved: tuple[tuple[int, ...], Any], inputs: Inputs) -> Grads:
    shape, index = saved
    grad = np.zeros(shape, dtype=g.dtype)
    if is_basic_index(index):
        grad[index] = g  # basic indexing never picks an element twice
    else:
        np.add.at(grad, index, g)  # repeated indices accumulate
    return (grad,)


# -- elementwise functions -----------------------------------------------------------


def exp(g: Array, out: Array, inputs: Inputs) -> Grads:
    return (g * out,)


def log(g: Array, a: Array, inputs: Inputs) -> Grads:
    return (g / a,)


def relu_slope(out: Array) -> Array:
    """``relu'``, from relu's output: 1 where it is positive, else 0 (0 at 0)."""
    return out > 0


def tanh_slope(out: Array) -> Array:
    """``tanh' = 1 - tanh**2``, from tanh's output, in one new array."""
    slope = out * out
    if slope.__class__ is not np.ndarray:  # a NumPy scalar, from a 0-d output
        return 1.0 - slope
    np.subtract(1.0, slope, slope)  # in place (out given by position: faster)
    return slope


def sigmoid_slope(out: Array) -> Array:
    """``sigmoid' = s * (1 - s)``, from sigmoid's output ``s``, in one new array."""
    slope = 1.0 - out
    slope *= out
    return slope


SLOPES: dict[str, Callable[[Array], Array]] = {
    "relu": relu_slope,
    "tanh": tanh_slope,
    "sigmoid": sigmoid_slope,
}


def tanh(g: Array, out: Array, inputs: Inputs) -> Grads:
    return (g * tanh_slope(out),)


def relu(g: Array, out: Array, inputs: Inputs) -> Grads:
    return (g * relu_slope(out),)


def sigmoid(g: Array, out: Array, inputs: Inputs) -> Grads:
    return (g * sigmoid_slope(out),)


def abs(g: Array, a: Array) -> Grads:  # (declared with define_op: no `inputs`)
    return (g * np.sign(a),)


def clip(g: Array, saved: tuple[Array, Array | None, Array | None]) -> Grads:
    a, lo, hi = saved
    inside = np.ones(a.shape, dtype=bool)
    if lo is not None:
        inside &= a >= lo
    if hi is not None:
        inside &= a <= hi
    return (g * inside,)


def softmax(g: Array, saved: tuple[Array, Any], inputs: Inputs) -> Grads:
    s, axis = saved
    return (s * (g - (g * s).sum(axis=axis, keepdims=True)),)


def log_softmax(g: Array, saved: tuple[Array, Any], inputs: Inputs) -> Grads:
    out, axis = saved
    return (g - np.exp(out) * g.sum(axis=axis, keepdims=True),)


# -- functions of several tensors ----------------------------------------------------


def concatenate(g: Array, saved: tuple[int | None, Array], inputs: Inputs) -> Grads:
    axis, bounds = saved
    pieces = np.split(g, bounds, axis=0 if axis is None else axis)
    if axis is None:  # the inputs were flattened
        pieces = [p.reshape(t.data.shape) for p, t in zip(pieces, inputs, strict=True)]
    return tuple(p if t.requires_grad else None for p, t in zip(pieces, inputs, strict=True))


def stack(g: Array, axis: int, inputs: Inputs) -> Grads:
    moved = np.moveaxis(g, axis, 0)
    return tuple(moved[i] if t.requires_grad else None for i, t in enumerate(inputs))


def where(g: Array, condition: Array, inputs: Inputs) -> Grads:
    zero = g.dtype.type(0)
    return (
        np.where(condition, g, zero) if inputs[0].requires_grad else None,
        np.where(condition, zero, g) if inputs[1].requires_grad else None,
    )


# Every operation's rule, by the operation's name (the names of the README's table).
# `abs` and `clip` are declared with `minigrad.define_op`, as a user's operation is, so
# their rules take only ``(g, saved)``; define_op adds the ``inputs`` argument.
RULES: dict[str, Callable[..., Grads]] = {
    "add": add,
    "sub": sub,
    "neg": neg,
    "mul": mul,
    "scale": scale,
    "div": div,
    "pow": pow,
    "matmul": matmul,
    "linear": linear,
    "sum": sum,
    "mean": mean,
    "max": max,
    "reshape": reshape,
    "transpose": transpose,
    "getitem": getitem,
    "exp": exp,
    "log": log,
    "tanh": tanh,
    "relu": relu,
    "sigmoid": sigmoid,
    "abs": abs,
    "clip": clip,
    "softmax": softmax,
    "log_softmax": log_softmax,
    "concatenate": concatenate,
    "stack": stack,
    "where": where,
}


# -- in-place variants ---------------------------------------------------------------
# Used by backward instead of the rule when nothing but the backward loop can see the
# node or its gradient (see `minigrad._graph.may_reuse`): they overwrite the gradient
# ``g`` in place, which on a network of wide layers saves an activation-sized array per
# layer. They receive the node's saved values in a one-element list that nothing else
# holds, and take them out of it, so that an array they no longer need is freed before
# they allocate the next one. (A ufunc's output array is passed by position, as in
# ``np.multiply(g, slope, g)``: the ``out=`` keyword costs W4 about 3 % of its backward.)


def linear_in_place(g: Array, box: list[Any], inputs: Inputs) -> Grads:
    x, w, out, activation = box.pop()
    if activation is not None:
        np.multiply(g, SLOPES[activation](out), g)
    del out  # the layer's output is freed here, before g @ w.T allocates the input's gradient
    return _affine_grads(g, x, w, inputs)


def relu_in_place(g: Array, box: list[Any], inputs: Inputs) -> Grads:
    return (np.multiply(g, relu_slope(box.pop()), g),)


def tanh_in_place(g: Array, box: list[Any], inputs: Inputs) -> Grads:
    return (np.multiply(g, tanh_slope(box.pop()), g),)


def sigmoid_in_place(g: Array, box: list[Any], inputs: Inputs) -> Grads:
    return (np.multiply(g, sigmoid_slope(box.pop()), g),)


IN_PLACE: dict[Rule, Rule] = {
    linear: linear_in_place,
    relu: relu_in_place,
    tanh: tanh_in_place,
    sigmoid: sigmoid_in_place,
}
