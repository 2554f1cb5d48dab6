"""Functions of several tensors: `concatenate`, `stack`, `where`, `maximum` and `minimum`."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import numpy.typing as npt

from minigrad import _errors
from minigrad import _rules as rules
from minigrad._errors import AxisError
from minigrad._shapes import check_axis
from minigrad._tensor import Tensor, _as_tensors, _record

__all__ = ["concatenate", "maximum", "minimum", "stack", "where"]


def concatenate(tensors: Iterable[Tensor | npt.ArrayLike], axis: int | None = 0) -> Tensor:
    """Join tensors along an existing axis, like ``numpy.concatenate``.

    Parameters
    ----------
    tensors : sequence of Tensor
        Tensors (or arrays, treated as constants) whose shapes agree except along
        ``axis``.
    axis : int or None, default 0
        The axis to join along; ``None`` flattens the inputs first, as NumPy does.

    Returns
    -------
    Tensor
        The joined tensor; each input receives its slice of the gradient.

    Raises
    ------
    ValueError
        If the shapes do not agree, naming them.

    Examples
    --------
    >>> from minigrad import Tensor, concatenate
    >>> concatenate([Tensor([1.0, 2.0]), Tensor([3.0])]).shape
    (3,)
    """
    items = _as_tensors("concatenate", tensors)
    if axis is not None:
        axis = check_axis("concatenate", axis, items[0].shape, single=True)  # type: ignore[assignment]
    try:
        out = np.concatenate([t.data for t in items], axis=axis)
    except ValueError as exc:
        raise _errors.shape_error(
            "concatenate", *(t.shape for t in items), detail=str(exc)
        ) from None
    # (with axis None the inputs were flattened first, as in NumPy)
    sizes = [t.data.size if axis is None else t.data.shape[axis] for t in items]
    bounds = np.cumsum(sizes)[:-1]
    return _record(out, tuple(items), rules.concatenate, (axis, bounds))


def stack(tensors: Iterable[Tensor | npt.ArrayLike], axis: int = 0) -> Tensor:
    """Join tensors of one shape along a new axis, like ``numpy.stack``.

    Parameters
    ----------
    tensors : sequence of Tensor
        Tensors (or arrays, treated as constants) of identical shape.
    axis : int, default 0
        Where the new axis goes in the result.

    Returns
    -------
    Tensor
        The stacked tensor, one more axis than the inputs.

    Raises
    ------
    ValueError
        If the shapes differ, naming them.

    Examples
    --------
    >>> from minigrad import Tensor, stack
    >>> stack([Tensor([1.0, 2.0]), Tensor([3.0, 4.0])], axis=1).shape
    (2, 2)
    """
    items = _as_tensors("stack", tensors)
    n = items[0].ndim + 1
    try:
        axis = check_axis("stack", axis, (0,) * n, single=True)  # type: ignore[assignment]
    except AxisError:
        raise AxisError(
            f"stack: axis {axis} is out of bounds for stacking tensors of shape "
            f"{items[0].shape}; the result has {n} axes, so valid axes are -{n} to {n - 1}"
        ) from None
    except TypeError:
        raise TypeError(
            f"stack: axis must be an int, got {axis!r} ({type(axis).__name__}) for tensors "
            f"of shape {items[0].shape}"
        ) from None
    try:
        out = np.stack([t.data for t in items], axis=axis)
    except ValueError as exc:
        raise _errors.shape_error("stack", *(t.shape for t in items), detail=str(exc)) from None
    return _record(out, tuple(items), rules.stack, axis % out.ndim)


def where(
    condition: Tensor | npt.ArrayLike, x: Tensor | npt.ArrayLike, y: Tensor | npt.ArrayLike
) -> Tensor:
    """Pick elements from ``x`` where ``condition`` is true and from ``y`` elsewhere.

    Like ``numpy.where``, with broadcasting. The gradient flows to ``x`` where the
    condition holds and to ``y`` where it does not; the condition gets none.

    Parameters
    ----------
    condition : array_like of bool
        Where to take ``x``.
    x, y : Tensor or array_like
        The two sources. A non-tensor is a constant, converted to the dtype of the
        tensor beside it.

    Returns
    -------
    Tensor
        The merged tensor.

    Examples
    --------
    >>> import numpy as np
    >>> from minigrad import Tensor, where
    >>> x = Tensor([1.0, -2.0, 3.0])
    >>> where(x.data > 0, x, 0.0)
    Tensor([1., 0., 3.], requires_grad=True)
    """
    cond = condition.data if isinstance(condition, Tensor) else np.asarray(condition)
    cond = cond.astype(bool, copy=False)
    if isinstance(x, Tensor):
        xt = x
        yt = y if isinstance(y, Tensor) else Tensor(y, requires_grad=False, dtype=x.dtype)
    elif isinstance(y, Tensor):
        yt = y
        xt = Tensor(x, requires_grad=False, dtype=y.dtype)
    else:
        xt = Tensor(x, requires_grad=False)
        yt = Tensor(y, requires_grad=False)
    try:
        out = np.where(cond, xt.data, yt.data)
    except ValueError:
        raise _errors.shape_error(
            "where",
            cond.shape,
            xt.shape,
            yt.shape,
            detail="condition, x and y must broadcast together",
        ) from None
    return _record(out, (xt, yt), rules.where, cond)


def maximum(a: Tensor | npt.ArrayLike, b: Tensor | npt.ArrayLike) -> Tensor:
    """Take the elementwise maximum of two tensors, like ``numpy.maximum``.

    The operands broadcast as in NumPy. The gradient goes to the larger operand; where
    the two are equal it is split evenly, half to each (PyTorch's convention). ``nan``
    propagates, as in NumPy.

    Parameters
    ----------
    a, b : Tensor or array_like
        The operands. A non-tensor is a constant, converted to the dtype of the tensor
        beside it.

    Returns
    -------
    Tensor
        The larger of each pair of elements, in the broadcast shape.

    Raises
    ------
    ValueError
        If the shapes do not broadcast together, naming them.

    Examples
    --------
    >>> from minigrad import Tensor, maximum
    >>> x = Tensor([1.0, 2.0, 3.0])
    >>> y = maximum(x, 2.0)
    >>> y
    Tensor([2., 2., 3.], requires_grad=True)
    >>> y.sum().backward()
    >>> x.grad
    array([0. , 0.5, 1. ])
    """
    return _elementwise_pair("maximum", np.maximum, rules.maximum, a, b)


def minimum(a: Tensor | npt.ArrayLike, b: Tensor | npt.ArrayLike) -> Tensor:
    """Take the elementwise minimum of two tensors, like ``numpy.minimum``.

    The operands broadcast as in NumPy. The gradient goes to the smaller operand; where
    the two are equal it is split evenly, half to each (PyTorch's convention). ``nan``
    propagates, as in NumPy.

    Parameters
    ----------
    a, b : Tensor or array_like
        The operands. A non-tensor is a constant, converted to the dtype of the tensor
        beside it.

    Returns
    -------
    Tensor
        The smaller of each pair of elements, in the broadcast shape.

    Raises
    ------
    ValueError
        If the shapes do not broadcast together, naming them.

    Examples
    --------
    >>> from minigrad import Tensor, minimum
    >>> a = Tensor([[1.0, 5.0]])
    >>> b = Tensor([[2.0], [5.0]])
    >>> minimum(a, b)
    Tensor([[1., 2.],
            [1., 5.]], requires_grad=True)
    >>> minimum(a, b).sum().backward()
    >>> a.grad, b.grad
    (array([[2. , 0.5]]), array([[1. ],
           [0.5]]))
    """
    return _elementwise_pair("minimum", np.minimum, rules.minimum, a, b)


def _elementwise_pair(
    name: str,
    forward: Callable[[Any, Any], Any],
    rule: Callable[..., rules.Grads],
    a: Tensor | npt.ArrayLike,
    b: Tensor | npt.ArrayLike,
) -> Tensor:
    """Apply a NumPy function of two broadcast operands and record its rule."""
    x, y = _as_tensors(name, (a, b))
    try:
        out = forward(x.data, y.data)
    except ValueError:
        raise _errors.broadcast_error(name, x.data, y.data) from None
    return _record(out, (x, y), rule, (x.data, y.data))
