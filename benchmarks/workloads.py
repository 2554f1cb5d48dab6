"""The benchmark workloads, each written three ways: by hand in NumPy, on minigrad, on PyTorch.

One step is: forward, loss, zero the gradients, backward, SGD update. Input tensors do not
require gradients. The hand-written NumPy step derives forward and backward by hand with
no graph at all (the practical limit, and the denominator of every ratio); it uses the
in-place updates a careful NumPy programmer would write (``z += b``, ``np.maximum(z, 0,
out=z)``).

The ``-orig`` workloads run minigrad's step as the original single-package API wrote its
training loop (``MinigradOriginalLoop``); W6 is a network with residual connections, whose
graph is not a chain (``NumpyResidual``).

Every implementation exposes ``step()`` (returns the loss), ``params()`` and ``grads()``
(lists of NumPy arrays in the same order), so ``check_same`` can compare them after the
first step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Array = np.ndarray[Any, Any]


# --------------------------------------------------------------------------------------
# Workload definitions
# --------------------------------------------------------------------------------------


@dataclass
class MLPProblem:
    """A dense network trained by SGD: data, initial weights, activation and loss."""

    x: Array
    target: Array  # float targets (MSE) or integer labels (cross-entropy)
    weights: list[tuple[Array, Array]]  # (w of shape (nin, nout), b of shape (nout,))
    activation: str  # hidden layers; the last layer is linear
    loss: str  # "mse" or "ce"
    lr: float
    seed: int
    sizes: list[int] = field(default_factory=list)
    # How minigrad's step is written: "library" (MLP, a loss from minigrad.nn, SGD) or
    # "original" (the original API's loop: hand-written MSE, raw-array update).
    loop: str = "library"


@dataclass
class ChainProblem:
    """A chain of elementwise ops on a small vector: ``h = tanh(h * a + p) * 1.5``, repeated.

    Four ops per cycle (``*``, ``+``, ``tanh``, ``*`` by a Python scalar); ``p`` is the
    only parameter and is used by every cycle, so its gradient accumulates ``cycles``
    times. The loss is ``h.sum()``.
    """

    x: Array
    a: Array
    p: Array
    cycles: int
    lr: float


@dataclass
class ResidualProblem:
    """A dense network with a SiLU and residual blocks, trained by SGD on cross-entropy.

    ``h = silu(x @ W0 + b0)``, then ``h = h + relu(h @ Wk + bk)`` for each block, then
    ``out = h @ Wout + bout``. Every hidden activation is used twice, by the next layer and
    by the skip connection (and the SiLU's input by both of its factors), so the graph is
    not a chain: backward must add the contributions of two paths of different length.
    """

    x: Array
    labels: Array  # integer class labels
    weights: list[tuple[Array, Array]]  # input layer, the blocks, output layer: (w, b)
    lr: float


Problem = MLPProblem | ChainProblem | ResidualProblem


@dataclass
class Workload:
    """A named benchmark workload with its target ratio to the NumPy reference."""

    key: str
    title: str
    target: float | None
    torch_reported: float | None  # PyTorch's ratio measured when the issue was written
    make: Callable[[], Problem]
    heavy: bool = False  # seconds per step: fewer rounds
    dtype: str = "float64"


def _mlp_problem(
    x: Array,
    target: Array,
    sizes: list[int],
    activation: str,
    loss: str,
    lr: float,
    seed: int,
    dtype: str = "float64",
    loop: str = "library",
) -> MLPProblem:
    """Initial weights come from ``minigrad.nn.MLP`` with the given seed."""
    from minigrad.nn import MLP

    model = MLP(sizes[0], sizes[1:], activation=activation, seed=seed, dtype=dtype)
    weights = [(layer.W.data.copy(), layer.b.data.copy()) for layer in model.layers]
    return MLPProblem(
        x=np.ascontiguousarray(x, dtype=dtype),
        target=target.astype(dtype) if loss == "mse" else target.astype(np.int64),
        weights=weights,
        activation=activation,
        loss=loss,
        lr=lr,
        seed=seed,
        sizes=sizes,
        loop=loop,
    )


def _one_hot(labels: Array, n: int) -> Array:
    out = np.zeros((labels.shape[0], n))
    out[np.arange(labels.shape[0]), labels] = 1.0
    return out


def w1(activation: str, loop: str = "library") -> MLPProblem:
    from minigrad.data import make_moons

    x, y = make_moons(100, noise=0.1, random_state=0)
    return _mlp_problem(
        x, y.reshape(-1, 1), [2, 16, 16, 1], activation, "mse", 0.05, seed=1, loop=loop
    )


def w2(loop: str = "library") -> MLPProblem:
    from minigrad.data import make_spirals

    x, y = make_spirals(1000, 5, noise=0.1, random_state=0)
    if loop == "original":
        # The original API has no cross-entropy: its loop takes MSE on one-hot targets.
        return _mlp_problem(
            x, _one_hot(y, 5), [2, 64, 64, 5], "relu", "mse", 0.1, seed=2, loop=loop
        )
    return _mlp_problem(x, y, [2, 64, 64, 5], "relu", "ce", 0.1, seed=2)


def w3(loop: str = "library") -> MLPProblem:
    rng = np.random.default_rng(3)
    x = rng.standard_normal((256, 784))
    y = _one_hot(rng.integers(0, 10, 256), 10)
    return _mlp_problem(x, y, [784, 128, 64, 10], "relu", "mse", 0.01, seed=3, loop=loop)


def w4() -> ChainProblem:
    rng = np.random.default_rng(4)
    return ChainProblem(
        x=rng.standard_normal(16),
        a=rng.uniform(0.5, 1.0, 16),
        p=rng.standard_normal(16) * 0.5,
        cycles=500,
        lr=0.01,
    )


def w5(dtype: str) -> MLPProblem:
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4096, 512))
    y = _one_hot(rng.integers(0, 10, 4096), 10)
    return _mlp_problem(x, y, [512, 1024, 1024, 10], "relu", "mse", 0.01, seed=5, dtype=dtype)


def w6() -> ResidualProblem:
    """Batch 256, 64-256-256-10 with a SiLU after the input layer and two residual blocks."""
    from minigrad.nn import Layer

    rng = np.random.default_rng(6)
    x = rng.standard_normal((256, 64))
    labels = rng.integers(0, 10, 256)
    # Initial weights from minigrad.nn's Layer, as the other workloads take them from MLP.
    shapes = [(64, 256), (256, 256), (256, 256), (256, 10)]
    layers = [Layer(nin, nout, None, seed=60 + i) for i, (nin, nout) in enumerate(shapes)]
    weights = [(layer.W.data.copy(), layer.b.data.copy()) for layer in layers]
    return ResidualProblem(x=x, labels=labels, weights=weights, lr=0.05)


# Each "-orig" variant follows the workload it rewrites, so that tables list them side by
# side; it has the same target (and, but for W2's loss, the same reference).
ORIGINAL_LOOP = "the original API's loop"
WORKLOADS = [
    Workload("W1-relu", "moons 100, MLP 2-16-16-1 relu, MSE", 1.8, 4.3, lambda: w1("relu")),
    Workload(
        "W1-relu-orig",
        f"moons 100, MLP 2-16-16-1 relu, MSE; {ORIGINAL_LOOP}",
        1.8,
        None,
        lambda: w1("relu", "original"),
    ),
    Workload("W1-tanh", "moons 100, MLP 2-16-16-1 tanh, MSE", 1.8, 4.3, lambda: w1("tanh")),
    Workload(
        "W1-tanh-orig",
        f"moons 100, MLP 2-16-16-1 tanh, MSE; {ORIGINAL_LOOP}",
        1.8,
        None,
        lambda: w1("tanh", "original"),
    ),
    Workload("W2", "spirals 1000 x 5 classes, MLP 2-64-64-5 relu, cross-entropy", 1.2, 1.6, w2),
    Workload(
        "W2-orig",
        f"spirals 1000 x 5 classes, MLP 2-64-64-5 relu, MSE on one-hot; {ORIGINAL_LOOP}",
        1.2,
        None,
        lambda: w2("original"),
    ),
    Workload("W3", "256 x 784, MLP 784-128-64-10 relu, MSE on one-hot", 1.10, 1.45, w3),
    Workload(
        "W3-orig",
        f"256 x 784, MLP 784-128-64-10 relu, MSE on one-hot; {ORIGINAL_LOOP}",
        1.10,
        None,
        lambda: w3("original"),
    ),
    Workload("W4", "chain of 2,000 elementwise ops on a (16,) tensor", 3.0, 4.3, w4),
    Workload(
        "W5-f64",
        "batch 4096, MLP 512-1024-1024-10 relu, MSE, float64",
        1.05,
        1.26,
        lambda: w5("float64"),
        heavy=True,
    ),
    Workload(
        "W5-f32",
        "batch 4096, MLP 512-1024-1024-10 relu, MSE, float32",
        1.05,
        1.13,
        lambda: w5("float32"),
        heavy=True,
        dtype="float32",
    ),
    Workload(
        "W6",
        "batch 256, 64-256-256-10 with a SiLU and 2 residual blocks, cross-entropy",
        1.15,
        None,
        w6,
    ),
]


# --------------------------------------------------------------------------------------
# Hand-written NumPy
# --------------------------------------------------------------------------------------


def _cross_entropy_by_hand(out: Array, labels: Array, rows: Array) -> tuple[float, Array]:
    """Mean cross-entropy of ``softmax(out)`` against integer labels, and its gradient.

    The gradient ``(softmax(out) - one_hot(labels)) / n`` is written into the array of
    exponentials, so the loss costs no array beyond those the forward needs.
    """
    shifted = out - out.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    s = e.sum(axis=1, keepdims=True)
    logp = shifted[rows, labels] - np.log(s[:, 0])
    loss = -float(logp.mean())
    g = e
    g /= s
    g[rows, labels] -= 1.0
    g *= 1.0 / out.shape[0]
    return loss, g


class NumpyMLP:
    """The MLP step with forward and backward derived by hand; no graph."""

    def __init__(self, prob: MLPProblem) -> None:
        self.x = prob.x
        self.target = prob.target
        self.ws = [w.copy() for w, _ in prob.weights]
        self.bs = [b.copy() for _, b in prob.weights]
        self.tanh = prob.activation == "tanh"
        self.ce = prob.loss == "ce"
        self.lr = prob.lr
        self.rows = np.arange(prob.x.shape[0])
        self.gws: list[Array] = []
        self.gbs: list[Array] = []

    def step(self) -> float:
        self.gws, self.gbs = [], []  # "zero grads": drop the previous step's gradients
        ws, bs, last = self.ws, self.bs, len(self.ws) - 1
        # forward: keep each layer's input (and the hidden activations for their derivative)
        inputs = []
        h = self.x
        for i in range(last + 1):
            inputs.append(h)
            z = h @ ws[i]
            z += bs[i]
            if i < last:
                if self.tanh:
                    np.tanh(z, out=z)
                else:
                    np.maximum(z, 0, out=z)
            h = z
        out = h
        # loss and its gradient with respect to the output
        if self.ce:
            loss, g = _cross_entropy_by_hand(out, self.target, self.rows)
        else:
            diff = out - self.target
            loss = float(np.vdot(diff, diff)) / diff.size
            g = diff
            g *= 2.0 / diff.size
        del h, z, out
        # backward, layer by layer, releasing each activation once it has been used
        gws: list[Array] = [np.empty(0)] * (last + 1)
        gbs: list[Array] = [np.empty(0)] * (last + 1)
        for i in range(last, -1, -1):
            if i < last:
                a = inputs.pop()  # this layer's activation output
                if self.tanh:
                    g *= 1.0 - a * a
                else:
                    g *= a > 0
                del a
            gws[i] = inputs[-1].T @ g  # this layer's input
            gbs[i] = g.sum(axis=0)
            if i > 0:
                g = g @ ws[i].T
        # SGD
        lr = self.lr
        for w, b, gw, gb in zip(ws, bs, gws, gbs, strict=True):
            w -= lr * gw
            b -= lr * gb
        self.gws, self.gbs = gws, gbs
        return loss

    def params(self) -> list[Array]:
        return [a for w, b in zip(self.ws, self.bs, strict=True) for a in (w, b)]

    def grads(self) -> list[Array]:
        return [a for w, b in zip(self.gws, self.gbs, strict=True) for a in (w, b)]


class NumpyChain:
    """The W4 chain with its backward written by hand."""

    def __init__(self, prob: ChainProblem) -> None:
        self.x, self.a, self.p = prob.x, prob.a, prob.p.copy()
        self.cycles, self.lr = prob.cycles, prob.lr
        self.gp = np.zeros_like(self.p)

    def step(self) -> float:
        a, p = self.a, self.p
        ts = []
        h = self.x
        for _ in range(self.cycles):
            h = h * a
            h = h + p
            h = np.tanh(h)
            ts.append(h)
            h = h * 1.5
        loss = float(h.sum())
        g = np.ones_like(h)
        gp = np.zeros_like(p)
        for t in reversed(ts):
            g = g * 1.5
            g = g * (1.0 - t * t)
            gp += g
            g = g * a
        p -= self.lr * gp
        self.gp = gp
        return loss

    def params(self) -> list[Array]:
        return [self.p]

    def grads(self) -> list[Array]:
        return [self.gp]


class NumpyResidual:
    """W6 with forward and backward derived by hand; no graph.

    Forward: ``z = x @ W0 + b0``, ``s = sigmoid(z)``, ``h = z * s`` (SiLU); per block
    ``a = relu(h @ Wk + bk)``, ``h = h + a``; ``out = h @ Wout + bout``. Backward: the
    gradient ``g`` of a block's output reaches its input twice, through the skip
    connection (``g`` itself) and through the block (``(g * (a > 0)) @ Wk.T``), and the
    two are added. SiLU' is ``s + z s (1 - s)``, taken as ``1 + (1 - s)(h - 1)`` from the
    SiLU's output ``h = z s``, so that ``z`` need not be kept beside it.
    """

    def __init__(self, prob: ResidualProblem) -> None:
        self.x = prob.x
        self.labels = prob.labels
        self.ws = [w.copy() for w, _ in prob.weights]
        self.bs = [b.copy() for _, b in prob.weights]
        self.lr = prob.lr
        self.rows = np.arange(prob.x.shape[0])
        self.gws: list[Array] = []
        self.gbs: list[Array] = []

    def step(self) -> float:
        self.gws, self.gbs = [], []  # "zero grads": drop the previous step's gradients
        ws, bs = self.ws, self.bs
        last = len(ws) - 1  # layers 1 .. last - 1 are the residual blocks
        # forward
        h = self.x @ ws[0]
        h += bs[0]
        s = np.negative(h)  # sigmoid(h) in place; exp's overflow to inf gives s = 0, right
        with np.errstate(over="ignore"):
            np.exp(s, out=s)
        s += 1.0
        np.reciprocal(s, out=s)
        h *= s  # SiLU: the pre-activation's buffer now holds the SiLU's output
        silu_out = h  # with s, all that SiLU' needs
        block_inputs, block_outputs = [], []
        for k in range(1, last):
            a = h @ ws[k]
            a += bs[k]
            np.maximum(a, 0, out=a)
            block_inputs.append(h)
            block_outputs.append(a)
            h = h + a  # a new array: the block's input and output are both needed later
        out = h @ ws[last]
        out += bs[last]
        loss, g = _cross_entropy_by_hand(out, self.labels, self.rows)
        del out
        # backward, releasing each activation once it has been used
        gws: list[Array] = [np.empty(0)] * (last + 1)
        gbs: list[Array] = [np.empty(0)] * (last + 1)
        gws[last] = h.T @ g
        gbs[last] = g.sum(axis=0)
        g = g @ ws[last].T
        del h
        for k in range(last - 1, 0, -1):
            a = block_outputs.pop()
            # the block's path; a's buffer is free once its mask is taken
            g_block = np.multiply(g, a > 0, out=a)
            del a
            h_in = block_inputs.pop()
            gws[k] = h_in.T @ g_block
            gbs[k] = g_block.sum(axis=0)
            del h_in
            g_in = g_block @ ws[k].T
            g_in += g  # plus the skip connection's
            g = g_in
            del g_block, g_in
        # SiLU' = 1 + (1 - s)(h - 1), written into the buffers of s and of the SiLU's
        # output h, which nothing needs any more
        np.subtract(1.0, s, out=s)
        silu_out -= 1.0
        silu_out *= s
        silu_out += 1.0
        g *= silu_out
        del silu_out, s
        gws[0] = self.x.T @ g
        gbs[0] = g.sum(axis=0)
        # SGD
        lr = self.lr
        for w, b, gw, gb in zip(ws, bs, gws, gbs, strict=True):
            w -= lr * gw
            b -= lr * gb
        self.gws, self.gbs = gws, gbs
        return loss

    def params(self) -> list[Array]:
        return [a for w, b in zip(self.ws, self.bs, strict=True) for a in (w, b)]

    def grads(self) -> list[Array]:
        return [a for w, b in zip(self.gws, self.gbs, strict=True) for a in (w, b)]


def numpy_impl(prob: Problem) -> NumpyMLP | NumpyChain | NumpyResidual:
    if isinstance(prob, ChainProblem):
        return NumpyChain(prob)
    if isinstance(prob, ResidualProblem):
        return NumpyResidual(prob)
    return NumpyMLP(prob)


# --------------------------------------------------------------------------------------
# minigrad
# --------------------------------------------------------------------------------------


class _MinigradModel:
    """The parameters and gradients of a step whose ``self.model`` is a minigrad module."""

    model: Any

    def params(self) -> list[Array]:
        return [p.data for p in self.model.parameters()]

    def grads(self) -> list[Array]:
        return [p.grad for p in self.model.parameters()]


class MinigradMLP(_MinigradModel):
    """The step as a minigrad user writes it: ``MLP``, a loss from ``minigrad.nn``, ``SGD``."""

    def __init__(self, prob: MLPProblem) -> None:
        from minigrad import Tensor
        from minigrad.nn import MLP, SGD, cross_entropy, mse_loss

        dtype = prob.x.dtype.name
        self.model = MLP(
            prob.sizes[0], prob.sizes[1:], activation=prob.activation, seed=prob.seed, dtype=dtype
        )
        for layer, (w, b) in zip(self.model.layers, prob.weights, strict=True):
            if not (np.array_equal(layer.W.data, w) and np.array_equal(layer.b.data, b)):
                raise RuntimeError("MLP with the same seed gave different weights")
        self.x = Tensor(prob.x, requires_grad=False)
        if prob.loss == "ce":
            self.target: Any = prob.target
            self.loss_fn: Any = cross_entropy
        else:
            self.target = Tensor(prob.target, requires_grad=False)
            self.loss_fn = mse_loss
        self.opt = SGD(self.model.parameters(), lr=prob.lr)

    def step(self) -> Any:
        out = self.model(self.x)
        loss = self.loss_fn(out, self.target)
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        return loss


class MinigradChain:
    """The W4 chain on minigrad tensors."""

    def __init__(self, prob: ChainProblem) -> None:
        from minigrad import Tensor
        from minigrad.nn import SGD

        self.x = Tensor(prob.x, requires_grad=False)
        self.a = Tensor(prob.a, requires_grad=False)
        self.p = Tensor(prob.p.copy())
        self.cycles = prob.cycles
        self.opt = SGD([self.p], lr=prob.lr)

    def step(self) -> Any:
        a, p = self.a, self.p
        h = self.x
        for _ in range(self.cycles):
            h = h * a
            h = h + p
            h = h.tanh()
            h = h * 1.5
        loss = h.sum()
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        return loss

    def params(self) -> list[Array]:
        return [self.p.data]

    def grads(self) -> list[Array]:
        return [self.p.grad]


class MinigradOriginalLoop(_MinigradModel):
    """The training loop of the original single-package API's example, as written.

    ``from minigrad import MLP, Tensor``; the data are wrapped in tensors every step, the
    loss is ``((ypred - y) ** 2).mean()`` (that API has no loss functions: W2's variant
    takes MSE on one-hot targets), the gradients are zeroed by assigning fresh arrays and
    the update is written on the raw arrays, each walking ``model.parameters()`` anew.
    The data tensors are created with ``requires_grad=False``, as all data is in the
    benchmarks.
    """

    def __init__(self, prob: MLPProblem) -> None:
        from minigrad import MLP, Tensor

        if prob.loss != "mse":
            raise ValueError("the original API's loop computes MSE; give it float targets")
        dtype = prob.x.dtype.name
        self.tensor = Tensor
        self.model = MLP(
            prob.sizes[0], prob.sizes[1:], activation=prob.activation, seed=prob.seed, dtype=dtype
        )
        for layer, (w, b) in zip(self.model.layers, prob.weights, strict=True):
            if not (np.array_equal(layer.W.data, w) and np.array_equal(layer.b.data, b)):
                raise RuntimeError("MLP with the same seed gave different weights")
        self.X, self.y, self.lr = prob.x, prob.target, prob.lr

    def step(self) -> Any:
        Tensor, model, lr = self.tensor, self.model, self.lr
        ypred = model(Tensor(self.X, requires_grad=False))
        loss = ((ypred - Tensor(self.y, requires_grad=False)) ** 2).mean()
        for p in model.parameters():
            p.grad = np.zeros_like(p.data)
        loss.backward()
        for p in model.parameters():
            p.data += -lr * p.grad
        return loss


class MinigradResidual:
    """W6 as a minigrad user writes it: ``Tensor.linear``, ``cross_entropy``, ``SGD``."""

    def __init__(self, prob: ResidualProblem) -> None:
        from minigrad import Tensor
        from minigrad.nn import SGD, cross_entropy

        self.layers = [(Tensor(w.copy()), Tensor(b.copy())) for w, b in prob.weights]
        self.x = Tensor(prob.x, requires_grad=False)
        self.labels = prob.labels
        self.cross_entropy = cross_entropy
        self.opt = SGD([t for layer in self.layers for t in layer], lr=prob.lr)

    def step(self) -> Any:
        (w_in, b_in), *blocks, (w_out, b_out) = self.layers
        h = self.x.linear(w_in, b_in)
        h = h * h.sigmoid()  # SiLU
        for w, b in blocks:
            h = h + h.linear(w, b, "relu")
        out = h.linear(w_out, b_out)
        loss = self.cross_entropy(out, self.labels)
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        return loss

    def params(self) -> list[Array]:
        return [t.data for layer in self.layers for t in layer]

    def grads(self) -> list[Array]:
        return [t.grad for layer in self.layers for t in layer]


def minigrad_impl(
    prob: Problem,
) -> MinigradMLP | MinigradOriginalLoop | MinigradChain | MinigradResidual:
    if isinstance(prob, ChainProblem):
        return MinigradChain(prob)
    if isinstance(prob, ResidualProblem):
        return MinigradResidual(prob)
    if prob.loop == "original":
        return MinigradOriginalLoop(prob)
    return MinigradMLP(prob)


# --------------------------------------------------------------------------------------
# PyTorch (only when it is importable; never a dependency)
# --------------------------------------------------------------------------------------


class TorchMLP:
    """The same step on PyTorch CPU tensors, same dtype and initial weights."""

    def __init__(self, prob: MLPProblem) -> None:
        import torch
        import torch.nn.functional as F  # noqa: N812 - PyTorch's own convention

        self.torch = torch
        self.ws = [torch.tensor(w, requires_grad=True) for w, _ in prob.weights]
        self.bs = [torch.tensor(b, requires_grad=True) for _, b in prob.weights]
        self.x = torch.from_numpy(prob.x)
        self.target = torch.from_numpy(prob.target)
        self.act = torch.tanh if prob.activation == "tanh" else torch.relu
        self.loss_fn = F.cross_entropy if prob.loss == "ce" else F.mse_loss
        self.opt = torch.optim.SGD(
            [a for w, b in zip(self.ws, self.bs, strict=True) for a in (w, b)], lr=prob.lr
        )

    def step(self) -> Any:
        h = self.x
        last = len(self.ws) - 1
        for i, (w, b) in enumerate(zip(self.ws, self.bs, strict=True)):
            h = h @ w + b
            if i < last:
                h = self.act(h)
        loss = self.loss_fn(h, self.target)
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        return loss

    def params(self) -> list[Array]:
        return [a.detach().numpy() for w, b in zip(self.ws, self.bs, strict=True) for a in (w, b)]

    def grads(self) -> list[Array]:
        out = []
        for w, b in zip(self.ws, self.bs, strict=True):
            out += [w.grad.numpy(), b.grad.numpy()]  # type: ignore[union-attr]
        return out


class TorchChain:
    """The W4 chain on PyTorch tensors."""

    def __init__(self, prob: ChainProblem) -> None:
        import torch

        self.torch = torch
        self.x = torch.from_numpy(prob.x)
        self.a = torch.from_numpy(prob.a)
        self.p = torch.tensor(prob.p, requires_grad=True)
        self.cycles = prob.cycles
        self.opt = torch.optim.SGD([self.p], lr=prob.lr)

    def step(self) -> Any:
        a, p, tanh = self.a, self.p, self.torch.tanh
        h = self.x
        for _ in range(self.cycles):
            h = h * a
            h = h + p
            h = tanh(h)
            h = h * 1.5
        loss = h.sum()
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        return loss

    def params(self) -> list[Array]:
        return [self.p.detach().numpy()]

    def grads(self) -> list[Array]:
        return [self.p.grad.numpy()]  # type: ignore[union-attr]


class TorchResidual:
    """W6 on PyTorch CPU tensors, same initial weights."""

    def __init__(self, prob: ResidualProblem) -> None:
        import torch
        import torch.nn.functional as F  # noqa: N812 - PyTorch's own convention

        self.torch = torch
        self.cross_entropy = F.cross_entropy
        self.layers = [
            (torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True))
            for w, b in prob.weights
        ]
        self.x = torch.from_numpy(prob.x)
        self.labels = torch.from_numpy(prob.labels)
        self.opt = torch.optim.SGD([t for layer in self.layers for t in layer], lr=prob.lr)

    def step(self) -> Any:
        torch = self.torch
        (w_in, b_in), *blocks, (w_out, b_out) = self.layers
        h = self.x @ w_in + b_in
        h = h * torch.sigmoid(h)  # SiLU
        for w, b in blocks:
            h = h + torch.relu(h @ w + b)
        out = h @ w_out + b_out
        loss = self.cross_entropy(out, self.labels)
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        return loss

    def params(self) -> list[Array]:
        return [t.detach().numpy() for layer in self.layers for t in layer]

    def grads(self) -> list[Array]:
        return [t.grad.numpy() for layer in self.layers for t in layer]  # type: ignore[union-attr]


def torch_impl(prob: Problem) -> TorchMLP | TorchChain | TorchResidual:
    """The PyTorch step; for the ``-orig`` workloads the same as their library-loop step."""
    if isinstance(prob, ChainProblem):
        return TorchChain(prob)
    if isinstance(prob, ResidualProblem):
        return TorchResidual(prob)
    return TorchMLP(prob)


# --------------------------------------------------------------------------------------
# The first-step check: a wrong engine cannot look fast
# --------------------------------------------------------------------------------------


def _as_float(loss: Any) -> float:
    if hasattr(loss, "item"):
        return float(loss.item())
    return float(loss)


def check_same(ref: Any, other: Any, dtype: str) -> dict[str, float]:
    """Run one step of each from the same weights; compare loss, gradients and new weights.

    The error of each array is ``max|other - ref| / max|ref|``: relative to the array's
    largest element, so small gradients are held to the same standard as large ones. Raises
    ``RuntimeError`` when any exceeds the tolerance (1e-10 in float64, 1e-4 in float32).
    """
    tol = 1e-10 if dtype == "float64" else 1e-4
    loss_ref = _as_float(ref.step())
    loss_other = _as_float(other.step())
    errors = {"loss": abs(loss_other - loss_ref) / max(abs(loss_ref), 1e-300)}
    for what, a_list, b_list in (
        ("grad", ref.grads(), other.grads()),
        ("param", ref.params(), other.params()),
    ):
        if len(a_list) != len(b_list):
            raise RuntimeError(f"{what}: {len(b_list)} arrays, the reference has {len(a_list)}")
        worst = 0.0
        for i, (a, b) in enumerate(zip(a_list, b_list, strict=True)):
            b = np.asarray(b)
            if a.shape != b.shape:
                raise RuntimeError(f"{what} {i}: shape {b.shape}, the reference has {a.shape}")
            scale = float(np.max(np.abs(a))) if a.size else 0.0
            scale = scale if scale > 0 else 1.0
            worst = max(worst, float(np.max(np.abs(b.astype(np.float64) - a))) / scale)
        errors[what] = worst
    bad = {k: v for k, v in errors.items() if not v <= tol}
    if bad:
        raise RuntimeError(
            f"{type(other).__name__} disagrees with the hand-written NumPy step beyond {tol:g}: "
            + ", ".join(f"{k} error {v:.3g}" for k, v in bad.items())
        )
    return errors
