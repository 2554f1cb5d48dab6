"""Values and gradients agree with PyTorch's, op by op.

PyTorch is not a dependency of minigrad: these tests run only where it is installed
(``python -m pip install torch`` beside minigrad-core) and are skipped elsewhere. Each
check runs one operation forward and backward in both libraries, in float64, on the same
inputs (zeros, ties and large magnitudes where they matter) with the same random output
gradient, and compares values and gradients at a relative tolerance of 1e-7.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from minigrad import Tensor, maximum, minimum

torch = pytest.importorskip("torch")
F = torch.nn.functional

RTOL = 1e-7
# Where a result is the difference of two nearly equal numbers in PyTorch's formula
# (1 + erf(x / sqrt 2) or 1 + tanh(u) far in gelu's lower tail), its last bits are
# rounding; what remains there is far below this.
ATOL = 1e-15


def check_against_torch(
    ours: Callable[..., Tensor],
    theirs: Callable[..., Any],
    *arrays: np.ndarray,
    constants: tuple[np.ndarray, ...] = (),
) -> None:
    """Run ``ours`` on minigrad tensors and ``theirs`` on torch tensors; compare both ways.

    ``arrays`` become tensors that require gradients; ``constants`` are passed after
    them, as they are to minigrad and as tensors without gradients to torch.
    """
    mine = [Tensor(a.copy()) for a in arrays]
    ref = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in arrays]
    out = ours(*mine, *constants)
    expected = theirs(*ref, *(torch.tensor(c, dtype=torch.float64) for c in constants))
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=RTOL, atol=ATOL)
    assert out.dtype == np.float64 and out.shape == tuple(expected.shape)
    weights = np.random.default_rng(len(out.data.shape)).standard_normal(out.shape)
    out.backward(weights)
    expected.backward(torch.from_numpy(weights))
    for i, (t, r) in enumerate(zip(mine, ref, strict=True)):
        np.testing.assert_allclose(
            t.grad, r.grad.numpy(), rtol=RTOL, atol=ATOL, err_msg=f"gradient of input {i}"
        )


# ---------------------------------------------------------------- elementwise functions

_rng = np.random.default_rng(2024)
# Zeros of both signs, the tails of every activation, +-1e4, and random values between.
EDGES = [-1e4, -1e3, -100.0, -40.0, -30.0, -20.0, -10.0, -8.0, -6.0, -5.0, -3.0, -1.0, -0.5]
EDGES += [-1e-3, -1e-8, -0.0, 0.0, 1e-8, 1e-3, 0.5, 1.0, 3.0, 5.0, 10.0, 19.9, 20.0, 20.1]
EDGES += [30.0, 100.0, 1e3, 1e4]
VALUES = np.concatenate(
    [EDGES, _rng.standard_normal(60) * 3, _rng.uniform(-25.0, 25.0, 65)]
).reshape(12, 13)

UNARY = {
    "sqrt": (lambda x: x.sqrt(), torch.sqrt),
    "square": (lambda x: x.square(), torch.square),
    "sin": (lambda x: x.sin(), torch.sin),
    "cos": (lambda x: x.cos(), torch.cos),
    "leaky_relu": (lambda x: x.leaky_relu(), F.leaky_relu),
    "leaky_relu-0.2": (lambda x: x.leaky_relu(0.2), lambda x: F.leaky_relu(x, 0.2)),
    "leaky_relu-negative": (lambda x: x.leaky_relu(-0.5), lambda x: F.leaky_relu(x, -0.5)),
    "leaky_relu-above-1": (lambda x: x.leaky_relu(1.5), lambda x: F.leaky_relu(x, 1.5)),
    "gelu": (lambda x: x.gelu(), F.gelu),
    "gelu-tanh": (lambda x: x.gelu("tanh"), lambda x: F.gelu(x, approximate="tanh")),
    "softplus": (lambda x: x.softplus(), F.softplus),
    "softplus-beta2-threshold5": (
        lambda x: x.softplus(beta=2.0, threshold=5.0),
        lambda x: F.softplus(x, beta=2.0, threshold=5.0),
    ),
    "softplus-beta0.5-threshold1": (
        lambda x: x.softplus(0.5, 1.0),
        lambda x: F.softplus(x, 0.5, 1.0),
    ),
    "softplus-negative-beta": (
        lambda x: x.softplus(beta=-1.5),
        lambda x: F.softplus(x, beta=-1.5),
    ),
}


@pytest.mark.parametrize(("ours", "theirs"), UNARY.values(), ids=UNARY.keys())
def test_elementwise_functions_match_torch(ours, theirs):
    # (sqrt: nan below 0 and a gradient of inf at 0 and -inf at -0.0 in both)
    check_against_torch(ours, theirs, VALUES)
    check_against_torch(ours, theirs, np.array(0.75))  # 0-d


def test_sqrt_of_positive_values_matches_torch():
    check_against_torch(lambda x: x.sqrt(), torch.sqrt, np.abs(VALUES) + 1e-300)


# ---------------------------------------------------------------- maximum and minimum


def _ties(*shape: int) -> np.ndarray:
    """Small integers as floats: many elements equal those of another such array."""
    return _rng.integers(-2, 3, size=shape).astype(np.float64)


PAIRS = {
    "same-shape": ((4, 5), (4, 5)),
    "broadcast-both": ((3, 1), (1, 4)),
    "broadcast-3d": ((2, 3, 4), (3, 1)),
    "0d-and-array": ((), (2, 3)),
    "0d-0d": ((), ()),
}


@pytest.mark.parametrize("name", ["maximum", "minimum"])
@pytest.mark.parametrize(("shape_a", "shape_b"), PAIRS.values(), ids=PAIRS.keys())
def test_maximum_and_minimum_match_torch_with_ties(name, shape_a, shape_b):
    ours = maximum if name == "maximum" else minimum
    theirs = getattr(torch, name)
    a, b = _ties(*shape_a), _ties(*shape_b)
    check_against_torch(ours, theirs, a, b)
    check_against_torch(ours, theirs, a, constants=(b,))  # a constant on one side
    check_against_torch(lambda x: ours(x, x), lambda x: theirs(x, x), a)  # all tied
    c = np.array([[-1e4, 0.0, 1e4], [5.0, -0.0, np.nan]])
    check_against_torch(ours, theirs, c, _ties(2, 3))  # nan propagates (with g to both)


# ------------------------------------------------ reductions, shape ops, sliding windows

AXES = [None, 0, -1, (0, 2)]


def _dims(axis: Any, ndim: int) -> Any:
    """PyTorch's ``dim`` for one of minigrad's axes (logsumexp needs every axis named)."""
    return tuple(range(ndim)) if axis is None else axis


@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("ddof", [0, 1, 2])
@pytest.mark.parametrize("name", ["var", "std"])
def test_var_and_std_match_torch_with_ddof_as_correction(name, axis, keepdims, ddof):
    x = _rng.standard_normal((3, 4, 5))
    check_against_torch(
        lambda t: getattr(t, name)(axis=axis, keepdims=keepdims, ddof=ddof),
        lambda t: getattr(torch, name)(t, dim=axis, correction=ddof, keepdim=keepdims),
        x,
    )


@pytest.mark.parametrize("name", ["var", "std"])
def test_var_and_std_match_torch_at_zero_variance(name):
    x = np.array([[2.0, 2.0, 2.0], [1.0, -3.0, 0.5], [7.0, 7.0, 7.0]])
    for ddof in (0, 1):
        check_against_torch(  # std: gradient 0 where std is 0, in both
            lambda t, ddof=ddof: getattr(t, name)(axis=1, ddof=ddof),
            lambda t, ddof=ddof: getattr(torch, name)(t, dim=1, correction=ddof),
            x,
        )
    check_against_torch(lambda t: getattr(t, name)(), lambda t: getattr(torch, name)(t), x[0])


@pytest.mark.filterwarnings("ignore:.*degrees of freedom")
@pytest.mark.parametrize("name", ["var", "std"])
def test_var_and_std_without_degrees_of_freedom_match_torch_along_an_axis(name):
    # N == ddof: inf (nan for a constant slice); gradients inf, -inf and nan alike.
    x = np.array([[1.0, 2.0, 4.0], [3.0, 3.0, 3.0]])
    check_against_torch(
        lambda t: getattr(t, name)(axis=1, ddof=3),
        lambda t: getattr(torch, name)(t, dim=1, correction=3),
        x,
    )


LARGE = np.array([[1e4, 1e4, -1e4, 0.0], [-1e4, -1e4 + 1.0, -1e4, -1e4], [3.0, -2.0, 0.5, 1e4]])


@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 1)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_logsumexp_matches_torch_at_large_magnitudes(axis, keepdims):
    for x in (LARGE, _rng.standard_normal((3, 4)) * 5):
        check_against_torch(
            lambda t: t.logsumexp(axis=axis, keepdims=keepdims),
            lambda t: torch.logsumexp(t, dim=_dims(axis, 2), keepdim=keepdims),
            x,
        )


def test_logsumexp_of_infinities_matches_torch():
    inf = np.inf
    x = np.array([[-inf, -inf, -inf], [1.0, -inf, 2.0], [inf, 1.0, -inf]])
    # (the value is -inf, 2.3.., inf; its gradient nan in the rows of -inf and of +inf)
    check_against_torch(lambda t: t.logsumexp(axis=1), lambda t: torch.logsumexp(t, dim=1), x)
    check_against_torch(lambda t: t.logsumexp(), lambda t: torch.logsumexp(t, dim=0), x[0])


@pytest.mark.parametrize("axis", AXES)
@pytest.mark.parametrize("keepdims", [False, True])
def test_min_matches_torch_amin_with_ties(axis, keepdims):
    x = _ties(3, 4, 5)  # many ties: the gradient is split evenly between them in both
    check_against_torch(
        lambda t: t.min(axis=axis, keepdims=keepdims),
        lambda t: torch.amin(t, dim=_dims(axis, 3), keepdim=keepdims),
        x,
    )
    check_against_torch(lambda t: t.min(), torch.min, x)  # torch's full min splits too


def test_argmax_and_argmin_match_torch_with_ties():
    x = _ties(4, 6)
    t = torch.from_numpy(x)
    for op in ("argmax", "argmin"):
        assert getattr(Tensor(x), op)().item() == getattr(torch, op)(t).item()
        for axis in (0, 1, -1):
            for keepdims in (False, True):
                want = getattr(torch, op)(t, dim=axis, keepdim=keepdims).numpy()
                np.testing.assert_array_equal(getattr(Tensor(x), op)(axis, keepdims), want)


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (lambda t: t.flatten(), lambda t: t.flatten()),
        (lambda t: t.flatten(1), lambda t: t.flatten(1)),
        (lambda t: t.flatten(-3, -2), lambda t: t.flatten(-3, -2)),
        (lambda t: t.squeeze(), lambda t: t.squeeze()),
        (lambda t: t.squeeze(1), lambda t: t.squeeze(1)),
        (lambda t: t.squeeze(2), lambda t: t.squeeze(2)),  # length 3: left as it is
        (lambda t: t.squeeze((0, 1, 2)), lambda t: t.squeeze((0, 1, 2))),
        (lambda t: t.unsqueeze(0), lambda t: t.unsqueeze(0)),
        (lambda t: t.unsqueeze(-1), lambda t: t.unsqueeze(-1)),
        (lambda t: t.unsqueeze(-3), lambda t: t.unsqueeze(-3)),
    ],
)
def test_shape_ops_match_torch(ours, theirs):
    check_against_torch(ours, theirs, _rng.standard_normal((2, 1, 3, 1)))


def test_flatten_of_0d_matches_torch():
    check_against_torch(lambda t: t.flatten(), lambda t: t.flatten(), np.array(1.5))


@pytest.mark.parametrize(
    ("pad_width", "torch_pad"),  # NumPy's pairs, first axis first; PyTorch's last axis first
    [
        (((0, 1), (2, 3)), (2, 3, 0, 1)),
        (((1, 1), (0, 0)), (0, 0, 1, 1)),
        (2, (2, 2, 2, 2)),
        ((0, 3), (0, 3, 0, 3)),
    ],
)
def test_pad_matches_torch_functional_pad(pad_width, torch_pad):
    x = _rng.standard_normal((3, 4))
    check_against_torch(
        lambda t: t.pad(pad_width, value=-1.5),
        lambda t: F.pad(t, torch_pad, mode="constant", value=-1.5),
        x,
    )


def test_sliding_windows_match_torch_unfold():
    x = _rng.standard_normal((2, 5, 6))
    check_against_torch(lambda t: t.sliding_windows(3, axis=1), lambda t: t.unfold(1, 3, 1), x)
    check_against_torch(
        lambda t: t.sliding_windows((3, 3), axis=(1, 2)),
        lambda t: t.unfold(1, 3, 1).unfold(2, 3, 1),
        x,
    )
    check_against_torch(  # the windows' axes in the order of `axis`, as unfold appends them
        lambda t: t.sliding_windows((2, 3), axis=(2, 1)),
        lambda t: t.unfold(2, 2, 1).unfold(1, 3, 1),
        x,
    )


def _conv2d(x: Tensor, w: Tensor, b: Tensor) -> Tensor:
    """PyTorch's conv2d (stride 1, no padding) from sliding windows and a matrix product."""
    kh, kw = w.shape[2:]
    windows = x.sliding_windows((kh, kw), axis=(2, 3))  # (N, C, H', W', kh, kw)
    patches = windows.transpose(0, 2, 3, 1, 4, 5).flatten(3)  # (N, H', W', C * kh * kw)
    return (patches @ w.flatten(1).T + b).transpose(0, 3, 1, 2)


def test_a_convolution_from_sliding_windows_matches_torch_conv2d():
    x, w, b = (_rng.standard_normal(s) for s in ((2, 3, 6, 7), (4, 3, 3, 2), (4,)))
    check_against_torch(_conv2d, F.conv2d, x, w, b)
