"""The `Tensor` type: a NumPy array that records the operations applied to it.

Each operator computes its result with NumPy and hands it to `_record` together with
its inputs, its gradient rule (from `minigrad._rules`, where every rule is listed in one
table) and what that rule needs from the forward pass. `_record` returns a graph node
when some input requires a gradient and grad mode is on, and a plain tensor otherwise:
no gradient work is spent on what nobody asked for. `backward` hands the graph to
`minigrad._graph`, which walks it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, SupportsIndex, TypeAlias

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from minigrad import _anomaly, _errors, _graph, _mode
from minigrad import _rules as rules
from minigrad._rules import Rule
from minigrad._shapes import Axis, check_axis, is_index, reduced_shape, reduction_count

__all__ = ["Tensor"]

Array = npt.NDArray[Any]
# What may stand beside a Tensor in an arithmetic expression.
Operand: TypeAlias = "Tensor | float | int | np.generic | Array | Sequence[Any]"

_ndarray = np.ndarray
_asarray = np.asarray
_add_reduce: Callable[..., Any] = np.add.reduce  # `a.sum()` without its Python wrapper: 0.5 µs less
_new = object.__new__
_FLOAT64 = np.dtype(np.float64)


# Whether a `minigrad.detect_anomaly` block is open (in any thread); set by `_anomaly`.
ANOMALY = False


def _record(data: Any, inputs: tuple[Tensor, ...], rule: Rule, saved: Any) -> Tensor:
    """Return an operation's result: a graph node if it must be recorded, else a plain tensor.

    It is recorded when grad mode is on (`minigrad.no_grad` turns it off) and some
    input requires a gradient. ``inputs`` is never empty (operators refuse that first).
    """
    if data.__class__ is not _ndarray:  # NumPy returns scalars for 0-d results
        data = _asarray(data)
    if ANOMALY:  # inside `minigrad.detect_anomaly`: check the result, and later the rule's
        rule = _anomaly.check(data, inputs, rule)
    t: Tensor = _new(Tensor)
    t.data = data
    t._grad = None
    # (``inputs[0]`` first: the usual case, 15 % of this function's time without a loop)
    if (not _mode.paused or _mode.mode.enabled) and (
        inputs[0].requires_grad or _any_requires_grad(inputs)
    ):
        t.requires_grad = True
        t._inputs = inputs
        t._rule = rule
        t._saved = saved
        return t
    t.requires_grad = False
    t._inputs = ()
    t._rule = None
    t._saved = None
    return t


def _any_requires_grad(inputs: tuple[Tensor, ...]) -> bool:
    for x in inputs:  # noqa: SIM110 (any() over a generator costs twice as much)
        if x.requires_grad:
            return True
    return False


def _untracked(data: Any) -> Tensor:
    """Return a tensor that records nothing and requires no gradient (``detach``)."""
    if data.__class__ is not _ndarray:
        data = _asarray(data)
    t: Tensor = _new(Tensor)
    t.data = data
    t._grad = None
    t.requires_grad = False
    t._inputs = ()
    t._rule = None
    t._saved = None
    return t


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

    # The graph's fields (see minigrad._graph): `_inputs`, `_rule` and `_saved` make a
    # node; `_owned` says whether a leaf's `_grad` is an array this engine allocated
    # (backward may then add to it in place) rather than one the user assigned.
    __slots__ = (
        "__weakref__",
        "_grad",
        "_inputs",
        "_owned",
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
    _inputs: tuple[Tensor, ...]
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
                raise _errors.data_error(data, exc) from None
        elif data.__class__ is _ndarray and data.dtype.kind == "f":
            array = data
        else:
            try:
                array = np.asarray(data)
            except ValueError as exc:
                raise _errors.data_error(data, exc) from None
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
        self._inputs = ()
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
        return _untracked(self.data)

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
        if not self.requires_grad:
            raise _errors.no_grad_error()
        if self._rule is _graph.released_rule:
            raise _errors.released_error()
        seed = self._seed(gradient)
        if self._rule is None:  # a leaf: its gradient is the seed
            leaf_grads: dict[Tensor, Array] = {}
            borrowed: set[Tensor] = set()
            _graph.collect(leaf_grads, borrowed, self, seed, None if gradient is None else seed)
            _graph.add_to_leaves(leaf_grads, borrowed)
            return
        _graph.backward(self, seed, retain_graph)

    def _seed(self, gradient: Any) -> Array:
        """Return the gradient backward starts from: ``gradient``, checked, or ones."""
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
                raise _errors.seed_shape_error(given.shape, data.shape)
        return given

    # ---------------------------------------------------------------- arithmetic

    def __add__(self, other: Operand) -> Tensor:
        a = self.data
        if isinstance(other, Tensor):
            b = other.data
            try:
                out = a + b
            except ValueError:
                raise _errors.broadcast_error("add", a, b) from None
            return _record(out, (self, other), rules.add, None)
        c = _operand(other, a.dtype)
        if c is None:
            return NotImplemented
        try:
            out = a + c
        except ValueError:
            raise _errors.broadcast_error("add", a, c) from None
        return _record(out, (self, CONSTANT), rules.add, None)

    __radd__ = __add__

    def __sub__(self, other: Operand) -> Tensor:
        a = self.data
        if isinstance(other, Tensor):
            b = other.data
            try:
                out = a - b
            except ValueError:
                raise _errors.broadcast_error("subtract", a, b) from None
            return _record(out, (self, other), rules.sub, None)
        c = _operand(other, a.dtype)
        if c is None:
            return NotImplemented
        try:
            out = a - c
        except ValueError:
            raise _errors.broadcast_error("subtract", a, c) from None
        return _record(out, (self, CONSTANT), rules.sub, None)

    def __rsub__(self, other: Operand) -> Tensor:
        a = self.data
        c = _operand(other, a.dtype)
        if c is None:
            return NotImplemented
        try:
            out = c - a
        except ValueError:
            raise _errors.broadcast_error("subtract", c, a) from None
        return _record(out, (CONSTANT, self), rules.sub, None)

    def __neg__(self) -> Tensor:
        out = -self.data
        return _record(out, (self,), rules.neg, None)

    def __mul__(self, other: Operand) -> Tensor:
        a = self.data
        if isinstance(other, Tensor):
            b = other.data
            try:
                out = a * b
            except ValueError:
                raise _errors.broadcast_error("multiply", a, b) from None
            # A tensor that needs no gradient is a constant factor: `scale`, one input.
            if not other.requires_grad:
                return _record(out, (self,), rules.scale, b)
            if not self.requires_grad:
                return _record(out, (other,), rules.scale, a)
            return _record(out, (self, other), rules.mul, (a, b))
        c = _operand(other, a.dtype)
        if c is None:
            return NotImplemented
        try:
            out = a * c
        except ValueError:
            raise _errors.broadcast_error("multiply", a, c) from None
        return _record(out, (self,), rules.scale, c)

    __rmul__ = __mul__

    def __truediv__(self, other: Operand) -> Tensor:
        a = self.data
        if isinstance(other, Tensor):
            b = other.data
            try:
                out = a / b
            except ValueError:
                raise _errors.broadcast_error("divide", a, b) from None
            return _record(out, (self, other), rules.div, (a, b))
        c = _operand(other, a.dtype)
        if c is None:
            return NotImplemented
        try:
            out = a / c
        except ValueError:
            raise _errors.broadcast_error("divide", a, c) from None
        return _record(out, (self, CONSTANT), rules.div, (a, c))

    def __rtruediv__(self, other: Operand) -> Tensor:
        a = self.data
        c = _operand(other, a.dtype)
        if c is None:
            return NotImplemented
        try:
            out = c / a
        except ValueError:
            raise _errors.broadcast_error("divide", c, a) from None
        return _record(out, (CONSTANT, self), rules.div, (c, a))

    def __pow__(self, other: Operand) -> Tensor:
        a = self.data
        if isinstance(other, Tensor):
            b = other.data
            try:
                out = a**b
            except ValueError:
                raise _errors.broadcast_error("power", a, b) from None
            return _record(out, (self, other), rules.pow, (a, b, out))
        c = _operand(other, a.dtype)
        if c is None:
            return NotImplemented
        try:
            out = a**c
        except ValueError:
            raise _errors.broadcast_error("power", a, c) from None
        return _record(out, (self, CONSTANT), rules.pow, (a, c, out))

    def __rpow__(self, other: Operand) -> Tensor:
        a = self.data
        c = _operand(other, a.dtype)
        if c is None:
            return NotImplemented
        try:
            out = c**a
        except ValueError:
            raise _errors.broadcast_error("power", c, a) from None
        return _record(out, (CONSTANT, self), rules.pow, (c, a, out))

    def __matmul__(self, other: Operand) -> Tensor:
        a = self.data
        if isinstance(other, Tensor):
            b = other.data
            try:
                out = a @ b
            except ValueError:
                raise _errors.matmul_error(a, b) from None
            return _record(out, (self, other), rules.matmul, (a, b))
        c = _operand(other, a.dtype)
        if c is None:
            return NotImplemented
        try:
            out = a @ c
        except ValueError:
            raise _errors.matmul_error(a, c) from None
        return _record(out, (self, CONSTANT), rules.matmul, (a, c))

    def __rmatmul__(self, other: Operand) -> Tensor:
        b = self.data
        c = _operand(other, b.dtype)
        if c is None:
            return NotImplemented
        try:
            out = c @ b
        except ValueError:
            raise _errors.matmul_error(c, b) from None
        return _record(out, (CONSTANT, self), rules.matmul, (c, b))

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
        activate = None
        if activation is not None:
            if activation == "linear":
                activation = None
            else:
                activate = _ACTIVATE_IN_PLACE.get(activation)
                if activate is None:
                    raise ValueError(
                        f"linear: unknown activation {activation!r}; use None, 'linear', "
                        f"'relu', 'tanh' or 'sigmoid'"
                    )
        if not isinstance(weight, Tensor):  # an array: a constant, as beside an operator
            weight = Tensor(weight, requires_grad=False, dtype=self.data.dtype)
        if bias is not None and not isinstance(bias, Tensor):
            bias = Tensor(bias, requires_grad=False, dtype=self.data.dtype)
        x, w = self.data, weight.data
        b = None if bias is None else bias.data
        if w.ndim != 2 or not x.ndim or x.shape[-1] != w.shape[0]:
            raise _errors.shape_error(
                "linear",
                x.shape,
                w.shape,
                detail="the input must be (..., nin) and the weight (nin, nout)",
            )
        if b is not None and (b.ndim != 1 or b.shape[0] != w.shape[1]):
            raise _errors.shape_error(
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
        if activate is not None:
            out = activate(out)
        inputs = (self, weight) if bias is None else (self, weight, bias)
        return _record(out, inputs, rules.linear, (x, w, out, activation))

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
        return _record(out, (self,), rules.exp, out)

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
        return _record(out, (self,), rules.log, a)

    def tanh(self) -> Tensor:
        """Elementwise hyperbolic tangent; gradient ``1 - tanh(x)**2``.

        Examples
        --------
        >>> from minigrad import Tensor
        >>> Tensor([0.0]).tanh()
        Tensor([0.], requires_grad=True)
        """
        out = np.tanh(self.data)
        return _record(out, (self,), rules.tanh, out)

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
        return _record(out, (self,), rules.relu, out)

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
        return _record(out, (self,), rules.sigmoid, out)

    def abs(self) -> Tensor:
        """Elementwise absolute value; gradient ``sign(x)`` (0 at 0).

        Examples
        --------
        >>> from minigrad import Tensor
        >>> Tensor([-2.0, 3.0]).abs()
        Tensor([2., 3.], requires_grad=True)
        """
        return _abs(self)

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
        if lo is None and hi is None:
            raise ValueError("clip: give at least one of lo and hi")
        return _clip(self, lo=lo, hi=hi)

    def sqrt(self) -> Tensor:
        """Elementwise square root; gradient ``1 / (2 * sqrt(x))``.

        As in PyTorch, the square root of a negative number is ``nan`` and the gradient
        at 0 is ``inf``, both without a warning.

        Examples
        --------
        >>> from minigrad import Tensor
        >>> x = Tensor([4.0, 9.0])
        >>> y = x.sqrt()
        >>> y
        Tensor([2., 3.], requires_grad=True)
        >>> y.sum().backward()
        >>> x.grad
        array([0.25      , 0.16666667])
        """
        with np.errstate(invalid="ignore"):
            out = np.sqrt(self.data)
        return _record(out, (self,), rules.sqrt, out)

    def square(self) -> Tensor:
        """Elementwise ``x * x``; gradient ``2 * x``.

        Examples
        --------
        >>> from minigrad import Tensor
        >>> Tensor([-3.0, 0.5]).square()
        Tensor([9.  , 0.25], requires_grad=True)
        """
        a = self.data
        return _record(a * a, (self,), rules.square, a)

    def sin(self) -> Tensor:
        """Elementwise sine (of radians); gradient ``cos(x)``.

        Examples
        --------
        >>> import numpy as np
        >>> from minigrad import Tensor
        >>> Tensor([0.0, np.pi / 2]).sin()
        Tensor([0., 1.], requires_grad=True)
        """
        a = self.data
        return _record(np.sin(a), (self,), rules.sin, a)

    def cos(self) -> Tensor:
        """Elementwise cosine (of radians); gradient ``-sin(x)``.

        Examples
        --------
        >>> from minigrad import Tensor
        >>> Tensor([0.0]).cos()
        Tensor([1.], requires_grad=True)
        """
        a = self.data
        return _record(np.cos(a), (self,), rules.cos, a)

    def leaky_relu(self, negative_slope: float = 0.01) -> Tensor:
        """Elementwise ``x`` where ``x > 0``, else ``negative_slope * x``.

        The gradient is 1 where ``x > 0`` and ``negative_slope`` elsewhere, at 0
        included (PyTorch's convention).

        Parameters
        ----------
        negative_slope : float, default 0.01
            The slope for ``x <= 0``.

        Returns
        -------
        Tensor
            The activations, same shape as the input.

        Raises
        ------
        TypeError
            If ``negative_slope`` is not a real number.

        Examples
        --------
        >>> from minigrad import Tensor
        >>> x = Tensor([-2.0, 0.0, 3.0])
        >>> y = x.leaky_relu(0.1)
        >>> y
        Tensor([-0.2,  0. ,  3. ], requires_grad=True)
        >>> y.sum().backward()
        >>> x.grad
        array([0.1, 0.1, 1. ])
        """
        a = self.data
        slope = _real("leaky_relu", "negative_slope", negative_slope, a.dtype)
        out = np.where(a > 0, a, a * slope)
        return _record(out, (self,), rules.leaky_relu, (a, slope))

    def gelu(self, approximate: str = "none") -> Tensor:
        """Gaussian error linear unit ``x * Phi(x)``, ``Phi`` the normal distribution function.

        With ``approximate='none'``, ``Phi(x) = erfc(-x / sqrt(2)) / 2`` exactly; with
        ``'tanh'``, ``Phi(x)`` is approximated by
        ``(1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x**3))) / 2``, as PyTorch's
        ``approximate='tanh'``. The gradient is ``Phi(x) + x * Phi'(x)`` for either.
        Both are computed without cancellation or overflow, for inputs of any magnitude.

        NumPy has no error function, so ``'none'`` evaluates ``math.erfc`` element by
        element, in Python: on large arrays its forward pass is several times slower than
        ``'tanh'`` (about 0.2 microseconds per element against 0.05).

        Parameters
        ----------
        approximate : {'none', 'tanh'}, default 'none'
            Which ``Phi``: the exact one or the tanh approximation.

        Returns
        -------
        Tensor
            The activations, same shape as the input.

        Raises
        ------
        ValueError
            If ``approximate`` is neither ``'none'`` nor ``'tanh'``.

        Examples
        --------
        >>> from minigrad import Tensor
        >>> Tensor([-1.0, 0.0, 1.0]).gelu()
        Tensor([-0.15865525,  0.        ,  0.84134475], requires_grad=True)
        >>> Tensor([-1.0, 0.0, 1.0]).gelu(approximate="tanh")
        Tensor([-0.15880801,  0.        ,  0.84119199], requires_grad=True)
        """
        a = self.data
        if approximate == "none":
            cdf = _normal_cdf(a)
        elif approximate == "tanh":
            cdf = _normal_cdf_tanh(a)
        else:
            raise ValueError(
                f"gelu: approximate must be 'none' (exact) or 'tanh', got {approximate!r}"
            )
        return _record(a * cdf, (self,), rules.gelu, (a, cdf, approximate))

    def softplus(self, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
        """Elementwise ``log(1 + exp(beta * x)) / beta``, a smooth relu.

        The gradient is ``sigmoid(beta * x)``. As in PyTorch, where ``beta * x > threshold``
        the result is ``x`` itself, with gradient 1 (the two differ there by less than
        ``exp(-threshold) / beta``). Computed without overflow, for inputs of any magnitude.

        Parameters
        ----------
        beta : float, default 1.0
            The sharpness: the larger, the closer to ``relu``.
        threshold : float, default 20.0
            Above which ``beta * x`` the result is linear.

        Returns
        -------
        Tensor
            The activations, same shape as the input.

        Raises
        ------
        TypeError
            If ``beta`` or ``threshold`` is not a real number.

        Examples
        --------
        >>> from minigrad import Tensor
        >>> x = Tensor([-1e4, 0.0, 1e4])
        >>> y = x.softplus()
        >>> y
        Tensor([0.00000000e+00, 6.93147181e-01, 1.00000000e+04], requires_grad=True)
        >>> y.sum().backward()
        >>> x.grad
        array([0. , 0.5, 1. ])
        """
        a = self.data
        dt = a.dtype.type
        b = _real("softplus", "beta", beta, a.dtype)
        limit = _real("softplus", "threshold", threshold, a.dtype)
        z = a * b
        soft = np.logaddexp(dt(0), z)  # log(1 + exp(z)), which never overflows
        linear = z > limit
        out = np.where(linear, a, soft / b)
        return _record(out, (self,), rules.softplus, (soft, linear))

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
        ax = check_axis("sum", axis, a.shape)
        try:
            out = _add_reduce(a, axis=ax, keepdims=keepdims)
        except ValueError as exc:
            raise _errors.axis_error("sum", axis, a.shape, exc) from None
        return _record(out, (self,), rules.sum, (ax, keepdims, a.shape))

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
        ax = check_axis("mean", axis, a.shape)
        try:
            total = _add_reduce(a, axis=ax, keepdims=keepdims)
        except ValueError as exc:
            raise _errors.axis_error("mean", axis, a.shape, exc) from None
        count = a.size // max(total.size, 1)
        out = total / a.dtype.type(count)  # as NumPy's mean does: the sum over the count
        return _record(out, (self,), rules.mean, (ax, keepdims, count, a.shape))

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
        ax = check_axis("max", axis, a.shape)
        try:
            top = a.max(axis=ax, keepdims=True)  # the rule needs this shape
        except ValueError as exc:
            if a.size == 0 and not isinstance(exc, _errors.AxisError):
                raise ValueError(
                    f"max: cannot take the maximum over an axis of length 0 (tensor of shape "
                    f"{a.shape}, axis {axis}); NumPy refuses it too, as the maximum of nothing "
                    f"is undefined"
                ) from None
            raise _errors.axis_error("max", axis, a.shape, exc) from None
        out = top if keepdims else top.reshape(reduced_shape(a.shape, ax))
        return _record(out, (self,), rules.max, (a, ax, keepdims, top))

    def min(self, axis: Axis | Sequence[int] = None, keepdims: bool = False) -> Tensor:
        """Minimum over ``axis`` (all axes by default).

        The gradient goes to the minimal elements; when several elements tie for the
        minimum, it is split evenly between them (as for `max`, and as PyTorch's
        ``amin``).

        Parameters
        ----------
        axis : None, int or tuple of ints
            The axes to reduce; negative values count from the end.
        keepdims : bool, default False
            Keep the reduced axes with size 1.

        Returns
        -------
        Tensor
            The minima.

        Raises
        ------
        ValueError
            If an axis to reduce has length 0 (the minimum of nothing is undefined).

        Examples
        --------
        >>> from minigrad import Tensor
        >>> x = Tensor([[2.0, 1.0, 1.0], [0.5, 3.0, 4.0]])
        >>> x.min(axis=1).sum().backward()
        >>> x.grad
        array([[0. , 0.5, 0.5],
               [1. , 0. , 0. ]])
        """
        a: Any = self.data
        ax = check_axis("min", axis, a.shape)
        try:
            bottom = a.min(axis=ax, keepdims=True)  # the rule needs this shape
        except ValueError as exc:
            if a.size == 0 and not isinstance(exc, _errors.AxisError):
                raise ValueError(
                    f"min: cannot take the minimum over an axis of length 0 (tensor of shape "
                    f"{a.shape}, axis {axis}); NumPy refuses it too, as the minimum of nothing "
                    f"is undefined"
                ) from None
            raise _errors.axis_error("min", axis, a.shape, exc) from None
        out = bottom if keepdims else bottom.reshape(reduced_shape(a.shape, ax))
        return _record(out, (self,), rules.min, (a, ax, keepdims, bottom))

    def argmax(self, axis: int | None = None, keepdims: bool = False) -> Array:
        """Return the indices of the maxima along ``axis`` (of the flattened tensor by default).

        Returns a NumPy array of ``int64``, not a `Tensor`: tensors hold floating-point
        values, and an index has no gradient (PyTorch returns an integer tensor that
        does not require grad). Among tied maxima the first index is taken, as in
        NumPy and PyTorch.

        Parameters
        ----------
        axis : int or None
            The axis to search along; ``None`` searches the flattened tensor.
        keepdims : bool, default False
            Keep the searched axis with size 1 (all axes, with ``axis=None``).

        Returns
        -------
        numpy.ndarray
            The indices, ``int64``; 0-d for ``axis=None``.

        Raises
        ------
        ValueError
            If the axis searched has length 0.

        Examples
        --------
        >>> from minigrad import Tensor
        >>> Tensor([[1.0, 5.0, 5.0], [7.0, 2.0, 0.0]]).argmax(axis=1)
        array([1, 0])
        """
        return _arg_extreme("argmax", self.data, axis, keepdims)

    def argmin(self, axis: int | None = None, keepdims: bool = False) -> Array:
        """Return the indices of the minima along ``axis`` (of the flattened tensor by default).

        As `argmax`: a NumPy array of ``int64``, without gradient; the first index
        among tied minima.

        Parameters
        ----------
        axis : int or None
            The axis to search along; ``None`` searches the flattened tensor.
        keepdims : bool, default False
            Keep the searched axis with size 1 (all axes, with ``axis=None``).

        Returns
        -------
        numpy.ndarray
            The indices, ``int64``; 0-d for ``axis=None``.

        Raises
        ------
        ValueError
            If the axis searched has length 0.

        Examples
        --------
        >>> from minigrad import Tensor
        >>> Tensor([[1.0, 5.0, 5.0], [7.0, 2.0, 0.0]]).argmin()
        array(5)
        """
        return _arg_extreme("argmin", self.data, axis, keepdims)

    def var(
        self, axis: Axis | Sequence[int] = None, keepdims: bool = False, ddof: float = 0
    ) -> Tensor:
        """Variance over ``axis`` (all axes by default): ``sum((x - mean)**2) / (N - ddof)``.

        ``N`` is the number of elements reduced into each result. ``ddof`` is NumPy's
        name and default (``ddof=0``: the population variance); PyTorch calls the same
        number ``correction`` and defaults to 1, so PyTorch's ``x.var(dim)`` is
        ``x.var(axis, ddof=1)`` here. Where ``N - ddof <= 0`` the result is ``inf`` (or
        ``nan`` for a constant slice), as in NumPy and PyTorch, and its gradient
        ``inf`` or ``-inf`` (``nan`` where ``x`` equals the mean); the variance over an
        axis of length 0 is ``nan``. None of these warns.

        Gradient: ``g * 2 * (x - mean) / (N - ddof)``.

        Parameters
        ----------
        axis : None, int or tuple of ints
            The axes to reduce; negative values count from the end.
        keepdims : bool, default False
            Keep the reduced axes with size 1.
        ddof : int or float, default 0
            "Delta degrees of freedom": the divisor is ``N - ddof``. Use 1 for the
            unbiased estimate from a sample.

        Returns
        -------
        Tensor
            The variances.

        Examples
        --------
        >>> from minigrad import Tensor
        >>> x = Tensor([1.0, 2.0, 3.0, 6.0])
        >>> x.var(), x.var(ddof=1)
        (Tensor(3.5, requires_grad=True), Tensor(4.66666667, requires_grad=True))
        >>> x.var().backward()
        >>> x.grad
        array([-1. , -0.5,  0. ,  1.5])
        """
        a = self.data
        ax, centred, dof, v = _variance("var", a, axis, ddof)
        out = v if keepdims else v.reshape(reduced_shape(a.shape, ax))
        return _record(out, (self,), rules.var, (centred, ax, keepdims, dof))

    def std(
        self, axis: Axis | Sequence[int] = None, keepdims: bool = False, ddof: float = 0
    ) -> Tensor:
        """Compute the standard deviation over ``axis`` (all axes by default): ``sqrt(var)``.

        ``ddof`` is as in `var`: NumPy's name and default 0, PyTorch's ``correction``
        (whose default is 1). Gradient: ``g / (2 * std)`` times that of `var`; where
        the standard deviation is 0 (a constant slice) the gradient is 0, as in
        PyTorch, rather than ``0 / 0``.

        Parameters
        ----------
        axis : None, int or tuple of ints
            The axes to reduce; negative values count from the end.
        keepdims : bool, default False
            Keep the reduced axes with size 1.
        ddof : int or float, default 0
            The divisor of the variance is ``N - ddof``.

        Returns
        -------
        Tensor
            The standard deviations.

        Examples
        --------
        >>> from minigrad import Tensor
        >>> x = Tensor([[1.0, 3.0], [2.0, 2.0]])
        >>> s = x.std(axis=1)
        >>> s
        Tensor([1., 0.], requires_grad=True)
        >>> s.sum().backward()
        >>> x.grad
        array([[-0.5,  0.5],
               [ 0. ,  0. ]])
        """
        a = self.data
        ax, centred, dof, v = _variance("std", a, axis, ddof)
        top = np.sqrt(v)
        out = top if keepdims else top.reshape(reduced_shape(a.shape, ax))
        return _record(out, (self,), rules.std, (centred, ax, keepdims, dof, top))

    def logsumexp(self, axis: Axis | Sequence[int] = None, keepdims: bool = False) -> Tensor:
        """``log(sum(exp(x)))`` over ``axis`` (all axes by default), computed stably.

        The maximum is subtracted before ``exp``, so inputs of any magnitude (±1e4)
        give finite results without overflow. As in PyTorch, a slice of ``-inf`` (or an
        axis of length 0) gives ``-inf``, and one holding ``+inf`` gives ``+inf``.
        Gradient: ``g * exp(x - logsumexp(x))``, the softmax of the slice (``nan``
        in a slice of ``-inf``, as in PyTorch).

        Parameters
        ----------
        axis : None, int or tuple of ints
            The axes to reduce; negative values count from the end.
        keepdims : bool, default False
            Keep the reduced axes with size 1.

        Returns
        -------
        Tensor
            The log-sum-exps.

        Examples
        --------
        >>> from minigrad import Tensor
        >>> x = Tensor([1e4, 1e4, -1e4])
        >>> y = x.logsumexp()
        >>> round(y.item() - 1e4, 6)  # log(2)
        0.693147
        >>> y.backward()
        >>> x.grad
        array([0.5, 0.5, 0. ])
        """
        a: Any = self.data
        ax = check_axis("logsumexp", axis, a.shape)
        try:
            # (an empty input has no maximum; nothing to shift then)
            m = a.max(axis=ax, keepdims=True) if a.size else a.dtype.type(0)
            # a slice of -inf, or one holding +inf or nan, is shifted by 0: subtracting
            # its maximum would give nan (-inf - -inf) where PyTorch gives -inf or +inf
            m = np.where(np.isfinite(m), m, a.dtype.type(0))
            e = np.exp(a - m)
            total = e.sum(axis=ax, keepdims=True)
        except ValueError as exc:
            raise _errors.axis_error("logsumexp", axis, a.shape, exc) from None
        with np.errstate(divide="ignore"):  # log(0) = -inf: a slice of -inf, or empty
            top = np.log(total) + m
        out = top if keepdims else top.reshape(reduced_shape(a.shape, ax))
        return _record(out, (self,), rules.logsumexp, (e, total, ax, keepdims))

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
        axis = check_axis("softmax", axis, a.shape)  # type: ignore[assignment]
        try:
            e = np.exp(a - a.max(axis=axis, keepdims=True))
        except ValueError as exc:
            raise _errors.axis_error("softmax", axis, a.shape, exc) from None
        out = e / e.sum(axis=axis, keepdims=True)
        return _record(out, (self,), rules.softmax, (out, axis))

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
        axis = check_axis("log_softmax", axis, a.shape)  # type: ignore[assignment]
        try:
            z = a - a.max(axis=axis, keepdims=True)
        except ValueError as exc:
            raise _errors.axis_error("log_softmax", axis, a.shape, exc) from None
        out = z - np.log(np.exp(z).sum(axis=axis, keepdims=True))
        return _record(out, (self,), rules.log_softmax, (out, axis))

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
        target: Any = shape[0] if len(shape) == 1 and not is_index(shape[0]) else shape
        a = self.data
        try:
            out = a.reshape(target)
        except (ValueError, TypeError):
            raise ValueError(
                f"reshape: cannot reshape a tensor of shape {a.shape} ({a.size} elements) "
                f"into shape {tuple(target) if not is_index(target) else (target,)}"
            ) from None
        return _record(out, (self,), rules.reshape, a.shape)

    def transpose(self, *axes: SupportsIndex | Sequence[SupportsIndex]) -> Tensor:
        """Permute the axes (reverse them when none are given), like ``ndarray.transpose``.

        Examples
        --------
        >>> from minigrad import Tensor
        >>> Tensor([[[1.0, 2.0, 3.0]]]).transpose(2, 0, 1).shape
        (3, 1, 1)
        """
        perm: Any = axes[0] if len(axes) == 1 and not is_index(axes[0]) else axes
        a = self.data
        try:
            out = a.transpose(perm or None)
        except (ValueError, TypeError):
            raise ValueError(
                f"transpose: axes {tuple(perm)} are not a permutation of the "
                f"{a.ndim} axes of a tensor of shape {a.shape}"
            ) from None
        inverse = None if not perm else tuple(np.argsort([int(i) % a.ndim for i in perm]))
        return _record(out, (self,), rules.transpose, inverse)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Merge the axes ``start_dim`` to ``end_dim`` (both included) into one, as PyTorch.

        By default every axis is merged: the result is 1-D, also for a 0-d tensor
        (shape ``(1,)``). Only the shape changes, so the gradient is that of `reshape`
        (this operation records the ``reshape`` rule).

        Parameters
        ----------
        start_dim, end_dim : int
            The first and the last axis to merge; negative values count from the end.

        Returns
        -------
        Tensor
            The same values with fewer axes.

        Examples
        --------
        >>> import numpy as np
        >>> from minigrad import Tensor
        >>> x = Tensor(np.zeros((2, 3, 4, 5)))
        >>> x.flatten().shape, x.flatten(1).shape, x.flatten(1, 2).shape
        ((120,), (2, 60), (2, 12, 5))
        """
        a = self.data
        shape = a.shape
        start = _one_axis("flatten", "start_dim", start_dim, shape)
        end = _one_axis("flatten", "end_dim", end_dim, shape)
        if not shape:  # (PyTorch lets 0 and -1 name the one axis a 0-d tensor becomes)
            return _record(a.reshape(1), (self,), rules.reshape, shape)
        start, end = start % len(shape), end % len(shape)
        if start > end:
            raise ValueError(
                f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for a tensor "
                f"of shape {shape}; give start_dim <= end_dim"
            )
        # (the merged length is given, not -1: with an axis of length 0, -1 is ambiguous)
        target = (*shape[:start], math.prod(shape[start : end + 1]), *shape[end + 1 :])
        return _record(a.reshape(target), (self,), rules.reshape, shape)

    def squeeze(self, axis: Axis | Sequence[int] = None) -> Tensor:
        """Remove axes of length 1: all of them, or those among ``axis``.

        As in PyTorch, an axis named in ``axis`` whose length is not 1 is left as it
        is (NumPy's ``squeeze`` raises instead). Only the shape changes, so the
        gradient is that of `reshape` (this operation records the ``reshape`` rule).

        Parameters
        ----------
        axis : None, int or tuple of ints
            The axes to remove if their length is 1; ``None``: every such axis.

        Returns
        -------
        Tensor
            The same values without those axes.

        Examples
        --------
        >>> import numpy as np
        >>> from minigrad import Tensor
        >>> x = Tensor(np.zeros((1, 3, 1)))
        >>> x.squeeze().shape, x.squeeze(0).shape, x.squeeze(1).shape
        ((3,), (3, 1), (1, 3, 1))
        """
        a = self.data
        shape = a.shape
        if axis is None:
            target = tuple(n for n in shape if n != 1)
        else:
            ax = check_axis("squeeze", axis, shape)
            named = set(_axes_list(ax, len(shape)))
            target = tuple(n for i, n in enumerate(shape) if n != 1 or i not in named)
        return _record(a.reshape(target), (self,), rules.reshape, shape)

    def unsqueeze(self, axis: int) -> Tensor:
        """Insert an axis of length 1 at position ``axis`` of the result, as PyTorch.

        ``axis`` counts in the result, which has one axis more: from ``-ndim - 1``
        to ``ndim``, where ``-1`` appends the new axis at the end (as NumPy's
        ``expand_dims``). Only the shape changes, so the gradient is that of `reshape`
        (this operation records the ``reshape`` rule).

        Parameters
        ----------
        axis : int
            Where the new axis goes.

        Returns
        -------
        Tensor
            The same values with one more axis.

        Examples
        --------
        >>> import numpy as np
        >>> from minigrad import Tensor
        >>> x = Tensor(np.zeros((2, 3)))
        >>> x.unsqueeze(0).shape, x.unsqueeze(1).shape, x.unsqueeze(-1).shape
        ((1, 2, 3), (2, 1, 3), (2, 3, 1))
        """
        a = self.data
        shape = a.shape
        n = len(shape) + 1
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise TypeError(
                f"unsqueeze: axis must be an int, got {axis!r} ({type(axis).__name__}) for a "
                f"tensor of shape {shape}"
            )
        if not -n <= axis < n:
            raise _errors.AxisError(
                f"unsqueeze: axis {axis} is out of bounds for a tensor of shape {shape}; the "
                f"result has {n} axes, so valid axes are -{n} to {n - 1}"
            )
        at = int(axis) % n
        return _record(a.reshape((*shape[:at], 1, *shape[at:])), (self,), rules.reshape, shape)

    def pad(self, pad_width: Any, value: float = 0.0) -> Tensor:
        """Pad with a constant, like ``numpy.pad(x, pad_width, constant_values=value)``.

        ``pad_width`` follows NumPy: ``((before_0, after_0), (before_1, after_1), ...)``
        gives the number of values added before and after each axis, in axis order;
        one pair ``(before, after)`` applies to every axis, and one int ``n`` means
        ``(n, n)`` for every axis. (PyTorch's ``nn.functional.pad`` lists pairs from
        the last axis backwards instead.) The gradient is the part of ``g`` where the
        input was placed; the padding is a constant and receives nothing.

        Parameters
        ----------
        pad_width : int or sequence of ints or of pairs of ints
            How many values to add before and after each axis; not negative.
        value : float, default 0.0
            The constant to pad with.

        Returns
        -------
        Tensor
            The padded tensor.

        Raises
        ------
        ValueError
            If ``pad_width`` does not fit the tensor's axes, or is negative.

        Examples
        --------
        >>> from minigrad import Tensor
        >>> x = Tensor([[1.0, 2.0]])
        >>> x.pad(((0, 1), (1, 0)), value=-1.0)
        Tensor([[-1.,  1.,  2.],
                [-1., -1., -1.]], requires_grad=True)
        >>> x.pad(1).shape
        (3, 4)
        """
        a = self.data
        widths = np.asarray(pad_width)
        if widths.dtype.kind not in "iu":
            raise TypeError(
                f"pad: pad_width must be ints (or pairs of ints), got {pad_width!r} for a "
                f"tensor of shape {a.shape}"
            )
        try:
            pairs = np.broadcast_to(widths, (a.ndim, 2)).tolist()
        except ValueError:
            raise ValueError(
                f"pad: pad_width {pad_width!r} does not fit a tensor of shape {a.shape}; give "
                f"one (before, after) pair per axis, one pair for every axis, or one int"
            ) from None
        if (widths < 0).any():
            raise ValueError(f"pad: pad_width must not be negative, got {pad_width!r}")
        lengths = list(zip(a.shape, pairs, strict=True))
        shape = tuple(before + n + after for n, (before, after) in lengths)
        out = np.full(shape, value, dtype=a.dtype)
        interior = tuple(slice(before, before + n) for n, (before, _) in lengths)
        out[interior] = a
        return _record(out, (self,), rules.pad, interior)

    def sliding_windows(
        self, window_shape: int | Sequence[int], axis: Axis | Sequence[int] = None
    ) -> Tensor:
        """Every window of ``window_shape`` along ``axis``, as NumPy's ``sliding_window_view``.

        Takes the arguments of ``numpy.lib.stride_tricks.sliding_window_view`` and gives
        its result: along each axis in ``axis`` (every axis by default, ``window_shape``
        then giving one length per axis) the length ``n`` becomes the number of
        windows, ``n - w + 1``, and the window's own axes are appended at the end, in
        the order of ``axis``. With it a convolution is a product of the windows with
        a kernel (PyTorch's ``Tensor.unfold(dim, size, 1)`` gives the same windows
        along one axis). The result is a read-only view of this tensor's data: no
        values are copied. Windows overlap, so the gradient of an element is the sum
        of ``g`` over every window that contains it.

        Parameters
        ----------
        window_shape : int or sequence of ints
            The length of the window along each axis in ``axis``.
        axis : None, int or tuple of ints
            The axes to slide along; negative values count from the end.

        Returns
        -------
        Tensor
            The windows, a read-only view.

        Raises
        ------
        ValueError
            If a window is longer than its axis, or ``window_shape`` and ``axis`` do
            not have the same length.

        Examples
        --------
        >>> import numpy as np
        >>> from minigrad import Tensor
        >>> x = Tensor(np.arange(5.0))
        >>> w = x.sliding_windows(3)
        >>> w
        Tensor([[0., 1., 2.],
                [1., 2., 3.],
                [2., 3., 4.]], requires_grad=True)
        >>> w.sum().backward()
        >>> x.grad  # the number of windows each element is in
        array([1., 2., 3., 2., 1.])
        >>> Tensor(np.zeros((8, 5, 6))).sliding_windows((3, 3), axis=(1, 2)).shape
        (8, 3, 4, 3, 3)
        """
        a = self.data
        shape = a.shape
        sizes = tuple(window_shape) if np.iterable(window_shape) else (window_shape,)
        if not all(isinstance(w, (int, np.integer)) and not isinstance(w, bool) for w in sizes):
            raise TypeError(
                f"sliding_windows: window_shape must be an int or a sequence of ints, got "
                f"{window_shape!r} for a tensor of shape {shape}"
            )
        if axis is None:
            axes = tuple(range(len(shape)))
        elif not shape:  # (check_axis accepts axis 0 of a 0-d tensor, as reductions do)
            raise _errors.axis_out_of_range("sliding_windows", axis, shape)
        else:
            axes = _axes_list(check_axis("sliding_windows", axis, shape), len(shape))
        if len(axes) != len(sizes):
            raise ValueError(
                f"sliding_windows: window_shape {window_shape!r} gives {len(sizes)} lengths "
                f"for {len(axes)} axes ({'every axis' if axis is None else f'axis {axis}'}) of "
                f"a tensor of shape {shape}; give one length per axis"
            )
        try:
            out = sliding_window_view(a, sizes, axes)
        except ValueError as exc:
            raise ValueError(
                f"sliding_windows: windows of shape {sizes} along axes {axes} do not fit a "
                f"tensor of shape {shape} ({exc}); each window must be at most as long as "
                f"its axis"
            ) from None
        return _record(out, (self,), rules.sliding_windows, (shape, axes, sizes))

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
        return _record(out, (self,), rules.getitem, (a.shape, index))


# A constant operand (the 2 of ``x * 2``) stands in a node's inputs as this tensor, which
# requires no gradient; the constant's value is among what the node saved for its rule.
# One rule then serves an operator whatever side its tensors are on.
CONSTANT = _untracked(np.empty(0))


def _variance(op: str, a: Array, axis: Any, ddof: Any) -> tuple[Axis, Array, Array, Array]:
    """Return the axes, ``a - mean``, the divisor ``max(N - ddof, 0)``, the variance.

    Computed as NumPy's ``var`` does (the mean, then the sum of squared deviations),
    silently: a divisor of 0 gives ``inf`` or ``nan``, as in NumPy and PyTorch.
    """
    ax = check_axis(op, axis, a.shape)
    if isinstance(ddof, bool) or not isinstance(ddof, (int, float, np.integer, np.floating)):
        raise TypeError(f"{op}: ddof must be an int or a float, got {ddof!r}")
    try:
        total = a.sum(axis=ax, keepdims=True)
    except ValueError as exc:
        raise _errors.axis_error(op, axis, a.shape, exc) from None
    count = reduction_count(a.shape, ax)
    dof = np.asarray(max(count - ddof, 0), dtype=a.dtype)
    with np.errstate(divide="ignore", invalid="ignore"):
        centred = a - total / a.dtype.type(count)
        v = np.asarray((centred * centred).sum(axis=ax, keepdims=True) / dof)
    return ax, centred, dof, v


def _arg_extreme(op: str, a: Array, axis: Any, keepdims: bool) -> Array:
    """``a.argmax`` or ``a.argmin`` with errors naming the op, as an ``int64`` array."""
    if axis is not None:
        axis = _one_axis(op, "axis", axis, a.shape)
    try:
        index = getattr(a, op)(axis=axis, keepdims=keepdims)
    except ValueError as exc:
        if a.size == 0 and not isinstance(exc, _errors.AxisError):
            where = "the whole tensor" if axis is None else f"axis {axis}"
            raise ValueError(
                f"{op}: cannot search {where} of a tensor of shape {a.shape}: it has no "
                f"elements there"
            ) from None
        raise _errors.axis_error(op, axis, a.shape, exc) from None
    return np.asarray(index, dtype=np.int64)


def _one_axis(op: str, name: str, axis: Any, shape: tuple[int, ...]) -> int:
    """Check an argument that names one axis (not a tuple of them); return it as an int."""
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(
            f"{op}: {name} must be an int, got {axis!r} ({type(axis).__name__}) for a tensor "
            f"of shape {shape}"
        )
    checked: int = check_axis(op, axis, shape, single=True)  # type: ignore[assignment]
    return checked


def _axes_list(axis: Axis, ndim: int) -> tuple[int, ...]:
    """Return the axes a checked ``axis`` names (an int or a tuple), from 0 to ndim - 1."""
    if axis is None:
        return tuple(range(ndim))
    if not ndim:  # a 0-d tensor's axis 0 names no axis
        return ()
    return tuple(i % ndim for i in ((axis,) if isinstance(axis, int) else axis))


def _sigmoid(a: Array) -> Array:
    """``1 / (1 + exp(-a))`` from ``exp(-|a|)``, which never overflows."""
    one = a.dtype.type(1)  # a typed 1 keeps 0-d float32 float32 under NumPy 1.x
    e = np.exp(-np.abs(a))  # in (0, 1]
    s = one / (one + e)  # sigmoid(|a|)
    out: Array = np.where(a < 0, e * s, s)  # sigmoid(-|a|) = exp(-|a|) * sigmoid(|a|)
    return out


# math.erfc over an array, element by element (NumPy has no error function).
_erfc = np.frompyfunc(math.erfc, 1, 1)


def _normal_cdf(a: Array) -> Array:
    """Compute the normal distribution function ``Phi(a) = erfc(-a / sqrt(2)) / 2``.

    Exact to the last bits in both tails: ``(1 + erf(a / sqrt(2))) / 2`` would cancel
    for negative ``a``.
    """
    dt = a.dtype.type
    cdf: Array = np.asarray(_erfc(a * dt(-math.sqrt(0.5))), dtype=a.dtype)
    cdf *= dt(0.5)
    return cdf


def _normal_cdf_tanh(a: Array) -> Array:
    """``(1 + tanh(u)) / 2`` with ``u = sqrt(2 / pi) * (a + 0.044715 * a**3)``: gelu's 'tanh'.

    Computed as ``sigmoid(2 u)``, which is the same function without the cancellation
    of ``1 + tanh(u)`` for negative ``u``.
    """
    dt = a.dtype.type
    u = (a + a * a * a * dt(rules.GELU_TANH_CUBIC)) * dt(math.sqrt(2 / math.pi))
    return _sigmoid(u + u)


def _real(op: str, name: str, value: Any, dtype: np.dtype[Any]) -> Any:
    """Check that an argument of ``op`` is a real number; return it as a ``dtype`` scalar."""
    if isinstance(value, (int, float, np.integer, np.floating)):
        return dtype.type(value)
    raise TypeError(f"{op}: {name} must be a real number, got {value!r} ({type(value).__name__})")


def _relu_in_place(z: Array) -> Array:
    return np.maximum(z, 0.0, out=z)


def _tanh_in_place(z: Array) -> Array:
    return np.tanh(z, z)  # (`out` by position: faster than the keyword)


# The activations of `Tensor.linear`, applied to the array the layer just computed (so
# in place where NumPy can); their slopes are `minigrad._rules.SLOPES`.
_ACTIVATE_IN_PLACE = {"relu": _relu_in_place, "tanh": _tanh_in_place, "sigmoid": _sigmoid}


def define_op(
    name: str,
    forward: Callable[..., tuple[npt.ArrayLike, Any]],
    rule: Callable[..., tuple[npt.ArrayLike | None, ...]],
) -> Callable[..., Tensor]:
    """Declare a new operation by its forward computation and its gradient rule.

    The operation is then used like any built-in one: it records a node when an input
    requires a gradient, `Tensor.backward` runs ``rule`` in the right order, and
    `gradcheck` checks it. minigrad's own `Tensor.abs` and `Tensor.clip` are declared
    this way.

    Parameters
    ----------
    name : str
        The operation's name, shown in errors and graph drawings.
    forward : callable
        ``forward(*arrays, **options) -> (out, saved)``: computes the result from the
        inputs' NumPy arrays (and keyword options), and returns it with whatever the
        rule will need (``None`` if nothing).
    rule : callable
        ``rule(g, saved) -> tuple``: given ``g``, the gradient of the result, returns
        one gradient per input array, each of the input's shape or of the result's
        shape when that input was broadcast (it is summed back), or ``None`` for an
        input that has none. Computes on arrays, like ``forward``.

    Returns
    -------
    callable
        ``op(*inputs, **options) -> Tensor``. Inputs that are not tensors are
        constants, converted to the dtype of the tensors among them.

    Examples
    --------
    >>> import numpy as np
    >>> from minigrad import Tensor, define_op, gradcheck
    >>> def cube_forward(x):
    ...     return x**3, x  # the result, and what the rule needs
    >>> def cube_rule(g, x):
    ...     return (3.0 * g * x**2,)  # d x**3 / dx = 3 x**2
    >>> cube = define_op("cube", cube_forward, cube_rule)
    >>> gradcheck(cube, Tensor([-2.0, 0.5, 3.0]))
    True
    """

    def vjp(g: Array, saved: Any, inputs: tuple[Tensor, ...]) -> rules.Grads:
        grads = rule(g, saved)
        if not isinstance(grads, tuple) or len(grads) != len(inputs):
            raise TypeError(
                f"{name}: the gradient rule must return a tuple with one gradient per input "
                f"({len(inputs)} here; None for an input without one), got {type(grads).__name__}"
                + (f" of length {len(grads)}" if isinstance(grads, tuple) else "")
            )
        given: list[Array] = []
        for grad, t in zip(grads, inputs, strict=True):
            if grad is None or not t.requires_grad:
                given.append(None)  # type: ignore[arg-type]
                continue
            array = np.asarray(grad)
            # (one array for two inputs would become two gradients sharing memory)
            given.append(array.copy() if any(array is other for other in given) else array)
        return tuple(given)

    vjp.__name__ = vjp.__qualname__ = name

    def op(*inputs: Tensor | npt.ArrayLike, **options: Any) -> Tensor:
        tensors = _as_tensors(name, inputs)
        out, saved = forward(*(t.data for t in tensors), **options)
        return _record(_asarray(out), tuple(tensors), vjp, saved)

    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"The operation {name!r}, declared with `minigrad.define_op`."
    return op


def _as_tensors(op: str, values: Iterable[Any]) -> list[Tensor]:
    """Wrap the non-tensors of ``values`` as constants of the tensors' dtype."""
    given = list(values)
    if not given:
        raise ValueError(f"{op}: need at least one tensor, got an empty sequence")
    dtypes = [t.data.dtype for t in given if isinstance(t, Tensor)]
    dtype = np.result_type(*dtypes) if dtypes else None
    return [
        t if isinstance(t, Tensor) else Tensor(t, requires_grad=False, dtype=dtype) for t in given
    ]


def _abs_forward(a: Array) -> tuple[Array, Array]:
    return np.abs(a), a


def _clip_forward(a: Array, lo: Any, hi: Any) -> tuple[Array, Any]:
    lo = None if lo is None else np.asarray(lo, dtype=a.dtype)
    hi = None if hi is None else np.asarray(hi, dtype=a.dtype)
    out = a if lo is None else np.maximum(a, lo)
    if hi is not None:
        out = np.minimum(out, hi)
    return out, (a, lo, hi)


_abs = define_op("abs", _abs_forward, rules.abs)
_clip = define_op("clip", _clip_forward, rules.clip)
