"""Dense layers: `Layer` computes ``activation(x @ W + b)``; `MLP` stacks them."""

from __future__ import annotations

import inspect
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from minigrad import Tensor
from minigrad.nn._module import Module, _Planned
from minigrad.nn._validation import (
    check_activation,
    check_dtype,
    check_nouts,
    check_size,
    make_rng,
)

__all__ = ["MLP", "Layer"]


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
        Applied to the output, as by `minigrad.Tensor.linear`, which accepts the same
        names; ``None`` and ``'linear'`` both mean none, and are stored as ``'linear'``.
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
        self.nin, self.nout, self.activation, dtype_ = self._checked_arguments(
            nin, nout, activation, dtype
        )
        rng = make_rng(seed)
        shapes = self._parameter_shapes(self.nin, self.nout)
        std = math.sqrt(2.0 / (self.nin + self.nout))
        self.W = Tensor((rng.standard_normal(shapes["W"]) * std).astype(dtype_))
        self.b = Tensor(np.zeros(shapes["b"], dtype=dtype_))

    @staticmethod
    def _checked_arguments(
        nin: object, nout: object, activation: object, dtype: object
    ) -> tuple[int, int, str, np.dtype[Any]]:
        """Check the constructor's arguments, in its order (`_planned_parameters` too)."""
        return (
            check_size("nin", nin),
            check_size("nout", nout),
            check_activation("activation", activation),
            check_dtype(dtype),
        )

    @staticmethod
    def _parameter_shapes(nin: int, nout: int) -> dict[str, tuple[int, ...]]:
        """Return the shapes of ``W`` and ``b`` by name.

        The constructor allocates these, and loading compares a file's arrays with them
        before anything is allocated.
        """
        return {"W": (nin, nout), "b": (nout,)}

    @classmethod
    def _planned_parameters(cls, config: Mapping[str, Any]) -> _Planned | None:
        if cls is not Layer:
            return None  # a subclass may take other arguments or add parameters
        args = _bound_arguments(cls, config)
        nin, nout, _, dtype = cls._checked_arguments(
            args["nin"], args["nout"], args["activation"], args["dtype"]
        )
        shapes = cls._parameter_shapes(nin, nout)
        return iter([(name, (shape, dtype.name)) for name, shape in shapes.items()])

    @property
    def activation(self) -> str:
        """Name of the activation: ``'relu'``, ``'tanh'``, ``'sigmoid'`` or ``'linear'``.

        Setting it accepts what the constructor accepts (``None`` is stored as
        ``'linear'``).

        Examples
        --------
        >>> from minigrad.nn import Layer
        >>> Layer(2, 3, None).activation
        'linear'
        """
        return self._activation

    @activation.setter
    def activation(self, value: str | None) -> None:
        self._activation = check_activation("activation", value)

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

    def _activation_in_files(self) -> str:
        return self._activation

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
        Activation of the hidden layers, as for `Layer`.
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
        sizes, hidden, last, dtype_ = self._checked_arguments(
            nin, nouts, activation, output_activation, dtype
        )
        rng = make_rng(seed)
        self._hidden_activation = hidden  # kept for get_config() when there is one layer
        self.layers = [
            Layer(layer_nin, layer_nout, layer_activation, seed=rng, dtype=dtype_)
            for layer_nin, layer_nout, layer_activation in self._layer_arguments(
                sizes, hidden, last
            )
        ]

    @staticmethod
    def _checked_arguments(
        nin: object, nouts: object, activation: object, output_activation: object, dtype: object
    ) -> tuple[list[int], str, str, np.dtype[Any]]:
        """Check the constructor's arguments, in its order (`_planned_parameters` too).

        Returns the sizes ``[nin, *nouts]``, the hidden and last activations and dtype.
        """
        return (
            [check_size("nin", nin), *check_nouts(nouts)],
            check_activation("activation", activation),
            check_activation("output_activation", output_activation),
            check_dtype(dtype),
        )

    @staticmethod
    def _layer_arguments(
        sizes: list[int], hidden: str, last: str
    ) -> Iterator[tuple[int, int, str]]:
        """``(nin, nout, activation)`` of each layer, lazily: a file may claim many layers."""
        last_layer = len(sizes) - 2
        for i in range(len(sizes) - 1):
            yield sizes[i], sizes[i + 1], hidden if i < last_layer else last

    @classmethod
    def _planned_parameters(cls, config: Mapping[str, Any]) -> _Planned | None:
        if cls is not MLP:
            return None  # a subclass may take other arguments or add parameters
        args = _bound_arguments(cls, config)
        sizes, hidden, last, dtype = cls._checked_arguments(
            args["nin"], args["nouts"], args["activation"], args["output_activation"], args["dtype"]
        )
        return (
            (f"layers.{i}.{name}", (shape, dtype.name))
            for i, (layer_nin, layer_nout, _) in enumerate(
                cls._layer_arguments(sizes, hidden, last)
            )
            for name, shape in Layer._parameter_shapes(layer_nin, layer_nout).items()
        )

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


def _bound_arguments(cls: type[Module], config: Mapping[str, Any]) -> dict[str, Any]:
    """Return the arguments of ``cls(**config)`` by name, defaults filled in.

    A configuration the signature refuses (an unknown or missing argument) raises the
    `TypeError` the call would.
    """
    bound = inspect.signature(cls).bind(**config)
    bound.apply_defaults()
    return dict(bound.arguments)
