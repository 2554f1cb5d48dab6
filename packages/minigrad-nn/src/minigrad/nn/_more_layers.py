"""Layers with PyTorch's names and defaults: `ReLU`, `Dropout`, `LayerNorm`, `Embedding`, `Flatten`.

Each is a `Module` that saves and loads like `Layer` (its constructor arguments in the
file's header, its parameters as arrays) and works inside any container. The
convolution and pooling layers are in `minigrad.nn._conv`, `Sequential` in
`minigrad.nn._sequential`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from minigrad import Tensor
from minigrad.nn._layers import _bound_arguments
from minigrad.nn._module import Module, _Planned
from minigrad.nn._validation import check_dtype, check_size, make_rng

__all__ = ["Dropout", "Embedding", "Flatten", "LayerNorm", "ReLU"]


# --------------------------------------------------------------------------- helpers


def as_input(x: object, dtype: np.dtype[Any] | None = None) -> Tensor:
    """Return ``x`` as a tensor, data converted to ``dtype`` as `Layer` converts it.

    Data (an array, or a tensor that does not require grad) gets the layer's dtype, so a
    float32 layer gives float32 results for float64 data too; a tensor that requires grad
    is used as it is. Without a ``dtype`` (layers with no parameters) data keeps its own
    floating dtype, as `minigrad.Tensor` does.
    """
    if isinstance(x, Tensor):
        if dtype is not None and not x.requires_grad and x.data.dtype != dtype:
            return Tensor(x.data.astype(dtype), requires_grad=False)
        return x
    return Tensor(x, requires_grad=False, dtype=dtype)


def check_pair(layer: str, name: str, value: object, minimum: int) -> tuple[int, int]:
    """Return an int or a pair of ints (height, width) as a pair, each at least ``minimum``."""
    items = list(value) if isinstance(value, (tuple, list)) else [value, value]
    pair = [
        int(v)
        for v in items
        if not isinstance(v, bool) and isinstance(v, numbers.Integral) and int(v) >= minimum
    ]
    if len(items) != 2 or len(pair) != 2:
        what = "a positive int" if minimum == 1 else f"an int of at least {minimum}"
        raise ValueError(f"{layer}: {name} must be {what} or a pair of them, got {value!r}")
    return pair[0], pair[1]


def _check_bool(layer: str, name: str, value: object) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{layer}: {name} must be True or False, got {value!r}")
    return bool(value)


def _dim(layer: str, name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{layer}: {name} must be an int, got {value!r}")
    return int(value)


# --------------------------------------------------------------------------- layers


class ReLU(Module):
    """The rectifier ``max(x, 0)`` as a module, for `Sequential` (``torch.nn.ReLU``).

    Its gradient at 0 is 0, as in PyTorch.

    Examples
    --------
    >>> from minigrad.nn import ReLU
    >>> ReLU()([-1.0, 0.0, 2.0]).data
    array([0., 0., 2.])
    """

    def forward(self, x: Tensor | np.ndarray[Any, Any]) -> Tensor:
        """Return ``x.relu()`` (data becomes a tensor that does not require grad).

        Examples
        --------
        >>> from minigrad import Tensor
        >>> from minigrad.nn import ReLU
        >>> ReLU().forward(Tensor([-3.0, 3.0])).data
        array([0., 3.])
        """
        return as_input(x).relu()


class Dropout(Module):
    """Zero each element with probability ``p`` while training (``torch.nn.Dropout``).

    In training mode (`Module.train`, the default) every element is kept with
    probability ``1 - p`` and scaled by ``1 / (1 - p)``, so the expected output equals
    the input; ``p = 1`` zeros everything, as in PyTorch. In evaluation mode
    (`Module.eval`) and for ``p = 0`` it returns its input unchanged. The mask has the
    input's shape and dtype, and a new one is drawn at every call.

    Parameters
    ----------
    p : float, default 0.5
        Probability of zeroing an element, in ``[0, 1]``.
    seed : None, int or numpy.random.Generator, optional
        Source of the masks, as for `Layer`; the same int gives the same masks. Not saved:
        a loaded `Dropout` draws from fresh entropy.

    Raises
    ------
    ValueError
        If ``p`` is not a number in ``[0, 1]`` or the seed is unknown.

    Examples
    --------
    >>> import numpy as np
    >>> from minigrad.nn import Dropout
    >>> drop = Dropout(0.5, seed=0)
    >>> out = drop(np.ones((2, 4))).data
    >>> sorted(set(out.ravel().tolist()))  # zeroed, or scaled by 1 / (1 - p)
    [0.0, 2.0]
    >>> drop.eval()(np.ones(3)).data
    array([1., 1., 1.])
    """

    def __init__(self, p: float = 0.5, *, seed: int | np.random.Generator | None = None) -> None:
        given: object = p  # (checked as any object: a caller may pass anything)
        if isinstance(given, bool) or not isinstance(given, numbers.Real):
            raise ValueError(f"Dropout: p must be a probability in [0, 1], got {p!r}")
        if not 0.0 <= float(given) <= 1.0:
            raise ValueError(f"Dropout: p must be a probability in [0, 1], got {p!r}")
        self.p: float = float(p)
        self._rng: np.random.Generator = make_rng(seed)

    def forward(self, x: Tensor | np.ndarray[Any, Any]) -> Tensor:
        """Return ``x`` with elements zeroed and the rest scaled, or ``x`` itself in eval mode.

        Examples
        --------
        >>> from minigrad import Tensor
        >>> from minigrad.nn import Dropout
        >>> x = Tensor([1.0, 2.0])
        >>> Dropout(0.0).forward(x) is x
        True
        """
        x = as_input(x)
        if not self.training or self.p == 0.0:
            return x
        dtype = x.data.dtype
        if self.p == 1.0:
            return x * np.zeros(x.shape, dtype=dtype)
        mask = (self._rng.random(x.shape) < 1.0 - self.p).astype(dtype)
        mask *= dtype.type(1.0 / (1.0 - self.p))
        return x * mask

    def get_config(self) -> dict[str, Any]:
        """Return ``p``, which rebuilds the layer.

        Examples
        --------
        >>> from minigrad.nn import Dropout
        >>> Dropout(0.25).get_config()
        {'p': 0.25}
        """
        return {"p": self.p}


class LayerNorm(Module):
    """Normalize over the last axes, then scale and shift (``torch.nn.LayerNorm``).

    ``y = (x - mean) / sqrt(var + eps) * weight + bias``, with the mean and the
    (biased, ``ddof=0``) variance taken over the last ``len(normalized_shape)`` axes.
    ``weight`` starts at ones and ``bias`` at zeros, both of shape ``normalized_shape``.

    Parameters
    ----------
    normalized_shape : int or sequence of ints
        The shape of the trailing axes to normalize over.
    eps : float, default 1e-5
        Added to the variance.
    elementwise_affine : bool, default True
        Learn ``weight`` (and ``bias``); without, the layer has no parameters.
    bias : bool, default True
        Learn ``bias`` too (when ``elementwise_affine``).
    dtype : {'float64', 'float32'}, optional
        Dtype of the parameters (and of data given to the layer), float64 by default.

    Raises
    ------
    ValueError
        If an argument is invalid; when called, if the input's trailing axes are not
        ``normalized_shape``.

    Examples
    --------
    >>> import numpy as np
    >>> from minigrad.nn import LayerNorm
    >>> norm = LayerNorm(4)
    >>> [name for name, _ in norm.named_parameters()]
    ['weight', 'bias']
    >>> y = norm(np.array([[1.0, 2.0, 3.0, 4.0]])).data
    >>> np.round(y, 4)
    array([[-1.3416, -0.4472,  0.4472,  1.3416]])
    """

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        *,
        dtype: Any = None,
    ) -> None:
        self.normalized_shape, self.eps, affine, with_bias, dtype_ = self._checked_arguments(
            normalized_shape, eps, elementwise_affine, bias, dtype
        )
        self._dtype = dtype_
        self._affine, self._bias = affine, with_bias  # (the arguments, for get_config)
        if affine:
            self.weight = Tensor(np.ones(self.normalized_shape, dtype=dtype_))
            if with_bias:
                self.bias = Tensor(np.zeros(self.normalized_shape, dtype=dtype_))

    @staticmethod
    def _checked_arguments(
        normalized_shape: object, eps: object, affine: object, bias: object, dtype: object
    ) -> tuple[tuple[int, ...], float, bool, bool, np.dtype[Any]]:
        if not isinstance(normalized_shape, bool) and isinstance(
            normalized_shape, numbers.Integral
        ):
            shape: object = [normalized_shape]
        else:
            shape = normalized_shape
        if isinstance(shape, (str, bytes)) or not isinstance(shape, Sequence) or not shape:
            raise ValueError(
                "LayerNorm: normalized_shape must be a positive int or a non-empty sequence "
                f"of them, got {normalized_shape!r}"
            )
        sizes = tuple(
            check_size(f"LayerNorm: normalized_shape[{i}]", n) for i, n in enumerate(shape)
        )
        if (
            isinstance(eps, bool)
            or not isinstance(eps, numbers.Real)
            or not (math.isfinite(float(eps)) and float(eps) >= 0)
        ):
            raise ValueError(f"LayerNorm: eps must be a non-negative number, got {eps!r}")
        return (
            sizes,
            float(eps),
            _check_bool("LayerNorm", "elementwise_affine", affine),
            _check_bool("LayerNorm", "bias", bias),
            check_dtype(dtype),
        )

    @classmethod
    def _planned_parameters(cls, config: Mapping[str, Any]) -> _Planned | None:
        if cls is not LayerNorm:
            return None
        args = _bound_arguments(cls, config)
        shape, _, affine, with_bias, dtype = cls._checked_arguments(
            args["normalized_shape"],
            args["eps"],
            args["elementwise_affine"],
            args["bias"],
            args["dtype"],
        )
        names = ["weight", "bias"] if with_bias else ["weight"]
        return iter([(name, (shape, dtype.name)) for name in names] if affine else [])

    def forward(self, x: Tensor | np.ndarray[Any, Any]) -> Tensor:
        """Normalize ``x`` of shape ``(..., *normalized_shape)``.

        Examples
        --------
        >>> import numpy as np
        >>> from minigrad.nn import LayerNorm
        >>> LayerNorm((2, 3)).forward(np.zeros((5, 2, 3))).shape
        (5, 2, 3)
        """
        x = as_input(x, self._dtype)
        k = len(self.normalized_shape)
        if x.shape[x.ndim - k :] != self.normalized_shape or x.ndim < k:
            raise ValueError(
                f"LayerNorm(normalized_shape={self.normalized_shape}) expects inputs of "
                f"shape (..., {', '.join(map(str, self.normalized_shape))}), got shape "
                f"{x.shape}"
            )
        axes = tuple(range(-k, 0))
        mean = x.mean(axis=axes, keepdims=True)
        var = x.var(axis=axes, keepdims=True)
        out = (x - mean) * (var + self.eps) ** -0.5
        weight = getattr(self, "weight", None)
        if weight is not None:
            out = out * weight
        bias = getattr(self, "bias", None)
        if bias is not None:
            out = out + bias
        return out

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments that rebuild the layer.

        Examples
        --------
        >>> from minigrad.nn import LayerNorm
        >>> LayerNorm(8).get_config()
        {'normalized_shape': [8], 'eps': 1e-05, 'elementwise_affine': True, 'bias': True, \
'dtype': 'float64'}
        """
        return {
            "normalized_shape": list(self.normalized_shape),
            "eps": self.eps,
            "elementwise_affine": self._affine,
            "bias": self._bias,
            "dtype": self._dtype.name,
        }


class Embedding(Module):
    """A lookup table: row ``i`` of ``weight`` for each index ``i`` (``torch.nn.Embedding``).

    ``weight`` has shape ``(num_embeddings, embedding_dim)`` and starts as standard normal
    values, as in PyTorch. Indices of any shape give outputs of shape
    ``(*indices.shape, embedding_dim)``; an index used several times receives the sum of
    its gradients.

    Parameters
    ----------
    num_embeddings : int
        Number of rows (the valid indices are ``0 .. num_embeddings - 1``).
    embedding_dim : int
        Length of each row.
    seed : None, int or numpy.random.Generator, optional
        Source of the initial weights, as for `Layer`.
    dtype : {'float64', 'float32'}, optional
        Dtype of ``weight``, float64 by default.

    Raises
    ------
    ValueError
        If a size, the seed or the dtype is invalid; when called, if the indices are not
        integers or lie outside ``[0, num_embeddings)``.

    Examples
    --------
    >>> from minigrad.nn import Embedding
    >>> table = Embedding(10, 3, seed=0)
    >>> table.weight.shape
    (10, 3)
    >>> table([[1, 2], [4, 1]]).shape
    (2, 2, 3)
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        *,
        seed: int | np.random.Generator | None = None,
        dtype: Any = None,
    ) -> None:
        self.num_embeddings, self.embedding_dim, dtype_ = self._checked_arguments(
            num_embeddings, embedding_dim, dtype
        )
        rng = make_rng(seed)
        shape = (self.num_embeddings, self.embedding_dim)
        self.weight = Tensor(rng.standard_normal(shape).astype(dtype_))

    @staticmethod
    def _checked_arguments(n: object, dim: object, dtype: object) -> tuple[int, int, np.dtype[Any]]:
        return (
            check_size("Embedding: num_embeddings", n),
            check_size("Embedding: embedding_dim", dim),
            check_dtype(dtype),
        )

    @classmethod
    def _planned_parameters(cls, config: Mapping[str, Any]) -> _Planned | None:
        if cls is not Embedding:
            return None
        args = _bound_arguments(cls, config)
        n, dim, dtype = cls._checked_arguments(
            args["num_embeddings"], args["embedding_dim"], args["dtype"]
        )
        return iter([("weight", ((n, dim), dtype.name))])

    def forward(self, indices: Any) -> Tensor:
        """Return the rows of ``weight`` picked by integer ``indices`` (array, list or int).

        A `minigrad.Tensor` of whole numbers is accepted too (tensors hold floats).

        Examples
        --------
        >>> import numpy as np
        >>> from minigrad.nn import Embedding
        >>> table = Embedding(4, 2, seed=0)
        >>> bool((table.forward(np.array([3])).data == table.weight.data[3]).all())
        True
        """
        n = self.num_embeddings
        if isinstance(indices, Tensor):
            index = indices.data
            if not np.all(np.isfinite(index) & (index == np.round(index))):
                raise ValueError(
                    f"Embedding({n}, {self.embedding_dim}): a tensor of indices must hold "
                    "whole numbers"
                )
            index = index.astype(np.intp)
        else:
            index = np.asarray(indices)
            if index.size == 0 and index.dtype == np.float64:
                index = index.astype(np.intp)  # np.asarray([]) is a float array
            if not np.issubdtype(index.dtype, np.integer):
                raise ValueError(
                    f"Embedding({n}, {self.embedding_dim}): indices must be integers, got "
                    f"dtype {index.dtype}"
                )
        if index.size:
            low, high = index.min(), index.max()
            if low < 0 or high >= n:
                raise ValueError(
                    f"Embedding({n}, {self.embedding_dim}): index {int(low if low < 0 else high)} "
                    f"is outside [0, {n})"
                )
        return self.weight[index]

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments that rebuild the layer.

        Examples
        --------
        >>> from minigrad.nn import Embedding
        >>> Embedding(100, 16, seed=0).get_config()
        {'num_embeddings': 100, 'embedding_dim': 16, 'dtype': 'float64'}
        """
        return {
            "num_embeddings": self.num_embeddings,
            "embedding_dim": self.embedding_dim,
            "dtype": self.weight.data.dtype.name,
        }


class Flatten(Module):
    """Merge the axes ``start_dim`` to ``end_dim`` into one (``torch.nn.Flatten``).

    The defaults keep the first (batch) axis: ``(N, C, H, W)`` becomes
    ``(N, C * H * W)``.

    Parameters
    ----------
    start_dim : int, default 1
        First axis to merge; negative values count from the end.
    end_dim : int, default -1
        Last axis to merge (included).

    Examples
    --------
    >>> import numpy as np
    >>> from minigrad.nn import Flatten
    >>> Flatten()(np.zeros((8, 3, 4, 4))).shape
    (8, 48)
    >>> Flatten(0, 1)(np.zeros((8, 3, 4))).shape
    (24, 4)
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        self.start_dim = _dim("Flatten", "start_dim", start_dim)
        self.end_dim = _dim("Flatten", "end_dim", end_dim)

    def forward(self, x: Tensor | np.ndarray[Any, Any]) -> Tensor:
        """Return ``x.flatten(start_dim, end_dim)``.

        Examples
        --------
        >>> from minigrad import Tensor
        >>> from minigrad.nn import Flatten
        >>> Flatten().forward(Tensor([[[1.0, 2.0], [3.0, 4.0]]])).shape
        (1, 4)
        """
        return as_input(x).flatten(self.start_dim, self.end_dim)

    def get_config(self) -> dict[str, Any]:
        """Return ``start_dim`` and ``end_dim``.

        Examples
        --------
        >>> from minigrad.nn import Flatten
        >>> Flatten().get_config()
        {'start_dim': 1, 'end_dim': -1}
        """
        return {"start_dim": self.start_dim, "end_dim": self.end_dim}
