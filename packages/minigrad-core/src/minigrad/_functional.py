"""Gradients as functions: `grad`, `value_and_grad` and `jacobian`, as in JAX and HIPS autograd.

Each transforms a function of arrays into a function that returns its derivatives. A
call wraps the arguments being differentiated in new leaf tensors (copies of their
data), calls the function with grad mode on, runs backward from its result and hands
back the leaves' gradients. Nothing is kept between calls, and the caller's arrays and
tensors are never written to.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, overload

import numpy as np
import numpy.typing as npt

from minigrad import _mode
from minigrad._tensor import Tensor

__all__ = ["grad", "jacobian", "value_and_grad"]

Array = npt.NDArray[Any]


@overload
def grad(f: Callable[..., Any], argnums: int = 0) -> Callable[..., Array]: ...
@overload
def grad(f: Callable[..., Any], argnums: Sequence[int]) -> Callable[..., tuple[Array, ...]]: ...
def grad(
    f: Callable[..., Any], argnums: int | Sequence[int] = 0
) -> Callable[..., Array | tuple[Array, ...]]:
    """Return a function that computes the gradient of the scalar function ``f``.

    ``grad(f)(*args, **kwargs)`` calls ``f(*args, **kwargs)`` and returns the
    gradient of its result with respect to the positional argument(s) ``argnums``.

    Parameters
    ----------
    f : callable
        Returns a scalar: a Tensor of one element (shape ``()``, ``(1,)``, ...). In the
        positions ``argnums`` it receives new leaf Tensors holding a copy of the
        arguments given (lists and integers become float64, float32 stays float32; a
        Tensor's data is copied, and the Tensor and its ``grad`` are left alone).
        Other arguments, keywords included, are passed through unchanged.
    argnums : int or tuple of int, default 0
        The position(s), counted from 0, of the arguments to differentiate with
        respect to. Negative positions are refused: a function taking ``*args``
        would have them pick a different argument from one call to the next.

    Returns
    -------
    callable
        Takes ``f``'s arguments and returns the gradient, a new array of the
        argument's shape and dtype; for a tuple ``argnums``, a tuple of them. An
        argument that the result does not depend on gets zeros.

    Raises
    ------
    TypeError
        If ``f`` is not callable or ``argnums`` is not an int or a tuple of ints
        (here); if a call passes fewer positional arguments than ``argnums`` needs,
        or ``f`` returns something other than a Tensor or a number (at the call).
    ValueError
        If ``argnums`` is negative, empty or repeats a position (here); if ``f``
        returns more than one element (at the call: use `jacobian`).

    See Also
    --------
    value_and_grad : the value of ``f`` together with its gradient.
    jacobian : the derivatives of a function with a non-scalar result.

    Notes
    -----
    Grad mode is switched on while ``f`` runs, also inside `no_grad`, and restored
    afterwards, also when ``f`` raises. ``f`` should compute its result from its
    arguments: a Tensor it takes from elsewhere (a global, a closure) is not
    differentiated, and if it requires gradients it takes part in the backward pass
    as in `Tensor.backward`, so its ``grad`` accumulates. Pass it as an argument, or
    create it with ``requires_grad=False``.

    Examples
    --------
    >>> import numpy as np
    >>> from minigrad import grad
    >>> def sum_of_squares(x):
    ...     return (x * x).sum()
    >>> grad(sum_of_squares)(np.array([1.0, 2.0, 3.0]))
    array([2., 4., 6.])
    >>> dw, dx = grad(lambda w, x: (w * x).sum(), argnums=(0, 1))([1.0, 2.0], [3.0, 4.0])
    >>> dw, dx
    (array([3., 4.]), array([1., 2.]))
    """
    positions = _check(f, argnums, "grad")
    caller = f"grad({_name(f)})"

    def gradient(*args: Any, **kwargs: Any) -> Array | tuple[Array, ...]:
        leaves, out = _evaluate(caller, f, positions, args, kwargs)
        _check_scalar(caller, f, out)
        return _pack(argnums, _gradients(out, leaves))

    return gradient


@overload
def value_and_grad(
    f: Callable[..., Any], argnums: int = 0
) -> Callable[..., tuple[float, Array]]: ...
@overload
def value_and_grad(
    f: Callable[..., Any], argnums: Sequence[int]
) -> Callable[..., tuple[float, tuple[Array, ...]]]: ...
def value_and_grad(
    f: Callable[..., Any], argnums: int | Sequence[int] = 0
) -> Callable[..., tuple[float, Array | tuple[Array, ...]]]:
    """Return a function that computes the scalar function ``f`` and its gradient.

    ``value_and_grad(f)(*args)`` returns ``(value, gradient)``, from one call of
    ``f`` and one backward pass: ``value`` is ``f(*args)`` as a Python float and
    ``gradient`` is what ``grad(f, argnums)(*args)`` returns.

    Parameters
    ----------
    f : callable
        Returns a scalar: a Tensor of one element. Receives its arguments as in `grad`.
    argnums : int or tuple of int, default 0
        The position(s) of the arguments to differentiate with respect to, as in `grad`.

    Returns
    -------
    callable
        Takes ``f``'s arguments and returns ``(value, gradient)``: a float, and a
        new array of the argument's shape and dtype (a tuple of arrays for a tuple
        ``argnums``).

    Raises
    ------
    TypeError, ValueError
        As `grad`.

    See Also
    --------
    grad : the gradient alone.

    Notes
    -----
    The pair is what ``scipy.optimize.minimize`` expects from its objective when
    given ``jac=True``: a float and a float64 array of the shape of ``x0`` (for a
    float64 ``x0``). For instance, to minimise a function ``loss`` of one Tensor::

        from scipy.optimize import minimize

        result = minimize(value_and_grad(loss), x0, jac=True, method="BFGS")

    Examples
    --------
    >>> import numpy as np
    >>> from minigrad import value_and_grad
    >>> value, dx = value_and_grad(lambda x: (x**2).sum())(np.array([3.0, 4.0]))
    >>> value, dx
    (25.0, array([6., 8.]))
    """
    positions = _check(f, argnums, "value_and_grad")
    caller = f"value_and_grad({_name(f)})"

    def value_and_gradient(*args: Any, **kwargs: Any) -> tuple[float, Array | tuple[Array, ...]]:
        leaves, out = _evaluate(caller, f, positions, args, kwargs)
        _check_scalar(caller, f, out)
        return out.item(), _pack(argnums, _gradients(out, leaves))

    return value_and_gradient


@overload
def jacobian(f: Callable[..., Any], argnums: int = 0) -> Callable[..., Array]: ...
@overload
def jacobian(f: Callable[..., Any], argnums: Sequence[int]) -> Callable[..., tuple[Array, ...]]: ...
def jacobian(
    f: Callable[..., Any], argnums: int | Sequence[int] = 0
) -> Callable[..., Array | tuple[Array, ...]]:
    """Return a function that computes the Jacobian of ``f``, whose result may have any shape.

    For a result of shape ``out_shape`` and an argument of shape ``in_shape``, the
    Jacobian has shape ``out_shape + in_shape``: element ``[i..., j...]`` is the
    derivative of result element ``i`` with respect to argument element ``j``.

    Parameters
    ----------
    f : callable
        Returns a Tensor (or a number or array, then constant). Receives its
        arguments as in `grad`.
    argnums : int or tuple of int, default 0
        The position(s) of the arguments to differentiate with respect to, as in `grad`.

    Returns
    -------
    callable
        Takes ``f``'s arguments and returns the Jacobian, a new array of the
        argument's dtype (a tuple of them for a tuple ``argnums``).

    Raises
    ------
    TypeError, ValueError
        As `grad`, except that the result may have any number of elements.

    Notes
    -----
    It runs one backward pass per element of the result (keeping the graph between
    passes), so it suits functions with small results; for a scalar result `grad`
    gives the same values in one pass.

    Examples
    --------
    >>> import numpy as np
    >>> from minigrad import jacobian
    >>> jacobian(lambda x: x * x)(np.array([1.0, 2.0]))
    array([[2., 0.],
           [0., 4.]])
    """
    positions = _check(f, argnums, "jacobian")
    caller = f"jacobian({_name(f)})"

    def jacobian_of_f(*args: Any, **kwargs: Any) -> Array | tuple[Array, ...]:
        leaves, out = _evaluate(caller, f, positions, args, kwargs)
        jacobians = [np.zeros(out.shape + leaf.shape, dtype=leaf.dtype) for leaf in leaves]
        if out.requires_grad:
            for index in np.ndindex(out.shape):
                seed = np.zeros(out.shape, dtype=out.dtype)
                seed[index] = 1  # picks result element `index`: one row of the Jacobian
                for leaf in leaves:
                    leaf.zero_grad()
                out.backward(seed, retain_graph=True)
                for jac, leaf in zip(jacobians, leaves, strict=True):
                    jac[index] = leaf.grad
        return _pack(argnums, jacobians)

    return jacobian_of_f


def _name(f: Callable[..., Any]) -> str:
    return getattr(f, "__name__", type(f).__name__)


def _check(f: Any, argnums: Any, transform: str) -> tuple[int, ...]:
    """Check ``f`` and ``argnums`` when a transform is created; return the positions."""
    if not callable(f):
        raise TypeError(f"{transform}: f must be a function, got {type(f).__name__}")
    items = tuple(argnums) if isinstance(argnums, (tuple, list)) else (argnums,)
    for item in items:
        # bool is an int, but argnums=True is a mistake, not position 1
        if isinstance(item, bool) or not isinstance(item, (int, np.integer)):
            raise TypeError(
                f"{transform}: argnums must be an int or a tuple of ints, got {argnums!r}"
            )
    positions = tuple(int(item) for item in items)
    if not positions:
        raise ValueError(f"{transform}: argnums is empty; name at least one argument position")
    if min(positions) < 0:
        raise ValueError(
            f"{transform}: argnums must be positions counted from 0, got {argnums!r}; "
            f"negative positions are not supported"
        )
    if len(set(positions)) != len(positions):
        raise ValueError(f"{transform}: argnums repeats a position: {argnums!r}")
    return positions


def _evaluate(
    caller: str,
    f: Callable[..., Any],
    positions: tuple[int, ...],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> tuple[list[Tensor], Tensor]:
    """Call ``f`` with new leaves in ``positions``, recording; return the leaves and result."""
    if max(positions) >= len(args):
        raise TypeError(
            f"{caller}: differentiating with respect to positional argument "
            f"{max(positions)} needs at least {max(positions) + 1} positional arguments, "
            f"got {len(args)}"
        )
    leaves = [_leaf(caller, i, args[i]) for i in positions]
    call_args = list(args)
    for i, leaf in zip(positions, leaves, strict=True):
        call_args[i] = leaf
    # Record even inside no_grad (as PyTorch's torch.func.grad does): the caller asked
    # for a gradient. Restored however f exits; f's own no_grad blocks still work.
    previous = _mode.mode.enabled
    _mode.mode.enabled = True
    try:
        out = f(*call_args, **kwargs)
    finally:
        _mode.mode.enabled = previous
    return leaves, _as_result(caller, f, out)


def _leaf(caller: str, position: int, value: Any) -> Tensor:
    """Return a new leaf Tensor holding a copy of ``value``'s data, converted as Tensor does."""
    data = value.data if isinstance(value, Tensor) else value
    if isinstance(data, np.ndarray):
        data = np.array(data)  # a copy: Tensor would use a float array as it is
    try:
        return Tensor(data)
    except (TypeError, ValueError) as exc:
        kind = TypeError if isinstance(exc, TypeError) else ValueError
        raise kind(f"{caller}: cannot differentiate argument {position}: {exc}") from None


def _as_result(caller: str, f: Callable[..., Any], out: Any) -> Tensor:
    """``f``'s result as a Tensor; a number or numeric array becomes a constant one."""
    if isinstance(out, Tensor):
        return out
    # Not lists: a list of Tensors would convert to numbers and lose the graph.
    numeric = isinstance(out, (int, float, np.generic, np.ndarray))
    if numeric and np.asarray(out).dtype.kind in "biuf":
        return Tensor(out, requires_grad=False)
    raise TypeError(
        f"{caller}: {_name(f)} must return a Tensor, got {type(out).__name__}"
        + ("; join tensors with minigrad.stack" if isinstance(out, (list, tuple)) else "")
    )


def _check_scalar(caller: str, f: Callable[..., Any], out: Tensor) -> None:
    if out.size != 1:
        raise ValueError(
            f"{caller}: {_name(f)} must return a scalar (a Tensor of one element), got "
            f"shape {out.shape}; use jacobian for a result that is not a scalar"
        )


def _gradients(out: Tensor, leaves: list[Tensor]) -> list[Array]:
    """Run backward from the scalar ``out``; return each leaf's gradient (zeros if none)."""
    if out.requires_grad:
        out.backward()
    # The leaves are this call's own: their gradients are new arrays, no one else's.
    return [leaf.grad for leaf in leaves]


def _pack(argnums: int | Sequence[int], arrays: list[Array]) -> Array | tuple[Array, ...]:
    """One array for an int ``argnums``, a tuple for a tuple (or list) of them."""
    return tuple(arrays) if isinstance(argnums, (tuple, list)) else arrays[0]
