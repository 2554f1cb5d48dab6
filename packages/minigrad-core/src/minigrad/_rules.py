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

# Module-level names for what the commonest rules call: on small arrays, looking up
# ``np.subtract`` costs a sixth of the call (W4's tanh rule: 1.3 % of its backward).
_ndarray = np.ndarray
_subtract = np.subtract
_multiply = np.multiply

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
    # a * c for a constant c (a number, an array, or a tensor that needs no gradient):
    # the commonest op with a constant, recorded with one input, which saves W4 about
    # 7 % of its forward pass over `mul`
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
        # (with one output, g @ w.T is an outer product: a broadcast multiplication is
        # faster; it saves W1 about 0.6 % of its step)
        gx = g * w[:, 0] if nout == 1 else g @ w.T
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
    return (_restore(g, axis, keepdims) * _ties_share(a, top, axis),)


def min(g: Array, saved: tuple[Array, Any, bool, Array], inputs: Inputs) -> Grads:
    a, axis, keepdims, bottom = saved  # `bottom`: the minima with keepdims
    return (_restore(g, axis, keepdims) * _ties_share(a, bottom, axis),)


def _ties_share(a: Array, extreme: Array, axis: Any) -> Array:
    """Each element's share of its slice's gradient: 1 / ties at the extreme, else 0."""
    mask = a == extreme
    share: Array = mask / mask.sum(axis=axis, keepdims=True, dtype=a.dtype)
    return share


def var(g: Array, saved: tuple[Array, Any, bool, Array], inputs: Inputs) -> Grads:
    centred, axis, keepdims, dof = saved  # centred: a - mean; dof: max(N - ddof, 0)
    return (_variance_grad(_restore(g, axis, keepdims), centred, dof),)


def _variance_grad(g: Array, centred: Array, dof: Array) -> Array:
    """``g * 2 * (a - mean) / dof`` for ``g`` with the reduced axes kept (size 1)."""
    with np.errstate(divide="ignore", invalid="ignore"):  # dof 0: inf and nan, as PyTorch
        grad: Array = g * centred * (dof.dtype.type(2) / dof)
    return grad


def std(g: Array, saved: tuple[Array, Any, bool, Array, Array], inputs: Inputs) -> Grads:
    centred, axis, keepdims, dof, out = saved  # out: the standard deviations, keepdims
    # d sqrt(v) = dv / (2 sqrt(v)); taken as 0 where std == 0 (a constant slice), as
    # PyTorch does, where the formula would give 0 / 0
    with np.errstate(divide="ignore", invalid="ignore"):
        g_var = _restore(g, axis, keepdims) / (out + out)
    g_var = np.where(out == 0, g_var.dtype.type(0), g_var)
    return (_variance_grad(g_var, centred, dof),)


def logsumexp(g: Array, saved: tuple[Array, Array, Any, bool], inputs: Inputs) -> Grads:
    e, total, axis, keepdims = saved  # e = exp(a - max), total: its sums (keepdims)
    # softmax(a) = e / total: from the shifted values, exact also in float32 for inputs
    # like 1e4 (exp(a - logsumexp(a)) would carry the rounding of 1e4 + log(2)); 0 / 0 =
    # nan in a slice of -inf, and inf / inf in one holding +inf, as in PyTorch
    with np.errstate(invalid="ignore"):
        softmax = e / total
    return (_restore(g, axis, keepdims) * softmax,)


# -- shape and indexing --------------------------------------------------------------


def reshape(g: Array, shape: tuple[int, ...], inputs: Inputs) -> Grads:
    # also the rule of flatten, squeeze and unsqueeze, which only change the shape
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


def pad(g: Array, interior: tuple[slice, ...], inputs: Inputs) -> Grads:
    return (g[interior],)  # the padding is constant: only the input's own place counts


def sliding_windows(
    g: Array, saved: tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]], inputs: Inputs
) -> Grads:
    # Windows overlap, so an element receives the gradient of every window holding it.
    # One strided slice per position inside a window (9 for 3x3 windows), not one step
    # per window: the slice of g at window position `offsets` (its trailing axes) is
    # what the elements `offsets` further along the windowed axes receive from it.
    shape, axes, window_shape = saved
    grad = np.zeros(shape, dtype=g.dtype)
    counts = g.shape[: len(shape)]  # the number of windows along each input axis
    for offsets in np.ndindex(*window_shape):
        starts = [0] * len(shape)
        for ax, offset in zip(axes, offsets, strict=True):
            starts[ax] += offset  # (an axis windowed twice moves by both offsets)
        place = tuple(slice(s, s + n) for s, n in zip(starts, counts, strict=True))
        position = (Ellipsis, *offsets)  # the windows' trailing axes
        grad[place] += g[position]
    return (grad,)


# -- elementwise functions -----------------------------------------------------------


def exp(g: Array, out: Array, inputs: Inputs) -> Grads:
    return (g * out,)


def log(g: Array, a: Array, inputs: Inputs) -> Grads:
    return (g / a,)


def relu_slope(out: Array) -> Array:
    """``relu'``, from relu's output: 1 where it is positive, else 0 (0 at 0)."""
    return out > 0.0  # (a float: NumPy compares with an int 0 more slowly, 0.2 µs a call)


def tanh_slope(out: Array) -> Array:
    """``tanh' = 1 - tanh**2``, from tanh's output, in one new array."""
    slope = out * out
    if slope.__class__ is not _ndarray:  # a NumPy scalar, from a 0-d output
        return 1.0 - slope
    _subtract(1.0, slope, slope)  # in place (out given by position: faster)
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


def sqrt(g: Array, out: Array, inputs: Inputs) -> Grads:
    # 1 / (2 sqrt(a)): inf at 0 (nan where g is 0 there too), silently, as in PyTorch
    with np.errstate(divide="ignore", invalid="ignore"):
        return (g / (out + out),)


def square(g: Array, a: Array, inputs: Inputs) -> Grads:
    return (g * (a + a),)


def sin(g: Array, a: Array, inputs: Inputs) -> Grads:
    return (g * np.cos(a),)


def cos(g: Array, a: Array, inputs: Inputs) -> Grads:
    return (g * -np.sin(a),)


def leaky_relu(g: Array, saved: tuple[Array, Any], inputs: Inputs) -> Grads:
    a, slope = saved  # slope: negative_slope in a's dtype; it applies at 0 too, as in PyTorch
    return (np.where(a > 0, g, g * slope),)


def gelu(g: Array, saved: tuple[Array, Array, str], inputs: Inputs) -> Grads:
    # gelu(a) = a * cdf(a), so its slope is cdf(a) + a * cdf'(a)
    a, cdf, approximate = saved
    return (g * (cdf + a * gelu_cdf_slope(a, cdf, approximate)),)


def gelu_cdf_slope(a: Array, cdf: Array, approximate: str) -> Array:
    """Compute the derivative of the normal distribution function that `Tensor.gelu` uses.

    For ``'none'`` it is the normal density ``exp(-a**2 / 2) / sqrt(2 pi)``; for
    ``'tanh'``, where ``cdf = sigmoid(2 u)`` with ``u = sqrt(2/pi) (a + 0.044715 a**3)``,
    it is ``2 cdf (1 - cdf) du/da``.
    """
    dt = a.dtype.type
    if approximate == "none":
        slope: Array = np.exp(a * a * dt(-0.5)) * dt(1 / math.sqrt(2 * math.pi))
        return slope
    du = (a * a * dt(3 * GELU_TANH_CUBIC) + dt(1)) * dt(math.sqrt(2 / math.pi))
    slope = cdf * (dt(1) - cdf) * du
    slope *= dt(2)
    return slope


# The cubic coefficient of the tanh approximation of gelu (PyTorch's and the GELU paper's).
GELU_TANH_CUBIC = 0.044715


def softplus(g: Array, saved: tuple[Array, Array], inputs: Inputs) -> Grads:
    # soft = log(1 + exp(beta a)), so sigmoid(beta a) = 1 - exp(-soft), without cancellation
    # for a tiny soft; 1 where beta a is above the threshold (the result is a there)
    soft, linear = saved
    slope = np.where(linear, soft.dtype.type(1), -np.expm1(-soft))
    return (g * slope,)


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


def maximum(g: Array, saved: tuple[Array, Array], inputs: Inputs) -> Grads:
    a, b = saved  # g to the larger operand, g / 2 to each where they tie (as PyTorch)
    shared = _tie_halved(g, a, b)
    zero = g.dtype.type(0)
    return (
        np.where(a < b, zero, shared) if inputs[0].requires_grad else None,
        np.where(b < a, zero, shared) if inputs[1].requires_grad else None,
    )


def minimum(g: Array, saved: tuple[Array, Array], inputs: Inputs) -> Grads:
    a, b = saved  # g to the smaller operand, g / 2 to each where they tie (as PyTorch)
    shared = _tie_halved(g, a, b)
    zero = g.dtype.type(0)
    return (
        np.where(a > b, zero, shared) if inputs[0].requires_grad else None,
        np.where(b > a, zero, shared) if inputs[1].requires_grad else None,
    )


def _tie_halved(g: Array, a: Array, b: Array) -> Array:
    """``g``, halved where ``a == b``: the share of each of two tied operands."""
    shared: Array = np.where(a == b, g * g.dtype.type(0.5), g)
    return shared


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
    "min": min,
    "var": var,
    "std": std,
    "logsumexp": logsumexp,
    "reshape": reshape,
    "transpose": transpose,
    "getitem": getitem,
    "pad": pad,
    "sliding_windows": sliding_windows,
    "exp": exp,
    "log": log,
    "tanh": tanh,
    "relu": relu,
    "sigmoid": sigmoid,
    "abs": abs,
    "clip": clip,
    "sqrt": sqrt,
    "square": square,
    "sin": sin,
    "cos": cos,
    "leaky_relu": leaky_relu,
    "gelu": gelu,
    "softplus": softplus,
    "softmax": softmax,
    "log_softmax": log_softmax,
    "concatenate": concatenate,
    "stack": stack,
    "where": where,
    "maximum": maximum,
    "minimum": minimum,
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
        _multiply(g, SLOPES[activation](out), g)
    del out  # the layer's output is freed here, before g @ w.T allocates the input's gradient
    return _affine_grads(g, x, w, inputs)


def relu_in_place(g: Array, box: list[Any], inputs: Inputs) -> Grads:
    return (_multiply(g, relu_slope(box.pop()), g),)


def tanh_in_place(g: Array, box: list[Any], inputs: Inputs) -> Grads:
    return (_multiply(g, tanh_slope(box.pop()), g),)


def sigmoid_in_place(g: Array, box: list[Any], inputs: Inputs) -> Grads:
    return (_multiply(g, sigmoid_slope(box.pop()), g),)


IN_PLACE: dict[Rule, Rule] = {
    linear: linear_in_place,
    relu: relu_in_place,
    tanh: tanh_in_place,
    sigmoid: sigmoid_in_place,
}
