"""The layers with PyTorch's names give PyTorch's values and gradients, weights copied by name.

Skipped where PyTorch is not installed (it is never a dependency). In float64, values and
gradients must agree to a relative 1e-7.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from minigrad import Tensor  # noqa: E402
from minigrad.nn import (  # noqa: E402
    Conv2d,
    Dropout,
    Embedding,
    Flatten,
    LayerNorm,
    MaxPool2d,
    Module,
    ReLU,
    Sequential,
)

RTOL = 1e-7
RNG = np.random.default_rng(2024)


def to_torch(ours: Module, theirs: torch.nn.Module) -> None:
    """Copy our parameters into PyTorch's module by their state_dict names."""
    state = {name: torch.from_numpy(array) for name, array in ours.state_dict().items()}
    theirs.load_state_dict(state, strict=True)


def compare(ours: Module, theirs: torch.nn.Module, x: np.ndarray) -> None:
    """Forward and backward (a random output gradient) in both; compare everything."""
    theirs = theirs.double()
    to_torch(ours, theirs)
    xt = torch.tensor(x, requires_grad=True)
    yt = theirs(xt)
    ours_x = Tensor(x.copy())
    y = ours(ours_x)
    np.testing.assert_allclose(y.data, yt.detach().numpy(), rtol=RTOL, atol=1e-12)
    g = RNG.standard_normal(y.shape)
    yt.backward(torch.from_numpy(g))
    y.backward(g)
    np.testing.assert_allclose(ours_x.grad, xt.grad.numpy(), rtol=RTOL, atol=1e-12)
    grads = {name: p.grad for name, p in theirs.named_parameters()}
    assert sorted(grads) == sorted(name for name, _ in ours.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad, grads[name].numpy(), rtol=RTOL, atol=1e-12)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"in_channels": 3, "out_channels": 4, "kernel_size": 3},
        {"in_channels": 3, "out_channels": 4, "kernel_size": 3, "padding": 1},
        {"in_channels": 2, "out_channels": 5, "kernel_size": (2, 3), "stride": (2, 1)},
        {"in_channels": 2, "out_channels": 3, "kernel_size": 3, "stride": 2, "padding": (2, 1)},
        {"in_channels": 3, "out_channels": 2, "kernel_size": 1, "bias": False},
    ],
    ids=str,
)
def test_conv2d(kwargs):
    ours = Conv2d(**kwargs, seed=0)
    compare(ours, torch.nn.Conv2d(**kwargs), RNG.standard_normal((2, kwargs["in_channels"], 7, 6)))


def test_conv2d_of_one_image():
    ours = Conv2d(2, 3, 3, padding=1, seed=0)
    compare(ours, torch.nn.Conv2d(2, 3, 3, padding=1), RNG.standard_normal((2, 5, 4)))


def test_conv2d_initialization_has_pytorchs_bounds():
    ours = Conv2d(4, 64, (3, 5), seed=0)
    theirs = torch.nn.Conv2d(4, 64, (3, 5))
    bound = 1 / math.sqrt(4 * 3 * 5)
    for name in ("weight", "bias"):
        a = getattr(ours, name).data
        b = getattr(theirs, name).detach().numpy()
        assert a.shape == b.shape
        for values in (a, b):
            assert np.abs(values).max() <= bound
        assert np.abs(a).max() > 0.9 * bound
    # Uniform on [-k, k]: standard deviation k / sqrt(3), as PyTorch's weights.
    a, b = ours.weight.data, theirs.weight.detach().numpy()
    assert abs(a.std() - bound / math.sqrt(3)) < 0.05 * bound
    assert abs(a.std() - b.std()) < 0.1 * bound


@pytest.mark.parametrize(("kernel", "stride"), [(2, None), (3, None), (2, 1), ((3, 2), (2, 1))])
def test_maxpool2d(kernel, stride):
    x = RNG.permutation(2 * 3 * 7 * 6).reshape(2, 3, 7, 6) / 7.0  # no ties
    compare(MaxPool2d(kernel, stride), torch.nn.MaxPool2d(kernel, stride), x)


@pytest.mark.parametrize(
    ("shape", "kwargs"), [(6, {}), ((3, 6), {"eps": 1e-3}), (6, {"bias": False})]
)
def test_layernorm(shape, kwargs):
    ours = LayerNorm(shape, **kwargs)
    for p in ours.parameters():  # not the ones and zeros they start at
        p.data[...] = RNG.standard_normal(p.shape)
    compare(ours, torch.nn.LayerNorm(shape, **kwargs), RNG.standard_normal((4, 3, 6)))
    ours = LayerNorm(shape, elementwise_affine=False)
    compare(
        ours, torch.nn.LayerNorm(shape, elementwise_affine=False), RNG.standard_normal((4, 3, 6))
    )


def test_layernorm_starts_as_pytorchs():
    ours, theirs = LayerNorm((2, 3)), torch.nn.LayerNorm((2, 3))
    for name, array in ours.state_dict().items():
        np.testing.assert_array_equal(array, theirs.state_dict()[name].numpy())


def test_embedding():
    ours = Embedding(7, 4, seed=0)
    theirs = torch.nn.Embedding(7, 4).double()
    to_torch(ours, theirs)
    indices = np.array([[0, 3, 3], [6, 3, 1]])
    out = ours(indices)
    expected = theirs(torch.from_numpy(indices))
    np.testing.assert_array_equal(out.data, expected.detach().numpy())
    g = RNG.standard_normal(out.shape)
    out.backward(g)
    expected.backward(torch.from_numpy(g))
    np.testing.assert_allclose(ours.weight.grad, theirs.weight.grad.numpy(), rtol=RTOL)


def test_flatten_relu_and_dropout_without_randomness():
    x = RNG.standard_normal((2, 3, 4, 5))
    for start, end in [(1, -1), (0, 2), (2, 3)]:
        compare(Flatten(start, end), torch.nn.Flatten(start, end), x)
    compare(ReLU(), torch.nn.ReLU(), x)
    compare(Dropout(0.5).eval(), torch.nn.Dropout(0.5).eval(), x)
    compare(Dropout(0.0), torch.nn.Dropout(0.0), x)
    compare(Dropout(1.0), torch.nn.Dropout(1.0), x)


def test_dropout_keeps_and_scales_as_pytorch():
    x = RNG.standard_normal((50, 40)) + 5.0  # no zeros of its own
    for ours in (Dropout(0.2, seed=0), Dropout(0.7, seed=0)):
        y = ours(x).data
        theirs = torch.nn.Dropout(ours.p)(torch.from_numpy(x)).numpy()
        for out in (y, theirs):
            kept = out != 0
            np.testing.assert_allclose(out[kept], x[kept] / (1 - ours.p), rtol=1e-15)
            assert abs(kept.mean() - (1 - ours.p)) < 0.05


def test_a_cnn_moves_between_minigrad_and_pytorch_by_state_dict_names():
    ours = Sequential(
        Conv2d(1, 4, 3, padding=1, seed=0),
        ReLU(),
        MaxPool2d(2),
        Conv2d(4, 6, 3, padding=1, seed=1),
        ReLU(),
        MaxPool2d(2),
        LayerNorm((6, 2, 2)),
        Dropout(0.5),
        Flatten(),
    ).eval()
    theirs = torch.nn.Sequential(
        torch.nn.Conv2d(1, 4, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(4, 6, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.LayerNorm((6, 2, 2)),
        torch.nn.Dropout(0.5),
        torch.nn.Flatten(),
    ).eval()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    # PyTorch's weights into minigrad, by name...
    ours.load_state_dict({k: v.double().numpy() for k, v in theirs.state_dict().items()})
    # ...and back (compare copies ours into PyTorch), with the same results.
    compare(ours, theirs, RNG.standard_normal((3, 1, 8, 8)))
