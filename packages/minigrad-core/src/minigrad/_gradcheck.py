"""Gradient checking: analytic gradients against central differences in float64."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from minigrad._mode import no_grad
from minigrad._tensor import Tensor

__all__ = ["GradcheckError", "gradcheck"]


class GradcheckError(RuntimeError):
    """Raised by `gradcheck` when an analytic gradient disagrees with the numeric one.

    Attributes
    ----------
    input_index : int
        Position of the offending input among the arguments of ``fn``.
    element_index : tuple of int
        Index of the worst element in that input.
    analytic, numeric : float
        The two values of the gradient at that element.

    Examples
    --------
    >>> from minigrad import GradcheckError, Tensor, gradcheck
    >>> try:
    ...     gradcheck(lambda x: x.detach() * x, Tensor([3.0]))
    ... except GradcheckError as err:
    ...     print(err.input_index, err.element_index, round(err.numeric / err.analytic, 4))
    0 (0,) 2.0
    """

    def __init__(
        self,
        message: str,
        *,
        input_index: int,
        element_index: tuple[int, ...],
        analytic: float,
        numeric: float,
    ) -> None:
        super().__init__(message)
        self.input_index = input_index
        self.element_index = element_index
        self.analytic = analytic
        self.numeric = numeric


def gradcheck(
    fn: Callable[..., Tensor],
    *inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> bool:
    """Check the gradients of ``fn`` against central finite differences.

    Every input that is a `Tensor` with ``requires_grad=True`` is checked. The check
    runs on float64 copies of the inputs (float32 inputs included), so ``fn`` sees
    float64 tensors. The output is reduced to a scalar by a fixed random weighting
    ``sum(out * w)``, which catches errors that an all-ones weighting hides (the
    gradient of ``softmax(x).sum()`` is zero, whatever the rule). For each element
    ``x[i]`` the numeric derivative is ``(f(x[i] + eps) - f(x[i] - eps)) / (2 eps)``;
    it must agree with the analytic one within ``atol + rtol * |numeric|``.

    Parameters
    ----------
    fn : callable
        Takes the inputs, in order, and returns a Tensor.
    *inputs : Tensor or object
        The arguments of ``fn``. Non-tensors are passed through unchanged.
    eps : float, default 1e-6
        The finite-difference step.
    atol, rtol : float
        Absolute and relative tolerance.

    Returns
    -------
    bool
        ``True`` when every gradient element agrees.

    Raises
    ------
    GradcheckError
        If some element disagrees; the message gives the worst one (input index,
        element index, analytic and numeric value) and how many elements fail.
    ValueError
        If no input requires a gradient.
    TypeError
        If ``fn`` does not return a Tensor.

    Examples
    --------
    >>> from minigrad import Tensor, gradcheck
    >>> gradcheck(lambda a, b: (a * b).tanh(), Tensor([0.5, -1.0]), Tensor([2.0, 0.3]))
    True
    """
    copies = [
        Tensor(x.data.astype(np.float64), requires_grad=x.requires_grad)
        if isinstance(x, Tensor)
        else x
        for x in inputs
    ]
    checked = [i for i, x in enumerate(copies) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        raise ValueError(
            "gradcheck: no input requires grad, so there is nothing to check; pass "
            "Tensors created with requires_grad=True"
        )

    out = fn(*copies)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
    weights = np.random.default_rng(0).standard_normal(out.shape)
    if not out.requires_grad:
        analytic = {i: np.zeros_like(copies[i].data) for i in checked}
    else:
        out.backward(weights.astype(out.dtype))
        analytic = {i: copies[i].grad.astype(np.float64) for i in checked}

    def objective() -> float:
        with no_grad():
            value = fn(*copies)
        return float(np.sum(value.data.astype(np.float64) * weights))

    worst: tuple[float, int, tuple[int, ...], float, float] | None = None
    failures = 0
    total = 0
    for i in checked:
        x = copies[i].data
        grad = analytic[i]
        for index in np.ndindex(x.shape):
            original = x[index]
            x[index] = original + eps
            plus = objective()
            x[index] = original - eps
            minus = objective()
            x[index] = original
            numeric = (plus - minus) / (2 * eps)
            value = float(grad[index])
            if np.isfinite(value) and np.isfinite(numeric):
                excess = abs(value - numeric) / (atol + rtol * abs(numeric))
            else:  # nan never agrees; an infinity agrees only with itself
                excess = 0.0 if value == numeric else np.inf
            total += 1
            if excess > 1:
                failures += 1
            if worst is None or excess > worst[0]:
                worst = (excess, i, tuple(int(k) for k in index), value, numeric)

    if failures and worst is not None:
        _, i, index, value, numeric = worst
        raise GradcheckError(
            f"gradcheck failed: {failures} of {total} gradient elements disagree. Worst: "
            f"input {i}, element {index}: analytic {value!r}, numeric {numeric!r} "
            f"(|difference| {abs(value - numeric):.3g} > atol + rtol * |numeric| = "
            f"{atol + rtol * abs(numeric):.3g})",
            input_index=i,
            element_index=index,
            analytic=value,
            numeric=numeric,
        )
    return True
