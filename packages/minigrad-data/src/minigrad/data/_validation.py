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


def check_int(name: str, value: object, minimum: int, reason: str = "") -> int:
    """Return `value` as an int, refusing non-integers (bools too) and values below `minimum`."""
    suffix = f" ({reason})" if reason else ""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer >= {minimum}{suffix}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}{suffix}, got {value!r}")
    return int(value)


def check_real(name: str, value: object) -> float:
    """Return `value` as a finite float, refusing bools, non-numbers, NaN and infinities."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    result = float(value)
    if not math.isfinite(result):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return result


def check_noise(noise: object) -> float:
    """Return the noise level, which must be a finite number >= 0."""
    result = check_real("noise", noise)
    if result < 0:
        raise ValueError(
            f"noise must be >= 0 (the standard deviation of the Gaussian noise), got {noise!r}"
        )
    return result


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
