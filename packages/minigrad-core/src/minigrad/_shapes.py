"""Shapes and axes: broadcasting a gradient back and forth, and checking axis arguments.

Two operations are inverse to each other and are what every rule needs for shapes:
`sum_to_shape` takes the gradient of a broadcast result back to an operand's shape
(summing over the broadcast axes), and `broadcast_to_shape` takes the gradient of a
reduction forward to its input's shape (repeating it over the reduced axes).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from minigrad import _errors

Array = npt.NDArray[Any]
Axis = int | tuple[int, ...] | None

_ndarray = np.ndarray


def sum_to_shape(grad: Array, shape: tuple[int, ...]) -> Array:
    """Sum ``grad`` over the axes along which an operand of ``shape`` was broadcast.

    Examples
    --------
    >>> sum_to_shape(np.ones((4, 2, 3)), (2, 1)).tolist()
    [[12.0], [12.0]]
    """
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    if lead == 1 and grad.ndim == 2:  # a bias: the sum of a batch of rows
        grad = column_sums(grad)
    elif lead:
        grad = grad.sum(axis=0 if lead == 1 else tuple(range(lead)))
    if grad.shape != shape:
        axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
        grad = grad.sum(axis=axes, keepdims=True)
    if grad.__class__ is not _ndarray:  # summing a 0-d result gives a NumPy scalar
        grad = np.asarray(grad)
    return grad


def broadcast_to_shape(g: Array, shape: tuple[int, ...]) -> Array:
    """Repeat ``g`` (a reduction's gradient, reduced axes of size 1) into a new array.

    The result is writable and owns its memory. For the small arrays where per-op cost
    matters this is several times faster than ``np.broadcast_to(...).copy()``.

    Examples
    --------
    >>> broadcast_to_shape(np.array([[1.0], [2.0]]), (2, 3)).tolist()
    [[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]]
    """
    out = np.empty(shape, dtype=g.dtype)
    out[...] = g
    return out


def restore_reduced_axes(g: Array, axis: Axis, keepdims: bool) -> Array:
    """Give a reduction's gradient back its reduced axes, with size 1."""
    if keepdims or axis is None:
        return g
    return np.expand_dims(g, axis)


def reduced_shape(shape: tuple[int, ...], axis: Axis) -> tuple[int, ...]:
    """Return the shape of a reduction over ``axis`` without ``keepdims``."""
    if axis is None or not shape:  # (NumPy lets a 0-d array be reduced over axis 0)
        return ()
    axes = {ax % len(shape) for ax in ((axis,) if isinstance(axis, int) else axis)}
    return tuple(n for i, n in enumerate(shape) if i not in axes)


def reduction_count(shape: tuple[int, ...], axis: Axis) -> int:
    """Return how many elements a reduction over ``axis`` combines into each result.

    Read from the shape, so that it is right also for empty arrays, where sizes alone
    cannot tell it.

    Examples
    --------
    >>> reduction_count((2, 3, 4), (0, -1)), reduction_count((0, 3), None)
    (8, 0)
    """
    if axis is None:
        return math.prod(shape)
    if not shape:  # a 0-d array reduced over its axis 0
        return 1
    axes = {ax % len(shape) for ax in ((axis,) if isinstance(axis, int) else axis)}
    return math.prod(shape[ax] for ax in axes)


_ones: Array = np.ones(0)  # the last ones-vector `column_sums` made, kept for the next call


def column_sums(rows: Array) -> Array:
    """Sum the rows of a 2-D array, as ``rows.sum(axis=0)``.

    Computed as the product of a ones-vector with ``rows`` (a BLAS matrix-vector
    product), which for the batches of a training step is two to three times faster
    than NumPy's reduction along the first axis.
    """
    global _ones
    ones = _ones
    if ones.shape[0] != rows.shape[0] or ones.dtype != rows.dtype:
        ones = _ones = np.ones(rows.shape[0], dtype=rows.dtype)
    sums: Array = ones @ rows
    return sums


def check_axis(op: str, axis: Any, shape: tuple[int, ...], *, single: bool = False) -> Axis:
    """Check an axis argument before NumPy sees it, and return it as ints.

    Accepts ``None``, an int or a sequence of ints (only an int when ``single``). A
    value of another type raises `TypeError`, and an int out of range NumPy's
    ``AxisError``, each naming the operation, the axis and the shape (NumPy itself
    would say neither, or overflow on a huge int). Repeated axes are left for NumPy to
    refuse.
    """
    if axis is None and not single:
        return None
    if isinstance(axis, (tuple, list)) and not single:
        return tuple(_check_one_axis(op, a, shape, axis) for a in axis)
    return _check_one_axis(op, axis, shape, axis)


def _check_one_axis(op: str, item: Any, shape: tuple[int, ...], axis: Any) -> int:
    if isinstance(item, bool) or not isinstance(item, (int, np.integer)):
        raise _errors.axis_type_error(op, axis, item, shape)
    n = len(shape)
    value = int(item)
    if (n and not -n <= value < n) or (not n and value not in (0, -1)):
        raise _errors.axis_out_of_range(op, axis, shape)
    return value


def is_index(value: Any) -> bool:
    """Whether ``value`` is a single integer (not a sequence of them)."""
    return isinstance(value, (int, np.integer)) or (
        hasattr(value, "__index__") and not hasattr(value, "__len__")
    )


def is_basic_index(index: Any) -> bool:
    """Whether ``index`` uses only basic indexing (each element selected at most once)."""
    items = index if isinstance(index, tuple) else (index,)
    for item in items:
        if item is None or item is Ellipsis or isinstance(item, (slice, int, np.integer)):
            continue
        if isinstance(item, np.ndarray) and item.dtype == bool:
            continue  # a boolean mask selects each element at most once too
        return False
    return True
