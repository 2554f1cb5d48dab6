"""`detect_anomaly`: find the operation that first made a NaN or an infinity.

Outside the block nothing here runs: `minigrad._tensor._record` reads one module flag,
``_tensor.ANOMALY``, per operation and finds it off. Inside, `check` runs for every
operation as it is recorded: it looks at the result, notes the line of user code that
asked for it, and gives the node a rule that looks at the gradients it returns.
"""

from __future__ import annotations

import linecache
import sys
import threading
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from minigrad import _tensor
from minigrad._rules import Grads

if TYPE_CHECKING:
    from minigrad._tensor import Tensor

__all__ = ["detect_anomaly"]

Array = npt.NDArray[Any]
Rule = Callable[..., Grads]

_lock = threading.Lock()
_open_blocks = 0  # detect_anomaly blocks open in any thread


class detect_anomaly:  # noqa: N801 - used like a function, as torch.autograd.detect_anomaly
    """Check every operation for NaN and infinity, and name the one that made it first.

    Inside the block, each operation's result is checked as it is computed, and each
    gradient rule's results as `Tensor.backward` runs it. The first non-finite value
    raises `FloatingPointError` naming the operation, the shapes of its inputs and the
    line of your code that created it (kept for each node only while the block is
    open). Outside it, nothing is checked and nothing is kept: it costs nothing.

    As PyTorch's anomaly mode, it is slow (every array is scanned) and global: while a
    block is open in any thread, operations in every thread are checked. Blocks nest,
    and it also decorates a function.

    Raises
    ------
    FloatingPointError
        From the operation (forward) or the gradient rule (backward) that first
        produced a NaN or an infinity.

    Examples
    --------
    >>> import numpy as np
    >>> from minigrad import Tensor, detect_anomaly
    >>> x = Tensor([4.0, 0.0])
    >>> with detect_anomaly():
    ...     y = (x ** 0.5).sum()  # finite: sqrt(0) is 0
    ...     y.backward()  # but its slope at 0 is not  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    FloatingPointError: pow: its gradient rule returned inf for input 0 (shape (2,)) ...
    """

    def __enter__(self) -> detect_anomaly:
        global _open_blocks
        with _lock:
            _open_blocks += 1
            _tensor.ANOMALY = True
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        global _open_blocks
        with _lock:
            _open_blocks -= 1
            _tensor.ANOMALY = _open_blocks > 0

    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Decorate ``func`` so that each call runs inside the block."""

        def checked(*args: Any, **kwargs: Any) -> Any:
            with detect_anomaly():
                return func(*args, **kwargs)

        checked.__name__ = getattr(func, "__name__", "checked")
        checked.__qualname__ = getattr(func, "__qualname__", checked.__name__)
        checked.__doc__ = func.__doc__
        checked.__wrapped__ = func  # type: ignore[attr-defined]
        return checked


def check(data: Array, inputs: tuple[Tensor, ...], rule: Rule) -> Rule:
    """Check an operation's result; return its rule, made to check its gradients too.

    Called by `minigrad._tensor._record` for every operation while a block is open.
    """
    op = rule.__name__
    site = _user_line()
    shapes = ", ".join(_shape_of(x) for x in inputs)
    bad = _non_finite(data)
    if bad:
        raise FloatingPointError(
            f"{op}: its result (shape {data.shape}) holds {bad}, from inputs of shapes "
            f"({shapes}); created at {site}"
        )

    def checked_rule(g: Array, saved: Any, inputs: tuple[Tensor, ...]) -> Grads:
        bad = _non_finite(g)
        if bad:  # only the seed can get here: every rule's results are checked
            raise FloatingPointError(
                f"{op}: the gradient passed to backward() holds {bad}; created at {site}"
            )
        grads = rule(g, saved, inputs)
        for i, grad in enumerate(grads):
            bad = "" if grad is None else _non_finite(np.asarray(grad))
            if bad:
                raise FloatingPointError(
                    f"{op}: its gradient rule returned {bad} for input {i} "
                    f"(shape {_shape_of(inputs[i])}) from a finite gradient of its result; "
                    f"inputs of shapes ({shapes}), created at {site}"
                )
        return grads

    checked_rule.__name__ = checked_rule.__qualname__ = op
    return checked_rule


def _non_finite(a: Array) -> str:
    """``''`` if every element of ``a`` is finite, else what it holds: 'nan', 'inf'..."""
    if a.dtype.kind not in "fc" or np.isfinite(a).all():
        return ""
    found = [name for name, test in (("nan", np.isnan), ("inf", np.isinf)) if test(a).any()]
    return " and ".join(found)


def _shape_of(x: Any) -> str:
    return "constant" if x is _tensor.CONSTANT else str(x.shape)


def _user_line() -> str:
    """``file:line: code`` of the innermost caller outside minigrad."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").startswith("minigrad"):
        frame = frame.f_back
    if frame is None:  # pragma: no cover - minigrad always has a caller
        return "an unknown line"
    code = frame.f_code
    text = linecache.getline(code.co_filename, frame.f_lineno).strip()
    return f"{code.co_filename}:{frame.f_lineno}" + (f": {text}" if text else "")
