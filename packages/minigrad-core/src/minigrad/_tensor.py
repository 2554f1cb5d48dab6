"""The `Tensor` type and the reverse-mode engine.

How the engine works
--------------------
A `Tensor` is a NumPy array plus, when it was computed from tensors that require
gradients, three fields that make it a node of the graph:

- ``_prev``: the tuple of input tensors (the node's parents);
- ``_rule``: the vector-Jacobian rule, a plain function
  ``rule(g, saved, prev) -> tuple`` that receives the gradient of the output and
  returns one gradient (or ``None``) per parent, in the output's shape;
- ``_saved``: whatever the forward pass kept for the rule (arrays, an axis, ...).

A rule never refers to its output node, so a graph holds no reference cycles and is
freed by reference counting as soon as the last tensor of it goes away.

Each operator below computes its output and, right beside it, its rule (a static
method named ``_<op>_backward``). Everything the rules have in common is done once, in
`Tensor.backward`: a gradient whose shape differs from its parent's (broadcasting) is
summed back by `_unbroadcast`, a gradient of another dtype is cast to its parent's, and
contributions are accumulated out of place (``g = g + contribution``), so an array
that may be shared is never written to.

When no input requires a gradient, or inside `no_grad`, an operator builds a plain
tensor with no parents and no saved arrays: no gradient work is spent on what nobody
asked for.

Two things keep memory close to hand-written NumPy code: `Tensor.backward` releases
each node as soon as it is done (its output even before its rule runs), and a few rules
(the activations, `Tensor.linear`) have a variant that overwrites the node's gradient
in place and frees each saved array once used; both only when reference counts show
that nothing but the backward loop can see that node or that array.
"""

from __future__ import annotations

import functools
import inspect
import reprlib
import sys
import threading
import weakref
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from typing import Any, SupportsIndex, TypeAlias, TypeVar, cast, overload

import numpy as np
import numpy.typing as npt

__all__ = ["Tensor", "concatenate", "is_grad_enabled", "no_grad", "stack", "where"]

Array = npt.NDArray[Any]
Grads = tuple[Array | None, ...]
Rule = Callable[[Array, Any, tuple["Tensor", ...]], Grads]
Axis = int | tuple[int, ...] | None
# What may stand beside a Tensor in an arithmetic expression.
Operand: TypeAlias = "Tensor | float | int | np.generic | Array | Sequence[Any]"

_F = TypeVar("_F", bound=Callable[..., Any])

_ndarray = np.ndarray
_asarray = np.asarray
_new = object.__new__
# ndarray.sum, .mean and .max go through Python-level wrappers; the ufunc methods do not.
_add_reduce: Any = np.add.reduce
_max_reduce: Any = np.maximum.reduce
_FLOAT64 = np.dtype(np.float64)
# NumPy's error for an axis out of range (a ValueError and an IndexError); it moved to
# numpy.exceptions in NumPy 1.25.
_AxisError: type[ValueError] = getattr(np, "exceptions", np).AxisError


# --------------------------------------------------------------------------------------
# Gradient mode
# --------------------------------------------------------------------------------------


class _GradMode(threading.local):
    """Whether operators record the graph; one flag per thread, as in PyTorch.

    ``saved`` holds, for each `no_grad` block open in this thread, the mode it found,
    so that leaving the block restores it however blocks and instances are nested.
    """

    enabled = True

    def __init__(self) -> None:  # runs once in each thread that uses it
        self.saved: list[bool] = []


_mode = _GradMode()
# How many no_grad blocks are open, in all threads. While it is 0 (nearly always while
# training) operators skip the per-thread lookup, which costs more than a global read.
_paused = 0
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
    return bool(_mode.enabled)


class _NoGrad:
    """Context manager (and decorator) returned by `no_grad`.

    It keeps no state of its own, so one instance may be reused, nested, and used by
    several threads at once.
    """

    __slots__ = ()

    def __enter__(self) -> None:
        global _paused
        with _paused_lock:
            _paused += 1
        _mode.saved.append(_mode.enabled)
        _mode.enabled = False

    def __exit__(self, *exc_info: object) -> None:
        global _paused
        _mode.enabled = _mode.saved.pop()
        with _paused_lock:
            _paused -= 1

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


# --------------------------------------------------------------------------------------
# Helpers shared by every operator
# --------------------------------------------------------------------------------------


def _node(data: Any, prev: tuple[Tensor, ...], rule: Rule, saved: Any) -> Tensor:
    """Build the output of an operator as a graph node."""
    if data.__class__ is not _ndarray:  # NumPy returns scalars for 0-d results
        data = _asarray(data)
    t: Tensor = _new(Tensor)
    t.data = data
    t._grad = None
    t.requires_grad = True
    t._prev = prev
    t._rule = rule
    t._saved = saved
    return t


def _const(data: Any) -> Tensor:
    """Build the output of an operator when no gradient is needed: no parents."""
    if data.__class__ is not _ndarray:
        data = _asarray(data)
    t: Tensor = _new(Tensor)
    t.data = data
    t._grad = None
    t.requires_grad = False
    t._prev = ()
    t._rule = None
    t._saved = None
    return t


def _recording(*tensors: Tensor) -> bool:
    """Whether an operator on ``tensors`` must record a node."""
    return (not _paused or bool(_mode.enabled)) and any(t.requires_grad for t in tensors)


def _operand(value: Any, dtype: np.dtype[Any]) -> Array | None:
    """Turn a non-tensor operand (scalar, array, list) into an array of ``dtype``.

    Converting to the tensor's dtype keeps a float32 graph float32 under every NumPy
    version (NumPy 1.x and 2.x promote scalars differently), and a 0-d array is also
    what NumPy computes with fastest, in the forward pass and again in the rule.
    Returns ``None`` for values that are not numbers, so the operator can return
    ``NotImplemented``.
    """
    cls = value.__class__
    if cls is float or cls is int:  # the usual case, checked first: isinstance costs more
        return _asarray(value, dtype=dtype)
    if isinstance(value, (float, int, np.generic, np.ndarray, list, tuple)):
        if isinstance(value, (complex, np.complexfloating)):
            return None
        return _asarray(value, dtype=dtype)
    return None


def _unbroadcast(grad: Array, shape: tuple[int, ...]) -> Array:
    """Sum ``grad`` over the axes along which an operand of ``shape`` was broadcast.

    Examples
    --------
    >>> _unbroadcast(np.ones((4, 2, 3)), (2, 1)).tolist()
    [[12.0], [12.0]]
    """
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    if lead == 1 and grad.ndim == 2:  # a bias: the sum of a batch of rows
        grad = _column_sums(grad)
    elif lead:
        grad = _add_reduce(grad, axis=0 if lead == 1 else tuple(range(lead)))
    if grad.shape != shape:
        axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
        grad = _add_reduce(grad, axis=axes, keepdims=True)
    if grad.__class__ is not _ndarray:  # summing a 0-d result gives a NumPy scalar
        grad = _asarray(grad)
    return grad


_ones: Array = np.ones(0)  # the last ones-vector `_column_sums` made, kept for the next call


def _column_sums(rows: Array) -> Array:
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


def _shape_error(op: str, *shapes: tuple[int, ...], detail: str = "") -> ValueError:
    """Build the error for operands whose shapes do not fit together."""
    listed = " and ".join(str(s) for s in shapes)
    message = f"{op}: shapes {listed} are not compatible"
    if detail:
        message += f" ({detail})"
    return ValueError(message)


def _data_error(data: Any, exc: ValueError) -> ValueError:
    """Build the error for data that NumPy cannot turn into an array of numbers."""
    reason = str(exc).split(". ")[0]
    if "inhomogeneous" in str(exc):
        reason = "its nested sequences have different lengths"
    return ValueError(
        f"Tensor: data must be a rectangular array of numbers, got {reprlib.repr(data)} ({reason})"
    )


def _broadcast_error(op: str, a: Array, b: Array) -> ValueError:
    return _shape_error(
        op,
        a.shape,
        b.shape,
        detail="they cannot be broadcast together: each axis, aligned from the right, "
        "must be equal or 1; reshape one operand",
    )


def _axis_error(op: str, axis: Any, shape: tuple[int, ...], exc: ValueError) -> ValueError:
    """Build the error for an axis argument NumPy refused, naming the op and the shape.

    ``ndim`` axes run from ``-ndim`` to ``ndim - 1``; an out-of-range axis gives NumPy's
    ``AxisError`` class (a ``ValueError`` and an ``IndexError``), anything else (a
    repeated axis, say) a plain ``ValueError``.
    """
    n = len(shape)
    if isinstance(exc, _AxisError):
        valid = f"valid axes are -{n} to {n - 1}" if n else "a 0-d tensor has no axes"
        return _AxisError(
            f"{op}: axis {axis} is out of bounds for a tensor of shape {shape}; {valid}"
        )
    return ValueError(f"{op}: invalid axis {axis} for a tensor of shape {shape}: {exc}")


def _check_axis(op: str, axis: Any, shape: tuple[int, ...], *, single: bool = False) -> Axis:
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


def _check_one_axis(op: str, axis: Any, shape: tuple[int, ...], given: Any) -> int:
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        what = type(axis).__name__ if given is axis else f"a tuple holding a {type(axis).__name__}"
        raise TypeError(
            f"{op}: axis must be None, an int or a tuple of ints, got {given!r} ({what}) "
            f"for a tensor of shape {shape}"
        )
    n = len(shape)
    value = int(axis)
    if (n and not -n <= value < n) or (not n and value not in (0, -1)):
        raise _AxisError(
            f"{op}: axis {given} is out of bounds for a tensor of shape {shape}; "
            + (f"valid axes are -{n} to {n - 1}" if n else "a 0-d tensor has no axes")
        )
    return value


def _expand_reduced(g: Array, axis: Axis, keepdims: bool) -> Array:
    """Give a reduction's gradient back the reduced axes (as size 1)."""
    if keepdims or axis is None:
        return g
    return np.expand_dims(g, axis)


def _count_consumers(root: Tensor) -> dict[Tensor, int]:
    """Count, for every interior node (one with a rule) above ``root``, its consumers.

    The count is the number of edges from the node to nodes of ``root``'s graph: a node
    used twice by one operation (``x * x``) counts twice. `Tensor.backward` runs a node's
    rule only once the count has dropped to zero, that is, once every consumer has sent
    its contribution. Each node's gradient is reset on the way, since an intermediate's
    ``grad`` holds one pass's value. Iterative, so graphs of any depth are fine. Raises
    before any gradient is touched if part of the graph was released.
    """
    pending: dict[Tensor, int] = {}
    stack = [root]
    while stack:
        for parent in stack.pop()._prev:
            if parent._rule is None:  # a leaf: it has no rule to wait for
                continue
            count = pending.get(parent)
            if count is None:
                if parent._rule is _released_rule:
                    raise _released_error()
                parent._grad = None
                pending[parent] = 1
                stack.append(parent)
            else:
                pending[parent] = count + 1
    return pending


_leaf_lock = threading.Lock()


def _receive(parent: Tensor, pg: Array, g: Array | None) -> None:
    """Add ``pg`` to ``parent``'s gradient: a contribution from a node whose gradient is ``g``.

    Everything the rules have in common happens here: a gradient of a broadcast
    operand (one with more axes, or size-1 axes where the result has more) is summed
    back to the parent's shape, one of another dtype is cast to the parent's, and
    contributions are summed without writing to an array that may be shared. A rule
    never returns a gradient smaller than the result of its own shape rules: reductions
    broadcast their gradient back themselves.
    """
    pdata = parent.data
    if pg.shape != pdata.shape:
        pg = _unbroadcast(pg, pdata.shape)
    if pg.dtype is not pdata.dtype and pg.dtype != pdata.dtype:
        pg = pg.astype(pdata.dtype)
    if parent._rule is not None:  # an intermediate: the sum of this pass's contributions
        pgrad = parent._grad
        if pgrad is not None:
            pg = pgrad + pg
        # (NumPy gives a scalar, not an array, for a 0-d result)
        parent._grad = pg if pg.__class__ is _ndarray else _asarray(pg)
        return
    # A leaf, perhaps shared with backward passes in other threads: NumPy releases the
    # GIL inside `+=` on large arrays, so the accumulation is serialised by a lock.
    with _leaf_lock:
        pgrad = parent._grad
        if pgrad is None:
            # A leaf gets an array of its own: not the gradient of another tensor passed
            # through (by `+`, say) nor a view of one (from `reshape`), so that changing
            # it in place changes nothing else and later contributions can be added in
            # place.
            if pg.__class__ is not _ndarray:
                pg = _asarray(pg)
            elif pg is g or pg.base is not None:
                pg = pg.copy()
            parent._grad = pg
            parent._owned = True
        elif parent._owned:
            pgrad += pg  # an array this engine allocated for this leaf
        else:  # an array the user assigned: never written to
            parent._grad = _asarray(pgrad + pg)
            parent._owned = True


def _late_contribution_error(node: Tensor) -> RuntimeError:
    """Build the error of the engine's own check: a gradient for a node that already ran."""
    return RuntimeError(
        f"backward: internal error: a gradient arrived for a node of shape {node.shape} "
        f"after its rule had run, so it would be lost; please report this with the code "
        f"that built the graph"
    )


def _make_reuse_check() -> Callable[[Tensor, Array], tuple[bool, bool]] | None:
    """Build the test of what backward may release or overwrite before a node's rule runs.

    The test answers two questions. Can anything outside the backward loop see the
    node (a variable, a container, a weak reference)? If not, nobody can read its
    ``data`` or ``grad`` afterwards, so its output array may be dropped before the
    rule runs. Can anything else see its gradient array? If not either, and the array
    owns its memory and is writable, the rule may overwrite it in place. Reference
    counts tell both. The counts expected are measured here, once, by calling the
    same function in the same situation as the loop does: a node held only by a local
    variable (popped from a list), its gradient only by the node's slot and a local
    variable. Where the interpreter has no reference counts (PyPy), nothing is
    released early or overwritten.
    """
    getrefcount = getattr(sys, "getrefcount", None)
    if getrefcount is None:  # pragma: no cover - CPython always has it
        return None

    def counts(node: Any, g: Any) -> tuple[int, int]:
        return getrefcount(node), getrefcount(g)

    def through(node: Any, g: Any) -> tuple[int, int]:  # one frame, like `reusable`
        return counts(node, g)

    class Probe:
        __slots__ = ("_grad",)
        _grad: Any

    holder = [Probe()]
    probe = holder.pop()
    probe._grad = Probe()
    probe_grad = probe._grad
    expected_node, expected_grad = through(probe, probe_grad)
    del probe, probe_grad

    def reusable(node: Tensor, g: Array) -> tuple[bool, bool]:
        node_count, grad_count = counts(node, g)
        if node_count != expected_node or weakref.getweakrefcount(node):
            return False, False
        return True, grad_count == expected_grad and g.base is None and g.flags.writeable

    return reusable


_reuse_check = _make_reuse_check()
# What a node's `data` becomes when backward drops it early (only when nothing outside
# the backward loop can see the node, so nobody can read it).
_RELEASED_DATA: Array = np.empty(0)
_RELEASED_DATA.flags.writeable = False
# Below this many elements a new array costs less than the check (NumPy caches small
# allocations), so small gradients are never overwritten.
_REUSE_MIN_SIZE = 4096


def _spread(g: Array, shape: tuple[int, ...]) -> Array:
    """Broadcast ``g`` to ``shape`` into a new, writable array.

    For the small arrays where per-op cost matters this is several times faster than
    ``np.broadcast_to``.
    """
    out = np.empty(shape, dtype=g.dtype)
    out[...] = g
    return out


def _released_rule(g: Array, saved: Any, prev: tuple[Tensor, ...]) -> Grads:
    """Rule of a node whose graph was freed by a previous backward pass."""
    raise _released_error()


def _released_error() -> RuntimeError:
    return RuntimeError(
        "backward() through a graph that has already been freed: the previous backward() "
        "released the arrays it saved. To call backward() more than once through the same "
        "graph, pass retain_graph=True to every call but the last; otherwise run the forward "
        "computation again to build a new graph."
    )


# --------------------------------------------------------------------------------------
# Tensor
# --------------------------------------------------------------------------------------


class Tensor:
    """A NumPy array that records the operations applied to it, for reverse-mode autograd.

    Parameters
    ----------
    data : array_like or Tensor
        The values. Python scalars, lists, integers and booleans become float64; a
        floating-point ``ndarray`` keeps its dtype and is used without a copy (like
        ``numpy.asarray``), so float32 data stays float32.
    requires_grad : bool, default True
        Whether `backward` computes a gradient for this tensor. Create inputs and
        targets with ``requires_grad=False``: no gradient work is then spent on them.
    dtype : dtype, optional
        A floating-point dtype to convert the data to.

    Attributes
    ----------
    data : numpy.ndarray
        The values. Updating them in place (``p.data -= lr * p.grad``) is how a plain
        training loop changes a parameter.
    grad : numpy.ndarray
        The gradient, same shape and dtype as ``data``: zeros until a backward pass
        writes it. Leaves accumulate over passes; set it to zeros (or call
        `zero_grad`) between steps.
    requires_grad : bool
        Whether a gradient is computed for this tensor.

    Raises
    ------
    TypeError
        If ``data`` holds no numbers (strings, objects, complex values).
    ValueError
        If ``dtype`` is not a floating-point dtype.

    Examples
    --------
    >>> from minigrad import Tensor
    >>> x = Tensor([1.0, 2.0, 3.0])
    >>> y = (x * x).sum()
    >>> y.backward()
    >>> x.grad
    array([2., 4., 6.])
    """

    # `_owned` says whether `_grad` is an array this engine allocated (backward may then
    # add to it in place) rather than one the user assigned; it is set whenever a leaf's
    # `_grad` is, and read only then.
    __slots__ = (
        "__weakref__",
        "_grad",
        "_owned",
        "_prev",
        "_rule",
        "_saved",
        "data",
        "requires_grad",
    )

    # NumPy must hand `ndarray + Tensor` over to Tensor.__radd__ instead of treating the
    # tensor as an object scalar.
    __array_ufunc__ = None

    data: Array
    requires_grad: bool
    _grad: Array | None
    _owned: bool
    _prev: tuple[Tensor, ...]
    _rule: Rule | None
    _saved: Any

    def __init__(
        self, data: Any, requires_grad: bool = True, dtype: npt.DTypeLike | None = None
    ) -> None:
        if isinstance(data, Tensor):
            data = data.data
        if dtype is not None:
            dt = np.dtype(dtype)
            if dt.kind != "f":
                raise ValueError(
                    f"Tensor dtype must be a floating-point dtype (float16, float32, float64), "
                    f"got {dt}; keep integer data such as labels or indices as NumPy arrays"
                )
            try:
                array = np.asarray(data, dtype=dt)
            except ValueError as exc:
                raise _data_error(data, exc) from None
        elif data.__class__ is _ndarray and data.dtype.kind == "f":
            array = data
        else:
            try:
                array = np.asarray(data)
            except ValueError as exc:
                raise _data_error(data, exc) from None
            if array.dtype.kind != "f":
                if array.dtype.kind not in "biu":
                    raise TypeError(
                        f"Tensor data must be numbers (float, int or bool), got an array of "
                        f"dtype {array.dtype} from {type(data).__name__}"
                    )
                array = array.astype(np.float64)
        self.data = array
        self.requires_grad = bool(requires_grad)
        self._grad = None
        self._prev = ()
        self._rule = None
        self._saved = None

    # ---------------------------------------------------------------- attributes

    @property
    def grad(self) -> Array:
        """The gradient, an array of the same shape and dtype as `data`.

        Reading it before any backward pass gives zeros. Assign an array of the same
        shape to reset it (``p.grad = np.zeros_like(p.data)``).

        Examples
        --------
        >>> from minigrad import Tensor
        >>> Tensor([1.0, 2.0]).grad
        array([0., 0.])
        """
        if self._grad is None:
            self._grad = np.zeros_like(self.data)
            self._owned = True
        return self._grad

    @grad.setter
    def grad(self, value: Any) -> None:
        if value is None:
            self._grad = None
            return
        array = np.asarray(value, dtype=self.data.dtype)
        if array.shape != self.data.shape:
            raise ValueError(
                f"grad must have the tensor's shape {self.data.shape}, got shape {array.shape}"
            )
        self._grad = array
        self._owned = False

    @property
    def shape(self) -> tuple[int, ...]:
        """The shape of `data`, a tuple of ints.

        Examples
        --------
        >>> from minigrad import Tensor
        >>> Tensor([[1.0, 2.0, 3.0]]).shape
        (1, 3)
        """
        return self.data.shape

    @property
    def ndim(self) -> int:
        """The number of axes.

        Examples
        --------
        >>> from minigrad import Tensor
        >>> Tensor(5.0).ndim
        0
        """
        return self.data.ndim

    @property
    def size(self) -> int:
        """The number of elements.

        Examples
        --------
        >>> from minigrad import Tensor
        >>> Tensor([[1.0, 2.0], [3.0, 4.0]]).size
        4
        """
        return self.data.size

    @property
    def dtype(self) -> np.dtype[Any]:
        """The NumPy dtype of `data` (and of `grad`).

        Examples
        --------
        >>> import numpy as np
        >>> from minigrad import Tensor
        >>> Tensor(np.zeros(2, dtype=np.float32)).dtype
        dtype('float32')
        """
        return self.data.dtype

    @property
    def T(self) -> Tensor:  # noqa: N802 - NumPy's name
        """The tensor with its axes reversed, as `transpose` with no arguments.

        Examples
        --------
        >>> from minigrad import Tensor
        >>> Tensor([[1.0, 2.0, 3.0]]).T.shape
        (3, 1)
        """
        return self.transpose()

    def item(self) -> float:
        """Return the value of a one-element tensor as a Python float.

        Examples
        --------
        >>> from minigrad import Tensor
        >>> Tensor([2.5]).item()
        2.5
        """
        try:
            return float(self.data.item())
        except ValueError:
            raise ValueError(
                f"item: the tensor has {self.data.size} elements (shape {self.data.shape}), "
                f"item() needs exactly one; index or reduce it first (x[0].item(), "
                f"x.sum().item())"
            ) from None

    def numpy(self) -> Array:
        """Return `data`, the underlying array (not a copy).

        Examples
        --------
        >>> from minigrad import Tensor
        >>> Tensor([1.0, 2.0]).numpy()
        array([1., 2.])
        """
        return self.data

    def detach(self) -> Tensor:
        """Return a tensor sharing `data` that is cut off from the graph.

        It does not require gradients, so operations on it record nothing.

        Examples
        --------
        >>> from minigrad import Tensor
        >>> x = Tensor([1.0, 2.0])
        >>> (x.detach() * 3).requires_grad
        False
        """
        return _const(self.data)

    def zero_grad(self) -> None:
        """Reset `grad` to zeros (the array is allocated again when next needed).

        Examples
        --------
        >>> from minigrad import Tensor
        >>> x = Tensor([1.0, 2.0])
        >>> (x * x).sum().backward()
        >>> x.zero_grad()
        >>> x.grad
        array([0., 0.])
        """
        self._grad = None

    def __repr__(self) -> str:
        body = np.array2string(self.data, separator=", ", prefix="Tensor(")
        extra = "" if self.data.dtype == _FLOAT64 else f", dtype={self.data.dtype}"
        return f"Tensor({body}{extra}, requires_grad={self.requires_grad})"

    def __len__(self) -> int:
        try:
            return len(self.data)
        except TypeError:
            raise TypeError(
                "len() of a 0-d tensor: it has no axes; use .item() for its value"
            ) from None

    def __iter__(self) -> Iterator[Tensor]:
        # Rows along the first axis, as NumPy; without this method Python would index
        # 0, 1, ... until an IndexError, and a 0-d tensor would iterate as empty.
        if not self.data.ndim:
            raise TypeError("iteration over a 0-d tensor: it has no axes; use .item()")
        return (self[i] for i in range(len(self.data)))

    def __bool__(self) -> bool:
        # As NumPy: a tensor of one element is as true as that element; any other is
        # ambiguous (without this method, Python would use __len__).
        data = self.data
        if data.size == 1:
            return bool(data.item())
        raise ValueError(
            f"The truth value of a Tensor with {data.size} elements (shape {data.shape}) is "
            f"ambiguous; use .any() or .all() on .data (x.data.any()), or compare x.item()"
        )

    def __float__(self) -> float:
        try:
            return float(self.data.item())
        except ValueError:
            raise TypeError(
                f"float() of a tensor of shape {self.data.shape}: only a tensor of one "
                f"element converts to a float"
            ) from None

    def __array__(self, dtype: npt.DTypeLike | None = None, copy: bool | None = None) -> Array:
        # Lets np.asarray(tensor) and plotting libraries read the values.
        if dtype is None or np.dtype(dtype) == self.data.dtype:
            return self.data.copy() if copy else self.data
        return self.data.astype(dtype)

    # ---------------------------------------------------------------- backward

    def backward(self, gradient: Any = None, retain_graph: bool = False) -> None:
        """Compute the gradient of this tensor with respect to every tensor it came from.

        The gradient flows back through the recorded graph, in topological order
        (an iterative walk: graphs of millions of nodes are fine). Leaf tensors (the
        ones you created) *accumulate* their gradient in `grad` over calls; every
        intermediate tensor's `grad` holds this pass's value.

        After the pass the graph is released, so keeping this tensor (a loss in a
        list, say) keeps no activations alive, and a second call raises
        `RuntimeError` unless the first one was given ``retain_graph=True``.

        Without ``gradient`` the pass is seeded with ones of this tensor's shape, also
        when it is not a scalar: ``y.backward()`` then computes the gradient of
        ``y.sum()``. Pass ``gradient`` to weight the elements differently.

        Parameters
        ----------
        gradient : array_like, optional
            The gradient of some final quantity with respect to this tensor, of this
            tensor's shape. Defaults to ones (for a scalar loss: d loss / d loss = 1;
            for any other tensor: the gradient of its sum).
        retain_graph : bool, default False
            Keep the graph so that backward can run through it again.

        Raises
        ------
        RuntimeError
            If this tensor does not require gradients, or its graph was released by
            a previous backward pass.
        ValueError
            If ``gradient`` does not have this tensor's shape.

        Examples
        --------
        >>> from minigrad import Tensor
        >>> a = Tensor([1.0, 2.0])
        >>> b = Tensor([3.0, 4.0])
        >>> (a * b).sum().backward()
        >>> a.grad, b.grad
        (array([3., 4.]), array([1., 2.]))
        """
        rule = self._rule
        if rule is None or rule is _released_rule or not self.requires_grad:
            self._backward_leaf(gradient)  # a leaf, or an error
            return
        data = self.data
        if gradient is None and not data.ndim:  # the usual case: a scalar loss
            seed = np.array(1, dtype=data.dtype)
        else:
            seed = self._seed(gradient)

        # The order: a node's rule runs only after every node that consumes it has run,
        # so that its gradient is complete. `pending` counts the consumers still to run;
        # a node becomes ready when its count reaches zero, and leaves its count behind.
        pending = _count_consumers(self)
        self._grad = seed
        ready = [self]
        receive = _receive
        reuse = None if retain_graph else _reuse_check
        reuse_min_size = _REUSE_MIN_SIZE
        while ready:
            node = ready.pop()
            g = node._grad
            prev = node._prev
            if g is not None:
                node_rule: Rule = node._rule  # type: ignore[assignment]
                saved = node._saved
                if reuse is not None and g.size >= reuse_min_size:
                    unseen, overwritable = reuse(node, g)
                    if unseen:
                        # Nobody can read this node any more: drop its output now rather
                        # than after the rule, which allocates the parents' gradients.
                        node.data = _RELEASED_DATA
                        node._saved = None
                        if overwritable and node_rule in _IN_PLACE:
                            node_rule = _IN_PLACE[node_rule]
                            saved = [saved]  # the rule empties it once it has what it needs
                grads = node_rule(g, saved, prev)
                saved = None
            else:  # nothing reached this node: its inputs get nothing from it
                grads = (None,) * len(prev)
            for parent, pg in zip(prev, grads, strict=True):
                if parent._rule is None:  # a leaf
                    if pg is not None:
                        receive(parent, pg, g)
                    continue
                count = pending.get(parent, 0)
                if not count:
                    raise _late_contribution_error(parent)
                if pg is not None:
                    pdata = parent.data
                    # The usual case, the first contribution to an intermediate, of its
                    # shape and dtype (an array, not a NumPy scalar), needs none of
                    # _receive's work.
                    if (
                        parent._grad is None
                        and pg.__class__ is _ndarray
                        and pg.shape == pdata.shape
                        and pg.dtype is pdata.dtype
                    ):
                        parent._grad = pg
                    else:
                        receive(parent, pg, g)
                    del pdata
                if count == 1:
                    del pending[parent]
                    ready.append(parent)
                else:
                    pending[parent] = count - 1
            # Drop the references _reuse_check would count when `parent` runs next.
            grads = ()
            parent = None  # type: ignore[assignment]
            pg = None
            if not retain_graph:
                # Release the node as soon as it is done: its saved arrays (and, when
                # nobody else holds them, its parents) are freed during the pass.
                node._prev = ()
                node._saved = None
                node._rule = _released_rule

    def _backward_leaf(self, gradient: Any) -> None:
        """`backward` on a leaf (its gradient is the seed), or the error that applies."""
        if not self.requires_grad:
            raise RuntimeError(
                "backward() called on a tensor that does not require grad: none of the "
                "tensors it was computed from requires grad, or it was computed inside "
                "no_grad(), or it comes from detach(). Create the tensors you want "
                "gradients for with requires_grad=True (the default) and compute the result "
                "outside no_grad()."
            )
        if self._rule is _released_rule:
            raise _released_error()
        seed = self._seed(gradient)
        with _leaf_lock:
            if self._grad is None:
                self._grad = seed.copy() if gradient is not None else seed
            elif self._owned:
                self._grad += seed
            else:
                self._grad = self._grad + seed
            self._owned = True

    def _seed(self, gradient: Any) -> Array:
        data = self.data
        if gradient is None:
            if not data.ndim:
                return np.array(1, dtype=data.dtype)
            seed = np.empty(data.shape, dtype=data.dtype)
            seed.fill(1)
            return seed
        given: Array = gradient.data if isinstance(gradient, Tensor) else gradient
        if (
            given.__class__ is not _ndarray
            or given.dtype is not data.dtype
            or given.shape != data.shape
        ):
            given = np.asarray(given, dtype=data.dtype)
            if given.shape != data.shape:
                raise ValueError(
                    f"backward: gradient shape {given.shape} does not match the tensor's "
                    f"shape {data.shape}; pass an array of the tensor's shape (or nothing for "
                    f"ones)"
                )
        return given

    # ---------------------------------------------------------------- arithmetic

    def __add__(self, other: Operand) -> Tensor:
        a = self.data
        if isinstance(other, Tensor):
            b = other.data
            try:
                out = a + b
            except ValueError:
                raise _broadcast_error("add", a, b) from None
            if (self.requires_grad or other.requires_grad) and (not _paused or _mode.enabled):
                return _node(out, (self, other), Tensor._add_backward, None)
            return _const(out)
        c = _operand(other, a.dtype)
        if c is None:
            return NotImplemented
        try:
            out = a + c
        except ValueError:
            raise _broadcast_error("add", a, c) from None
        if self.requires_grad and (not _paused or _mode.enabled):
            return _node(out, (self,), Tensor._identity_backward, None)
        return _const(out)

    __radd__ = __add__

    @staticmethod
    def _add_backward(g: Array, saved: None, prev: tuple[Tensor, ...]) -> Grads:
        return (
            g if prev[0].requires_grad else None,
            g if prev[1].requires_grad else None,
        )

    @staticmethod
    def _identity_backward(g: Array, saved: None, prev: tuple[Tensor, ...]) -> Grads:
        return (g,)

    def __sub__(self, other: Operand) -> Tensor:
        a = self.data
        if isinstance(other, Tensor):
            b = other.data
            try:
                out = a - b
            except ValueError:
                raise _broadcast_error("subtract", a, b) from None
            if (self.requires_grad or other.requires_grad) and (not _paused or _mode.enabled):
                return _node(out, (self, other), Tensor._sub_backward, None)
            return _const(out)
        c = _operand(other, a.dtype)
        if c is None:
            return NotImplemented
        try:
            out = a - c
        except ValueError:
            raise _broadcast_error("subtract", a, c) from None
        if self.requires_grad and (not _paused or _mode.enabled):
            return _node(out, (self,), Tensor._identity_backward, None)
        return _const(out)

    @staticmethod
    def _sub_backward(g: Array, saved: None, prev: tuple[Tensor, ...]) -> Grads:
        return (
            g if prev[0].requires_grad else None,
            -g if prev[1].requires_grad else None,
        )

    def __rsub__(self, other: Operand) -> Tensor:
        a = self.data
        c = _operand(other, a.dtype)
        if c is None:
            return NotImplemented
        try:
            out = c - a
        except ValueError:
            raise _broadcast_error("subtract", c, a) from None
        if self.requires_grad and (not _paused or _mode.enabled):
            return _node(out, (self,), Tensor._neg_backward, None)
        return _const(out)

    def __neg__(self) -> Tensor:
        out = -self.data
        if self.requires_grad and (not _paused or _mode.enabled):
            return _node(out, (self,), Tensor._neg_backward, None)
        return _const(out)

    @staticmethod
    def _neg_backward(g: Array, saved: None, prev: tuple[Tensor, ...]) -> Grads:
        return (-g,)

    def __mul__(self, other: Operand) -> Tensor:
        a = self.data
        if isinstance(other, Tensor):
            b = other.data
            try:
                out = a * b
            except ValueError:
                raise _broadcast_error("multiply", a, b) from None
            if (self.requires_grad or other.requires_grad) and (not _paused or _mode.enabled):
                return _node(out, (self, other), Tensor._mul_backward, (a, b))
            return _const(out)
        c = _operand(other, a.dtype)
        if c is None:
            return NotImplemented
        try:
            out = a * c
        except ValueError:
            raise _broadcast_error("multiply", a, c) from None
        if self.requires_grad and (not _paused or _mode.enabled):
            return _node(out, (self,), Tensor._scale_backward, c)
        return _const(out)

    __rmul__ = __mul__

    @staticmethod
    def _mul_backward(g: Array, saved: tuple[Array, Array], prev: tuple[Tensor, ...]) -> Grads:
        a, b = saved
        if prev[0] is prev[1]:  # x * x: the two contributions g * x summed, in two operations
            return (g * (a + a), None)
        return (
            g * b if prev[0].requires_grad else None,
            g * a if prev[1].requires_grad else None,
        )

    @staticmethod
    def _scale_backward(g: Array, c: Array, prev: tuple[Tensor, ...]) -> Grads:
        return (g * c,)

    def __truediv__(self, other: Operand) -> Tensor:
        a = self.data
        if isinstance(other, Tensor):
            b = other.data
            try:
                out = a / b
            except ValueError:
                raise _broadcast_error("divide", a, b) from None
            if (self.requires_grad or other.requires_grad) and (not _paused or _mode.enabled):
                return _node(out, (self, other), Tensor._div_backward, (a, b))
            return _const(out)
        c = _operand(other, a.dtype)
        if c is None:
            return NotImplemented
        try:
            out = a / c
        except ValueError:
            raise _broadcast_error("divide", a, c) from None
        if self.requires_grad and (not _paused or _mode.enabled):
            return _node(out, (self,), Tensor._div_const_backward, c)
        return _const(out)

    @staticmethod
    def _div_backward(g: Array, saved: tuple[Array, Array], prev: tuple[Tensor, ...]) -> Grads:
        a, b = saved
        return (
            g / b if prev[0].requires_grad else None,
            -g * a / (b * b) if prev[1].requires_grad else None,
        )

    @staticmethod
    def _div_const_backward(g: Array, c: Array, prev: tuple[Tensor, ...]) -> Grads:
        return (g / c,)

    def __rtruediv__(self, other: Operand) -> Tensor:
        a = self.data
        c = _operand(other, a.dtype)
        if c is None:
            return NotImplemented
        try:
            out = c / a
        except ValueError:
            raise _broadcast_error("divide", c, a) from None
        if self.requires_grad and (not _paused or _mode.enabled):
            return _node(out, (self,), Tensor._rdiv_backward, (a, out))
        return _const(out)

    @staticmethod
    def _rdiv_backward(g: Array, saved: tuple[Array, Array], prev: tuple[Tensor, ...]) -> Grads:
        # d(c / a) / da = -c / a**2 = -(c / a) / a
        a, out = saved
        return (-g * out / a,)

    def __pow__(self, other: Operand) -> Tensor:
        a = self.data
        if isinstance(other, Tensor):
            b = other.data
            try:
                out = a**b
            except ValueError:
                raise _broadcast_error("power", a, b) from None
            if (self.requires_grad or other.requires_grad) and (not _paused or _mode.enabled):
                return _node(out, (self, other), Tensor._pow_backward, (a, b, out))
            return _const(out)
        c = _operand(other, a.dtype)
        if c is None:
            return NotImplemented
        try:
            out = a**c
        except ValueError:
            raise _broadcast_error("power", a, c) from None
        if self.requires_grad and (not _paused or _mode.enabled):
            return _node(out, (self,), Tensor._pow_const_backward, (a, c))
        return _const(out)

    @staticmethod
    def _pow_const_backward(
        g: Array, saved: tuple[Array, Array], prev: tuple[Tensor, ...]
    ) -> Grads:
        # d(a**c)/da = c * a**(c-1), taken as 0 where c == 0 (so x**0 has gradient 0
        # at x = 0, where c * a**(c-1) would be 0 * inf).
        a, c = saved
        if c.ndim == 0:
            if c == 0:
                return (np.zeros_like(g),)
            return (g * (c * a ** (c - 1)),)
        return (g * _power_slope(a, c),)

    @staticmethod
    def _pow_backward(
        g: Array, saved: tuple[Array, Array, Array], prev: tuple[Tensor, ...]
    ) -> Grads:
        a, b, out = saved
        return (
            g * _power_slope(a, b) if prev[0].requires_grad else None,
            g * _exponent_slope(a, b, out) if prev[1].requires_grad else None,
        )

    def __rpow__(self, other: Operand) -> Tensor:
        a = self.data
        c = _operand(other, a.dtype)
        if c is None:
            return NotImplemented
        try:
            out = c**a
        except ValueError:
            raise _broadcast_error("power", c, a) from None
        if self.requires_grad and (not _paused or _mode.enabled):
            return _node(out, (self,), Tensor._rpow_backward, (c, a, out))
        return _const(out)

    @staticmethod
    def _rpow_backward(
        g: Array, saved: tuple[Array, Array, Array], prev: tuple[Tensor, ...]
    ) -> Grads:
        c, a, out = saved
        return (g * _exponent_slope(c, a, out),)

    def __matmul__(self, other: Operand) -> Tensor:
        a = self.data
        if isinstance(other, Tensor):
            b = other.data
            try:
                out = a @ b
            except ValueError as exc:
                raise _matmul_error(a, b, exc) from None
            if (self.requires_grad or other.requires_grad) and (not _paused or _mode.enabled):
                return _node(out, (self, other), Tensor._matmul_backward, (a, b))
            return _const(out)
        c = _operand(other, a.dtype)
        if c is None:
            return NotImplemented
        try:
            out = a @ c
        except ValueError as exc:
            raise _matmul_error(a, c, exc) from None
        if self.requires_grad and (not _paused or _mode.enabled):
            return _node(out, (self,), Tensor._matmul_backward_left, (a, c))
        return _const(out)

    def __rmatmul__(self, other: Operand) -> Tensor:
        b = self.data
        c = _operand(other, b.dtype)
        if c is None:
            return NotImplemented
        try:
            out = c @ b
        except ValueError as exc:
            raise _matmul_error(c, b, exc) from None
        if self.requires_grad and (not _paused or _mode.enabled):
            return _node(out, (self,), Tensor._matmul_backward_right, (c, b))
        return _const(out)

    @staticmethod
    def _matmul_backward(g: Array, saved: tuple[Array, Array], prev: tuple[Tensor, ...]) -> Grads:
        # C = A @ B: dA = dC @ B.T, dB = A.T @ dC (batch axes are summed back by backward).
        a, b = saved
        if a.ndim == b.ndim:
            if a.ndim == 2:
                return (
                    g @ b.T if prev[0].requires_grad else None,
                    a.T @ g if prev[1].requires_grad else None,
                )
            if a.ndim == 1:  # inner product: g is 0-d
                return (
                    g * b if prev[0].requires_grad else None,
                    g * a if prev[1].requires_grad else None,
                )
        return (
            _matmul_grad_a(g, a, b) if prev[0].requires_grad else None,
            _matmul_grad_b(g, a, b) if prev[1].requires_grad else None,
        )

    @staticmethod
    def _matmul_backward_left(
        g: Array, saved: tuple[Array, Array], prev: tuple[Tensor, ...]
    ) -> Grads:
        a, b = saved
        return (_matmul_grad_a(g, a, b),)

    @staticmethod
    def _matmul_backward_right(
        g: Array, saved: tuple[Array, Array], prev: tuple[Tensor, ...]
    ) -> Grads:
        a, b = saved
        return (_matmul_grad_b(g, a, b),)

    def linear(
        self,
        weight: Tensor | npt.ArrayLike,
        bias: Tensor | npt.ArrayLike | None = None,
        activation: str | None = None,
    ) -> Tensor:
        """Return ``activation(self @ weight + bias)`` as one operation: a dense layer.

        The values and gradients are those of the composed operations, but the result
        is computed in a single array, in place, and only that array is kept for the
        backward pass (besides the input and the weight). A network of such layers
        therefore holds one activation per layer, as hand-written NumPy code does,
        instead of three, and spends fewer passes over memory.

        Parameters
        ----------
        weight : Tensor or array_like
            Shape ``(nin, nout)``; ``self`` has shape ``(..., nin)``. An array is a
            constant (no gradient), converted to this tensor's dtype.
        bias : Tensor or array_like, optional
            Shape ``(nout,)``; an array is a constant too.
        activation : {None, 'linear', 'relu', 'tanh', 'sigmoid'}
            Applied to the affine result (``None`` and ``'linear'`` apply nothing).

        Returns
        -------
        Tensor
            Shape ``(..., nout)``.

        Raises
        ------
        ValueError
            If the shapes do not fit or the activation is unknown.

        Examples
        --------
        >>> import numpy as np
        >>> from minigrad import Tensor
        >>> x = Tensor([[1.0, -2.0]], requires_grad=False)
        >>> w = Tensor([[1.0, 0.5], [1.0, -0.5]])
        >>> b = Tensor([0.5, 0.0])
        >>> x.linear(w, b, "relu")
        Tensor([[0. , 1.5]], requires_grad=True)
        """
        if activation == "linear":
            activation = None
        if activation not in _ACTIVATIONS:
            raise ValueError(
                f"linear: unknown activation {activation!r}; use None, 'linear', 'relu', "
                f"'tanh' or 'sigmoid'"
            )
        if not isinstance(weight, Tensor):  # an array: a constant, as beside an operator
            weight = Tensor(weight, requires_grad=False, dtype=self.data.dtype)
        if bias is not None and not isinstance(bias, Tensor):
            bias = Tensor(bias, requires_grad=False, dtype=self.data.dtype)
        x, w = self.data, weight.data
        b = None if bias is None else bias.data
        if w.ndim != 2 or not x.ndim or x.shape[-1] != w.shape[0]:
            raise _shape_error(
                "linear",
                x.shape,
                w.shape,
                detail="the input must be (..., nin) and the weight (nin, nout)",
            )
        if b is not None and (b.ndim != 1 or b.shape[0] != w.shape[1]):
            raise _shape_error(
                "linear",
                w.shape,
                b.shape,
                detail="the bias must be (nout,) for a (nin, nout) weight",
            )
        out = x @ w
        if b is not None:
            if b.dtype == out.dtype:
                out += b  # `out` is a new array: adding in place saves an array and a pass
            else:
                out = out + b  # NumPy's promotion, as `x @ w + b` would give
        if activation == "relu":
            np.maximum(out, 0.0, out=out)
        elif activation == "tanh":
            np.tanh(out, out=out)
        elif activation == "sigmoid":
            out = _sigmoid(out)
        if (
            self.requires_grad or weight.requires_grad or (bias is not None and bias.requires_grad)
        ) and (not _paused or _mode.enabled):
            tensors = (self, weight) if bias is None else (self, weight, bias)
            return _node(out, tensors, _linear_backward, (x, w, out, activation))
        return _const(out)

    # ---------------------------------------------------------------- elementwise

    def exp(self) -> Tensor:
        """Elementwise exponential; gradient ``exp(x)``.

        Overflows to ``inf`` like NumPy (with NumPy's warning).

        Examples
        --------
        >>> from minigrad import Tensor
        >>> Tensor([0.0, 1.0]).exp()
        Tensor([1.        , 2.71828183], requires_grad=True)
        """
        out = np.exp(self.data)
        if self.requires_grad and (not _paused or _mode.enabled):
            return _node(out, (self,), Tensor._exp_backward, out)
        return _const(out)

    @staticmethod
    def _exp_backward(g: Array, out: Array, prev: tuple[Tensor, ...]) -> Grads:
        return (g * out,)

    def log(self) -> Tensor:
        """Elementwise natural logarithm; gradient ``1 / x``.

        ``log(0)`` is ``-inf`` and ``log`` of a negative number ``nan``, as in NumPy
        (with NumPy's warning).

        Examples
        --------
        >>> import numpy as np
        >>> from minigrad import Tensor
        >>> Tensor([1.0, np.e]).log()
        Tensor([0., 1.], requires_grad=True)
        """
        a = self.data
        out = np.log(a)
        if self.requires_grad and (not _paused or _mode.enabled):
            return _node(out, (self,), Tensor._log_backward, a)
        return _const(out)

    @staticmethod
    def _log_backward(g: Array, a: Array, prev: tuple[Tensor, ...]) -> Grads:
        return (g / a,)

    def tanh(self) -> Tensor:
        """Elementwise hyperbolic tangent; gradient ``1 - tanh(x)**2``.

        Examples
        --------
        >>> from minigrad import Tensor
        >>> Tensor([0.0]).tanh()
        Tensor([0.], requires_grad=True)
        """
        out = np.tanh(self.data)
        if self.requires_grad and (not _paused or _mode.enabled):
            return _node(out, (self,), Tensor._tanh_backward, out)
        return _const(out)

    @staticmethod
    def _tanh_backward(g: Array, out: Array, prev: tuple[Tensor, ...]) -> Grads:
        return (g * (1.0 - out * out),)

    def relu(self) -> Tensor:
        """Elementwise ``max(x, 0)``; gradient 1 where ``x > 0``, else 0 (0 at 0).

        Examples
        --------
        >>> from minigrad import Tensor
        >>> Tensor([-1.0, 0.0, 2.0]).relu()
        Tensor([0., 0., 2.], requires_grad=True)
        """
        a = self.data
        out = np.maximum(a, a.dtype.type(0))
        if self.requires_grad and (not _paused or _mode.enabled):
            return _node(out, (self,), Tensor._relu_backward, a)
        return _const(out)

    @staticmethod
    def _relu_backward(g: Array, a: Array, prev: tuple[Tensor, ...]) -> Grads:
        return (g * (a > 0),)

    def sigmoid(self) -> Tensor:
        """Elementwise logistic function ``1 / (1 + exp(-x))``; gradient ``s * (1 - s)``.

        Computed from ``exp(-|x|)``, which never overflows: finite and exact in both
        tails for inputs of any magnitude.

        Examples
        --------
        >>> from minigrad import Tensor
        >>> Tensor([-1e4, 0.0, 1e4]).sigmoid()
        Tensor([0. , 0.5, 1. ], requires_grad=True)
        """
        out = _sigmoid(self.data)
        if self.requires_grad and (not _paused or _mode.enabled):
            return _node(out, (self,), Tensor._sigmoid_backward, out)
        return _const(out)

    @staticmethod
    def _sigmoid_backward(g: Array, out: Array, prev: tuple[Tensor, ...]) -> Grads:
        return (g * (out * (1.0 - out)),)

    def abs(self) -> Tensor:
        """Elementwise absolute value; gradient ``sign(x)`` (0 at 0).

        Examples
        --------
        >>> from minigrad import Tensor
        >>> Tensor([-2.0, 3.0]).abs()
        Tensor([2., 3.], requires_grad=True)
        """
        a = self.data
        out = np.abs(a)
        if self.requires_grad and (not _paused or _mode.enabled):
            return _node(out, (self,), Tensor._abs_backward, a)
        return _const(out)

    @staticmethod
    def _abs_backward(g: Array, a: Array, prev: tuple[Tensor, ...]) -> Grads:
        return (g * np.sign(a),)

    def clip(self, lo: float | None = None, hi: float | None = None) -> Tensor:
        """Limit the values to ``[lo, hi]``; gradient 1 inside and at the bounds, 0 outside.

        Parameters
        ----------
        lo, hi : float or None
            The bounds; ``None`` leaves that side open. If ``lo > hi`` every value
            becomes ``hi`` (as in NumPy and PyTorch).

        Returns
        -------
        Tensor
            The clipped tensor.

        Examples
        --------
        >>> from minigrad import Tensor
        >>> Tensor([-2.0, 0.5, 3.0]).clip(0.0, 1.0)
        Tensor([0. , 0.5, 1. ], requires_grad=True)
        """
        a = self.data
        if lo is None and hi is None:
            raise ValueError("clip: give at least one of lo and hi")
        lo_a = None if lo is None else np.asarray(lo, dtype=a.dtype)
        hi_a = None if hi is None else np.asarray(hi, dtype=a.dtype)
        out = a if lo_a is None else np.maximum(a, lo_a)
        if hi_a is not None:
            out = np.minimum(out, hi_a)
        if self.requires_grad and (not _paused or _mode.enabled):
            return _node(out, (self,), Tensor._clip_backward, (a, lo_a, hi_a))
        return _const(out)

    @staticmethod
    def _clip_backward(
        g: Array, saved: tuple[Array, Array | None, Array | None], prev: tuple[Tensor, ...]
    ) -> Grads:
        a, lo, hi = saved
        if lo is None:
            inside = a <= hi
        elif hi is None:
            inside = a >= lo
        else:
            inside = (a >= lo) & (a <= hi)
        return (g * inside,)

    # ---------------------------------------------------------------- reductions

    def sum(self, axis: Axis | Sequence[int] = None, keepdims: bool = False) -> Tensor:
        """Sum over ``axis`` (all axes by default); the gradient is broadcast back.

        Parameters
        ----------
        axis : None, int or tuple of ints
            The axes to sum over; negative values count from the end.
        keepdims : bool, default False
            Keep the summed axes with size 1.

        Returns
        -------
        Tensor
            The sums.

        Examples
        --------
        >>> from minigrad import Tensor
        >>> Tensor([[1.0, 2.0], [3.0, 4.0]]).sum(axis=0)
        Tensor([4., 6.], requires_grad=True)
        """
        a: Any = self.data
        ax = _check_axis("sum", axis, a.shape)
        try:
            out = _add_reduce(a, axis=ax, keepdims=keepdims)
        except ValueError as exc:
            raise _axis_error("sum", axis, a.shape, exc) from None
        if self.requires_grad and (not _paused or _mode.enabled):
            return _node(out, (self,), Tensor._sum_backward, (ax, keepdims, a.shape))
        return _const(out)

    @staticmethod
    def _sum_backward(
        g: Array, saved: tuple[Axis, bool, tuple[int, ...]], prev: tuple[Tensor, ...]
    ) -> Grads:
        axis, keepdims, shape = saved
        return (_spread(_expand_reduced(g, axis, keepdims), shape),)

    def mean(self, axis: Axis | Sequence[int] = None, keepdims: bool = False) -> Tensor:
        """Mean over ``axis`` (all axes by default); the gradient is ``g / count``.

        Parameters
        ----------
        axis : None, int or tuple of ints
            The axes to average over; negative values count from the end.
        keepdims : bool, default False
            Keep the averaged axes with size 1.

        Returns
        -------
        Tensor
            The means.

        Examples
        --------
        >>> from minigrad import Tensor
        >>> Tensor([[1.0, 2.0], [3.0, 4.0]]).mean(axis=1)
        Tensor([1.5, 3.5], requires_grad=True)
        """
        a: Any = self.data
        ax = _check_axis("mean", axis, a.shape)
        try:
            total = _add_reduce(a, axis=ax, keepdims=keepdims)
        except ValueError as exc:
            raise _axis_error("mean", axis, a.shape, exc) from None
        count = a.size // max(total.size, 1)
        out = total / a.dtype.type(count)  # as NumPy's mean does: the sum over the count
        if self.requires_grad and (not _paused or _mode.enabled):
            return _node(out, (self,), Tensor._mean_backward, (ax, keepdims, count, a.shape))
        return _const(out)

    @staticmethod
    def _mean_backward(
        g: Array, saved: tuple[Axis, bool, int, tuple[int, ...]], prev: tuple[Tensor, ...]
    ) -> Grads:
        axis, keepdims, count, shape = saved
        grad = _spread(_expand_reduced(g, axis, keepdims), shape)
        grad /= g.dtype.type(count)  # (on the spread array: no 0 / 0 for an empty one)
        return (grad,)

    def max(self, axis: Axis | Sequence[int] = None, keepdims: bool = False) -> Tensor:
        """Maximum over ``axis`` (all axes by default).

        The gradient goes to the maximal elements; when several elements tie for the
        maximum, it is split evenly between them.

        Parameters
        ----------
        axis : None, int or tuple of ints
            The axes to reduce; negative values count from the end.
        keepdims : bool, default False
            Keep the reduced axes with size 1.

        Returns
        -------
        Tensor
            The maxima.

        Examples
        --------
        >>> from minigrad import Tensor
        >>> x = Tensor([1.0, 3.0, 3.0])
        >>> x.max().backward()
        >>> x.grad
        array([0. , 0.5, 0.5])
        """
        a: Any = self.data
        ax = _check_axis("max", axis, a.shape)
        if a.size == 0:
            raise ValueError(f"max: cannot take the maximum of an empty tensor (shape {a.shape})")
        try:
            out = _max_reduce(a, axis=ax, keepdims=True)
        except ValueError as exc:
            raise _axis_error("max", axis, a.shape, exc) from None
        if self.requires_grad and (not _paused or _mode.enabled):
            node = _node(out, (self,), Tensor._max_backward, (a, ax, keepdims, out))
            if not keepdims:
                node.data = out.reshape(_reduced_shape(a.shape, ax))
            return node
        return _const(out if keepdims else out.reshape(_reduced_shape(a.shape, ax)))

    @staticmethod
    def _max_backward(
        g: Array, saved: tuple[Array, Axis, bool, Array], prev: tuple[Tensor, ...]
    ) -> Grads:
        a, axis, keepdims, out = saved
        mask = a == out
        share = mask / _add_reduce(mask, axis=axis, keepdims=True, dtype=a.dtype)
        return (_expand_reduced(g, axis, keepdims) * share,)

    # ---------------------------------------------------------------- softmax family

    def softmax(self, axis: int = -1) -> Tensor:
        """Softmax along ``axis``: ``exp(x) / sum(exp(x))``, computed stably.

        The maximum is subtracted first, so inputs of any magnitude give finite
        results without overflow. Gradient: ``s * (g - sum(g * s))``.

        Parameters
        ----------
        axis : int, default -1
            The axis whose entries sum to one.

        Returns
        -------
        Tensor
            Probabilities, same shape as the input.

        Examples
        --------
        >>> from minigrad import Tensor
        >>> Tensor([1e4, 1e4, -1e4]).softmax()
        Tensor([0.5, 0.5, 0. ], requires_grad=True)
        """
        a = self.data
        axis = _check_axis("softmax", axis, a.shape)  # type: ignore[assignment]
        try:
            e = np.exp(a - _max_reduce(a, axis=axis, keepdims=True))
        except ValueError as exc:
            raise _axis_error("softmax", axis, a.shape, exc) from None
        out = e / _add_reduce(e, axis=axis, keepdims=True)
        if self.requires_grad and (not _paused or _mode.enabled):
            return _node(out, (self,), Tensor._softmax_backward, (out, axis))
        return _const(out)

    @staticmethod
    def _softmax_backward(g: Array, saved: tuple[Array, int], prev: tuple[Tensor, ...]) -> Grads:
        s, axis = saved
        return (s * (g - _add_reduce(g * s, axis=axis, keepdims=True)),)

    def log_softmax(self, axis: int = -1) -> Tensor:
        """Logarithm of `softmax` along ``axis``: ``x - logsumexp(x)``, computed stably.

        Finite for inputs of any magnitude (no ``log(0)``). Gradient:
        ``g - softmax(x) * sum(g)``.

        Parameters
        ----------
        axis : int, default -1
            The axis along which the probabilities sum to one.

        Returns
        -------
        Tensor
            Log-probabilities, same shape as the input.

        Examples
        --------
        >>> from minigrad import Tensor
        >>> Tensor([0.0, 1e4]).log_softmax()
        Tensor([-10000.,      0.], requires_grad=True)
        """
        a = self.data
        axis = _check_axis("log_softmax", axis, a.shape)  # type: ignore[assignment]
        try:
            z = a - _max_reduce(a, axis=axis, keepdims=True)
        except ValueError as exc:
            raise _axis_error("log_softmax", axis, a.shape, exc) from None
        out = z - np.log(_add_reduce(np.exp(z), axis=axis, keepdims=True))
        if self.requires_grad and (not _paused or _mode.enabled):
            return _node(out, (self,), Tensor._log_softmax_backward, (out, axis))
        return _const(out)

    @staticmethod
    def _log_softmax_backward(
        g: Array, saved: tuple[Array, int], prev: tuple[Tensor, ...]
    ) -> Grads:
        out, axis = saved
        return (g - np.exp(out) * _add_reduce(g, axis=axis, keepdims=True),)

    # ---------------------------------------------------------------- shape

    def reshape(self, *shape: SupportsIndex | Sequence[SupportsIndex]) -> Tensor:
        """Return the values in a new shape (one axis may be ``-1``).

        Accepts the shape as separate ints or as one tuple.

        Examples
        --------
        >>> from minigrad import Tensor
        >>> Tensor([[1.0, 2.0], [3.0, 4.0]]).reshape(4, 1).shape
        (4, 1)
        >>> Tensor([1.0, 2.0]).reshape((2, 1)).shape
        (2, 1)
        """
        target: Any = shape[0] if len(shape) == 1 and not _is_index(shape[0]) else shape
        a = self.data
        try:
            out = a.reshape(target)
        except (ValueError, TypeError):
            raise ValueError(
                f"reshape: cannot reshape a tensor of shape {a.shape} ({a.size} elements) "
                f"into shape {tuple(target) if not _is_index(target) else (target,)}"
            ) from None
        if self.requires_grad and (not _paused or _mode.enabled):
            return _node(out, (self,), Tensor._reshape_backward, a.shape)
        return _const(out)

    @staticmethod
    def _reshape_backward(g: Array, shape: tuple[int, ...], prev: tuple[Tensor, ...]) -> Grads:
        return (g.reshape(shape),)

    def transpose(self, *axes: SupportsIndex | Sequence[SupportsIndex]) -> Tensor:
        """Permute the axes (reverse them when none are given), like ``ndarray.transpose``.

        Examples
        --------
        >>> from minigrad import Tensor
        >>> Tensor([[[1.0, 2.0, 3.0]]]).transpose(2, 0, 1).shape
        (3, 1, 1)
        """
        perm: Any = axes[0] if len(axes) == 1 and not _is_index(axes[0]) else axes
        a = self.data
        try:
            out = a.transpose(perm or None)
        except (ValueError, TypeError):
            raise ValueError(
                f"transpose: axes {tuple(perm)} are not a permutation of the "
                f"{a.ndim} axes of a tensor of shape {a.shape}"
            ) from None
        if self.requires_grad and (not _paused or _mode.enabled):
            inverse = None if not perm else tuple(np.argsort([int(i) % a.ndim for i in perm]))
            return _node(out, (self,), Tensor._transpose_backward, inverse)
        return _const(out)

    @staticmethod
    def _transpose_backward(
        g: Array, inverse: tuple[int, ...] | None, prev: tuple[Tensor, ...]
    ) -> Grads:
        return (g.transpose(inverse),)

    def __getitem__(self, index: Any) -> Tensor:
        """Index like NumPy: ints, slices, ``None``, ``...``, integer and boolean arrays.

        The gradient is scattered back; an element picked several times (repeated
        integer indices) receives the sum of its gradients.

        Examples
        --------
        >>> from minigrad import Tensor
        >>> x = Tensor([1.0, 2.0, 3.0])
        >>> x[[0, 0, 2]].sum().backward()
        >>> x.grad
        array([2., 0., 1.])
        """
        if isinstance(index, Tensor):
            index = index.data
        a = self.data
        out = a[index]
        if self.requires_grad and (not _paused or _mode.enabled):
            return _node(out, (self,), Tensor._getitem_backward, (a.shape, index))
        return _const(out)

    @staticmethod
    def _getitem_backward(
        g: Array, saved: tuple[tuple[int, ...], Any], prev: tuple[Tensor, ...]
    ) -> Grads:
        shape, index = saved
        grad = np.zeros(shape, dtype=g.dtype)
        if _is_basic_index(index):
            grad[index] = g  # basic indexing never picks an element twice
        else:
            np.add.at(grad, index, g)  # repeated indices accumulate
        return (grad,)


_ACTIVATIONS = (None, "relu", "tanh", "sigmoid")


def _linear_backward(
    g: Array, saved: tuple[Array, Array, Array, str | None], prev: tuple[Tensor, ...]
) -> Grads:
    x, w, out, activation = saved
    if activation is not None:
        g = g * _activation_slope(out, activation)
    return _affine_grads(g, x, w, prev)


def _activation_slope(out: Array, activation: str) -> Array:
    """Return the activation's derivative from its output ``out`` (of one axis or more).

    ``relu' = out > 0``, ``tanh' = 1 - out**2``, ``sigmoid' = out * (1 - out)``, each
    in one new array.
    """
    # (1.0, not 1: NumPy converts a Python int more slowly, and the result is the same)
    if activation == "relu":
        return out > 0
    if activation == "tanh":
        slope = out * out
        np.subtract(1.0, slope, out=slope)
        return slope
    slope = 1.0 - out
    slope *= out
    return slope


def _affine_grads(g: Array, x: Array, w: Array, prev: tuple[Tensor, ...]) -> Grads:
    """Gradients of ``x @ w (+ b)`` for the gradient ``g`` of the result."""
    nin, nout = w.shape
    gx = None
    if prev[0].requires_grad:
        # (with one output, g @ w.T is an outer product: faster as one multiplication)
        gx = g * w[:, 0] if nout == 1 else g @ w.T
    if g.ndim == 2:
        rows = g
        gw = x.T @ g if prev[1].requires_grad else None
    else:  # every leading axis of x is a batch axis
        rows = g.reshape(-1, nout)
        gw = x.reshape(-1, nin).T @ rows if prev[1].requires_grad else None
    if len(prev) == 2:
        return (gx, gw)
    return (gx, gw, _column_sums(rows) if prev[2].requires_grad else None)


# Rules with a variant that writes the node's gradient in place, used by backward when
# nothing else can see the node or its gradient (see _make_reuse_check): on a network of
# wide layers this saves an activation-sized array per layer. They receive the node's
# saved values in a one-element list that nothing else holds, and take them out of it,
# so that an array they no longer need is freed before they allocate the next one.
def _linear_backward_in_place(g: Array, box: list[Any], prev: tuple[Tensor, ...]) -> Grads:
    x, w, out, activation = box.pop()
    if activation is not None:
        np.multiply(g, _activation_slope(out, activation), out=g)
    del out  # the layer's output is freed here, before g @ w.T allocates the input's gradient
    return _affine_grads(g, x, w, prev)


def _relu_backward_in_place(g: Array, box: list[Any], prev: tuple[Tensor, ...]) -> Grads:
    return (np.multiply(g, box.pop() > 0, out=g),)


def _tanh_backward_in_place(g: Array, box: list[Any], prev: tuple[Tensor, ...]) -> Grads:
    out = box.pop()
    return (np.multiply(g, 1.0 - out * out, out=g),)


def _sigmoid_backward_in_place(g: Array, box: list[Any], prev: tuple[Tensor, ...]) -> Grads:
    out = box.pop()
    return (np.multiply(g, out * (1.0 - out), out=g),)


_IN_PLACE: dict[Rule, Rule] = {
    Tensor._relu_backward: _relu_backward_in_place,
    Tensor._tanh_backward: _tanh_backward_in_place,
    Tensor._sigmoid_backward: _sigmoid_backward_in_place,
    _linear_backward: _linear_backward_in_place,
}


# --------------------------------------------------------------------------------------
# Functions of several tensors
# --------------------------------------------------------------------------------------


def _as_tensors(op: str, tensors: Iterable[Any]) -> list[Tensor]:
    """Wrap the non-tensors of ``tensors`` as constants of the tensors' dtype."""
    given = list(tensors)
    if not given:
        raise ValueError(f"{op}: need at least one tensor, got an empty sequence")
    dtypes = [t.data.dtype for t in given if isinstance(t, Tensor)]
    dtype = np.result_type(*dtypes) if dtypes else None
    return [
        t if isinstance(t, Tensor) else Tensor(t, requires_grad=False, dtype=dtype) for t in given
    ]


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
        axis = _check_axis("concatenate", axis, items[0].shape, single=True)  # type: ignore[assignment]
    try:
        out = np.concatenate([t.data for t in items], axis=axis)
    except ValueError as exc:
        raise _shape_error("concatenate", *(t.shape for t in items), detail=str(exc)) from None
    if _recording(*items):
        if axis is None:  # the inputs were flattened first, as in NumPy
            sizes = [t.data.size for t in items]
        else:
            sizes = [t.data.shape[axis] for t in items]
        bounds = np.cumsum(sizes)[:-1]
        return _node(out, tuple(items), _concatenate_backward, (axis, bounds))
    return _const(out)


def _concatenate_backward(
    g: Array, saved: tuple[int | None, Array], prev: tuple[Tensor, ...]
) -> Grads:
    axis, bounds = saved
    pieces = np.split(g, bounds, axis=0 if axis is None else axis)
    if axis is None:
        pieces = [p.reshape(t.data.shape) for p, t in zip(pieces, prev, strict=True)]
    return tuple(p if t.requires_grad else None for p, t in zip(pieces, prev, strict=True))


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
        axis = _check_axis("stack", axis, (0,) * n, single=True)  # type: ignore[assignment]
    except _AxisError:
        raise _AxisError(
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
        raise _shape_error("stack", *(t.shape for t in items), detail=str(exc)) from None
    if _recording(*items):
        return _node(out, tuple(items), _stack_backward, axis % out.ndim)
    return _const(out)


def _stack_backward(g: Array, axis: int, prev: tuple[Tensor, ...]) -> Grads:
    moved = np.moveaxis(g, axis, 0)
    return tuple(moved[i] if t.requires_grad else None for i, t in enumerate(prev))


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
        raise _shape_error(
            "where",
            cond.shape,
            xt.shape,
            yt.shape,
            detail="condition, x and y must broadcast together",
        ) from None
    if _recording(xt, yt):
        return _node(out, (xt, yt), _where_backward, cond)
    return _const(out)


def _where_backward(g: Array, cond: Array, prev: tuple[Tensor, ...]) -> Grads:
    zero = g.dtype.type(0)
    return (
        np.where(cond, g, zero) if prev[0].requires_grad else None,
        np.where(cond, zero, g) if prev[1].requires_grad else None,
    )


# --------------------------------------------------------------------------------------
# Helpers of single rules
# --------------------------------------------------------------------------------------


def _sigmoid(a: Array) -> Array:
    """``1 / (1 + exp(-a))`` from ``exp(-|a|)``, which never overflows."""
    one = a.dtype.type(1)  # a typed 1 keeps 0-d float32 float32 under NumPy 1.x
    e = np.exp(-np.abs(a))  # in (0, 1]
    s = one / (one + e)  # sigmoid(|a|)
    out: Array = np.where(a < 0, e * s, s)  # sigmoid(-|a|) = exp(-|a|) * sigmoid(|a|)
    return out


def _power_slope(a: Array, b: Array) -> Array:
    """``d(a**b)/da = b * a**(b-1)``, taken as 0 where ``b == 0``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = b * a ** (b - 1)
    result: Array = np.where(b == 0, a.dtype.type(0), slope)
    return result


def _exponent_slope(a: Array, b: Array, out: Array) -> Array:
    """``d(a**b)/db = a**b * log(a)``, taken as 0 where ``a == 0`` and ``b >= 0``.

    For a negative base the logarithm is ``nan``, as in PyTorch.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = out * np.log(a)
    result: Array = np.where((a == 0) & (b >= 0), out.dtype.type(0), slope)
    return result


def _matmul_error(a: Array, b: Array, exc: ValueError) -> ValueError:
    if a.ndim == 0 or b.ndim == 0:
        detail = "matmul needs operands with at least one axis; use * for scalars"
    else:
        detail = (
            f"the last axis of the left operand ({a.shape[-1]}) must equal the "
            f"{'only' if b.ndim == 1 else 'second-to-last'} axis of the right operand "
            f"({b.shape[0] if b.ndim == 1 else b.shape[-2]}), and batch axes must broadcast"
        )
    return _shape_error("matmul", a.shape, b.shape, detail=detail)


def _matmul_grad_a(g: Array, a: Array, b: Array) -> Array:
    """Gradient of ``a @ b`` with respect to ``a`` (before summing batch axes)."""
    if b.ndim == 1:
        if a.ndim == 1:  # inner product: g is 0-d
            return g * b
        return g[..., None] * b  # (..., m, 1) * (k,) -> (..., m, k)
    if a.ndim == 1:  # (k,) @ (..., k, n): g is (..., n)
        row: Array = np.matmul(g[..., None, :], b.swapaxes(-1, -2))[..., 0, :]
        return row
    grad: Array = g @ b.swapaxes(-1, -2)
    return grad


def _matmul_grad_b(g: Array, a: Array, b: Array) -> Array:
    """Gradient of ``a @ b`` with respect to ``b`` (before summing batch axes)."""
    if a.ndim == 1:
        if b.ndim == 1:
            return g * a
        return a[:, None] * g[..., None, :]  # (k, 1) * (..., 1, n) -> (..., k, n)
    if b.ndim == 1:  # (..., m, k) @ (k,): g is (..., m)
        col: Array = np.matmul(a.swapaxes(-1, -2), g[..., None])[..., 0]
        return col
    grad: Array = a.swapaxes(-1, -2) @ g
    return grad


def _reduced_shape(shape: tuple[int, ...], axis: Axis) -> tuple[int, ...]:
    if axis is None or not shape:  # (NumPy lets a 0-d array be reduced over axis 0)
        return ()
    axes = {ax % len(shape) for ax in ((axis,) if isinstance(axis, int) else axis)}
    return tuple(n for i, n in enumerate(shape) if i not in axes)


def _is_index(value: Any) -> bool:
    """Whether ``value`` is a single integer (not a sequence of them)."""
    return isinstance(value, (int, np.integer)) or (
        hasattr(value, "__index__") and not hasattr(value, "__len__")
    )


def _is_basic_index(index: Any) -> bool:
    """Whether ``index`` uses only basic indexing (each element selected at most once)."""
    items = index if isinstance(index, tuple) else (index,)
    for item in items:
        if item is None or item is Ellipsis or isinstance(item, (slice, int, np.integer)):
            continue
        if isinstance(item, np.ndarray) and item.dtype == bool:
            continue  # a boolean mask selects each element at most once too
        return False
    return True


# The public names show where users import them from (in reprs, tracebacks and help()),
# not the private module that defines them.
Tensor.__module__ = "minigrad"
for _public in (concatenate, is_grad_enabled, no_grad, stack, where):
    _public.__module__ = "minigrad"
del _public
