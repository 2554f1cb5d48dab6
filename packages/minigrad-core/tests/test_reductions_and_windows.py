"""min, var, std, logsumexp, argmax/argmin, the shape ops and sliding windows.

Their gradients are checked in the gradcheck table (test_gradients.py); here: values
against NumPy, the conventions at ties and at the limits (zero variance, a slice of
-inf), float32, 0-d and empty tensors, errors, and a convolution built from windows.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

from minigrad import Tensor, gradcheck

RNG = np.random.default_rng(20240611)


@pytest.fixture
def strict():
    # Overflow, division by zero and invalid operations raise, as does any warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", divide="raise", invalid="raise"):
            yield


# ------------------------------------------------------------------------------ min


def test_min_splits_the_gradient_evenly_between_ties():
    x = Tensor([[2.0, 1.0, 1.0], [0.5, 3.0, 0.5], [4.0, 4.0, 4.0]])
    x.min(axis=1).backward(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(x.grad, [[0, 0.5, 0.5], [1, 0, 1], [1, 1, 1]])
    y = Tensor([[2.0, 1.0], [1.0, 5.0]])
    y.min().backward()
    np.testing.assert_array_equal(y.grad, [[0, 0.5], [0.5, 0]])
    z = Tensor([[2.0, 1.0], [1.0, 5.0]])
    z.min(axis=0, keepdims=True).backward(np.array([[4.0, 6.0]]))
    np.testing.assert_array_equal(z.grad, [[0, 6], [4, 0]])


def test_min_is_numpys_min():
    a = RNG.standard_normal((3, 4, 5))
    for axis in (None, 0, -1, (0, 2)):
        for keepdims in (False, True):
            got = Tensor(a).min(axis=axis, keepdims=keepdims).data
            np.testing.assert_array_equal(got, a.min(axis=axis, keepdims=keepdims))


def test_min_over_an_empty_axis_is_refused_and_other_axes_work():
    x = Tensor(np.zeros((0, 3)))
    with pytest.raises(ValueError, match=re.escape("min: cannot take the minimum over an axis")):
        x.min(axis=0)
    y = x.min(axis=1)
    assert y.shape == (0,)
    y.sum().backward()
    assert x.grad.shape == (0, 3)


# ----------------------------------------------------------------------- var and std


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("axis", [None, 0, -1, (0, 2), (2, 1, 0)])
@pytest.mark.parametrize("ddof", [0, 1, 2.5])
def test_var_and_std_are_numpys(dtype, axis, ddof):
    a = RNG.standard_normal((3, 4, 5)).astype(dtype)
    for keepdims in (False, True):
        v = Tensor(a).var(axis=axis, keepdims=keepdims, ddof=ddof)
        s = Tensor(a).std(axis=axis, keepdims=keepdims, ddof=ddof)
        assert v.dtype == dtype and s.dtype == dtype
        tol = 1e-6 if dtype == np.float32 else 1e-14
        want = a.var(axis=axis, keepdims=keepdims, ddof=ddof)
        np.testing.assert_allclose(v.data, want, rtol=tol)
        want = a.std(axis=axis, keepdims=keepdims, ddof=ddof)
        np.testing.assert_allclose(s.data, want, rtol=tol)


def test_var_gradient_by_hand():
    x = Tensor([1.0, 2.0, 3.0, 6.0])
    x.var(ddof=1).backward()
    np.testing.assert_allclose(x.grad, 2 * (x.data - 3.0) / 3)


def test_std_of_a_constant_slice_has_gradient_zero_as_in_pytorch(strict):
    x = Tensor([[2.0, 2.0, 2.0], [1.0, 2.0, 4.0]])
    s = x.std(axis=1, ddof=1)
    assert s.data[0] == 0.0
    s.sum().backward()
    np.testing.assert_array_equal(x.grad[0], [0.0, 0.0, 0.0])
    assert np.all(np.isfinite(x.grad[1]))
    c = Tensor(np.full(4, 3.0))
    c.std().backward()  # a full reduction too, and the 0-d case
    np.testing.assert_array_equal(c.grad, np.zeros(4))
    z = Tensor(5.0)
    z.std().backward()
    assert z.grad == 0.0


def test_var_and_std_without_degrees_of_freedom_give_inf_and_nan_silently(strict):
    x = Tensor([1.0, 2.0, 4.0])
    assert x.var(ddof=3).item() == np.inf  # a positive sum over 0, as NumPy and PyTorch
    assert x.std(ddof=4).item() == np.inf  # (the divisor is max(N - ddof, 0))
    assert np.isnan(Tensor([2.0, 2.0]).var(ddof=2).item())  # 0 / 0
    assert np.isnan(Tensor([5.0]).std(ddof=1).item())  # one sample has no spread
    v = x.var(axis=0, ddof=3)
    v.backward()
    assert np.all(np.isinf(x.grad))  # 2 (x - mean) / 0
    y = Tensor([5.0])
    y.std(ddof=1).backward()
    assert np.isnan(y.grad[0])  # as PyTorch


def test_var_of_an_empty_axis_is_nan_like_numpy(strict):
    x = Tensor(np.zeros((0, 3)))
    v = x.var(axis=0)
    np.testing.assert_array_equal(v.data, [np.nan] * 3)
    assert x.std(axis=1).shape == (0,)
    x.std(axis=0).sum().backward()
    assert x.grad.shape == (0, 3)


def test_var_refuses_a_ddof_that_is_not_a_number():
    with pytest.raises(TypeError, match="var: ddof must be an int or a float"):
        Tensor([1.0, 2.0]).var(ddof="1")
    with pytest.raises(TypeError, match="std: ddof must be an int or a float"):
        Tensor([1.0, 2.0]).std(ddof=True)


# ------------------------------------------------------------------------- logsumexp


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_logsumexp_is_finite_and_exact_for_huge_inputs(strict, dtype):
    x = Tensor(np.array([[1e4, 1e4, -1e4], [-1e4, -1e4, -1e4], [0.0, 1.0, 2.0]], dtype=dtype))
    y = x.logsumexp(axis=1)
    assert y.dtype == dtype
    want = [1e4 + np.log(2), -1e4 + np.log(3), np.log(np.exp([0.0, 1.0, 2.0]).sum())]
    np.testing.assert_allclose(y.data, want, rtol=1e-6)
    y.sum().backward()
    assert x.grad.dtype == dtype
    np.testing.assert_allclose(x.grad.sum(axis=1), 1.0, rtol=1e-6)  # a softmax per row
    np.testing.assert_allclose(x.grad[0], [0.5, 0.5, 0.0], atol=1e-7)
    np.testing.assert_allclose(x.grad[1], [1 / 3] * 3, rtol=1e-6)


def test_logsumexp_matches_numpys_logaddexp():
    a = RNG.standard_normal((3, 4, 5)) * 10
    for axis in (None, 1, -1, (0, 2)):
        for keepdims in (False, True):
            got = Tensor(a).logsumexp(axis=axis, keepdims=keepdims).data
            want = np.logaddexp.reduce(a, axis=axis, keepdims=keepdims)
            np.testing.assert_allclose(got, want, rtol=1e-13)


def test_logsumexp_of_minus_infinity_follows_pytorch():
    inf = np.inf
    x = Tensor([[-inf, -inf, -inf], [1.0, -inf, 2.0], [inf, 1.0, -inf]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning escapes
        y = x.logsumexp(axis=1)
        assert y.data[0] == -inf and y.data[2] == inf
        np.testing.assert_allclose(y.data[1], np.logaddexp(1.0, 2.0))
        y.backward()  # (not y.sum(): -inf + inf)
    assert np.all(np.isnan(x.grad[0]))  # exp(-inf - -inf), as in PyTorch
    np.testing.assert_allclose(x.grad[1], [1 / (1 + np.e), 0.0, 1 / (1 + 1 / np.e)])
    assert np.isnan(x.grad[2, 0]) and x.grad[2, 1] == 0.0 and x.grad[2, 2] == 0.0


def test_logsumexp_of_nothing_is_minus_infinity(strict):
    x = Tensor(np.zeros((0, 3)))
    np.testing.assert_array_equal(x.logsumexp(axis=0).data, [-np.inf] * 3)
    assert x.logsumexp().item() == -np.inf
    x.logsumexp(axis=1).sum().backward()
    assert x.grad.shape == (0, 3)


# --------------------------------------------------------------------- argmax, argmin


def test_argmax_and_argmin_return_numpys_indices_as_int64_arrays():
    a = RNG.standard_normal((3, 4))
    x = Tensor(a)
    for op in ("argmax", "argmin"):
        for axis in (None, 0, 1, -1):
            for keepdims in (False, True):
                got = getattr(x, op)(axis=axis, keepdims=keepdims)
                assert isinstance(got, np.ndarray) and got.dtype == np.int64
                np.testing.assert_array_equal(got, getattr(a, op)(axis=axis, keepdims=keepdims))
    assert Tensor([3.0, 7.0, 7.0]).argmax().item() == 1  # the first of tied maxima
    assert Tensor([3.0, 1.0, 1.0]).argmin().item() == 1
    assert Tensor(4.0).argmax().shape == ()


def test_argmax_of_nothing_is_refused():
    with pytest.raises(ValueError, match=re.escape("argmax: cannot search the whole tensor")):
        Tensor(np.zeros((0, 3))).argmax()
    with pytest.raises(ValueError, match=re.escape("argmin: cannot search axis 0")):
        Tensor(np.zeros((0, 3))).argmin(axis=0)
    np.testing.assert_array_equal(Tensor(np.zeros((0, 3))).argmax(axis=1), np.zeros(0))
    with pytest.raises(TypeError, match=re.escape("argmax: axis must be an int, got (0, 1)")):
        Tensor(np.zeros((2, 3))).argmax(axis=(0, 1))


# ---------------------------------------------------------- flatten, squeeze, unsqueeze


def test_flatten_follows_pytorch():
    x = Tensor(RNG.standard_normal((2, 3, 4, 5)))
    assert x.flatten().shape == (120,)
    assert x.flatten(1).shape == (2, 60)
    assert x.flatten(1, 2).shape == (2, 12, 5)
    assert x.flatten(-2).shape == (2, 3, 20)
    assert x.flatten(2, 2).shape == (2, 3, 4, 5)
    np.testing.assert_array_equal(x.flatten(1, 2).data, x.data.reshape(2, 12, 5))
    assert Tensor(3.0).flatten().shape == (1,)
    assert Tensor(np.zeros((0, 3))).flatten().shape == (0,)  # (not ambiguous with 0 rows)
    assert Tensor(np.zeros((2, 0, 3))).flatten(0, 1).shape == (0, 3)
    with pytest.raises(ValueError, match=re.escape("flatten: start_dim 2 comes after end_dim 1")):
        x.flatten(2, 1)
    with pytest.raises(ValueError, match=re.escape("flatten: axis 4 is out of bounds")):
        x.flatten(4)
    with pytest.raises(TypeError, match=re.escape("flatten: start_dim must be an int")):
        x.flatten((0, 1))


def test_squeeze_leaves_axes_that_are_not_of_length_1_as_pytorch():
    x = Tensor(np.zeros((1, 3, 1, 2)))
    assert x.squeeze().shape == (3, 2)
    assert x.squeeze(0).shape == (3, 1, 2)
    assert x.squeeze(1).shape == (1, 3, 1, 2)  # NumPy would raise
    assert x.squeeze((0, -2, 1)).shape == (3, 2)
    assert Tensor(2.0).squeeze().shape == ()
    assert Tensor(2.0).squeeze(0).shape == ()
    assert Tensor(np.zeros((0, 1))).squeeze().shape == (0,)
    with pytest.raises(ValueError, match=re.escape("squeeze: axis 4 is out of bounds for a")):
        x.squeeze(4)


def test_unsqueeze_counts_axes_in_the_result():
    x = Tensor(np.zeros((2, 3)))
    assert [x.unsqueeze(i).shape for i in range(-3, 3)] == [
        (1, 2, 3),
        (2, 1, 3),
        (2, 3, 1),
        (1, 2, 3),
        (2, 1, 3),
        (2, 3, 1),
    ]
    assert Tensor(2.0).unsqueeze(-1).shape == (1,)
    with pytest.raises(
        ValueError,
        match=re.escape(
            "unsqueeze: axis 3 is out of bounds for a "
            "tensor of shape (2, 3); the result has 3 "
            "axes, so valid axes are -3 to 2"
        ),
    ):
        x.unsqueeze(3)
    with pytest.raises(TypeError, match="unsqueeze: axis must be an int"):
        x.unsqueeze((0, 1))


def test_shape_ops_pass_the_gradient_back_and_keep_float32():
    a = RNG.standard_normal((1, 3, 1)).astype(np.float32)
    x = Tensor(a)
    for y in (x.flatten(), x.squeeze(), x.unsqueeze(2), x.pad(1), x.sliding_windows(2, 1)):
        assert y.dtype == np.float32
    y = x.squeeze().unsqueeze(0).flatten()
    y.backward(np.arange(3.0, dtype=np.float32))
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad, np.arange(3.0).reshape(1, 3, 1))


# ------------------------------------------------------------------------------- pad


@pytest.mark.parametrize(
    "pad_width",
    [0, 2, (1, 2), [(1, 2)], ((0, 1), (2, 0), (1, 1)), np.array([[1, 0], [0, 2], [3, 0]])],
)
def test_pad_is_numpys_constant_pad(pad_width):
    a = RNG.standard_normal((2, 3, 2))
    x = Tensor(a)
    y = x.pad(pad_width, value=-2.5)
    np.testing.assert_array_equal(y.data, np.pad(a, pad_width, constant_values=-2.5))
    w = RNG.standard_normal(y.shape)
    y.backward(w)
    inside = np.pad(np.ones_like(a), pad_width) == 1  # where x landed
    np.testing.assert_array_equal(x.grad, w[inside].reshape(a.shape))


def test_pad_of_0d_and_empty_tensors_is_numpys():
    assert Tensor(2.0).pad(3).shape == ()
    e = Tensor(np.zeros((0, 2)))
    y = e.pad(((1, 0), (0, 1)), value=7.0)
    np.testing.assert_array_equal(y.data, np.pad(e.data, ((1, 0), (0, 1)), constant_values=7.0))
    y.sum().backward()
    assert e.grad.shape == (0, 2)


def test_pad_errors_name_the_op_and_the_shape():
    x = Tensor(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=re.escape("pad: pad_width must not be negative")):
        x.pad(-1)
    with pytest.raises(
        ValueError,
        match=re.escape(
            "pad: pad_width ((1, 1), (1, 1), (1, 1)) does not fit a tensor of shape (2, 3)"
        ),
    ):
        x.pad(((1, 1), (1, 1), (1, 1)))
    with pytest.raises(TypeError, match=re.escape("pad: pad_width must be ints")):
        x.pad(1.5)


# ----------------------------------------------------------------------- sliding windows


def window_gradient_by_loops(shape, window_shape, axis, g):
    """The gradient of sliding_windows, one window at a time: the definition, slowly."""
    grad = np.zeros(shape)
    counts = g.shape[: len(shape)]
    for start in np.ndindex(*counts):
        for offsets in np.ndindex(*window_shape):
            index = list(start)
            for ax, o in zip(axis, offsets, strict=True):
                index[ax] += o
            grad[tuple(index)] += g[start + offsets]
    return grad


@pytest.mark.parametrize(
    ("shape", "window_shape", "axis"),
    [
        ((7,), (3,), (0,)),
        ((5, 6), (3, 3), (0, 1)),
        ((2, 5, 6), (3, 3), (1, 2)),
        ((4, 5), (2, 3), (1, 0)),
        ((3, 4, 5), (2,), (-1,)),
        ((8,), (2, 3), (0, 0)),
        ((5, 6), (1, 1), (0, 1)),
        ((5, 6), (5, 6), (0, 1)),
    ],
)
def test_sliding_windows_are_numpys_and_accumulate_overlapping_gradients(shape, window_shape, axis):
    a = RNG.standard_normal(shape)
    x = Tensor(a)
    y = x.sliding_windows(window_shape, axis=axis)
    want = np.lib.stride_tricks.sliding_window_view(a, window_shape, axis)
    np.testing.assert_array_equal(y.data, want)
    assert not y.data.flags.writeable  # a read-only view
    assert np.shares_memory(y.data, a)  # nothing copied
    g = RNG.standard_normal(y.shape)
    y.backward(g)
    normal = tuple(ax % len(shape) for ax in axis)
    np.testing.assert_allclose(x.grad, window_gradient_by_loops(shape, window_shape, normal, g))


def test_each_element_gets_the_number_of_windows_it_is_in():
    x = Tensor(np.zeros((4, 5)))
    x.sliding_windows((2, 3)).sum().backward()
    rows, cols = np.array([1, 2, 2, 1]), np.array([1, 2, 3, 2, 1])
    np.testing.assert_array_equal(x.grad, np.outer(rows, cols))


def test_sliding_windows_of_empty_tensors_and_float32():
    e = Tensor(np.zeros((0, 5)))
    y = e.sliding_windows(3, axis=1)
    assert y.shape == (0, 3, 3)
    y.sum().backward()
    assert e.grad.shape == (0, 5)
    x = Tensor(np.ones((4, 4), dtype=np.float32))
    y = x.sliding_windows((2, 2))
    assert y.dtype == np.float32
    y.sum().backward()
    assert x.grad.dtype == np.float32
    assert x.grad[1, 1] == 4.0


def test_sliding_windows_errors_name_the_op_and_the_shape():
    x = Tensor(np.zeros((3, 4)))
    with pytest.raises(
        ValueError,
        match=re.escape(
            "sliding_windows: windows of shape (4,) along "
            "axes (0,) do not fit a tensor of shape (3, 4)"
        ),
    ):
        x.sliding_windows(4, axis=0)
    with pytest.raises(
        ValueError,
        match=re.escape("sliding_windows: window_shape 2 gives 1 lengths for 2 axes (every axis)"),
    ):
        x.sliding_windows(2)
    with pytest.raises(
        ValueError,
        match=re.escape("sliding_windows: axis 2 is out of bounds for a tensor of shape (3, 4)"),
    ):
        x.sliding_windows(2, axis=2)
    with pytest.raises(TypeError, match=re.escape("sliding_windows: window_shape must be an int")):
        x.sliding_windows(2.0, axis=0)
    with pytest.raises(
        ValueError,
        match=re.escape("sliding_windows: axis 0 is out of bounds for a tensor of shape ()"),
    ):
        Tensor(1.0).sliding_windows(1, axis=0)


def conv2d(x, w, b):
    """A 2-D convolution (cross-correlation, stride 1, no padding) from sliding windows.

    ``x``: (N, C, H, W), ``w``: (C_out, C, kh, kw), ``b``: (C_out,); returns
    (N, C_out, H - kh + 1, W - kw + 1), as PyTorch's ``conv2d``.
    """
    c_out, c, kh, kw = w.shape
    windows = x.sliding_windows((kh, kw), axis=(2, 3))  # (N, C, H', W', kh, kw)
    n, _, h, wd = windows.shape[:4]
    patches = windows.transpose(0, 2, 3, 1, 4, 5).reshape(n, h, wd, c * kh * kw)
    out = patches @ w.reshape(c_out, c * kh * kw).T + b  # (N, H', W', C_out)
    return out.transpose(0, 3, 1, 2)


def conv2d_by_loops(x, w, b):
    n, _, height, width = x.shape
    c_out, _, kh, kw = w.shape
    out = np.zeros((n, c_out, height - kh + 1, width - kw + 1))
    for i in range(n):
        for o in range(c_out):
            for r in range(height - kh + 1):
                for s in range(width - kw + 1):
                    out[i, o, r, s] = np.sum(x[i, :, r : r + kh, s : s + kw] * w[o]) + b[o]
    return out


def test_a_convolution_from_sliding_windows_matches_loops_in_value_and_gradient():
    x, w, b = (
        RNG.standard_normal((2, 3, 5, 6)),
        RNG.standard_normal((4, 3, 3, 2)),
        RNG.standard_normal(4),
    )
    got = conv2d(Tensor(x), Tensor(w), Tensor(b))
    np.testing.assert_allclose(got.data, conv2d_by_loops(x, w, b), rtol=1e-12, atol=1e-12)
    assert gradcheck(conv2d, Tensor(x), Tensor(w), Tensor(b))
    # with padding and a stride of 2 (every other window), as a layer would use them
    assert gradcheck(
        lambda x, w: conv2d(x.pad(((0, 0), (0, 0), (1, 1), (1, 1))), w, np.zeros(4))[..., ::2, ::2],
        Tensor(x),
        Tensor(w),
    )


def test_max_pooling_from_sliding_windows():
    a = RNG.standard_normal((2, 4, 6))
    x = Tensor(a)
    pooled = x.sliding_windows((2, 2), axis=(1, 2))[:, ::2, ::2].max(axis=(-2, -1))
    want = a.reshape(2, 2, 2, 3, 2).max(axis=(2, 4))
    np.testing.assert_array_equal(pooled.data, want)
    pooled.sum().backward()
    np.testing.assert_array_equal(x.grad, (a == np.repeat(np.repeat(want, 2, 1), 2, 2)) * 1.0)


# ------------------------------------------------------------------- errors name the op


@pytest.mark.parametrize("op", ["min", "var", "std", "logsumexp", "argmax", "argmin", "squeeze"])
def test_an_axis_out_of_range_names_the_op_the_axis_and_the_shape(op):
    x = Tensor(np.zeros((2, 3)))
    message = f"{op}: axis 3 is out of bounds for a tensor of shape (2, 3); valid axes are -2 to 1"
    with pytest.raises(
        np.exceptions.AxisError if hasattr(np, "exceptions") else ValueError,
        match=re.escape(message),
    ):
        getattr(x, op)(axis=3)
    with pytest.raises(TypeError, match=re.escape(f"{op}: axis must be")):
        getattr(x, op)(axis=1.0)


@pytest.mark.parametrize("op", ["min", "var", "std", "logsumexp"])
def test_a_repeated_axis_names_the_op(op):
    with pytest.raises(ValueError, match=re.escape(f"{op}: invalid axis (0, 0) for a tensor")):
        getattr(Tensor(np.zeros((2, 3))), op)(axis=(0, 0))


@pytest.mark.parametrize("op", ["min", "var", "std", "logsumexp"])
def test_reductions_of_0d_tensors(op):
    x = Tensor(1.5)
    y = getattr(x, op)()
    assert y.shape == ()
    y.backward()
    assert x.grad.shape == ()
    assert getattr(x, op)(axis=0, keepdims=True).shape == ()
