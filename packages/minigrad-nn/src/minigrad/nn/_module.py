"""The `Module` base class, and how a module goes into a model file and back.

A module's parameters are found by walking its attributes; `state_dict`, `save` and
`load` build on that walk. The file format itself (`minigrad.nn._fileformat`) knows
nothing about modules: this module decides which class a file may build, and checks
that the file's arrays fit it. The layers are in `minigrad.nn._layers`.
"""

from __future__ import annotations

import inspect
import itertools
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar, cast

import numpy as np

from minigrad import Tensor
from minigrad.nn._fileformat import ModelFile, ModelFileError, json_value, write_model_file

__all__ = ["Module"]

_M = TypeVar("_M", bound="Module")
_K = TypeVar("_K", Tensor, "Module")

# What a class plans to create: ``(dotted name, (shape, dtype name))`` per parameter.
_Planned = Iterator[tuple[str, tuple[tuple[int, ...], str]]]

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

    #: Whether the module is in training mode (`train`) or evaluation mode (`eval`).
    #: Layers such as `Dropout` behave differently in the two. Never saved: a loaded
    #: module starts in training mode, as a new one does.
    training: bool = True

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

    def train(self: _M, mode: bool = True) -> _M:
        """Set training mode (or evaluation mode for ``mode=False``) here and in every sub-module.

        Sets ``training`` on this module and on every module reachable from it (in
        attributes, lists, tuples, dicts), as PyTorch's ``Module.train`` does. Only
        layers that behave differently in the two modes (`Dropout`) look at it.

        Parameters
        ----------
        mode : bool, default True
            True for training mode, False for evaluation mode.

        Returns
        -------
        Module
            This module, so that ``model = Net().train()`` works.

        Raises
        ------
        ValueError
            If ``mode`` is not a bool (as in PyTorch).

        Examples
        --------
        >>> from minigrad.nn import Dropout, Sequential
        >>> model = Sequential(Dropout(0.5)).eval()
        >>> model.training, model[0].training
        (False, False)
        >>> model.train()[0].training
        True
        """
        if not isinstance(mode, (bool, np.bool_)):
            raise ValueError(f"train(mode): mode must be True or False, got {mode!r}")
        mode = bool(mode)
        for module in _walk(self, Module):
            module.training = mode
        return self

    def eval(self: _M) -> _M:
        """Set evaluation mode here and in every sub-module: ``train(False)``.

        Returns
        -------
        Module
            This module.

        Examples
        --------
        >>> import numpy as np
        >>> from minigrad.nn import Dropout
        >>> drop = Dropout(0.5, seed=0).eval()
        >>> drop(np.ones(4)).data  # the identity in evaluation mode
        array([1., 1., 1., 1.])
        """
        return self.train(False)

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
        names: list[str] = []
        found = _walk(self, Tensor, names)
        return list(zip(names, found, strict=True))

    def parameters(self) -> list[Tensor]:
        """Return every parameter tensor, in the order of `named_parameters`.

        Examples
        --------
        >>> from minigrad.nn import MLP
        >>> [p.shape for p in MLP(2, [3, 1], seed=0).parameters()]
        [(2, 3), (3,), (3, 1), (1,)]
        """
        return _walk(self, Tensor)

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
        return {
            name: p.data.copy()
            for name, p in _parameters_by_name(self, "take the state of").items()
        }

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
        params = _parameters_by_name(self, "load state into")
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
        OSError
            If writing fails (a full disk, a file size limit, no write permission); it
            names ``path``, and any previous file there is unchanged.
        TypeError
            If a parameter's dtype is not float16, float32 or float64.
        ValueError
            If two parameters have the same dotted name (``{0: t, "0": u}``).

        Examples
        --------
        >>> from minigrad.nn import MLP
        >>> print(MLP(2, [16, 1], seed=0).save("model"))
        model.npz
        """
        return _save_module(path, self)

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
        return _load_module(path, cls)

    @classmethod
    def _from_config(cls: type[_M], config: Mapping[str, Any]) -> _M:
        """Build a module from the ``config`` of a file: ``cls(**config)``.

        A class whose constructor cannot take its configuration as keyword arguments
        (`Sequential`, built from the configurations of its items) overrides it.
        """
        return cls(**config)

    @classmethod
    def _planned_parameters(cls, config: Mapping[str, Any]) -> _Planned | None:
        """Plan the parameters ``cls(**config)`` would create, without creating them.

        Yields ``(name, (shape, dtype name))`` in parameter order, lazily, so that a
        caller can stop early; a configuration the constructor would refuse raises the
        same `TypeError` or `ValueError` here, before anything is allocated. `load`
        compares the plan with a file's arrays before building, so that a small tampered
        file cannot make it allocate a large model. ``None``, the default, means the
        class cannot tell: `load` then builds the module first and compares afterwards.
        """
        return None

    def _activation_in_files(self) -> str | None:
        """Return this module's entry in a model file's ``activations``, or None.

        `Layer` gives its activation; other modules add nothing. The list lets a file
        be checked against the model its configuration builds.
        """
        return None

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def _walk(root: Module, keep: type[_K], names: list[str] | None = None) -> list[_K]:
    """List every object of kind ``keep`` (`Tensor` or `Module`) reachable from ``root``.

    Depth first, in attribute order: module attributes as assigned, lists and tuples by
    index, dicts by key. Each object (tensor, module or container) is visited once, under
    its first name, so shared objects and cycles are listed once; ``root`` is the first
    module. If ``names`` is given, the dotted name of each listed object is appended to
    it (``""`` for ``root``); without it no name is built, since `Module.parameters`
    runs in every training step.

    Iterative, with no closure, so a call leaves no reference cycle behind: a stack of
    the iterators over the containers being walked, the innermost last.
    """
    found: list[Any] = [root] if keep is Module else []
    seen = {id(root)}
    kinds = _KINDS
    prefixes = [""]  # the dotted name of each container on the stack, with its "."
    stack: list[Iterator[tuple[object, object]]] = [iter(vars(root).items())]
    if names is not None and found:
        names.append("")
    while stack:
        for key, value in stack[-1]:
            kind = kinds.get(value.__class__, _Unknown)
            if kind is _Unknown:
                kind = _kind(value)
            if kind is None or id(value) in seen:
                continue
            seen.add(id(value))
            name = f"{prefixes[-1]}{key}" if names is not None else ""
            if kind is keep:
                found.append(value)
                if names is not None:
                    names.append(name)
            if kind is not Tensor:  # a container: walk it before the next sibling
                if kind is Module:
                    stack.append(iter(vars(value).items()))
                elif kind is dict:
                    stack.append(iter(cast("dict[object, object]", value).items()))
                else:
                    stack.append(enumerate(cast("Iterable[object]", value)))
                prefixes.append(f"{name}." if names is not None else "")
                break
        else:  # the innermost container is done
            stack.pop()
            prefixes.pop()
    return found


# What `_walk` makes of each type: Tensor, Module, list (also tuples), dict, or None
# for a value it skips. Looked up by exact type and remembered, since isinstance over
# five classes for every attribute was most of a walk's time.
_KINDS: dict[type, type | None] = {}


class _Unknown:
    """What `_walk` reads from `_KINDS` for a type not yet in it."""


def _kind(value: object) -> type | None:
    cls = value.__class__
    try:
        return _KINDS[cls]
    except KeyError:
        pass
    kind: type | None = None
    for candidate in (Tensor, Module, list, dict):
        if issubclass(cls, candidate):
            kind = candidate
            break
    if issubclass(cls, tuple):
        kind = list
    _KINDS[cls] = kind
    return kind


def _parameters_by_name(module: Module, action: str) -> dict[str, Tensor]:
    """Return the module's parameters by dotted name; raise if two share a name.

    Dotted names can collide (``{0: t, "0": u}`` gives ``x.0`` twice, as do an
    attribute named ``"a.b"`` and ``a = {"b": t}``); a state dict or file would then
    silently hold only one of them.
    """
    named = module.named_parameters()
    by_name = dict(named)
    if len(by_name) == len(named):
        return by_name
    counts: dict[str, int] = {}
    for name, _ in named:
        counts[name] = counts.get(name, 0) + 1
    paths = _python_paths(module)
    clashes = []
    for name, count in counts.items():
        if count > 1:
            where = [paths[id(p)] for n, p in named if n == name]
            clashes.append(f"{' and '.join(where)} are both named {name!r}")
    raise ValueError(
        f"cannot {action} {type(module).__name__}: {'; '.join(clashes)}; parameters are "
        "saved and loaded by their dotted names, so rename one of each"
    )


def _python_paths(root: Module) -> dict[int, str]:
    """Map ``id(tensor)`` to a Python expression reaching it from ``root`` (``model.x['0']``).

    Unlike dotted names these are unambiguous, so errors about colliding names can tell
    the parameters apart. Same order and first-name rule as `_walk`.
    """
    paths: dict[int, str] = {}
    seen: set[int] = set()
    stack: list[tuple[str, object]] = [("model", root)]
    while stack:
        expr, obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        kind = _kind(obj)
        if kind is Tensor:
            paths[id(obj)] = expr
            continue
        children = []
        if kind is Module:
            for key, value in vars(obj).items():
                attribute = f"{expr}.{key}" if key.isidentifier() else f"getattr({expr}, {key!r})"
                children.append((attribute, value))
        elif kind is dict:
            children = [(f"{expr}[{k!r}]", v) for k, v in cast("dict[object, object]", obj).items()]
        elif kind is list:
            children = [(f"{expr}[{i}]", v) for i, v in enumerate(cast("Iterable[object]", obj))]
        stack.extend(reversed(children))
    return paths


def _activations(module: Module) -> list[str]:
    """List the activation of every `Layer` inside ``module``, in parameter order."""
    found = (obj._activation_in_files() for obj in _walk(module, Module))
    return [activation for activation in found if activation is not None]


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


# --------------------------------------------------------------------------- model files


def _save_module(
    path: str | os.PathLike[str],
    model: Module,
    *,
    step: int | None = None,
    extra: Mapping[str, Any] | None = None,
    optimizer_state: Mapping[str, Any] | None = None,
    schedule_state: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``model`` to a model file, with what a checkpoint adds when given."""
    cls = type(model)
    required = _needs_config(cls)
    if required:
        raise TypeError(
            f"{cls.__name__}.__init__ needs arguments {required}, so load() could not "
            f"rebuild it: define {cls.__name__}.get_config() returning them as a dict"
        )
    config = json_value(model.get_config(), f"{cls.__name__}.get_config() values")
    if not isinstance(config, dict):
        raise TypeError(f"{cls.__name__}.get_config() must return a dict, got {config!r}")
    return write_model_file(
        path,
        class_name=_class_key(cls),
        config=config,
        activations=_activations(model),
        parameters={name: p.data for name, p in _parameters_by_name(model, "save").items()},
        step=step,
        extra=extra,
        optimizer=optimizer_state,
        schedule=schedule_state,
    )


def _load_module(path: str | os.PathLike[str], cls: type[_M]) -> _M:
    """Build the module a model file holds, which must be a ``cls``, with its weights."""
    file = ModelFile(path)
    model = _build(file, cls)
    model.load_state_dict(file.parameters())
    return model


def _saved_by_script(key: str, cls: type) -> bool:
    """Whether ``key`` names ``cls`` as it was called in a script run as ``__main__``.

    A class defined in a script is saved as ``__main__.Net``; a program that later
    imports the same class from a module (``from mymodels import Net``) and calls
    ``Net.load`` or passes a ``Net`` means that class.
    """
    return key == f"__main__.{cls.__qualname__}"


def _build(file: ModelFile, cls: type[_M]) -> _M:
    """Build the file's class from the file's configuration, checked against its arrays."""
    key = file.header["class"]
    found = _REGISTRY.get(key)
    if (found is None or not issubclass(found, cls)) and _saved_by_script(key, cls):
        found = cls
    if found is None:
        name = key.rsplit(".", 1)[-1]
        if key.startswith("__main__."):
            raise file.error(
                f"the file holds a {key}: a class defined in the script that saved it, "
                f"run as __main__; load it with {name}.load() on that class, imported from "
                "the module that defines it now"
            )
        raise file.error(
            f"the file holds a {key}, a class that has not been imported; import the "
            f"module that defines it, then call {name}.load()"
        )
    if not issubclass(found, cls):
        raise file.error(
            f"the file holds a {key}, not a {_class_key(cls)}; load it with {found.__name__}.load()"
        )
    config = file.header["config"]
    try:
        # Compare the shapes the configuration would build with the file's before
        # building, so a tampered configuration cannot make a small file allocate a
        # large model. (A class without a plan is built first and compared afterwards.)
        planned = found._planned_parameters(config)
        if planned is not None:
            # Never more entries than the file has, however many layers it claims.
            limit = len(file.header["parameters"]) + 1
            _check_parameters(file, dict(itertools.islice(planned, limit)), found.__name__)
        model: Module = found._from_config(config)
    except (TypeError, ValueError, OverflowError, MemoryError) as exc:
        if isinstance(exc, ModelFileError):
            raise
        raise file.error(
            f"its configuration {config} does not build a {found.__name__}: {exc}"
        ) from None
    _check_file_fits(file, model)
    return cast(_M, model)  # issubclass(found, cls) was checked above


def _check_parameters(
    file: ModelFile, have: Mapping[str, tuple[tuple[int, ...], str]], class_name: str
) -> None:
    """Raise unless ``have`` (name: shape, dtype) matches the file's parameters."""
    stored = file.parameter_entries()
    if have == stored:
        return
    missing = sorted(set(have) - set(stored))
    unexpected = sorted(set(stored) - set(have))
    differ = [
        f"{n}: file {stored[n][0]} {stored[n][1]}, model {have[n][0]} {have[n][1]}"
        for n in sorted(set(have) & set(stored))
        if have[n] != stored[n]
    ]
    parts = []
    if missing:
        parts.append(f"parameters missing from the file: {missing}")
    if unexpected:
        parts.append(f"parameters the model does not have: {unexpected}")
    if differ:
        parts.append("shape or dtype differs: " + "; ".join(differ))
    raise file.error(
        f"the arrays do not fit a {class_name} built from the file's configuration "
        f"({', '.join(parts)})"
    )


def _check_file_fits(file: ModelFile, model: Module) -> None:
    """Raise unless the file's parameters and activations match ``model``'s."""
    have = {name: (p.data.shape, p.data.dtype.name) for name, p in model.named_parameters()}
    _check_parameters(file, have, type(model).__name__)
    activations = _activations(model)
    if activations != file.header["activations"]:
        raise file.error(
            f"the header lists activations {file.header['activations']}, but the "
            f"configuration builds {activations}"
        )
