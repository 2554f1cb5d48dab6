"""Argument checks shared by the dataset generators and the mini-batch iterator.

Every check raises `ValueError` naming the argument, the value it got and what it
accepts, so that a wrong call is fixed from the message alone.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

RandomStateLike = int | np.integer | np.random.Generator | None
"""What ``random_state`` accepts: ``None``, a non-negative int or a NumPy ``Generator``."""

# The most float64 values one NumPy array can hold (its size in bytes must fit an intp).
MAX_FLOATS = np.iinfo(np.intp).max // np.dtype(np.float64).itemsize

# The largest noise level, bias or coefficient accepted: far beyond any useful value,
# and small enough that the data, their squares and sums of squares stay finite.
MAX_MAGNITUDE = 1e100


def check_int(
    name: str,
    value: object,
    minimum: int,
    reason: str = "",
    *,
    maximum: int | None = None,
    maximum_reason: str = "",
) -> int:
    """Return `value` as an int, refusing non-integers (bools too) and values out of range.

    Values below `minimum` are refused with `reason`, values above `maximum` (when
    given) with `maximum_reason`; both messages state the valid range.
    """
    suffix = f" ({reason})" if reason else ""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer >= {minimum}{suffix}, got {value!r}")
    number = int(value)
    if number < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}{suffix}, got {value!r}")
    if maximum is not None and number > maximum:
        why = f" ({maximum_reason})" if maximum_reason else ""
        raise ValueError(
            f"{name} must be an integer from {minimum} to {maximum}{why}, got {value!r}"
        )
    return number


def check_samples(name: str, value: object, minimum: int, reason: str, columns: int) -> int:
    """Return a number of rows of a float64 array with `columns` columns, or raise.

    The most rows allowed are those of the largest array NumPy can index; a smaller
    count that does not fit in memory raises NumPy's own `MemoryError` when drawn.
    """
    return check_int(
        name,
        value,
        minimum,
        reason,
        maximum=MAX_FLOATS // columns,
        maximum_reason=f"the most rows a float64 array of {columns} columns can have",
    )


def check_real(name: str, value: object) -> float:
    """Return `value` as a finite float, refusing bools, non-numbers, NaN and infinities."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    result = float(value)
    if not math.isfinite(result):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return result


def check_noise(noise: object) -> float:
    """Return the noise level, a finite number from 0 to `MAX_MAGNITUDE`."""
    result = check_real("noise", noise)
    if result < 0:
        raise ValueError(
            f"noise must be >= 0 (the standard deviation of the Gaussian noise), got {noise!r}"
        )
    if result > MAX_MAGNITUDE:
        raise ValueError(
            f"noise must be from 0 to {MAX_MAGNITUDE:g} (the standard deviation of the "
            f"Gaussian noise; larger values overflow to infinite points), got {noise!r}"
        )
    return result


def check_magnitude(name: str, value: float) -> float:
    """Return `value` if its magnitude is at most `MAX_MAGNITUDE`, else raise ValueError."""
    if abs(value) > MAX_MAGNITUDE:
        raise ValueError(
            f"{name} must be from {-MAX_MAGNITUDE:g} to {MAX_MAGNITUDE:g} (larger values "
            f"overflow to infinite data), got {value!r}"
        )
    return value


def make_rng(random_state: object) -> np.random.Generator:
    """Turn ``random_state`` into a NumPy `Generator`, scikit-learn's convention.

    ``None`` gives fresh entropy, an int seeds a new PCG64 generator (the algorithm is
    named rather than left to `numpy.random.default_rng`, so a seed keeps meaning the
    same stream), and a `Generator` is used as it is, advancing its state.
    """
    if random_state is None:
        return np.random.Generator(np.random.PCG64())
    if isinstance(random_state, np.random.Generator):
        return random_state
    if (
        isinstance(random_state, (int, np.integer))
        and not isinstance(random_state, bool)
        and random_state >= 0
    ):
        return np.random.Generator(np.random.PCG64(int(random_state)))
    hint = ""
    if isinstance(random_state, np.random.RandomState):
        hint = "; for a legacy RandomState, pass numpy.random.default_rng(seed) instead"
    raise ValueError(
        "random_state must be None, a non-negative int or a numpy.random.Generator, "
        f"got {random_state!r}{hint}"
    )
