"""The synthetic dataset generators: moons, circles, linear regression and spirals.

Each generator checks its arguments first, draws everything from one NumPy
`Generator` (see `random_state`), and returns plain arrays ``(X, y)``: ``X`` float64 of
shape ``(n_samples, n_features)`` and ``y`` int64 labels, or float64 targets for
regression. Moons and circles follow scikit-learn's geometry, class sizes and row
shuffling, so their pictures look like the ones people already know.
"""

from __future__ import annotations

import math
from typing import Literal, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

from minigrad.data._validation import (
    MAX_FLOATS,
    MAX_MAGNITUDE,
    RandomStateLike,
    check_int,
    check_magnitude,
    check_noise,
    check_real,
    check_samples,
    make_rng,
)

__all__ = ["make_circles", "make_linear_regression", "make_moons", "make_spirals"]

_TWO_PI = 2.0 * np.pi
# The most turns a spiral arm may make: far more than a picture can show, and few
# enough that its angles stay finite and accurate to many digits.
_MAX_ROTATIONS = 1e6


def _shuffle_and_add_noise(
    points: NDArray[np.float64],
    labels: NDArray[np.int64],
    noise: float,
    rng: np.random.Generator,
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Shuffle points and labels together, then add Gaussian noise of std `noise` to the points."""
    order = rng.permutation(len(points))
    points, labels = points[order], labels[order]
    if noise > 0:
        points += noise * rng.standard_normal(points.shape)
    return points, labels


def _two_class_labels(n_first: int, n_second: int) -> NDArray[np.int64]:
    """Return `n_first` zeros followed by `n_second` ones, as int64."""
    return np.concatenate([np.zeros(n_first, np.int64), np.ones(n_second, np.int64)])


def make_moons(
    n_samples: int = 100,
    noise: float = 0.0,
    *,
    random_state: RandomStateLike = None,
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Make two interleaving half circles, a classic two-class toy problem.

    The geometry is scikit-learn's: class 0 (the outer moon) lies on the upper unit
    half circle ``(cos t, sin t)`` and class 1 (the inner moon) on the lower half
    circle shifted right and up, ``(1 - cos t, 0.5 - sin t)``, with ``t`` evenly spaced
    over ``[0, pi]`` in each moon. For an odd `n_samples` the inner moon gets the extra
    point. The rows are then shuffled, and Gaussian noise of standard deviation
    `noise` is added to every coordinate.

    Parameters
    ----------
    n_samples : int, default=100
        Total number of points, at least 2 (one per moon).
    noise : float, default=0.0
        Standard deviation of the Gaussian noise added to the points, from 0 to
        ``1e100``. With ``0`` every point lies exactly on its half circle.
    random_state : None, int or numpy.random.Generator, default=None
        Source of the shuffling and the noise. ``None`` gives different data on every
        call; an int gives the same data on every call and every platform; a
        ``Generator`` is used and advanced as it is.

    Returns
    -------
    X : numpy.ndarray of shape (n_samples, 2), float64
        The points.
    y : numpy.ndarray of shape (n_samples,), int64
        The moon each point belongs to: 0 (outer) or 1 (inner).

    Raises
    ------
    ValueError
        If `n_samples` is not an integer >= 2 (or more than an array can hold),
        `noise` is not a number from 0 to 1e100, or `random_state` is of an
        unsupported kind.

    Examples
    --------
    >>> from minigrad.data import make_moons
    >>> X, y = make_moons(n_samples=5, noise=0.1, random_state=0)
    >>> X.shape, X.dtype, y.dtype
    ((5, 2), dtype('float64'), dtype('int64'))
    >>> sorted(y.tolist())
    [0, 0, 1, 1, 1]
    """
    n_samples = check_samples("n_samples", n_samples, 2, "one point per moon at least", 2)
    noise = check_noise(noise)
    rng = make_rng(random_state)

    n_outer = n_samples // 2
    n_inner = n_samples - n_outer
    t_outer = np.linspace(0.0, np.pi, n_outer)
    t_inner = np.linspace(0.0, np.pi, n_inner)
    points = np.empty((n_samples, 2), dtype=np.float64)
    points[:n_outer, 0] = _cos(t_outer)
    points[:n_outer, 1] = _sin(t_outer)
    points[n_outer:, 0] = 1.0 - _cos(t_inner)
    points[n_outer:, 1] = 1.0 - _sin(t_inner) - 0.5
    return _shuffle_and_add_noise(points, _two_class_labels(n_outer, n_inner), noise, rng)


def make_circles(
    n_samples: int = 100,
    noise: float = 0.0,
    factor: float = 0.8,
    *,
    random_state: RandomStateLike = None,
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Make a large circle around a smaller one, a two-class problem no line can split.

    The geometry is scikit-learn's: class 0 lies on the unit circle and class 1 on
    the circle of radius `factor`, both centred at the origin, each at angles evenly
    spaced over ``[0, 2 pi)`` starting at 0. For an odd `n_samples` the inner circle
    gets the extra point. The rows are then shuffled, and Gaussian noise of standard
    deviation `noise` is added to every coordinate.

    Parameters
    ----------
    n_samples : int, default=100
        Total number of points, at least 2 (one per circle).
    noise : float, default=0.0
        Standard deviation of the Gaussian noise added to the points, from 0 to
        ``1e100``. With ``0`` every point lies exactly on its circle.
    factor : float, default=0.8
        Radius of the inner circle relative to the outer one, in ``[0, 1)``.
    random_state : None, int or numpy.random.Generator, default=None
        Source of the shuffling and the noise. ``None`` gives different data on every
        call; an int gives the same data on every call and every platform; a
        ``Generator`` is used and advanced as it is.

    Returns
    -------
    X : numpy.ndarray of shape (n_samples, 2), float64
        The points.
    y : numpy.ndarray of shape (n_samples,), int64
        The circle each point belongs to: 0 (outer) or 1 (inner).

    Raises
    ------
    ValueError
        If `n_samples` is not an integer >= 2 (or more than an array can hold),
        `noise` is not a number from 0 to 1e100, `factor` is outside ``[0, 1)``, or
        `random_state` is of an unsupported kind.

    Examples
    --------
    >>> import numpy as np
    >>> from minigrad.data import make_circles
    >>> X, y = make_circles(n_samples=6, factor=0.5, random_state=0)
    >>> np.round(np.hypot(X[:, 0], X[:, 1])[y == 1], 12).tolist()
    [0.5, 0.5, 0.5]
    """
    n_samples = check_samples("n_samples", n_samples, 2, "one point per circle at least", 2)
    noise = check_noise(noise)
    factor = check_real("factor", factor)
    if not 0.0 <= factor < 1.0:
        raise ValueError(
            f"factor must be in [0, 1) (the inner radius over the outer one), got {factor!r}"
        )
    rng = make_rng(random_state)

    n_outer = n_samples // 2
    n_inner = n_samples - n_outer
    # endpoint=False: an angle of 2 pi would repeat the point at angle 0.
    angle_outer = np.linspace(0.0, _TWO_PI, n_outer, endpoint=False)
    angle_inner = np.linspace(0.0, _TWO_PI, n_inner, endpoint=False)
    points = np.empty((n_samples, 2), dtype=np.float64)
    points[:n_outer, 0] = _cos(angle_outer)
    points[:n_outer, 1] = _sin(angle_outer)
    points[n_outer:, 0] = _cos(angle_inner) * factor
    points[n_outer:, 1] = _sin(angle_inner) * factor
    return _shuffle_and_add_noise(points, _two_class_labels(n_outer, n_inner), noise, rng)


@overload
def make_linear_regression(
    n_samples: int = ...,
    n_features: int = ...,
    noise: float = ...,
    coef: ArrayLike | None = ...,
    *,
    bias: float = ...,
    random_state: RandomStateLike = ...,
    return_coef: Literal[False] = ...,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]: ...
@overload
def make_linear_regression(
    n_samples: int = ...,
    n_features: int = ...,
    noise: float = ...,
    coef: ArrayLike | None = ...,
    *,
    bias: float = ...,
    random_state: RandomStateLike = ...,
    return_coef: Literal[True],
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]: ...
@overload
def make_linear_regression(
    n_samples: int = ...,
    n_features: int = ...,
    noise: float = ...,
    coef: ArrayLike | None = ...,
    *,
    bias: float = ...,
    random_state: RandomStateLike = ...,
    return_coef: bool,
) -> (
    tuple[NDArray[np.float64], NDArray[np.float64]]
    | tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]
): ...
def make_linear_regression(
    n_samples: int = 100,
    n_features: int = 1,
    noise: float = 0.0,
    coef: ArrayLike | None = None,
    *,
    bias: float = 0.0,
    random_state: RandomStateLike = None,
    return_coef: bool = False,
) -> (
    tuple[NDArray[np.float64], NDArray[np.float64]]
    | tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]
):
    """Make a linear regression problem ``y = X @ coef + bias + noise``.

    The inputs ``X`` are independent standard normal draws. The targets are
    ``X @ coef + bias`` plus Gaussian noise of standard deviation `noise`, so with
    ``noise=0`` a least-squares fit recovers `coef` and `bias` exactly. Rows are
    independent draws, hence already in random order.

    Parameters
    ----------
    n_samples : int, default=100
        Number of samples, at least 1.
    n_features : int, default=1
        Number of input features, at least 1.
    noise : float, default=0.0
        Standard deviation of the Gaussian noise added to the targets, from 0 to
        ``1e100``.
    coef : array-like of shape (n_features,), optional
        The true coefficients. Pass them to know what a model should learn. When
        ``None``, each is drawn with a magnitude uniform in ``[0.5, 2)`` and a random
        sign (so that every feature matters), before anything else is drawn.
    bias : float, default=0.0
        The true intercept added to every target.
    random_state : None, int or numpy.random.Generator, default=None
        Source of the coefficients, inputs and noise. ``None`` gives different data on
        every call; an int gives the same data on every call and every platform; a
        ``Generator`` is used and advanced as it is.
    return_coef : bool, default=False
        Also return the true coefficients (those drawn when `coef` is ``None``), to
        compare with what a model learns.

    Returns
    -------
    X : numpy.ndarray of shape (n_samples, n_features), float64
        The inputs.
    y : numpy.ndarray of shape (n_samples,), float64
        The targets.
    coef : numpy.ndarray of shape (n_features,), float64
        The true coefficients; only with ``return_coef=True``.

    Raises
    ------
    ValueError
        If `n_samples` or `n_features` is not an integer >= 1 (or the inputs would be
        more than an array can hold), `noise` is not a number from 0 to 1e100, `coef`
        does not hold `n_features` numbers and `bias` is not a number, each from -1e100
        to 1e100, or `random_state` is of an unsupported kind.

    Examples
    --------
    >>> import numpy as np
    >>> from minigrad.data import make_linear_regression
    >>> X, y = make_linear_regression(50, 2, coef=[3.0, -1.0], bias=0.5, random_state=0)
    >>> X.shape, y.shape
    ((50, 2), (50,))
    >>> bool(np.allclose(y, X @ np.array([3.0, -1.0]) + 0.5))
    True
    >>> X, y, coef = make_linear_regression(50, 3, random_state=0, return_coef=True)
    >>> bool(np.allclose(y, X @ coef))
    True
    """
    n_features = check_int(
        "n_features",
        n_features,
        1,
        maximum=MAX_FLOATS,
        maximum_reason="the most values a float64 array can hold",
    )
    n_samples = check_samples("n_samples", n_samples, 1, "", n_features)
    noise = check_noise(noise)
    bias = check_magnitude("bias", check_real("bias", bias))
    true_coef = None if coef is None else _check_coef(coef, n_features)
    rng = make_rng(random_state)

    if true_coef is None:
        magnitude = rng.uniform(0.5, 2.0, n_features)
        true_coef = np.where(rng.random(n_features) < 0.5, -magnitude, magnitude)
    inputs = rng.standard_normal((n_samples, n_features))
    # Summed feature by feature in a fixed order rather than with BLAS, whose
    # summation order depends on the machine: same seed, same bits everywhere.
    y = np.full(n_samples, bias, dtype=np.float64)
    for j in range(n_features):
        y += inputs[:, j] * true_coef[j]
    if noise > 0:
        y += noise * rng.standard_normal(n_samples)
    if return_coef:
        return inputs, y, true_coef
    return inputs, y


def _check_coef(coef: ArrayLike, n_features: int) -> NDArray[np.float64]:
    """Return `coef` as a float64 vector of length `n_features`, or raise ValueError."""
    try:
        values = np.asarray(coef, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"coef must be a sequence of {n_features} numbers (n_features), got {coef!r}"
        ) from None
    if values.shape != (n_features,):
        raise ValueError(
            f"coef must hold one number per feature, shape ({n_features},) for "
            f"n_features={n_features}, got shape {values.shape}: {coef!r}"
        )
    if not np.all(np.isfinite(values)):
        raise ValueError(f"coef must hold finite numbers, got {coef!r}")
    if np.any(np.abs(values) > MAX_MAGNITUDE):
        raise ValueError(
            f"coef must hold numbers from {-MAX_MAGNITUDE:g} to {MAX_MAGNITUDE:g} (larger "
            f"values overflow to infinite targets), got {coef!r}"
        )
    return values


def make_spirals(
    n_samples: int = 100,
    n_classes: int = 3,
    noise: float = 0.0,
    rotations: float = 1.0,
    *,
    random_state: RandomStateLike = None,
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Make interleaved spiral arms, one per class: a problem that needs a curved boundary.

    Class ``k`` lies on the arm ``r (cos a, sin a)`` with angle
    ``a = 2 pi (rotations * r + k / n_classes)``: the arms are ``2 pi / n_classes``
    apart and each turns `rotations` times while its radius ``r`` grows from the
    centre to 1. A class of ``m`` points has them at ``r = 1/m, 2/m, ..., 1``. The
    total is split as evenly as possible: the first ``n_samples % n_classes`` classes
    get one point more. The rows are then shuffled, and Gaussian noise of standard
    deviation `noise` is added to every coordinate.

    Parameters
    ----------
    n_samples : int, default=100
        Total number of points, at least `n_classes` (one per arm).
    n_classes : int, default=3
        Number of arms, hence of classes, at least 2.
    noise : float, default=0.0
        Standard deviation of the Gaussian noise added to the points, from 0 to
        ``1e100``. With ``0`` every point lies exactly on its arm.
    rotations : float, default=1.0
        How many full turns each arm makes from the centre to radius 1, ``> 0`` and
        at most ``1e6``.
    random_state : None, int or numpy.random.Generator, default=None
        Source of the shuffling and the noise. ``None`` gives different data on every
        call; an int gives the same data on every call and every platform; a
        ``Generator`` is used and advanced as it is.

    Returns
    -------
    X : numpy.ndarray of shape (n_samples, 2), float64
        The points.
    y : numpy.ndarray of shape (n_samples,), int64
        The arm each point belongs to, from 0 to ``n_classes - 1``.

    Raises
    ------
    ValueError
        If `n_classes` is not an integer >= 2, `n_samples` is not an integer >=
        `n_classes` (or more than an array can hold), `noise` is not a number from 0
        to 1e100, `rotations` is not a number > 0 and <= 1e6, or `random_state` is
        of an unsupported kind.

    Examples
    --------
    >>> import numpy as np
    >>> from minigrad.data import make_spirals
    >>> X, y = make_spirals(n_samples=200, n_classes=5, noise=0.05, random_state=0)
    >>> X.shape, np.bincount(y).tolist()
    ((200, 2), [40, 40, 40, 40, 40])
    """
    n_classes = check_int(
        "n_classes",
        n_classes,
        2,
        maximum=MAX_FLOATS // 2,
        maximum_reason="one point per class, in a float64 array of 2 columns",
    )
    n_samples = check_samples(
        "n_samples", n_samples, n_classes, f"one point per class, n_classes={n_classes}", 2
    )
    noise = check_noise(noise)
    rotations = check_real("rotations", rotations)
    if rotations <= 0:
        raise ValueError(f"rotations must be > 0 (turns of each arm), got {rotations!r}")
    if rotations > _MAX_ROTATIONS:
        raise ValueError(
            f"rotations must be > 0 and <= {_MAX_ROTATIONS:g} (turns of each arm), "
            f"got {rotations!r}"
        )
    rng = make_rng(random_state)

    base, extra = divmod(n_samples, n_classes)
    counts = [base + (1 if k < extra else 0) for k in range(n_classes)]
    radius = np.concatenate([np.arange(1, m + 1, dtype=np.float64) / m for m in counts])
    labels = np.repeat(np.arange(n_classes, dtype=np.int64), counts)
    angle = _TWO_PI * (rotations * radius + labels / n_classes)
    points = np.stack([radius * _cos(angle), radius * _sin(angle)], axis=1)
    return _shuffle_and_add_noise(points, labels, noise, rng)


# NumPy's own sin and cos differ in the last bit between versions (their SIMD kernels
# changed), so the same seed would not give the same points everywhere. The C library's,
# reached through `math`, do not depend on the NumPy version.
def _cos(angle: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.array([math.cos(a) for a in angle.tolist()], dtype=np.float64)


def _sin(angle: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.array([math.sin(a) for a in angle.tolist()], dtype=np.float64)
