"""Modules: the `Module` base class, the dense `Layer` and the `MLP` built from layers."""

from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from minigrad import Tensor

__all__ = ["MLP", "Layer", "Module"]

_M = TypeVar("_M", bound="Module")

# Every Module subclass, by the name written into model files. Loading looks classes up
# here and never imports anything a file names.
_REGISTRY: dict[str, type[Module]] = {}

_PUBLIC_PREFIX = "minigrad.nn"


def _class_key(cls: type) -> str:
    """Name of a class as written in model files (``minigrad.nn.MLP``, ``mymod.Net``)."""
    if cls.__module__ == _PUBLIC_PREFIX or cls.__module__.startswith(_PUBLIC_PREFIX + "._"):
        # Our own classes are named by their public path, so moving the private module
        # that defines them never breaks old files.
        return f"{_PUBLIC_PREFIX}.{cls.__qualname__}"
    return f"{cls.__module__}.{cls.__qualname__}"


class Module:
    """Base class of everything with trainable parameters.

    A subclass stores its parameters (`minigrad.Tensor`) and sub-modules as attributes,
    directly or inside lists, tuples and dicts, and defines `forward`. `parameters`,
    `state_dict`, `save` and `load` then work without further code. To be loadable with
    `load`, a subclass whose constructor needs arguments returns them from `get_config`.

    Examples
    --------
    >>> import numpy as np
    >>> from minigrad import Tensor
    >>> from minigrad.nn import Layer, Module
    >>> class Net(Module):
    ...     def __init__(self, hidden=8):
    ...         self.hidden = hidden
    ...         self.body = [Layer(2, hidden, seed=0), Layer(hidden, 1, None, seed=1)]
    ...     def forward(self, x):
    ...         for layer in self.body:
    ...             x = layer(x)
    ...         return x
    ...     def get_config(self):
    ...         return {"hidden": self.hidden}
    >>> net = Net()
    >>> [name for name, _ in net.named_parameters()]
    ['body.0.W', 'body.0.b', 'body.1.W', 'body.1.b']
    >>> net(Tensor(np.ones((5, 2)), requires_grad=False)).shape
    (5, 1)
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _REGISTRY[_class_key(cls)] = cls

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """Compute the module's output; subclasses define it.

        Examples
        --------
        >>> from minigrad import Tensor
        >>> from minigrad.nn import Layer
        >>> Layer(3, 2, seed=0).forward(Tensor([1.0, 2.0, 3.0])).shape
        (2,)
        """
        raise NotImplementedError(
            f"{type(self).__name__} does not define forward(); a Module subclass must "
            "implement forward(self, x) to be called"
        )

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    def named_parameters(self) -> list[tuple[str, Tensor]]:
        """Return ``(dotted name, tensor)`` for every parameter, in a stable order.

        Attributes are walked in the order they were assigned; lists and tuples by
        index, dicts by key, sub-modules recursively, so a parameter ``W`` of the first
        element of ``self.layers`` is named ``layers.0.W``. A tensor reachable twice is
        listed once, under its first name.

        Examples
        --------
        >>> from minigrad.nn import MLP
        >>> [name for name, _ in MLP(2, [3, 1], seed=0).named_parameters()]
        ['layers.0.W', 'layers.0.b', 'layers.1.W', 'layers.1.b']
        """
        return [(name, obj) for name, obj in _walk(self) if isinstance(obj, Tensor)]

    def parameters(self) -> list[Tensor]:
        """Return every parameter tensor, in the order of `named_parameters`.

        Examples
        --------
        >>> from minigrad.nn import MLP
        >>> [p.shape for p in MLP(2, [3, 1], seed=0).parameters()]
        [(2, 3), (3,), (3, 1), (1,)]
        """
        return [p for _, p in self.named_parameters()]

    def zero_grad(self) -> None:
        """Reset the gradient of every parameter to zeros.

        Examples
        --------
        >>> from minigrad import Tensor
        >>> from minigrad.nn import Layer
        >>> layer = Layer(2, 1, seed=0)
        >>> layer(Tensor([1.0, 2.0])).sum().backward()
        >>> layer.zero_grad()
        >>> float(abs(layer.W.grad).sum())
        0.0
        """
        for p in self.parameters():
            p.zero_grad()

    def state_dict(self) -> dict[str, np.ndarray]:
        """Return a copy of every parameter's array, keyed by dotted name.

        The arrays are copies: training the module afterwards leaves them unchanged, so a
        state dict is a snapshot that `load_state_dict` can restore.

        Examples
        --------
        >>> from minigrad.nn import MLP
        >>> {k: v.shape for k, v in MLP(2, [3, 1], seed=0).state_dict().items()}
        {'layers.0.W': (2, 3), 'layers.0.b': (3,), 'layers.1.W': (3, 1), 'layers.1.b': (1,)}
        """
        return {name: p.data.copy() for name, p in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Copy the arrays of ``state`` into the parameters, in place.

        The entries must match the parameters exactly: missing, unexpected or mis-shaped
        entries raise `ValueError` naming all of them, and then nothing is changed. Values
        are copied into the existing arrays, so references to ``p.data`` (held by an
        optimizer, say) stay valid.

        Parameters
        ----------
        state : mapping of str to array_like or Tensor
            As returned by `state_dict`.

        Raises
        ------
        ValueError
            If the names or shapes do not match the module's parameters.

        Examples
        --------
        >>> from minigrad.nn import MLP
        >>> a, b = MLP(2, [3, 1], seed=0), MLP(2, [3, 1], seed=1)
        >>> b.load_state_dict(a.state_dict())
        >>> bool((a.layers[0].W.data == b.layers[0].W.data).all())
        True
        """
        if not isinstance(state, Mapping):
            raise TypeError(
                f"load_state_dict expects a mapping of names to arrays, got "
                f"{type(state).__name__}; pass the dict returned by state_dict()"
            )
        params = dict(self.named_parameters())
        arrays: dict[str, np.ndarray] = {}
        problems: list[str] = []
        missing = [name for name in params if name not in state]
        unexpected = [name for name in state if name not in params]
        if missing:
            problems.append(f"missing entries {missing}")
        if unexpected:
            problems.append(f"unexpected entries {unexpected}")
        for name, p in params.items():
            if name not in state:
                continue
            value = state[name]
            array = value.data if isinstance(value, Tensor) else np.asarray(value)
            if array.shape != p.data.shape:
                problems.append(
                    f"entry {name!r} has shape {tuple(array.shape)}, the parameter has "
                    f"{tuple(p.data.shape)}"
                )
            elif not (
                np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)
            ):
                problems.append(f"entry {name!r} has dtype {array.dtype}, expected a float array")
            else:
                arrays[name] = array
        if problems:
            raise ValueError(
                f"cannot load state into {type(self).__name__}: "
                + "; ".join(problems)
                + ". The state must come from a module of the same architecture."
            )
        for name, array in arrays.items():
            params[name].data[...] = array

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments that rebuild this module (JSON values).

        `save` writes them into the file and `load` calls ``cls(**config)`` before
        loading the weights. The default, ``{}``, suits modules whose constructor takes
        no required arguments; other subclasses override it.

        Examples
        --------
        >>> from minigrad.nn import MLP
        >>> MLP(2, [16, 1], seed=0).get_config()
        {'nin': 2, 'nouts': [16, 1], 'activation': 'relu', 'output_activation': 'linear', \
'dtype': 'float64'}
        """
        return {}

    def save(self, path: str | Path) -> Path:
        """Save the architecture and weights to a compressed ``.npz`` file, atomically.

        ``.npz`` is appended when ``path`` does not end with it. The file holds a JSON
        header (format version, class, constructor arguments, activations, dtype) and
        one array per parameter; nothing is pickled. The file is written to a temporary
        file in the same folder and renamed over ``path``, so a crash mid-save leaves any
        previous file intact. The format is described in the package README.

        Parameters
        ----------
        path : str or pathlib.Path
            Where to write.

        Returns
        -------
        pathlib.Path
            The path written, with its ``.npz`` extension.

        Raises
        ------
        FileNotFoundError, NotADirectoryError, IsADirectoryError
            If the folder to save into does not exist or is a file, or ``path`` is a
            folder; nothing is written then.

        Examples
        --------
        >>> from minigrad.nn import MLP
        >>> print(MLP(2, [16, 1], seed=0).save("model"))
        model.npz
        """
        from minigrad.nn._serialization import save_checkpoint

        return save_checkpoint(path, self)

    @classmethod
    def load(cls: type[_M], path: str | Path) -> _M:
        """Build a module from a file written by `save` (or `save_checkpoint`).

        The file must hold this class or a subclass of it (``Module.load`` accepts any
        module class that has been imported). It is read without unpickling anything
        and checked completely: a truncated, tampered, foreign or pickle-bearing file
        raises `ModelFileError` saying what is wrong.

        Parameters
        ----------
        path : str or pathlib.Path
            The file: ``path`` itself when it is a file, else ``path`` with ``.npz``
            appended (``MLP.load("model")`` reads ``model.npz``).

        Returns
        -------
        Module
            A new module with the saved architecture and weights.

        Raises
        ------
        ModelFileError
            If the file is not a valid minigrad model file for this class.
        FileNotFoundError, IsADirectoryError
            If there is no such file, or the path is a folder.

        Examples
        --------
        >>> from minigrad.nn import MLP
        >>> path = MLP(2, [16, 1], seed=0).save("model.npz")
        >>> MLP.load("model").layers[0].W.shape
        (2, 16)
        """
        from minigrad.nn._serialization import _load_module

        return _load_module(path, cls)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _walk(root: Module) -> list[tuple[str, object]]:
    """List every tensor and module reachable from ``root``, with its dotted name.

    Depth first, in attribute order: module attributes as assigned, lists and tuples by
    index, dicts by key. Each object (tensor, module or container) is visited once, under
    its first name, so shared objects and cycles are listed once. ``root`` is listed
    first, under the name ``""``.
    """
    found: list[tuple[str, object]] = []
    seen: set[int] = set()

    def visit(obj: object, name: str) -> None:
        if id(obj) in seen:
            return
        seen.add(id(obj))
        items: Iterator[tuple[object, object]]
        if isinstance(obj, Tensor):
            found.append((name, obj))
            return
        if isinstance(obj, Module):
            found.append((name, obj))
            items = iter(vars(obj).items())
        elif isinstance(obj, (list, tuple)):
            items = enumerate(obj)
        elif isinstance(obj, dict):
            items = iter(obj.items())
        else:
            return
        prefix = f"{name}." if name else ""
        for key, value in items:
            if isinstance(value, (Tensor, Module, list, tuple, dict)):
                visit(value, f"{prefix}{key}")

    visit(root, "")
    return found


# Applied by `Tensor.linear`, which fuses `x @ W + b` and the activation into one op.
_ACTIVATIONS = ("linear", "relu", "sigmoid", "tanh")

_FLOAT_DTYPES = ("float32", "float64")


def _check_size(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _check_activation(name: str, value: object) -> str:
    if value is None:
        return "linear"
    if not isinstance(value, str) or value not in _ACTIVATIONS:
        raise ValueError(f"{name} must be one of {sorted(_ACTIVATIONS)} or None, got {value!r}")
    return value


def _check_dtype(value: object) -> np.dtype[Any]:
    dtype: np.dtype[Any] | None
    try:
        dtype = np.dtype(value if value is not None else np.float64)  # type: ignore[call-overload]
    except TypeError:
        dtype = None
    if dtype is None or dtype.name not in _FLOAT_DTYPES:
        raise ValueError(f"dtype must be float32 or float64, got {value!r}")
    return dtype


def _check_nouts(nouts: object) -> list[int]:
    if isinstance(nouts, (str, bytes)) or not isinstance(nouts, Sequence) or not nouts:
        raise ValueError(
            f"nouts must be a non-empty list of layer sizes such as [16, 16, 1], got {nouts!r}"
        )
    return [_check_size(f"nouts[{i}]", n) for i, n in enumerate(nouts)]


def _check_seed(seed: object) -> np.random.Generator:
    # The bit generator is named rather than left to `numpy.random.default_rng`, so that
    # a seed keeps giving the same weights should NumPy's default change.
    if seed is None:
        return np.random.Generator(np.random.PCG64())
    if isinstance(seed, np.random.Generator):
        return seed
    if not isinstance(seed, bool) and isinstance(seed, numbers.Integral) and int(seed) >= 0:
        return np.random.Generator(np.random.PCG64(int(seed)))
    raise ValueError(
        f"seed must be None, a non-negative int or a numpy.random.Generator, got {seed!r}"
    )


class Layer(Module):
    """A dense layer: ``activation(x @ W + b)``.

    ``W`` has shape ``(nin, nout)`` and ``b`` shape ``(nout,)``; ``x`` may have any
    batch shape ``(..., nin)``. Weights are drawn from a normal distribution with
    ``std = sqrt(2 / (nin + nout))``, biases start at zero.

    Parameters
    ----------
    nin, nout : int
        Input and output features.
    activation : {'relu', 'tanh', 'sigmoid', 'linear', None}, default 'relu'
        Applied to the output; ``None`` and ``'linear'`` mean none.
    seed : None, int or numpy.random.Generator, optional
        Source of the initial weights; the same int gives the same layer.
    dtype : {'float64', 'float32'}, optional
        Dtype of the parameters, float64 by default.

    Raises
    ------
    ValueError
        If a size is not a positive integer, or the activation, seed or dtype is unknown;
        when called, if the input's last axis is not ``nin`` long.

    Examples
    --------
    >>> import numpy as np
    >>> from minigrad import Tensor
    >>> from minigrad.nn import Layer
    >>> layer = Layer(3, 2, activation="tanh", seed=0)
    >>> layer.W.shape, layer.b.shape
    ((3, 2), (2,))
    >>> layer(Tensor(np.ones((4, 5, 3)), requires_grad=False)).shape
    (4, 5, 2)
    """

    def __init__(
        self,
        nin: int,
        nout: int,
        activation: str | None = "relu",
        *,
        seed: int | np.random.Generator | None = None,
        dtype: Any = None,
    ) -> None:
        self.nin = _check_size("nin", nin)
        self.nout = _check_size("nout", nout)
        self.activation = _check_activation("activation", activation)
        dtype_ = _check_dtype(dtype)
        rng = _check_seed(seed)
        std = math.sqrt(2.0 / (self.nin + self.nout))
        self.W = Tensor((rng.standard_normal((self.nin, self.nout)) * std).astype(dtype_))
        self.b = Tensor(np.zeros(self.nout, dtype=dtype_))

    @property
    def activation(self) -> str:
        """Name of the activation: ``'relu'``, ``'tanh'``, ``'sigmoid'`` or ``'linear'``.

        Examples
        --------
        >>> from minigrad.nn import Layer
        >>> Layer(2, 3, None).activation
        'linear'
        """
        return self._activation

    @activation.setter
    def activation(self, value: str | None) -> None:
        self._activation = _check_activation("activation", value)

    def forward(self, x: Tensor | np.ndarray[Any, Any]) -> Tensor:
        """Return ``activation(x @ W + b)`` for ``x`` of shape ``(..., nin)``.

        Data (an array, or a tensor that does not require grad) is converted to the
        layer's dtype, so a float32 layer gives float32 outputs for float64 data too.
        A tensor that requires grad is used as it is, with NumPy's type promotion.

        Examples
        --------
        >>> import numpy as np
        >>> from minigrad import Tensor
        >>> from minigrad.nn import Layer
        >>> Layer(2, 4, seed=0).forward(Tensor([[1.0, 2.0]])).shape
        (1, 4)
        >>> Layer(2, 4, seed=0, dtype="float32").forward(np.ones((3, 2))).dtype
        dtype('float32')
        """
        weight = self.W
        if not isinstance(x, Tensor):
            x = Tensor(x, requires_grad=False, dtype=weight.data.dtype)
        elif not x.requires_grad and x.data.dtype != weight.data.dtype:
            x = Tensor(x.data.astype(weight.data.dtype), requires_grad=False)
        shape = x.shape
        if not shape or shape[-1] != self.nin:
            raise ValueError(
                f"Layer(nin={self.nin}, nout={self.nout}) expects inputs of shape "
                f"(..., {self.nin}), got shape {shape}"
            )
        return x.linear(weight, self.b, self._activation)

    def get_config(self) -> dict[str, Any]:
        """Return ``nin``, ``nout``, ``activation`` and ``dtype``, which rebuild the layer.

        Examples
        --------
        >>> from minigrad.nn import Layer
        >>> Layer(2, 3, "tanh", seed=0).get_config()
        {'nin': 2, 'nout': 3, 'activation': 'tanh', 'dtype': 'float64'}
        """
        return {
            "nin": self.nin,
            "nout": self.nout,
            "activation": self.activation,
            "dtype": self.W.data.dtype.name,
        }


class MLP(Module):
    """A multilayer perceptron: a list of `Layer` in ``self.layers``.

    Parameters
    ----------
    nin : int
        Input features.
    nouts : sequence of int
        Output size of each layer; the last is the model's output size.
    activation : {'relu', 'tanh', 'sigmoid', 'linear', None}, default 'relu'
        Activation of the hidden layers.
    output_activation : {'relu', 'tanh', 'sigmoid', 'linear', None}, default None
        Activation of the last layer; linear by default (feed logits to the losses).
    seed : None, int or numpy.random.Generator, optional
        Source of the initial weights; the same int gives the same model.
    dtype : {'float64', 'float32'}, optional
        Dtype of the parameters, float64 by default.

    Raises
    ------
    ValueError
        If a size is not a positive integer, ``nouts`` is empty, or the activation,
        seed or dtype is unknown.

    Examples
    --------
    >>> import numpy as np
    >>> from minigrad import Tensor
    >>> from minigrad.nn import MLP
    >>> model = MLP(2, [16, 16, 1], seed=0)
    >>> model(Tensor(np.zeros((10, 2)), requires_grad=False)).shape
    (10, 1)
    >>> len(model.parameters())
    6
    """

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: str | None = "relu",
        output_activation: str | None = None,
        *,
        seed: int | np.random.Generator | None = None,
        dtype: Any = None,
    ) -> None:
        sizes = [_check_size("nin", nin), *_check_nouts(nouts)]
        hidden = _check_activation("activation", activation)
        last = _check_activation("output_activation", output_activation)
        dtype_ = _check_dtype(dtype)
        rng = _check_seed(seed)
        self._hidden_activation = hidden  # kept for get_config() when there is one layer
        self.layers = [
            Layer(
                sizes[i],
                sizes[i + 1],
                hidden if i < len(sizes) - 2 else last,
                seed=rng,
                dtype=dtype_,
            )
            for i in range(len(sizes) - 1)
        ]

    def forward(self, x: Tensor | np.ndarray[Any, Any]) -> Tensor:
        """Run ``x`` of shape ``(..., nin)`` through every layer.

        Examples
        --------
        >>> from minigrad import Tensor
        >>> from minigrad.nn import MLP
        >>> MLP(2, [4, 3], seed=0).forward(Tensor([[1.0, 2.0]])).shape
        (1, 3)
        """
        layers = self.layers
        out = layers[0].forward(x)  # converts an array to the layer's dtype
        for layer in layers[1:]:
            out = layer.forward(out)
        return out

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments that rebuild the model.

        Examples
        --------
        >>> from minigrad.nn import MLP
        >>> MLP(2, [8, 1], "tanh", seed=0).get_config()["activation"]
        'tanh'
        """
        layers = self.layers
        return {
            "nin": layers[0].nin,
            "nouts": [layer.nout for layer in layers],
            "activation": layers[0].activation if len(layers) > 1 else self._hidden_activation,
            "output_activation": layers[-1].activation,
            "dtype": layers[0].W.data.dtype.name,
        }


def _activations(module: Module) -> list[str]:
    """List the activation of every `Layer` inside ``module``, in parameter order."""
    return [obj.activation for _, obj in _walk(module) if isinstance(obj, Layer)]


_Planned = Iterator[tuple[str, tuple[tuple[int, ...], str]]]


def _planned_parameters(cls: type[Module], config: Mapping[str, Any]) -> _Planned | None:
    """Plan the parameters ``cls(**config)`` would create, without creating them.

    Yields ``(name, (shape, dtype name))`` in parameter order, lazily, so that a caller
    can stop early. Known for `Layer` and `MLP` (``None`` for any other class, their
    subclasses included). A configuration the constructor would refuse raises the same
    `TypeError` or `ValueError` here, before anything is allocated.
    """
    if cls is not Layer and cls is not MLP:
        return None
    bound = inspect.signature(cls).bind(**config)
    bound.apply_defaults()
    args = bound.arguments
    # The constructor's checks, in its order, so that the same error is raised.
    if cls is Layer:
        sizes = [_check_size("nin", args["nin"]), _check_size("nout", args["nout"])]
        _check_activation("activation", args["activation"])
    else:
        sizes = [_check_size("nin", args["nin"]), *_check_nouts(args["nouts"])]
        _check_activation("activation", args["activation"])
        _check_activation("output_activation", args["output_activation"])
    dtype = _check_dtype(args["dtype"]).name

    def planned() -> _Planned:
        for i in range(len(sizes) - 1):
            prefix = "" if cls is Layer else f"layers.{i}."
            yield f"{prefix}W", ((sizes[i], sizes[i + 1]), dtype)
            yield f"{prefix}b", ((sizes[i + 1],), dtype)

    return planned()


def _needs_config(cls: type[Module]) -> list[str]:
    """List the required constructor arguments of ``cls`` if it lacks a get_config."""
    if cls.get_config is not Module.get_config:
        return []
    try:
        signature = inspect.signature(cls)
    except (TypeError, ValueError):
        return []
    return [
        name
        for name, param in signature.parameters.items()
        if param.default is inspect.Parameter.empty
        and param.kind in (param.POSITIONAL_ONLY, param.POSITIONAL_OR_KEYWORD, param.KEYWORD_ONLY)
    ]
