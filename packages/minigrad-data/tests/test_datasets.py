"""Tests of the dataset generators: shapes, geometry, class sizes, reproducibility, errors."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from minigrad.data import make_circles, make_linear_regression, make_moons, make_spirals

GENERATORS: dict[str, Callable[..., tuple[np.ndarray, np.ndarray]]] = {
    "moons": make_moons,
    "circles": make_circles,
    "regression": make_linear_regression,
    "spirals": make_spirals,
}
CLASSIFIERS = ["moons", "circles", "spirals"]


# --- shapes and dtypes ----------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(GENERATORS))
@pytest.mark.parametrize("n_samples", [5, 100, 1001])
def test_shapes_and_dtypes(name: str, n_samples: int) -> None:
    X, y = GENERATORS[name](n_samples, random_state=0)
    assert X.shape == (n_samples, 1 if name == "regression" else 2)
    assert X.dtype == np.float64
    assert y.shape == (n_samples,)
    assert y.dtype == (np.float64 if name == "regression" else np.int64)
    assert np.all(np.isfinite(X))


def test_regression_has_n_features_columns() -> None:
    X, y = make_linear_regression(30, 4, random_state=0)
    assert X.shape == (30, 4)
    assert y.shape == (30,)


def test_defaults_give_one_hundred_samples() -> None:
    for generator in GENERATORS.values():
        X, y = generator(random_state=1)
        assert len(X) == len(y) == 100


def test_numpy_integer_arguments_are_accepted() -> None:
    X, y = make_spirals(np.int64(12), np.int32(4), random_state=np.int64(3))
    assert X.shape == (12, 2)
    assert np.bincount(y).tolist() == [3, 3, 3, 3]


# --- class sizes ------------------------------------------------------------------------


@pytest.mark.parametrize("generator", [make_moons, make_circles])
@pytest.mark.parametrize(("n_samples", "outer", "inner"), [(2, 1, 1), (7, 3, 4), (100, 50, 50)])
def test_two_class_split_gives_the_inner_class_the_extra_point(
    generator: Callable[..., tuple[np.ndarray, np.ndarray]],
    n_samples: int,
    outer: int,
    inner: int,
) -> None:
    _, y = generator(n_samples, random_state=0)
    assert np.bincount(y, minlength=2).tolist() == [outer, inner]


@pytest.mark.parametrize(
    ("n_samples", "n_classes", "expected"),
    [(103, 5, [21, 21, 21, 20, 20]), (6, 3, [2, 2, 2]), (2, 2, [1, 1]), (11, 4, [3, 3, 3, 2])],
)
def test_spirals_split_evenly_with_the_remainder_on_the_first_classes(
    n_samples: int, n_classes: int, expected: list[int]
) -> None:
    _, y = make_spirals(n_samples, n_classes, random_state=0)
    assert np.bincount(y, minlength=n_classes).tolist() == expected


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_rows_are_shuffled(name: str) -> None:
    _, y = GENERATORS[name](100, random_state=0)
    # Unshuffled, the labels would be sorted; a random order has many label changes.
    assert not np.all(np.diff(y) >= 0)
    assert np.count_nonzero(np.diff(y)) > 20


# --- exact geometry of noise-free points -----------------------------------------------


@pytest.mark.parametrize("n_samples", [2, 3, 10, 101])
def test_moons_lie_on_scikit_learns_half_circles(n_samples: int) -> None:
    X, y = make_moons(n_samples, random_state=4)
    outer, inner = X[y == 0], X[y == 1]
    # Outer moon: (cos t, sin t); inner moon: (1 - cos t, 1 - sin t - 0.5); t in [0, pi].
    np.testing.assert_allclose(np.hypot(outer[:, 0], outer[:, 1]), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(
        np.hypot(inner[:, 0] - 1.0, inner[:, 1] - 0.5), 1.0, rtol=0, atol=1e-12
    )
    t_outer = np.sort(np.arctan2(outer[:, 1], outer[:, 0]))
    t_inner = np.sort(np.arctan2(0.5 - inner[:, 1], 1.0 - inner[:, 0]))
    np.testing.assert_allclose(t_outer, np.linspace(0, np.pi, len(outer)), rtol=0, atol=1e-12)
    np.testing.assert_allclose(t_inner, np.linspace(0, np.pi, len(inner)), rtol=0, atol=1e-12)


@pytest.mark.parametrize("factor", [0.0, 0.3, 0.8, 0.999])
@pytest.mark.parametrize("n_samples", [2, 9, 100])
def test_circles_lie_on_radius_one_and_factor(n_samples: int, factor: float) -> None:
    X, y = make_circles(n_samples, factor=factor, random_state=5)
    radius = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(radius[y == 0], 1.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(radius[y == 1], factor, rtol=0, atol=1e-12)
    # Angles evenly spaced over [0, 2 pi) starting at 0, as in scikit-learn.
    outer = X[y == 0]
    angles = np.sort(np.mod(np.arctan2(outer[:, 1], outer[:, 0]) + 1e-9, 2 * np.pi) - 1e-9)
    expected = np.linspace(0, 2 * np.pi, len(outer), endpoint=False)
    np.testing.assert_allclose(angles, expected, rtol=0, atol=1e-12)
    if factor > 0:
        inner = X[y == 1] / factor
        angles = np.sort(np.mod(np.arctan2(inner[:, 1], inner[:, 0]) + 1e-9, 2 * np.pi) - 1e-9)
        expected = np.linspace(0, 2 * np.pi, len(inner), endpoint=False)
        np.testing.assert_allclose(angles, expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("rotations", [0.25, 1.0, 2.5])
@pytest.mark.parametrize(("n_samples", "n_classes"), [(2, 2), (50, 5), (61, 3)])
def test_spirals_lie_on_their_arms(n_samples: int, n_classes: int, rotations: float) -> None:
    X, y = make_spirals(n_samples, n_classes, rotations=rotations, random_state=6)
    radius = np.hypot(X[:, 0], X[:, 1])
    # Arm k: r (cos a, sin a) with a = 2 pi (rotations r + k / n_classes).
    angle = 2 * np.pi * (rotations * radius + y / n_classes)
    expected = radius[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    np.testing.assert_allclose(X, expected, rtol=0, atol=1e-12)
    for k in range(n_classes):
        m = np.count_nonzero(y == k)
        np.testing.assert_allclose(
            np.sort(radius[y == k]), np.arange(1, m + 1) / m, rtol=0, atol=1e-12
        )


def test_spiral_arms_are_two_pi_over_n_classes_apart_at_the_rim() -> None:
    n_classes = 5
    X, y = make_spirals(50, n_classes, rotations=1.5, random_state=0)
    rim = np.array([X[(y == k)][np.argmax(np.hypot(*X[y == k].T))] for k in range(n_classes)])
    angles = np.arctan2(rim[:, 1], rim[:, 0])
    steps = np.mod(np.diff(angles), 2 * np.pi)
    np.testing.assert_allclose(steps, 2 * np.pi / n_classes, rtol=0, atol=1e-12)


@pytest.mark.parametrize("n_features", [1, 3, 8])
def test_regression_targets_are_exactly_linear_without_noise(n_features: int) -> None:
    coef = np.linspace(-2.0, 3.0, n_features)
    X, y = make_linear_regression(40, n_features, coef=coef, bias=-0.75, random_state=7)
    np.testing.assert_allclose(y, X @ coef - 0.75, rtol=1e-12, atol=1e-12)


def test_regression_with_one_feature_is_bit_exact() -> None:
    X, y = make_linear_regression(25, 1, coef=[2.5], bias=1.25, random_state=8)
    assert np.array_equal(y, X[:, 0] * 2.5 + 1.25)


def test_regression_drawn_coefficients_are_recovered_by_least_squares() -> None:
    X, y = make_linear_regression(60, 6, bias=0.5, random_state=9)
    design = np.hstack([X, np.ones((60, 1))])
    solution, *_ = np.linalg.lstsq(design, y, rcond=None)
    coef, bias = solution[:-1], solution[-1]
    np.testing.assert_allclose(bias, 0.5, atol=1e-10)
    # Drawn coefficients have magnitudes in [0.5, 2) so that every feature matters.
    assert np.all((np.abs(coef) >= 0.5 - 1e-10) & (np.abs(coef) < 2.0 + 1e-10))


def test_regression_returns_the_drawn_coefficients_on_request() -> None:
    X, y, coef = make_linear_regression(30, 4, bias=2.0, random_state=13, return_coef=True)
    assert coef.shape == (4,) and coef.dtype == np.float64
    np.testing.assert_allclose(y, X @ coef + 2.0, rtol=1e-12, atol=1e-12)
    # The same seed without return_coef gives the same data.
    X2, y2 = make_linear_regression(30, 4, bias=2.0, random_state=13)
    assert np.array_equal(X, X2) and np.array_equal(y, y2)
    given = np.array([1.5, -0.5, 0.0, 2.0])
    assert np.array_equal(make_linear_regression(5, 4, coef=given, return_coef=True)[2], given)


def test_regression_drawn_coefficients_take_both_signs() -> None:
    X, y = make_linear_regression(40, 30, random_state=10)
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    assert np.any(coef > 0)
    assert np.any(coef < 0)


# --- noise ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_noise_is_gaussian_with_the_requested_std_around_the_clean_points(name: str) -> None:
    # The shuffle is drawn before the noise, so the same seed pairs each noisy point with
    # its clean one.
    clean_X, clean_y = GENERATORS[name](4000, noise=0.0, random_state=11)
    noisy_X, noisy_y = GENERATORS[name](4000, noise=0.2, random_state=11)
    assert np.array_equal(clean_y, noisy_y)
    deviation = noisy_X - clean_X
    assert abs(deviation.mean()) < 0.01
    assert deviation.std() == pytest.approx(0.2, rel=0.03)


def test_regression_noise_has_the_requested_std() -> None:
    coef = [1.0, -2.0]
    X, y = make_linear_regression(5000, 2, noise=0.3, coef=coef, random_state=12)
    residual = y - X @ np.array(coef)
    assert residual.std() == pytest.approx(0.3, rel=0.03)


# --- reproducibility --------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_same_int_seed_gives_identical_data(name: str) -> None:
    first = GENERATORS[name](50, noise=0.1, random_state=123)
    second = GENERATORS[name](50, noise=0.1, random_state=123)
    other = GENERATORS[name](50, noise=0.1, random_state=124)
    assert np.array_equal(first[0], second[0])
    assert np.array_equal(first[1], second[1])
    assert not np.array_equal(first[0], other[0])


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_none_gives_fresh_data_each_call(name: str) -> None:
    first, _ = GENERATORS[name](50, noise=0.1)
    second, _ = GENERATORS[name](50, noise=0.1)
    assert not np.array_equal(first, second)


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_generator_is_used_and_advanced(name: str) -> None:
    rng = np.random.default_rng(5)
    first, _ = GENERATORS[name](30, noise=0.1, random_state=rng)
    second, _ = GENERATORS[name](30, noise=0.1, random_state=rng)
    assert not np.array_equal(first, second)  # the generator moved on
    replay = np.random.default_rng(5)
    assert np.array_equal(GENERATORS[name](30, noise=0.1, random_state=replay)[0], first)
    assert np.array_equal(GENERATORS[name](30, noise=0.1, random_state=replay)[0], second)


def test_pinned_regression_values_are_bit_identical() -> None:
    # Only PCG64 draws and IEEE arithmetic: these bits must hold on every platform and
    # supported NumPy version. A change here means the random stream changed.
    X, y = make_linear_regression(3, 2, noise=0.5, bias=1.0, random_state=42)
    expected_X = [
        "-0x1.f3770ac89d08fp+0",
        "-0x1.4d5ba2db7ebc8p+0",
        "0x1.05d13075b0043p-3",
        "-0x1.43d5191edf2d2p-2",
        "-0x1.1345298103f02p-6",
        "-0x1.b4c22c75f5b7fp-1",
    ]
    expected_y = ["-0x1.a7933065f423fp+1", "0x1.3c23c987da91ep+0", "0x1.16c16b3621b10p-6"]
    assert [float(v).hex() for v in X.ravel()] == expected_X
    assert [float(v).hex() for v in y] == expected_y


def test_pinned_moons_spirals_and_circles_values() -> None:
    # Bit-identical on every supported NumPy: PCG64 draws, IEEE arithmetic, and the C
    # library's sin and cos (NumPy's own differ in the last bit between versions).
    X, y = make_moons(6, noise=0.1, random_state=7)
    assert y.tolist() == [1, 0, 0, 1, 0, 1]
    assert [float(v).hex() for v in X.ravel()] == [
        "0x1.e9336ad5d865ap+0",
        "0x1.d1711402e5756p-2",
        "-0x1.1962dad84a432p+0",
        "0x1.8a28389f38edep-8",
        "0x1.224f3c10ecfcep+0",
        "-0x1.933730402ddb8p-5",
        "0x1.e03b4fb774f71p-1",
        "-0x1.cdd715a5b3188p-2",
        "0x1.245ca15aed5ccp-5",
        "0x1.02b2d7c332a58p+0",
        "-0x1.7d1ea56331128p-4",
        "0x1.fd012e57ab325p-2",
    ]
    X, y = make_spirals(7, 3, noise=0.1, random_state=7)
    assert y.tolist() == [0, 2, 2, 0, 1, 0, 1]
    assert [float(v).hex() for v in X.ravel()] == [
        "-0x1.b2732d4f8a6a2p-3",
        "0x1.841e11efb44a4p-3",
        "0x1.0628a0e27ce44p-2",
        "0x1.22524f649c5edp-1",
        "-0x1.1933730402de8p-1",
        "-0x1.db2c5ece0fd31p-1",
        "0x1.0c8a3a969339ep+0",
        "0x1.245ca15aed5a0p-5",
        "-0x1.f534a0f335693p-2",
        "0x1.8bc3d9d91ea8ap-1",
        "-0x1.585426fdaa235p-2",
        "-0x1.0400f9f8cfdb6p-1",
        "0x1.d968e380f7090p-4",
        "-0x1.ea43cde8a3b4bp-2",
    ]
    X, y = make_circles(5, noise=0.05, random_state=3)
    assert y.tolist() == [1, 1, 0, 1, 0]
    assert [float(v).hex() for v in X.ravel()] == [
        "-0x1.84317eaaf6a7ep-2",
        "-0x1.714247bfd02dcp-1",
        "0x1.8e031e1afb996p-1",
        "-0x1.613c011d51625p-7",
        "-0x1.19db172e272e8p+0",
        "-0x1.7bff7d6bf01d9p-7",
        "-0x1.c5e61eeeef3a5p-2",
        "0x1.b7caf47bad242p-1",
        "0x1.02e3db89fc036p+0",
        "-0x1.20e0099da1823p-6",
    ]


# --- errors -----------------------------------------------------------------------------

BAD_ARGUMENTS: list[tuple[str, dict[str, Any], str]] = [
    ("moons", {"n_samples": 0}, r"n_samples must be an integer >= 2.*got 0"),
    ("moons", {"n_samples": 1}, r"n_samples must be an integer >= 2.*got 1"),
    ("moons", {"n_samples": -5}, r"n_samples.*got -5"),
    ("moons", {"n_samples": 10.0}, r"n_samples must be an integer.*got 10\.0"),
    ("moons", {"n_samples": "100"}, r"n_samples must be an integer.*got '100'"),
    ("moons", {"n_samples": True}, r"n_samples must be an integer.*got True"),
    ("moons", {"noise": -0.1}, r"noise must be >= 0.*got -0\.1"),
    ("moons", {"noise": float("nan")}, r"noise must be a finite number, got nan"),
    ("moons", {"noise": "0.1"}, r"noise must be a real number, got '0\.1'"),
    ("circles", {"n_samples": 1}, r"n_samples must be an integer >= 2.*got 1"),
    ("circles", {"factor": 1.0}, r"factor must be in \[0, 1\).*got 1\.0"),
    ("circles", {"factor": -0.2}, r"factor must be in \[0, 1\).*got -0\.2"),
    ("circles", {"factor": float("inf")}, r"factor must be a finite number, got inf"),
    ("circles", {"noise": -1}, r"noise must be >= 0.*got -1"),
    ("spirals", {"n_classes": 1}, r"n_classes must be an integer >= 2.*got 1"),
    ("spirals", {"n_classes": 2.5}, r"n_classes must be an integer >= 2.*got 2\.5"),
    ("spirals", {"n_samples": 4, "n_classes": 5}, r"n_samples must be an integer >= 5.*got 4"),
    ("spirals", {"n_samples": 0}, r"n_samples must be an integer >= 3.*got 0"),
    ("spirals", {"rotations": 0}, r"rotations must be > 0.*got 0"),
    ("spirals", {"rotations": -1.5}, r"rotations must be > 0.*got -1\.5"),
    ("spirals", {"noise": -0.5}, r"noise must be >= 0.*got -0\.5"),
    ("regression", {"n_samples": 0}, r"n_samples must be an integer >= 1.*got 0"),
    ("regression", {"n_samples": 2.0}, r"n_samples must be an integer >= 1.*got 2\.0"),
    ("regression", {"n_features": 0}, r"n_features must be an integer >= 1.*got 0"),
    ("regression", {"noise": -2.0}, r"noise must be >= 0.*got -2\.0"),
    ("regression", {"n_features": 2, "coef": [1.0]}, r"coef must hold one number per feature"),
    ("regression", {"n_features": 1, "coef": [[1.0]]}, r"coef.*shape \(1,\).*got shape \(1, 1\)"),
    ("regression", {"coef": ["a"]}, r"coef must be a sequence of 1 numbers"),
    ("regression", {"coef": [float("nan")]}, r"coef must hold finite numbers"),
    ("regression", {"bias": None}, r"bias must be a real number, got None"),
    ("moons", {"random_state": -1}, r"random_state must be None, a non-negative int.*got -1"),
    ("moons", {"random_state": 1.5}, r"random_state must be.*got 1\.5"),
    ("spirals", {"random_state": "seed"}, r"random_state must be.*got 'seed'"),
    ("circles", {"random_state": np.random.RandomState(0)}, r"default_rng\(seed\) instead"),
    ("regression", {"random_state": True}, r"random_state must be.*got True"),
    # Values so large that the data could not be made: refused with the valid range.
    ("spirals", {"rotations": 1e308}, r"rotations must be > 0 and <= 1e\+06.*got 1e\+308"),
    ("spirals", {"rotations": 1e7}, r"rotations must be > 0 and <= 1e\+06.*got 10000000\.0"),
    ("spirals", {"n_samples": 10**30}, r"n_samples must be an integer from 3 to \d+ .*got 10{30}"),
    ("moons", {"n_samples": 10**30}, r"n_samples must be an integer from 2 to \d+ .*got 10{30}"),
    ("circles", {"n_samples": 2**62}, r"n_samples must be an integer from 2 to \d+ .*got \d+"),
    ("spirals", {"n_classes": 10**30}, r"n_classes must be an integer from 2 to \d+ .*got 10{30}"),
    ("regression", {"n_samples": 10**30}, r"n_samples must be an integer from 1 to \d+ .*10{30}"),
    ("regression", {"n_features": 10**30}, r"n_features must be an integer from 1 to \d+"),
    ("moons", {"noise": 1e308}, r"noise must be from 0 to 1e\+100 .*got 1e\+308"),
    ("circles", {"noise": 1e101}, r"noise must be from 0 to 1e\+100 .*got 1e\+101"),
    ("spirals", {"noise": 1e308}, r"noise must be from 0 to 1e\+100 .*got 1e\+308"),
    ("regression", {"noise": 1e308}, r"noise must be from 0 to 1e\+100 .*got 1e\+308"),
    ("regression", {"bias": 1e308}, r"bias must be from -1e\+100 to 1e\+100.*got 1e\+308"),
    ("regression", {"coef": [-1e308]}, r"coef must hold numbers from -1e\+100 to 1e\+100"),
]


@pytest.mark.parametrize(
    ("name", "kwargs", "message"), BAD_ARGUMENTS, ids=[f"{n}-{k}" for n, k, _ in BAD_ARGUMENTS]
)
def test_bad_arguments_raise_value_error_naming_them(
    name: str, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        GENERATORS[name](**kwargs)


@pytest.mark.parametrize("name", sorted(GENERATORS))
def test_the_largest_accepted_values_give_finite_data_without_warnings(name: str) -> None:
    kwargs: dict[str, Any] = {"n_samples": 50, "noise": 1e100, "random_state": 0}
    if name == "spirals":
        kwargs["rotations"] = 1e6
    if name == "regression":
        kwargs.update(coef=[1e100], bias=-1e100)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        X, y = GENERATORS[name](**kwargs)
    assert np.isfinite(X).all() and np.isfinite(y).all()
    assert np.isfinite(np.sum(X * X))


def test_bad_arguments_do_not_consume_the_generator() -> None:
    rng = np.random.default_rng(0)
    state = rng.bit_generator.state
    with pytest.raises(ValueError, match="noise"):
        make_moons(10, noise=-1.0, random_state=rng)
    assert rng.bit_generator.state == state
