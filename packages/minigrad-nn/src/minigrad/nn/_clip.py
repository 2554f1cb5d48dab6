"""Gradient clipping: `clip_grad_norm`, as PyTorch's ``torch.nn.utils.clip_grad_norm_``."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable

import numpy as np

from minigrad import Tensor

__all__ = ["clip_grad_norm"]

# Added to the total norm before dividing, as PyTorch does, so that a zero norm is no
# division by zero.
_EPS = 1e-6


def clip_grad_norm(
    parameters: Tensor | Iterable[Tensor],
    max_norm: float,
    norm_type: float | str = 2.0,
    error_if_nonfinite: bool = False,
) -> float:
    """Scale the gradients so that their total norm is at most ``max_norm``.

    The total norm is the ``norm_type``-norm of all gradients together, as if they were
    concatenated into one vector (computed as PyTorch does: the norm of the per-tensor
    norms). When ``max_norm / (total + 1e-6)`` is below 1, every gradient is multiplied
    by that factor; otherwise the gradients are left as they are. Call it between
    ``loss.backward()`` and ``optimizer.step()``.

    This follows ``torch.nn.utils.clip_grad_norm_``:

    - A tensor whose gradient was never computed has zeros there, which add nothing to
      the norm and stay zeros (PyTorch skips such tensors; the result is the same).
    - A non-finite total norm is returned as it is and, unless ``error_if_nonfinite``,
      used like any other: an infinite norm gives the factor 0 (finite gradients become
      0, infinite ones NaN), a NaN norm makes every gradient NaN. Check the returned
      value to skip such a step.

    The new gradients are assigned through the public attribute (``p.grad = p.grad *
    factor``), never written into the old array: that array may be one the caller
    assigned or still holds (``p.grad = my_array``), and the engine never writes into
    arrays it does not own either. References to the old ``p.grad`` array therefore keep
    the unclipped values.

    Parameters
    ----------
    parameters : Tensor or iterable of Tensor
        The tensors whose gradients to clip, usually ``model.parameters()``.
    max_norm : float
        The largest total norm to allow, a non-negative number.
    norm_type : float or 'inf', default 2.0
        The ``p`` of the p-norm: a positive number, or ``float('inf')`` (or ``'inf'``)
        for the largest absolute value.
    error_if_nonfinite : bool, default False
        Raise `RuntimeError` instead of clipping when the total norm is NaN or infinite.

    Returns
    -------
    float
        The total norm of the gradients before clipping.

    Raises
    ------
    TypeError
        If ``parameters`` holds something other than tensors.
    ValueError
        If ``max_norm`` or ``norm_type`` is out of range.
    RuntimeError
        If ``error_if_nonfinite`` and the total norm is NaN or infinite (nothing is
        changed then).

    Examples
    --------
    >>> import numpy as np
    >>> from minigrad import Tensor
    >>> from minigrad.nn import clip_grad_norm
    >>> w = Tensor([0.0, 0.0])
    >>> w.grad = np.array([3.0, 4.0])
    >>> clip_grad_norm([w], max_norm=1.0)    # returns the norm before clipping
    5.0
    >>> w.grad.round(6)
    array([0.6, 0.8])
    >>> w.grad = np.array([0.5, -2.0])
    >>> clip_grad_norm([w], max_norm=4.0, norm_type="inf")  # at most 4 already
    2.0
    >>> w.grad
    array([ 0.5, -2. ])
    """
    tensors = _tensors(parameters)
    limit = _check_max_norm(max_norm)
    p = _check_norm_type(norm_type)
    grads = [t.grad for t in tensors]
    total = _total_norm(grads, p)
    if not math.isfinite(total) and error_if_nonfinite:
        raise RuntimeError(
            f"the total {norm_type}-norm of the gradients is {total}, so they cannot be "
            "clipped; pass error_if_nonfinite=False to clip anyway (as PyTorch does)"
        )
    factor = limit / (total + _EPS)
    # `not factor >= 1` is also true for a NaN factor, which PyTorch applies too.
    if not factor >= 1.0:
        with np.errstate(invalid="ignore"):  # inf * 0 is NaN, as in PyTorch: no warning
            for t, g in zip(tensors, grads, strict=True):
                t.grad = g * factor
    return total


def _tensors(parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        return [parameters]
    if not isinstance(parameters, Iterable):
        raise TypeError(
            "parameters must be a Tensor or an iterable of Tensors, got "
            f"{type(parameters).__name__}"
        )
    tensors = list(parameters)
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"parameters[{i}] is a {type(t).__name__}, not a minigrad Tensor")
    return tensors


def _check_max_norm(max_norm: object) -> float:
    if (
        isinstance(max_norm, bool)
        or not isinstance(max_norm, numbers.Real)
        or math.isnan(max_norm)
        or max_norm < 0
    ):
        raise ValueError(f"max_norm must be a non-negative number, got {max_norm!r}")
    return float(max_norm)


def _check_norm_type(norm_type: object) -> float:
    if isinstance(norm_type, str) and norm_type.strip().lower() == "inf":
        return math.inf
    if (
        isinstance(norm_type, bool)
        or not isinstance(norm_type, numbers.Real)
        or math.isnan(norm_type)
        or norm_type <= 0
    ):
        raise ValueError(f"norm_type must be a positive number or float('inf'), got {norm_type!r}")
    return float(norm_type)


def _vector_norm(x: np.ndarray, p: float) -> float:
    """Return the p-norm of ``x`` as one vector, in float64 (float32 squares could overflow)."""
    if x.size == 0:
        return 0.0
    flat = np.ravel(x).astype(np.float64, copy=False)
    if p == 2.0:
        return float(np.sqrt(np.dot(flat, flat)))
    magnitudes = np.abs(flat)
    if math.isinf(p):
        return float(magnitudes.max())
    if p == 1.0:
        return float(magnitudes.sum())
    return float(np.sum(magnitudes**p) ** (1.0 / p))


def _total_norm(grads: list[np.ndarray], p: float) -> float:
    if not grads:
        return 0.0
    return _vector_norm(np.array([_vector_norm(g, p) for g in grads]), p)
