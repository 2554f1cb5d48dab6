"""`Sequential`: modules applied one after the other, saved and loaded as one model."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from typing import Any, overload

from minigrad.nn._module import _REGISTRY, Module, _class_key, _needs_config, _Planned

__all__ = ["Sequential"]


class Sequential(Module):
    """Modules applied in order, each to the output of the one before (``torch.nn.Sequential``).

    The modules are attributes named ``"0"``, ``"1"``, ..., so parameters are named
    ``0.weight``, ``2.W`` and so on, as in PyTorch. A `Sequential` indexes (``model[0]``,
    ``model[-1]``, ``model[1:]`` gives a `Sequential` of the same modules), has a length
    and iterates over its modules. Saving writes each module's class and configuration
    into the file, and `load` rebuilds them in order: any module this package provides,
    and your own classes once imported, as for `Module.load`.

    Parameters
    ----------
    *modules : Module
        The modules, in the order they are applied.

    Raises
    ------
    TypeError
        If an argument is not a `Module`.

    Examples
    --------
    >>> import numpy as np
    >>> from minigrad.nn import Conv2d, Flatten, Layer, MaxPool2d, ReLU, Sequential
    >>> model = Sequential(
    ...     Conv2d(1, 4, 3, padding=1, seed=0), ReLU(), MaxPool2d(2), Flatten(),
    ...     Layer(4 * 4 * 4, 10, None, seed=0),
    ... )
    >>> model(np.zeros((2, 1, 8, 8))).shape
    (2, 10)
    >>> [name for name, _ in model.named_parameters()]
    ['0.weight', '0.bias', '4.W', '4.b']
    >>> path = model.save("cnn")
    >>> bool((Sequential.load("cnn")(np.ones((1, 1, 8, 8))).data
    ...       == model(np.ones((1, 1, 8, 8))).data).all())
    True
    """

    def __init__(self, *modules: Module) -> None:
        for i, module in enumerate(modules):
            if not isinstance(module, Module):
                raise TypeError(
                    f"Sequential: argument {i} is a {type(module).__name__}, not a Module; "
                    "pass layers such as Conv2d(...) or ReLU(), or a function wrapped in a "
                    "Module subclass"
                )
            setattr(self, str(i), module)
        self._size = len(modules)

    def _modules(self) -> list[Module]:
        return [getattr(self, str(i)) for i in range(self._size)]

    def append(self, module: Module) -> Sequential:
        """Add ``module`` at the end; return this `Sequential`.

        Examples
        --------
        >>> from minigrad.nn import ReLU, Sequential
        >>> len(Sequential().append(ReLU()))
        1
        """
        if not isinstance(module, Module):
            raise TypeError(f"Sequential.append: expected a Module, got {type(module).__name__}")
        setattr(self, str(self._size), module)
        self._size += 1
        return self

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules())

    @overload
    def __getitem__(self, index: int) -> Module: ...

    @overload
    def __getitem__(self, index: slice) -> Sequential: ...

    def __getitem__(self, index: int | slice) -> Module | Sequential:
        modules = self._modules()
        if isinstance(index, slice):
            return Sequential(*modules[index])
        try:
            return modules[index]
        except IndexError:
            raise IndexError(
                f"Sequential index {index} is out of range for {self._size} modules"
            ) from None
        except TypeError:
            raise TypeError(
                f"Sequential indices must be ints or slices, got {type(index).__name__}"
            ) from None

    def forward(self, x: Any) -> Any:
        """Apply every module in order and return the last one's output.

        Examples
        --------
        >>> from minigrad import Tensor
        >>> from minigrad.nn import Flatten, ReLU, Sequential
        >>> Sequential(ReLU(), Flatten(0)).forward(Tensor([[-1.0, 2.0]])).data
        array([0., 2.])
        """
        for module in self._modules():
            x = module(x)
        return x

    def get_config(self) -> dict[str, Any]:
        """Return each module's class and configuration, which rebuild the `Sequential`.

        Examples
        --------
        >>> from minigrad.nn import Flatten, ReLU, Sequential
        >>> Sequential(ReLU(), Flatten()).get_config()
        {'modules': [{'class': 'minigrad.nn.ReLU', 'config': {}}, \
{'class': 'minigrad.nn.Flatten', 'config': {'start_dim': 1, 'end_dim': -1}}]}
        """
        specs = []
        for i, module in enumerate(self._modules()):
            cls = type(module)
            required = _needs_config(cls)
            if required:
                raise TypeError(
                    f"Sequential: module {i}, a {cls.__name__}, needs arguments {required}, "
                    f"so load() could not rebuild it: define {cls.__name__}.get_config() "
                    "returning them as a dict"
                )
            specs.append({"class": _class_key(cls), "config": module.get_config()})
        return {"modules": specs}

    @classmethod
    def _from_config(cls, config: Mapping[str, Any]) -> Sequential:
        if set(config) != {"modules"}:
            raise TypeError(
                f"Sequential's configuration must be {{'modules': [...]}}, got {config}"
            )
        return cls(*(found._from_config(cfg) for found, cfg in _items(config["modules"])))

    @classmethod
    def _planned_parameters(cls, config: Mapping[str, Any]) -> _Planned | None:
        if cls is not Sequential or set(config) != {"modules"}:
            return None
        plans = []
        for i, (found, item_config) in enumerate(_items(config["modules"])):
            plan = found._planned_parameters(item_config)
            if plan is None:
                return None  # a module that cannot plan: built first, compared afterwards
            plans.append(((f"{i}.{name}", entry) for name, entry in plan))
        return itertools.chain.from_iterable(plans)

    def __repr__(self) -> str:
        return f"Sequential({', '.join(map(repr, self._modules()))})"


def _items(specs: object) -> Iterator[tuple[type[Module], Mapping[str, Any]]]:
    """Yield ``(class, configuration)`` for each module of a `Sequential` configuration.

    Classes are looked up among the imported `Module` subclasses, as `Module.load` does;
    nothing named in a file is imported.
    """
    if not isinstance(specs, list):
        raise ValueError(f"Sequential: 'modules' must be a list, got {specs!r}")
    for i, spec in enumerate(specs):
        if (
            not isinstance(spec, dict)
            or set(spec) != {"class", "config"}
            or not isinstance(spec["class"], str)
            or not isinstance(spec["config"], dict)
        ):
            raise ValueError(
                f"Sequential: module {i} must be given as {{'class': name, 'config': {{...}}}}, "
                f"got {spec!r}"
            )
        found = _REGISTRY.get(spec["class"])
        if found is None:
            raise ValueError(
                f"Sequential: module {i} is a {spec['class']}, a class that has not been "
                "imported; import the module that defines it first"
            )
        yield found, spec["config"]
