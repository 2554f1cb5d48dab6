"""Mini-batches: one pass (epoch) over a dataset in batches of a fixed size."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from minigrad.data._validation import RandomStateLike, check_int, make_rng

__all__ = ["batches"]


def batches(
    X: ArrayLike,
    y: ArrayLike,
    batch_size: int,
    *,
    shuffle: bool = True,
    drop_last: bool = False,
    random_state: RandomStateLike = None,
) -> Iterator[tuple[NDArray[Any], NDArray[Any]]]:
    """Iterate once over ``(X, y)`` in mini-batches: one epoch.

    Every sample appears in exactly one batch. All batches hold `batch_size` samples
    except the last, which holds the remainder (or is dropped with ``drop_last=True``).
    Call the function again for the next epoch. The arguments are checked and the
    order is drawn when the function is called, not when iteration starts.

    Parameters
    ----------
    X : array-like of shape (n_samples, ...)
        The inputs; the first axis indexes samples.
    y : array-like of shape (n_samples, ...)
        The targets, with as many samples as `X`.
    batch_size : int
        Number of samples per batch, at least 1. A `batch_size` larger than the
        dataset gives one batch holding everything.
    shuffle : bool, default=True
        Visit the samples in a random order. With ``False`` the batches are
        consecutive slices (views of `X` and `y`, not copies) in the original order.
    drop_last : bool, default=False
        Leave out the last batch when it is smaller than `batch_size`, so every
        batch has the same size; those samples are skipped in this epoch.
    random_state : None, int or numpy.random.Generator, default=None
        Source of the shuffling order. An int gives the *same* order on every call:
        to get a new order each epoch, create one ``Generator`` before the loop and
        pass it every time, which is reproducible and still changes per epoch.

    Yields
    ------
    X_batch : numpy.ndarray
        The inputs of one batch, shape ``(batch, ...)``.
    y_batch : numpy.ndarray
        The matching targets.

    Raises
    ------
    ValueError
        If `X` or `y` is a 0-d array, their lengths differ, `batch_size` is not an
        integer >= 1, or `random_state` is of an unsupported kind.

    Examples
    --------
    >>> import numpy as np
    >>> from minigrad.data import batches
    >>> X, y = np.arange(10.0).reshape(5, 2), np.arange(5)
    >>> [yb.tolist() for _, yb in batches(X, y, 2, shuffle=False)]
    [[0, 1], [2, 3], [4]]
    >>> rng = np.random.default_rng(0)
    >>> for epoch in range(3):
    ...     for X_batch, y_batch in batches(X, y, 2, random_state=rng):
    ...         pass  # one training step on (X_batch, y_batch)
    """
    inputs = np.asarray(X)
    targets = np.asarray(y)
    for name, array in (("X", inputs), ("y", targets)):
        if array.ndim == 0:
            raise ValueError(
                f"{name} must have a first axis indexing samples, got a 0-d array {array!r}"
            )
    if len(inputs) != len(targets):
        raise ValueError(
            f"X and y must have the same number of samples, got len(X)={len(inputs)} "
            f"and len(y)={len(targets)}"
        )
    batch_size = check_int("batch_size", batch_size, 1)
    # Checked even without shuffling, so that a wrong random_state is never silent.
    rng = make_rng(random_state) if shuffle or random_state is not None else None
    n_samples = len(inputs)
    stop = n_samples - n_samples % batch_size if drop_last else n_samples
    order = rng.permutation(n_samples) if shuffle and rng is not None else None
    return _batches(inputs, targets, batch_size, stop, order)


def _batches(
    inputs: NDArray[Any],
    targets: NDArray[Any],
    batch_size: int,
    stop: int,
    order: NDArray[np.intp] | None,
) -> Iterator[tuple[NDArray[Any], NDArray[Any]]]:
    """Yield the batches of samples ``0 .. stop - 1`` in `order` (slices when ``None``)."""
    for start in range(0, stop, batch_size):
        end = min(start + batch_size, stop)
        if order is None:
            yield inputs[start:end], targets[start:end]
        else:
            index = order[start:end]
            yield inputs[index], targets[index]
