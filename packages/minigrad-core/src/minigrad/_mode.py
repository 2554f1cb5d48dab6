"""Grad mode: whether operators record the graph, per thread, and `no_grad` to turn it off."""

from __future__ import annotations

import functools
import inspect
import threading
from collections.abc import Callable, Generator
from typing import Any, TypeVar, cast, overload

__all__ = ["is_grad_enabled", "no_grad"]

_F = TypeVar("_F", bound=Callable[..., Any])


class _GradMode(threading.local):
    """Whether operators record the graph; one flag per thread, as in PyTorch.

    ``saved`` holds, for each `no_grad` block open in this thread, the mode it found,
    so that leaving the block restores it however blocks and instances are nested.
    """

    enabled = True

    def __init__(self) -> None:  # runs once in each thread that uses it
        self.saved: list[bool] = []


mode = _GradMode()

# How many `no_grad` blocks are open, in all threads. While there are none, grad mode is
# on in every thread, and recording a node can skip looking up this thread's flag (a
# lookup costs about a third of the rest of the work of recording a node).
paused = 0
_paused_lock = threading.Lock()


def is_grad_enabled() -> bool:
    """Return whether operators currently record the graph for `Tensor.backward`.

    It is ``True`` except inside a `no_grad` block (the flag is per thread).

    Examples
    --------
    >>> from minigrad import is_grad_enabled, no_grad
    >>> is_grad_enabled()
    True
    >>> with no_grad():
    ...     is_grad_enabled()
    False
    """
    return bool(mode.enabled)


class _NoGrad:
    """Context manager (and decorator) returned by `no_grad`.

    It keeps no state of its own, so one instance may be reused, nested, and used by
    several threads at once.
    """

    __slots__ = ()

    def __enter__(self) -> None:
        global paused
        with _paused_lock:
            paused += 1
        mode.saved.append(mode.enabled)
        mode.enabled = False

    def __exit__(self, *exc_info: object) -> None:
        global paused
        mode.enabled = mode.saved.pop()
        with _paused_lock:
            paused -= 1

    def __call__(self, func: _F) -> _F:
        if inspect.isgeneratorfunction(func):
            return cast(_F, _no_grad_generator(func))
        if inspect.iscoroutinefunction(func) or inspect.isasyncgenfunction(func):
            raise TypeError(
                f"no_grad cannot decorate the coroutine function {func.__qualname__}: "
                f"the mode is per thread, not per task; use 'with no_grad():' inside it"
            )

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with _NoGrad():
                return func(*args, **kwargs)

        return cast(_F, wrapper)


def _no_grad_generator(func: Callable[..., Generator[Any, Any, Any]]) -> Callable[..., Any]:
    """Wrap a generator function so that its body runs without recording.

    The mode is switched off while the generator's own code runs (each step of the
    iteration) and restored whenever it yields, so the caller's code between steps
    records as usual.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
        with _NoGrad():
            gen = func(*args, **kwargs)
        sent: Any = None
        thrown: BaseException | None = None
        while True:
            try:
                with _NoGrad():
                    value = gen.send(sent) if thrown is None else gen.throw(thrown)
            except StopIteration as stop:
                return stop.value
            sent = thrown = None
            try:
                sent = yield value
            except GeneratorExit:
                with _NoGrad():
                    gen.close()
                raise
            except BaseException as exc:  # thrown in by the caller: pass it on
                thrown = exc

    return wrapper


@overload
def no_grad() -> _NoGrad: ...
@overload
def no_grad(func: _F) -> _F: ...
def no_grad(func: _F | None = None) -> _NoGrad | _F:
    """Turn off graph recording, as a context manager or a function decorator.

    Inside the block, operators return tensors with ``requires_grad=False`` and keep
    no parents and no saved arrays, which is what evaluation and parameter updates
    want. The previous mode is restored on exit, also when an exception leaves the
    block. The mode is per thread.

    Parameters
    ----------
    func : callable, optional
        When given (``@no_grad`` or ``@no_grad()``), the function is wrapped so that
        every call runs without recording.

    Returns
    -------
    context manager or callable
        A context manager, or ``func`` wrapped.

    Examples
    --------
    >>> from minigrad import Tensor, no_grad
    >>> w = Tensor([1.0, 2.0])
    >>> with no_grad():
    ...     y = w * 2
    >>> y.requires_grad
    False
    >>> @no_grad
    ... def predict(x):
    ...     return x * w
    >>> predict(Tensor([3.0, 4.0])).requires_grad
    False
    """
    if func is None:
        return _NoGrad()
    return _NoGrad()(func)
