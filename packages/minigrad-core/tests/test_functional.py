"""`grad`, `value_and_grad` and `jacobian`: values, ownership, errors, grad mode.

The oracles share no code with the engine: gradients derived by hand, and central
differences of a NumPy twin of each function, computed here.
"""

from __future__ import annotations

import numpy as np
import pytest

import minigrad
from minigrad import Tensor, grad, is_grad_enabled, jacobian, no_grad, value_and_grad

RNG = np.random.default_rng(20240611)


def central_differences(fun, args, position, eps=1e-6):
    """d fun / d args[position] of a NumPy function with a scalar or array result."""
    args = [np.array(a, dtype=np.float64) for a in args]
    x = args[position]
    out_shape = np.shape(fun(*args))
    result = np.zeros(out_shape + x.shape)
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + eps
        plus = np.asarray(fun(*args))
        x[index] = original - eps
        minus = np.asarray(fun(*args))
        x[index] = original
        result[(..., *index)] = (plus - minus) / (2 * eps)
    return result


# ------------------------------------------------------------------ values


def test_quadratic_form():
    A = RNG.standard_normal((4, 4))  # not symmetric: d(x'Ax)/dx = (A + A') x
    b = RNG.standard_normal(4)
    x = RNG.standard_normal(4)

    def f(x):
        return x @ (A @ x) + (x * b).sum()

    expected = (A + A.T) @ x + b
    np.testing.assert_allclose(grad(f)(x), expected, rtol=1e-12)
    np.testing.assert_allclose(grad(f)(x), central_differences(f, [x], 0), rtol=1e-6)


def test_softmax_cross_entropy():
    logits = RNG.standard_normal((5, 3)) * 3
    labels = np.array([0, 2, 1, 1, 0])
    rows = np.arange(5)

    def loss(z):
        return -z.log_softmax(axis=1)[rows, labels].mean()

    def loss_numpy(z):
        shifted = z - z.max(axis=1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        return -log_p[rows, labels].mean()

    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    expected = (p - np.eye(3)[labels]) / 5  # softmax minus one-hot, over the batch size
    value, dz = value_and_grad(loss)(logits)
    assert value == pytest.approx(loss_numpy(logits), rel=1e-12)
    np.testing.assert_allclose(dz, expected, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(dz, central_differences(loss_numpy, [logits], 0), atol=1e-8)


def test_two_arguments():
    w = RNG.standard_normal((3, 2))
    x = RNG.standard_normal((4, 3))

    def f(w, x):
        return (x @ w).tanh().sum()

    def f_numpy(w, x):
        return np.tanh(x @ w).sum()

    slope = 1 - np.tanh(x @ w) ** 2
    dw, dx = grad(f, argnums=(0, 1))(w, x)
    np.testing.assert_allclose(dw, x.T @ slope, rtol=1e-12)
    np.testing.assert_allclose(dx, slope @ w.T, rtol=1e-12)
    np.testing.assert_allclose(dw, central_differences(f_numpy, [w, x], 0), atol=1e-8)
    np.testing.assert_allclose(dx, central_differences(f_numpy, [w, x], 1), atol=1e-8)
    # the order of argnums is the order of the results
    dx2, dw2 = grad(f, argnums=(1, 0))(w, x)
    np.testing.assert_array_equal(dx2, dx)
    np.testing.assert_array_equal(dw2, dw)
    np.testing.assert_array_equal(grad(f, argnums=1)(w, x), dx)


def test_broadcasting_between_arguments():
    a = RNG.standard_normal((3, 1))
    b = RNG.standard_normal(4)

    def f(a, b):
        return ((a * b) ** 2).sum()

    da, db = grad(f, argnums=(0, 1))(a, b)
    assert da.shape == (3, 1) and db.shape == (4,)
    # d/da sum_ij a_i^2 b_j^2 = 2 a_i sum_j b_j^2, and symmetrically for b
    np.testing.assert_allclose(da, 2 * a * (b**2).sum(), rtol=1e-12)
    np.testing.assert_allclose(db, 2 * b * (a**2).sum(), rtol=1e-12)
    np.testing.assert_allclose(da, central_differences(f, [a, b], 0), rtol=1e-6)
    np.testing.assert_allclose(db, central_differences(f, [a, b], 1), rtol=1e-6)


def test_zero_dimensional_argument():
    x = RNG.standard_normal(5)

    def f(s, x):
        return (s * x).exp().sum()

    ds = grad(f)(0.5, x)  # a Python float
    assert isinstance(ds, np.ndarray) and ds.shape == () and ds.dtype == np.float64
    assert float(ds) == pytest.approx((x * np.exp(0.5 * x)).sum(), rel=1e-12)
    numeric = central_differences(lambda s, x: np.exp(s * x).sum(), [0.5, x], 0)
    assert float(ds) == pytest.approx(float(numeric), rel=1e-7)
    ds = grad(f)(np.float32(0.5), x.astype(np.float32))
    assert ds.shape == () and ds.dtype == np.float32


def test_result_of_shape_one_and_the_argument_itself():
    assert grad(lambda x: x)(2.0) == 1.0  # f returns its argument: a leaf
    np.testing.assert_array_equal(grad(lambda x: x * 3)(np.array([2.0])), [3.0])
    np.testing.assert_array_equal(
        grad(lambda x: (x * x).sum(keepdims=True))([[1.0, 2.0]]), [[2.0, 4.0]]
    )


def test_keyword_and_other_arguments_pass_through():
    constant = Tensor([1.0, 2.0], requires_grad=False)
    seen = []

    def f(x, c, *, scale):
        seen.append(c)
        return (x * c).sum() * scale

    dx = grad(f)(np.array([5.0, 6.0]), constant, scale=3.0)
    np.testing.assert_array_equal(dx, [3.0, 6.0])
    assert seen == [constant] and seen[0] is constant


# ------------------------------------------------------------------ ownership


def test_calls_do_not_accumulate():
    x = np.array([1.0, -2.0, 3.0])

    def f(x):
        return (x**3).sum()

    g = grad(f)
    first, second = g(x), g(x)
    np.testing.assert_array_equal(first, 3 * x**2)
    np.testing.assert_array_equal(second, 3 * x**2)
    assert not np.shares_memory(first, second)
    (_, a), (_, b) = value_and_grad(f)(x), value_and_grad(f)(x)
    np.testing.assert_array_equal(a, b)


def test_caller_tensors_and_arrays_are_left_alone():
    data = np.array([1.0, 2.0, 3.0])
    x = Tensor(data)
    assigned = np.array([10.0, 20.0, 30.0])
    x.grad = assigned

    received = []

    def f(x):
        received.append(x)
        return (x * x).sum()

    dx = grad(f)(x)
    np.testing.assert_array_equal(dx, [2.0, 4.0, 6.0])
    # f received a new leaf holding a copy: writing to it could not reach the caller
    assert received[-1] is not x and not np.shares_memory(received[-1].data, data)
    assert x.data is data
    np.testing.assert_array_equal(data, [1.0, 2.0, 3.0])
    assert x.grad is assigned
    np.testing.assert_array_equal(assigned, [10.0, 20.0, 30.0])
    assert x.requires_grad

    array = np.array([1.0, 2.0, 3.0])
    dx = grad(f)(array)
    np.testing.assert_array_equal(array, [1.0, 2.0, 3.0])
    assert not np.shares_memory(received[-1].data, array)
    assert not np.shares_memory(dx, array)
    assert dx.flags.writeable
    dx += 1  # the caller owns it


def test_tensor_argument_not_requiring_grad_is_differentiated():
    x = Tensor([1.0, 2.0], requires_grad=False)
    np.testing.assert_array_equal(grad(lambda x: (x * x).sum())(x), [2.0, 4.0])
    assert not x.requires_grad
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])


def test_dtypes():
    def f(x):
        return (x * x).sum()

    x32 = np.array([1.0, 2.0], dtype=np.float32)
    assert grad(f)(x32).dtype == np.float32
    assert grad(f)(Tensor(x32)).dtype == np.float32
    value, dx = value_and_grad(f)(x32)
    assert type(value) is float and value == 5.0 and dx.dtype == np.float32
    for ints in ([1, 2], np.array([1, 2]), [True, False]):
        dx = grad(f)(ints)
        assert dx.dtype == np.float64
        np.testing.assert_array_equal(dx, 2 * np.asarray(ints, dtype=float))
    value, dx = value_and_grad(f)(np.array([1.0, 2.0]))
    assert type(value) is float and dx.dtype == np.float64 and dx.shape == (2,)


# ------------------------------------------------------------ results independent of arguments


def test_result_independent_of_an_argument_gives_zeros():
    def f(x, y):
        return (x * x).sum()

    dx, dy = grad(f, argnums=(0, 1))([1.0, 2.0], np.ones((2, 3), dtype=np.float32))
    np.testing.assert_array_equal(dx, [2.0, 4.0])
    assert dy.shape == (2, 3) and dy.dtype == np.float32 and not dy.any()


@pytest.mark.parametrize(
    "f",
    [lambda x: 3.0, lambda x: np.float32(2.0), lambda x: np.array([4.0]), lambda x: 7],
    ids=["float", "numpy-scalar", "array", "int"],
)
def test_constant_result_gives_zeros(f):
    value, dx = value_and_grad(f)(np.array([1.0, 2.0]))
    assert type(value) is float
    np.testing.assert_array_equal(dx, [0.0, 0.0])


def test_detached_result_gives_zeros():
    dx = grad(lambda x: x.detach().sum())(np.array([1.0, 2.0]))
    np.testing.assert_array_equal(dx, [0.0, 0.0])


# ------------------------------------------------------------------ grad mode


def test_works_inside_no_grad_and_restores_it():
    modes = []

    def f(x):
        modes.append(is_grad_enabled())
        return (x * x).sum()

    with no_grad():
        dx = grad(f)([1.0, 3.0])
        assert not is_grad_enabled()
        _, dx2 = value_and_grad(f)([1.0, 3.0])
        assert not is_grad_enabled()
        jac = jacobian(f)([1.0, 3.0])
        assert not is_grad_enabled()
    assert is_grad_enabled()
    assert modes == [True, True, True]
    for result in (dx, dx2, jac):
        np.testing.assert_array_equal(result, [2.0, 6.0])


def test_mode_is_restored_when_f_raises():
    def f(x):
        raise KeyError("boom")

    with no_grad():
        with pytest.raises(KeyError, match="boom"):
            grad(f)(1.0)
        assert not is_grad_enabled()
    with pytest.raises(KeyError):
        grad(f)(1.0)
    assert is_grad_enabled()

    def raises_inside_no_grad(x):
        with no_grad():
            raise ValueError("inner")

    with no_grad():
        with pytest.raises(ValueError, match="inner"):
            grad(raises_inside_no_grad)(1.0)
        assert not is_grad_enabled()
    assert is_grad_enabled()


def test_no_grad_inside_f_still_works():
    def f(x):
        with no_grad():
            scale = x * 2  # a constant for the gradient
        return (x * scale).sum()

    np.testing.assert_array_equal(grad(f)([1.0, 2.0]), [2.0, 4.0])
    assert is_grad_enabled()


# ------------------------------------------------------------------ errors


def test_non_scalar_result_is_refused():
    with pytest.raises(ValueError, match=r"shape \(3,\).*jacobian"):
        grad(lambda x: x * 2)(np.ones(3))
    with pytest.raises(ValueError, match=r"shape \(2, 2\)"):
        value_and_grad(lambda x: x)(np.ones((2, 2)))


@pytest.mark.parametrize(
    ("result", "name"),
    [(None, "NoneType"), ("loss", "str"), ([Tensor(1.0)], "list"), ((1.0, 2.0), "tuple")],
)
def test_result_that_is_not_a_tensor_is_refused(result, name):
    def returns_it(x):
        return result

    with pytest.raises(
        TypeError, match=rf"grad\(returns_it\): returns_it must return a Tensor, got {name}"
    ):
        grad(returns_it)(1.0)
    with pytest.raises(TypeError, match=name):
        jacobian(returns_it)(1.0)


@pytest.mark.parametrize("argnums", [-1, (0, -1)])
def test_negative_argnums_are_refused(argnums):
    with pytest.raises(ValueError, match="counted from 0"):
        grad(lambda x, y: x, argnums=argnums)


@pytest.mark.parametrize("argnums", [1.0, "0", True, (0, None), None, {0}])
def test_argnums_of_the_wrong_type_are_refused(argnums):
    for transform in (grad, value_and_grad, jacobian):
        with pytest.raises(TypeError, match="argnums must be an int or a tuple of ints"):
            transform(lambda x, y: x, argnums=argnums)


def test_empty_or_repeated_argnums_are_refused():
    with pytest.raises(ValueError, match="empty"):
        grad(lambda x: x, argnums=())
    with pytest.raises(ValueError, match="repeats"):
        grad(lambda x, y: x, argnums=(1, 1))


def test_argnums_beyond_the_positional_arguments():
    def f(x, y=1.0):
        return x * y

    with pytest.raises(TypeError, match="at least 2 positional arguments, got 1"):
        grad(f, argnums=1)(2.0)
    with pytest.raises(TypeError, match="positional"):
        grad(f, argnums=1)(2.0, y=3.0)  # keywords are not differentiated
    assert grad(f, argnums=np.int64(1))(2.0, 3.0) == 2.0
    dx, dy = grad(f, argnums=[0, 1])(2.0, 3.0)  # a list is taken as a tuple
    assert (dx, dy) == (3.0, 2.0)


def test_f_must_be_callable():
    with pytest.raises(TypeError, match="f must be a function, got int"):
        grad(3)


def test_argument_that_is_not_numbers_is_refused():
    with pytest.raises(TypeError, match="cannot differentiate argument 0"):
        grad(lambda x: x)("abc")


# ------------------------------------------------------------------ jacobian


def test_jacobian_against_finite_differences():
    A = RNG.standard_normal((3, 4))
    x = RNG.standard_normal(4)

    def f(x):
        return (A @ x).tanh().softmax()

    def f_numpy(x):
        t = np.tanh(A @ x)
        e = np.exp(t - t.max())
        return e / e.sum()

    jac = jacobian(f)(x)
    assert jac.shape == (3, 4)
    np.testing.assert_allclose(jac, central_differences(f_numpy, [x], 0), atol=1e-9)
    # by hand: (diag(s) - s s') diag(1 - t^2) A
    s, t = f_numpy(x), np.tanh(A @ x)
    np.testing.assert_allclose(
        jac, (np.diag(s) - np.outer(s, s)) @ ((1 - t**2)[:, None] * A), atol=1e-12
    )


def test_jacobian_shapes_and_several_arguments():
    a = RNG.standard_normal((2, 3))
    b = RNG.standard_normal(3)

    def f(a, b):
        return a * b  # result (2, 3)

    ja, jb = jacobian(f, argnums=(0, 1))(a, b)
    assert ja.shape == (2, 3, 2, 3) and jb.shape == (2, 3, 3)
    np.testing.assert_allclose(ja, central_differences(f, [a, b], 0), atol=1e-9)
    np.testing.assert_allclose(jb, central_differences(f, [a, b], 1), atol=1e-9)
    # calling again gives the same (no accumulation across the per-element passes)
    np.testing.assert_array_equal(jacobian(f)(a, b), ja)


def test_jacobian_of_a_scalar_and_of_constants():
    x = np.array([1.0, 2.0])
    np.testing.assert_array_equal(
        jacobian(lambda x: (x * x).sum())(x), grad(lambda x: (x * x).sum())(x)
    )
    j = jacobian(lambda x, y: y * 2, argnums=0)(x, Tensor([1.0, 2.0, 3.0]))
    assert j.shape == (3, 2) and not j.any()
    j = jacobian(lambda x: np.ones(4))(x)
    assert j.shape == (4, 2) and not j.any()
    j = jacobian(lambda x: x[:0])(x)  # an empty result
    assert j.shape == (0, 2)
    assert jacobian(lambda x: x * 2)(np.float32(3.0)).dtype == np.float32


# ------------------------------------------------------------------ namespace


def test_public_names():
    for name in ("grad", "value_and_grad", "jacobian"):
        assert name in minigrad.__all__
        assert getattr(minigrad, name).__module__ == "minigrad"


# ------------------------------------------------------------------ SciPy


def test_scipy_minimize_rosenbrock_with_exact_gradients():
    optimize = pytest.importorskip("scipy.optimize")

    def rosenbrock(x):
        return (100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2).sum()

    fun = value_and_grad(rosenbrock)
    x0 = np.array([-1.2, 1.0])
    value, gradient = fun(x0)
    assert type(value) is float and value == pytest.approx(optimize.rosen(x0), rel=1e-12)
    assert gradient.dtype == np.float64 and gradient.shape == (2,)
    np.testing.assert_allclose(gradient, optimize.rosen_der(x0), rtol=1e-12)

    result = optimize.minimize(fun, x0, jac=True, method="BFGS", options={"gtol": 1e-10})
    assert result.success, result.message
    np.testing.assert_allclose(result.x, [1.0, 1.0], atol=1e-5)
    x0 = np.array([1.3, 0.7, 0.8, 1.9, 1.2])  # in five dimensions too, with L-BFGS-B
    result = optimize.minimize(fun, x0, jac=True, method="L-BFGS-B", options={"gtol": 1e-10})
    np.testing.assert_allclose(result.x, np.ones(5), atol=1e-5)
