"""minigrad.data: synthetic datasets and mini-batches, on NumPy alone.

The generators return plain NumPy arrays ``(X, y)`` with ``X`` float64 of shape
``(n_samples, n_features)`` and ``y`` int64 labels (float64 targets for regression),
and take ``random_state`` as scikit-learn does: ``None``, an int, or a
`numpy.random.Generator`. This package needs NumPy only; it works without
``minigrad-core`` installed.

Examples
--------
>>> from minigrad.data import batches, make_moons
>>> X, y = make_moons(n_samples=100, noise=0.1, random_state=0)
>>> X.shape, y.shape
((100, 2), (100,))
>>> sum(len(yb) for _, yb in batches(X, y, batch_size=32, random_state=0))
100
"""

from __future__ import annotations

from minigrad.data.__about__ import __version__
from minigrad.data._batching import batches
from minigrad.data._datasets import (
    make_circles,
    make_linear_regression,
    make_moons,
    make_spirals,
)

__all__ = [
    "__version__",
    "batches",
    "make_circles",
    "make_linear_regression",
    "make_moons",
    "make_spirals",
]
