"""Argument checks shared by `Layer`, `MLP` and the model file format.

Every check raises `ValueError` naming the argument, the value it got and what it
accepts, so that a wrong call is fixed from the message alone.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "ACTIVATIONS",
    "FLOAT_DTYPES",
    "check_activation",
    "check_dtype",
    "check_nouts",
    "check_size",
    "make_rng",
]

# The names `minigrad.Tensor.linear` accepts, in the order its errors list them; None and
# 'linear' both apply no activation. Layers store 'linear' for either, the spelling model
# files have always held. The tests call `Tensor.linear` to check that this list and
# core's agree.
ACTIVATIONS = (None, "linear", "relu", "tanh", "sigmoid")
_ACTIVATION_CHOICES = ", ".join(map(repr, ACTIVATIONS[:-1])) + f" or {ACTIVATIONS[-1]!r}"

# Parameters, and so the arrays of model files, are float32 or float64.
FLOAT_DTYPES = ("float32", "float64")


# The largest step count a saved state may hold. 64 bits are more steps than any run
# takes, and a count beyond them would overflow the float arithmetic done with it (Adam's
# ``beta ** step``, a schedule's ``gamma ** (step // step_size)``): a state holding one is
# damaged or tampered.
MAX_STEP = 2**63 - 1


def is_step(value: object) -> bool:
    """Whether ``value`` is a step count a state may hold: an integer in [0, `MAX_STEP`]."""
    return (
        not isinstance(value, bool)
        and isinstance(value, numbers.Integral)
        and 0 <= int(value) <= MAX_STEP
    )


def check_size(name: str, value: object) -> int:
    """Return a layer size as an int, refusing non-integers (bools too) and values below 1."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def check_nouts(nouts: object) -> list[int]:
    """Return an MLP's layer sizes as a list of ints; it must be a non-empty sequence."""
    if isinstance(nouts, (str, bytes)) or not isinstance(nouts, Sequence) or not nouts:
        raise ValueError(
            f"nouts must be a non-empty list of layer sizes such as [16, 16, 1], got {nouts!r}"
        )
    return [check_size(f"nouts[{i}]", n) for i, n in enumerate(nouts)]


def check_activation(name: str, value: object) -> str:
    """Return the activation's stored name: ``'linear'`` for None, else the name given."""
    if value is None:
        return "linear"
    if not isinstance(value, str) or value not in ACTIVATIONS:
        raise ValueError(f"{name} must be one of {_ACTIVATION_CHOICES}, got {value!r}")
    return str(value)  # a plain str, also for a subclass such as numpy.str_


def check_dtype(value: object) -> np.dtype[Any]:
    """Return the parameters' dtype: float64 for None, else float32 or float64 as given."""
    dtype: np.dtype[Any] | None
    try:
        dtype = np.dtype(value if value is not None else np.float64)  # type: ignore[call-overload]
    except TypeError:
        dtype = None
    if dtype is None or dtype.name not in FLOAT_DTYPES:
        raise ValueError(f"dtype must be float32 or float64, got {value!r}")
    return dtype


def make_rng(seed: object) -> np.random.Generator:
    """Turn ``seed`` into a NumPy `Generator`, as minigrad-data's ``random_state``.

    ``None`` gives fresh entropy, an int seeds a new PCG64 generator (the algorithm is
    named rather than left to `numpy.random.default_rng`, so a seed keeps giving the
    same weights should NumPy's default change), and a `Generator` is used as it is,
    advancing its state. minigrad-data has the same rule; the packages do not depend on
    each other, so each has its own copy.
    """
    if seed is None:
        return np.random.Generator(np.random.PCG64())
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed >= 0:
        return np.random.Generator(np.random.PCG64(int(seed)))
    hint = ""
    if isinstance(seed, np.random.RandomState):
        hint = "; for a legacy RandomState, pass numpy.random.default_rng(seed) instead"
    raise ValueError(
        f"seed must be None, a non-negative int or a numpy.random.Generator, got {seed!r}{hint}"
    )
