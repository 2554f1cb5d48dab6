"""Loss functions: `mse_loss`, `binary_cross_entropy_with_logits`, `cross_entropy`."""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad import Tensor

__all__ = ["binary_cross_entropy_with_logits", "cross_entropy", "mse_loss"]

_REDUCTIONS = ("mean", "sum", "none")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _check_reduction(reduction: object) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _target(target: Any, like: Tensor, fn: str, what: str) -> Tensor | np.ndarray[Any, Any]:
    """``target`` as a tensor, or an array of ``like``'s dtype, that broadcasts to ``like``."""
    result = target if isinstance(target, Tensor) else np.asarray(target, dtype=like.data.dtype)
    shape, target_shape = like.shape, result.shape
    if target_shape != shape:
        try:
            ok = np.broadcast_shapes(shape, target_shape) == shape
        except ValueError:
            ok = False
        if not ok:
            raise ValueError(
                f"{fn}: {what} has shape {target_shape}, which does not match the input's "
                f"shape {shape}; reshape it (e.g. y.reshape({', '.join(map(str, shape))}))"
            )
    return result


def _as_tensor(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(x, requires_grad=False)


def mse_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Mean squared error ``(input - target) ** 2``, reduced.

    Parameters
    ----------
    input : Tensor
        Predictions.
    target : Tensor or array_like
        Targets, of ``input``'s shape (or one that broadcasts to it, such as a scalar).
    reduction : {'mean', 'sum', 'none'}, default 'mean'
        How to combine the per-element losses; ``'none'`` returns them.

    Returns
    -------
    Tensor
        A 0-d tensor, or one of ``input``'s shape for ``reduction='none'``.

    Raises
    ------
    ValueError
        If the shapes do not match (a ``(n, 1)`` prediction with an ``(n,)`` target
        would silently broadcast to ``(n, n)``) or ``reduction`` is unknown.

    Examples
    --------
    >>> from minigrad import Tensor
    >>> from minigrad.nn import mse_loss
    >>> mse_loss(Tensor([1.0, 2.0]), [0.0, 4.0]).item()
    2.5
    """
    _check_reduction(reduction)
    input = _as_tensor(input)
    diff = input - _target(target, input, "mse_loss", "target")
    return _reduce(diff.square(), reduction)  # (one node, not the two inputs of diff * diff)


def binary_cross_entropy_with_logits(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Binary cross-entropy of ``sigmoid(input)`` against ``target``, computed stably.

    Computes ``log(1 + exp(x)) - x * y`` as ``m + log(exp(-m) + exp(x - m)) - x * y``
    with ``m = max(x, 0)`` held constant, so it is finite for logits of any magnitude
    and its gradient is exactly ``sigmoid(x) - y`` everywhere, zero included.

    Parameters
    ----------
    input : Tensor
        Logits (unbounded scores, not probabilities).
    target : Tensor or array_like
        Targets in [0, 1], of ``input``'s shape.
    reduction : {'mean', 'sum', 'none'}, default 'mean'
        How to combine the per-element losses.

    Returns
    -------
    Tensor
        A 0-d tensor, or one of ``input``'s shape for ``reduction='none'``.

    Raises
    ------
    ValueError
        If the shapes do not match or ``reduction`` is unknown.

    Examples
    --------
    >>> from minigrad import Tensor
    >>> from minigrad.nn import binary_cross_entropy_with_logits
    >>> round(binary_cross_entropy_with_logits(Tensor([0.0]), [1.0]).item(), 6)  # log 2
    0.693147
    >>> binary_cross_entropy_with_logits(Tensor([1e4, -1e4]), [0.0, 0.0], "none").data
    array([10000.,     0.])
    """
    _check_reduction(reduction)
    x = _as_tensor(input)
    y = _target(target, x, "binary_cross_entropy_with_logits", "target")
    # m is a constant (no gradient flows through it), so the gradient is exact at 0 too.
    m = np.maximum(x.data, 0)
    loss = ((x - m).exp() + np.exp(-m)).log() + m - x * y
    return _reduce(loss, reduction)


def _first_fraction(values: np.ndarray[Any, Any]) -> float:
    """Return the first value that is not a whole number (NaN and infinities count)."""
    return float(values[~(np.isfinite(values) & (values == np.round(values)))].flat[0])


def cross_entropy(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Cross-entropy of ``softmax(input)`` against integer class labels.

    Computed as ``-log_softmax(input)[..., label]``, finite for logits of any magnitude.

    Parameters
    ----------
    input : Tensor
        Logits of shape ``(n, n_classes)`` (or ``(..., n_classes)``, or
        ``(n_classes,)`` with a single label).
    target : array_like of int, or Tensor
        Class labels in ``[0, n_classes)``, of shape ``input.shape[:-1]``: an integer
        array, or a `Tensor` (which holds floats) whose values are whole numbers.
    reduction : {'mean', 'sum', 'none'}, default 'mean'
        How to combine the per-sample losses; ``'none'`` returns one per label.

    Returns
    -------
    Tensor
        A 0-d tensor, or one of the labels' shape for ``reduction='none'``.

    Raises
    ------
    ValueError
        If the labels are not integers (whole numbers, for a Tensor), have the wrong
        shape, or lie outside ``[0, n_classes)``, or ``reduction`` is unknown.

    Examples
    --------
    >>> import numpy as np
    >>> from minigrad import Tensor
    >>> from minigrad.nn import cross_entropy
    >>> logits = Tensor([[0.0, 0.0], [0.0, 0.0]])
    >>> round(cross_entropy(logits, np.array([0, 1])).item(), 6)  # log 2
    0.693147
    """
    _check_reduction(reduction)
    x = _as_tensor(input)
    if isinstance(target, Tensor):
        # A tensor always holds floats: whole numbers among them are labels.
        labels = target.data
        if not np.all(np.isfinite(labels) & (labels == np.round(labels))):
            raise ValueError(
                "cross_entropy: a target tensor must hold whole numbers (class labels), "
                f"got the value {_first_fraction(labels)}"
            )
    else:
        labels = np.asarray(target)
        if not np.issubdtype(labels.dtype, np.integer):
            whole = (
                labels.size
                and np.issubdtype(labels.dtype, np.floating)
                and np.all(labels == np.round(labels))
            )
            hint = "; convert them with labels.astype(int)" if whole else ""
            raise ValueError(
                "cross_entropy: target must hold integer class labels, got dtype "
                f"{labels.dtype}{hint}"
            )
    if x.ndim == 0:
        raise ValueError("cross_entropy: input must have a class axis, got a 0-d tensor")
    n_classes = x.shape[-1]
    if labels.shape != x.shape[:-1]:
        raise ValueError(
            f"cross_entropy: target has shape {labels.shape}, expected {x.shape[:-1]} "
            f"(the input's shape {x.shape} without its last, class axis)"
        )
    if labels.size:
        low, high = labels.min(), labels.max()
        if low < 0 or high >= n_classes:
            bad = low if low < 0 else high
            raise ValueError(
                f"cross_entropy: label {int(bad)} is outside [0, {n_classes}) for "
                f"input with {n_classes} classes"
            )
    if not np.issubdtype(labels.dtype, np.integer):
        labels = labels.astype(np.intp)  # whole numbers in range, checked above
    # Picking log-probabilities with a constant weight array (-1 at each label, scaled
    # for the mean) keeps the backward pass to two cheap elementwise rules.
    n = labels.size
    scale = -1.0 if reduction != "mean" else -1.0 / max(n, 1)
    weights = np.zeros(x.shape, dtype=x.data.dtype)
    weights.reshape(-1, n_classes)[np.arange(n), labels.reshape(-1)] = scale
    picked = x.log_softmax(axis=-1) * weights
    if reduction == "none":
        return picked.sum(axis=-1)
    return picked.sum()
