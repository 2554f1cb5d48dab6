"""Tests of batches: coverage of every sample, order, reproducibility, errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from minigrad.data import batches


def _dataset(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Return inputs whose rows encode their sample index, and the index as target."""
    index = np.arange(n)
    X = np.stack([index * 10.0, index * -1.0], axis=1)
    return X, index


@pytest.mark.parametrize("shuffle", [True, False])
@pytest.mark.parametrize(("n", "batch_size"), [(10, 1), (10, 3), (10, 10), (10, 25), (97, 16)])
def test_each_epoch_covers_every_sample_exactly_once(
    n: int, batch_size: int, shuffle: bool
) -> None:
    X, y = _dataset(n)
    got = list(batches(X, y, batch_size, shuffle=shuffle, random_state=0))
    seen = np.concatenate([yb for _, yb in got])
    assert np.array_equal(np.sort(seen), np.arange(n))
    sizes = [len(yb) for _, yb in got]
    assert sizes[:-1] == [batch_size] * (len(sizes) - 1)
    assert 1 <= sizes[-1] <= batch_size
    assert len(got) == -(-n // batch_size)


def test_inputs_and_targets_stay_paired() -> None:
    X, y = _dataset(23)
    for X_batch, y_batch in batches(X, y, 4, random_state=1):
        assert np.array_equal(X_batch[:, 0], y_batch * 10.0)
        assert np.array_equal(X_batch[:, 1], -y_batch)


def test_drop_last_keeps_only_full_batches() -> None:
    X, y = _dataset(23)
    got = list(batches(X, y, 5, drop_last=True, random_state=2))
    assert [len(yb) for _, yb in got] == [5, 5, 5, 5]
    seen = np.concatenate([yb for _, yb in got])
    assert len(np.unique(seen)) == 20


def test_drop_last_without_a_remainder_keeps_everything() -> None:
    X, y = _dataset(20)
    got = list(batches(X, y, 5, shuffle=False, drop_last=True))
    assert np.array_equal(np.concatenate([yb for _, yb in got]), np.arange(20))


def test_drop_last_with_batch_larger_than_data_yields_nothing() -> None:
    X, y = _dataset(3)
    assert list(batches(X, y, 4, drop_last=True)) == []


def test_without_shuffle_batches_are_ordered_views() -> None:
    X, y = _dataset(7)
    got = list(batches(X, y, 3, shuffle=False))
    assert [yb.tolist() for _, yb in got] == [[0, 1, 2], [3, 4, 5], [6]]
    assert all(np.shares_memory(X_batch, X) for X_batch, _ in got)


def test_shuffle_changes_the_order() -> None:
    X, y = _dataset(50)
    seen = np.concatenate([yb for _, yb in batches(X, y, 8, random_state=3)])
    assert not np.array_equal(seen, np.arange(50))


def test_same_int_seed_gives_the_same_order() -> None:
    X, y = _dataset(40)
    first = [yb.tolist() for _, yb in batches(X, y, 6, random_state=4)]
    second = [yb.tolist() for _, yb in batches(X, y, 6, random_state=4)]
    other = [yb.tolist() for _, yb in batches(X, y, 6, random_state=5)]
    assert first == second
    assert first != other


def test_one_generator_gives_a_new_reproducible_order_each_epoch() -> None:
    X, y = _dataset(40)

    def epochs(seed: int) -> list[list[int]]:
        rng = np.random.default_rng(seed)
        return [
            np.concatenate([yb for _, yb in batches(X, y, 6, random_state=rng)])
            .astype(int)
            .tolist()
            for _ in range(3)
        ]

    run = epochs(6)
    assert run[0] != run[1] != run[2]
    assert run == epochs(6)


def test_accepts_lists_and_multidimensional_inputs() -> None:
    images = np.arange(5 * 3 * 2, dtype=np.float32).reshape(5, 3, 2)
    labels = [0, 1, 0, 1, 1]
    got = list(batches(images, labels, 2, shuffle=False))
    assert got[0][0].shape == (2, 3, 2)
    assert got[0][0].dtype == np.float32
    assert got[-1][1].tolist() == [1]


def test_empty_dataset_yields_no_batch() -> None:
    assert list(batches(np.empty((0, 2)), np.empty(0), 3)) == []


BAD_CALLS: list[tuple[dict[str, Any], str]] = [
    ({"X": np.zeros((5, 2)), "y": np.zeros(4)}, r"same number of samples.*len\(X\)=5.*len\(y\)=4"),
    ({"batch_size": 0}, r"batch_size must be an integer >= 1, got 0"),
    ({"batch_size": -3}, r"batch_size must be an integer >= 1, got -3"),
    ({"batch_size": 2.5}, r"batch_size must be an integer >= 1, got 2\.5"),
    ({"batch_size": True}, r"batch_size must be an integer >= 1, got True"),
    ({"X": np.float64(3.0)}, r"X must have a first axis indexing samples"),
    ({"y": 1}, r"y must have a first axis indexing samples"),
    ({"random_state": -2}, r"random_state must be None, a non-negative int.*got -2"),
    ({"shuffle": False, "random_state": "x"}, r"random_state must be None.*got 'x'"),
]


@pytest.mark.parametrize(("overrides", "message"), BAD_CALLS)
def test_bad_arguments_raise_at_call_time(overrides: dict[str, Any], message: str) -> None:
    arguments: dict[str, Any] = {"X": np.zeros((5, 2)), "y": np.zeros(5), "batch_size": 2}
    arguments.update(overrides)
    # No iteration: the error must come from the call itself, not from the first next().
    with pytest.raises(ValueError, match=message):
        batches(**arguments)
