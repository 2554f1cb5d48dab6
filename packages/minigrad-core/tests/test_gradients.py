"""Every op's gradient, checked against central differences by `gradcheck`.

One table: each row is an expression over some inputs and how to draw them. The single
test below runs every row in float64 and in float32 (float32 inputs must give float32
outputs and gradients that agree with the float64 ones).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from minigrad import Tensor, _graph, _rules, concatenate, gradcheck, maximum, minimum, stack, where

# How inputs are drawn. "any": |x| in [0.2, 2] with random sign (away from the kinks of
# relu, abs and clip, and from division by zero); "pos": x in [0.5, 2] (log, pow).
ANY, POS = "any", "pos"


def case(name: str, fn: Callable[..., Tensor], *shapes: Any, kind: str = ANY) -> Any:
    return pytest.param(fn, shapes, kind, id=name)


def constant(values: Any, like: Tensor) -> Tensor:
    """A tensor that requires no gradient, in the dtype of ``like``."""
    return Tensor(np.asarray(values, dtype=like.dtype), requires_grad=False)


def rule_of(name: str) -> str | None:
    """The rule a case checks: its name up to the first '-', '(' or ':' (None for a mix)."""
    if name.startswith("mix:"):  # several rules combined: how backward adds them up
        return None
    head = re.split(r"[-(:]", name)[0]
    return RULE_ALIASES.get(head, head)


# Case names that do not start with their rule's name.
RULE_ALIASES = {"radd": "add", "rsub": "sub", "rdiv": "div", "rpow": "pow"}
RULE_ALIASES |= {"T": "transpose", "log_softmax": "log_softmax"}
# Operations that only change the shape record the reshape rule.
RULE_ALIASES |= {"flatten": "reshape", "squeeze": "reshape", "unsqueeze": "reshape"}


CASES = [
    # -- arithmetic, broadcasting both ways, 0-d --------------------------------------
    case("add", lambda a, b: a + b, (3, 4), (3, 4)),
    case("add-bcast-row", lambda a, b: a + b, (3, 4), (4,)),
    case("add-bcast-left", lambda a, b: a + b, (4,), (3, 4)),
    case("add-bcast-both", lambda a, b: a + b, (3, 1), (1, 4)),
    case("add-0d-left", lambda a, b: a + b, (), (2, 3)),
    case("add-0d-0d", lambda a, b: a + b, (), ()),
    case("sub", lambda a, b: a - b, (3, 1), (1, 4)),
    case("sub-bcast-3d", lambda a, b: a - b, (2, 3, 4), (3, 1)),
    case("sub-0d-right", lambda a, b: a - b, (2, 3), ()),
    case("mul", lambda a, b: a * b, (3, 4), (3, 4)),
    case("mul-bcast-both", lambda a, b: a * b, (4, 1, 3), (2, 1)),
    case("mul-0d", lambda a, b: a * b, (), (5,)),
    case("div", lambda a, b: a / b, (3, 4), (3, 4)),
    case("div-bcast-both", lambda a, b: a / b, (1, 4), (3, 1)),
    case("div-0d", lambda a, b: a / b, (3,), ()),
    case("pow-tensor-tensor", lambda a, b: a**b, (3, 4), (4,), kind=POS),
    case("pow-0d-exponent", lambda a, b: a**b, (2, 3), (), kind=POS),
    case("neg", lambda a: -a, (2, 3)),
    # -- scalars (Python and NumPy) and arrays on either side ---------------------------
    case("add-scalar", lambda a: a + 2.0, (3,)),
    case("radd-scalar", lambda a: 2 + a, (3,)),
    case("sub-scalar", lambda a: a - 1.5, (3,)),
    case("rsub-scalar", lambda a: 1.5 - a, (2, 2)),
    case("scale-numpy-scalar", lambda a: a * np.float64(3.0), (3,)),
    case("scale-numpy-scalar-left", lambda a: np.float32(3.0) * a, (3,)),
    case("scale-python-scalar", lambda a: a * 2.5, (2, 3)),
    case("scale-array-bcast", lambda a: a * np.array([[1.0], [-2.0]]), (3,)),
    case("scale-0d", lambda a: 3 * a, ()),
    # a tensor that requires no gradient is a constant factor, on either side
    case("scale-tensor-bcast", lambda a: a * constant([[1.0], [-2.0]], a), (3,)),
    case("scale-tensor-left", lambda a: constant([1.5, -0.5, 2.0], a) * a, (2, 1)),
    case("scale-tensor-0d", lambda a: a * constant(-1.5, a), (2, 3)),
    case("div-scalar", lambda a: a / 4, (3,)),
    case("rdiv-scalar", lambda a: 2.0 / a, (2, 3)),
    case("pow-2", lambda a: a**2, (2, 3)),
    case("pow-3", lambda a: a**3, (4,)),
    case("pow-half", lambda a: a**0.5, (4,), kind=POS),
    case("pow-negative", lambda a: a**-1.5, (4,), kind=POS),
    case("rpow-scalar", lambda a: 2.0**a, (4,)),
    case("add-array-const", lambda a: a + np.arange(6.0).reshape(2, 3), (3,)),
    case("rsub-array-const", lambda a: np.arange(3.0) - a, (2, 3)),
    case("scale-array-left", lambda a: np.arange(1.0, 4.0) * a, (2, 1)),
    # -- matmul: 1-D, 2-D, batched with broadcast batch axes ----------------------------
    case("matmul-2d", lambda a, b: a @ b, (3, 4), (4, 2)),
    case("matmul-1d-2d", lambda a, b: a @ b, (4,), (4, 2)),
    case("matmul-2d-1d", lambda a, b: a @ b, (3, 4), (4,)),
    case("matmul-1d-1d", lambda a, b: a @ b, (4,), (4,)),
    case("matmul-batch-2d", lambda a, b: a @ b, (2, 3, 4), (4, 5)),
    case("matmul-2d-batch", lambda a, b: a @ b, (3, 4), (2, 4, 5)),
    case("matmul-batch-batch", lambda a, b: a @ b, (2, 3, 4), (2, 4, 5)),
    case("matmul-batch-bcast", lambda a, b: a @ b, (2, 1, 3, 4), (3, 4, 2)),
    case("matmul-1d-batch", lambda a, b: a @ b, (4,), (2, 4, 3)),
    case("matmul-batch-1d", lambda a, b: a @ b, (2, 3, 4), (4,)),
    case("matmul-array-right", lambda a: a @ np.arange(8.0).reshape(4, 2), (3, 4)),
    case("matmul-array-left", lambda b: np.arange(12.0).reshape(3, 4) @ b, (4, 2)),
    # -- the fused dense layer ---------------------------------------------------------
    case("linear", lambda x, w, b: x.linear(w, b), (5, 3), (3, 4), (4,)),
    case("linear-relu", lambda x, w, b: x.linear(w, b, "relu"), (5, 3), (3, 4), (4,)),
    case("linear-tanh-3d", lambda x, w, b: x.linear(w, b, "tanh"), (2, 5, 3), (3, 4), (4,)),
    case("linear-sigmoid-1d", lambda x, w: x.linear(w, activation="sigmoid"), (3,), (3, 4)),
    # one output: the input's gradient is an outer product, computed as a multiplication
    case("linear-one-output", lambda x, w, b: x.linear(w, b, "tanh"), (5, 3), (3, 1), (1,)),
    case("linear-one-output-3d", lambda x, w: x.linear(w), (2, 5, 3), (3, 1)),
    case("linear-one-output-1d", lambda x, w: x.linear(w, activation="relu"), (3,), (3, 1)),
    # -- reductions: axis None / int / negative / tuple, keepdims ------------------------
    case("sum-all", lambda a: a.sum(), (2, 3, 4)),
    case("sum-0d", lambda a: a.sum(), ()),
    case("sum-axis0", lambda a: a.sum(axis=0), (2, 3, 4)),
    case("sum-axis-neg", lambda a: a.sum(axis=-1), (2, 3, 4)),
    case("sum-axis-tuple", lambda a: a.sum(axis=(0, 2)), (2, 3, 4)),
    case("sum-keepdims", lambda a: a.sum(axis=1, keepdims=True), (2, 3, 4)),
    case("sum-all-keepdims", lambda a: a.sum(keepdims=True), (2, 3)),
    case("mean-all", lambda a: a.mean(), (2, 3, 4)),
    case("mean-axis-neg", lambda a: a.mean(axis=-2), (2, 3, 4)),
    case("mean-tuple-keepdims", lambda a: a.mean(axis=(0, -1), keepdims=True), (2, 3, 4)),
    case("max-all", lambda a: a.max(), (2, 3, 4)),
    case("max-axis1", lambda a: a.max(axis=1), (2, 3, 4)),
    case("max-axis-neg-keepdims", lambda a: a.max(axis=-1, keepdims=True), (2, 3, 4)),
    case("max-axis-tuple", lambda a: a.max(axis=(0, 2)), (2, 3, 4)),
    case("max-0d", lambda a: a.max(), ()),
    # (ties of max and min are checked by hand: finite differences are undefined there)
    case("min-all", lambda a: a.min(), (2, 3, 4)),
    case("min-axis1", lambda a: a.min(axis=1), (2, 3, 4)),
    case("min-axis-neg-keepdims", lambda a: a.min(axis=-1, keepdims=True), (2, 3, 4)),
    case("min-axis-tuple", lambda a: a.min(axis=(0, 2)), (2, 3, 4)),
    case("min-0d", lambda a: a.min(), ()),
    case("min-bcast-into-sibling", lambda a: a - a.min(axis=0, keepdims=True), (3, 4)),
    case("var-all", lambda a: a.var(), (2, 3, 4)),
    case("var-axis0-ddof1", lambda a: a.var(axis=0, ddof=1), (3, 4)),
    case("var-axis-neg-keepdims", lambda a: a.var(axis=-1, keepdims=True), (2, 3, 4)),
    case("var-axis-tuple-ddof1", lambda a: a.var(axis=(0, -1), ddof=1), (2, 3, 4)),
    case("var-float-ddof", lambda a: a.var(axis=1, ddof=0.5), (3, 4)),
    case("var-0d", lambda a: a.var(), ()),
    case("var-bcast-into-sibling", lambda a: a * a.var(axis=1, keepdims=True), (3, 4)),
    case("std-all", lambda a: a.std(), (2, 3, 4)),
    case("std-axis1-ddof1", lambda a: a.std(axis=1, ddof=1), (2, 3, 4)),
    case("std-tuple-keepdims", lambda a: a.std(axis=(0, 2), keepdims=True), (2, 3, 4)),
    case("std-axis-neg", lambda a: a.std(axis=-2), (3, 4)),
    case("std-0d", lambda a: a.std(), ()),
    case(
        "std-bcast-normalising",
        lambda a: (a - a.mean(axis=-1, keepdims=True)) / a.std(axis=-1, keepdims=True),
        (3, 4),
    ),
    case("logsumexp-all", lambda a: a.logsumexp(), (2, 3, 4)),
    case("logsumexp-axis0", lambda a: a.logsumexp(axis=0), (3, 4)),
    case("logsumexp-axis-neg-keepdims", lambda a: a.logsumexp(axis=-1, keepdims=True), (2, 3, 4)),
    case("logsumexp-axis-tuple", lambda a: a.logsumexp(axis=(0, 2)), (2, 3, 4)),
    case("logsumexp-0d", lambda a: a.logsumexp(), ()),
    case("logsumexp-bcast-into-sibling", lambda a: a - a.logsumexp(axis=1, keepdims=True), (3, 4)),
    # -- shape ---------------------------------------------------------------------------
    case("reshape-args", lambda a: a.reshape(6, 4), (2, 3, 4)),
    case("reshape-tuple", lambda a: a.reshape((4, -1)), (2, 3, 4)),
    case("reshape-0d", lambda a: a.reshape(1, 1), ()),
    case("transpose-default", lambda a: a.transpose(), (2, 3, 4)),
    case("transpose-axes", lambda a: a.transpose(2, 0, 1), (2, 3, 4)),
    case("transpose-tuple-neg", lambda a: a.transpose((0, -1, 1)), (2, 3, 4)),
    case("T", lambda a: a.T, (3, 4)),
    case("getitem-int", lambda a: a[1], (3, 4)),
    case("getitem-neg-int", lambda a: a[-1, 2], (3, 4)),
    case("getitem-slice-step", lambda a: a[::2, 1:], (5, 4)),
    case("getitem-none-ellipsis", lambda a: a[None, ..., 0], (3, 4)),
    case("getitem-int-array-repeats", lambda a: a[[0, 2, 0, 0]], (3, 4)),
    case("getitem-2-int-arrays", lambda a: a[np.array([0, 2, 0]), np.array([1, 1, 1])], (3, 4)),
    case("getitem-array-and-slice", lambda a: a[1:, [3, 3, 0]], (3, 4)),
    case("getitem-bool-mask", lambda a: a[np.array([True, False, True])], (3, 4)),
    case("flatten", lambda a: a.flatten(), (2, 3, 4)),
    case("flatten-start", lambda a: a.flatten(1), (2, 3, 4)),
    case("flatten-middle-neg", lambda a: a.flatten(-3, -2), (2, 3, 4, 2)),
    case("flatten-0d", lambda a: a.flatten(), ()),
    case("squeeze-all", lambda a: a.squeeze(), (1, 3, 1)),
    case("squeeze-axis-neg", lambda a: a.squeeze(-1), (1, 3, 1)),
    case("squeeze-not-length-1", lambda a: a.squeeze((0, 1)), (1, 3, 1)),
    case("unsqueeze", lambda a: a.unsqueeze(1), (2, 3)),
    case("unsqueeze-neg", lambda a: a.unsqueeze(-1), (2, 3)),
    case("unsqueeze-0d", lambda a: a.unsqueeze(0), ()),
    case("pad-int", lambda a: a.pad(1), (2, 3)),
    case("pad-pairs", lambda a: a.pad(((0, 2), (1, 0)), value=-1.5), (2, 3)),
    case("pad-one-pair", lambda a: a.pad((2, 1)), (2, 3, 2)),
    case("pad-0d", lambda a: a.pad(3), ()),
    case("pad-bcast-into-sibling", lambda a, b: a.pad(((1, 1), (0, 0))) * b, (2, 3), (3,)),
    case("sliding_windows-1d", lambda a: a.sliding_windows(3), (7,)),
    case("sliding_windows-2d", lambda a: a.sliding_windows((3, 3), axis=(0, 1)), (5, 6)),
    case("sliding_windows-batch", lambda a: a.sliding_windows((3, 3), axis=(1, 2)), (2, 5, 6)),
    case("sliding_windows-axis-neg", lambda a: a.sliding_windows(2, axis=-2), (4, 3)),
    case("sliding_windows-axes-reversed", lambda a: a.sliding_windows((2, 3), (1, 0)), (4, 5)),
    case("sliding_windows-same-axis-twice", lambda a: a.sliding_windows((2, 3), (0, 0)), (6,)),
    case(
        "sliding_windows-conv",
        lambda a, k: (a.sliding_windows((3, 3)) * k).sum(axis=(-2, -1)),
        (5, 6),
        (3, 3),
    ),
    # -- elementwise functions -----------------------------------------------------------
    case("exp", lambda a: a.exp(), (2, 3)),
    case("log", lambda a: a.log(), (2, 3), kind=POS),
    case("tanh", lambda a: a.tanh(), (2, 3)),
    case("relu", lambda a: a.relu(), (3, 4)),
    case("sigmoid", lambda a: a.sigmoid(), (3, 4)),
    case("sigmoid-0d", lambda a: a.sigmoid(), ()),
    case("abs", lambda a: a.abs(), (3, 4)),
    case("clip", lambda a: a.clip(-0.5, 1.0), (3, 4)),
    case("clip-lo-only", lambda a: a.clip(lo=0.0), (3, 4)),
    case("clip-hi-only", lambda a: a.clip(hi=0.0), (3, 4)),
    case("sqrt", lambda a: a.sqrt(), (3, 4), kind=POS),
    case("sqrt-0d", lambda a: a.sqrt(), (), kind=POS),
    case("square", lambda a: a.square(), (3, 4)),
    case("square-0d", lambda a: a.square(), ()),
    case("sin", lambda a: a.sin(), (3, 4)),
    case("sin-0d", lambda a: a.sin(), ()),
    case("cos", lambda a: a.cos(), (3, 4)),
    case("cos-0d", lambda a: a.cos(), ()),
    # (inputs are at least 0.2 away from leaky_relu's kink at 0)
    case("leaky_relu", lambda a: a.leaky_relu(), (3, 4)),
    case("leaky_relu-slope", lambda a: a.leaky_relu(negative_slope=0.3), (3, 4)),
    case("leaky_relu-0d", lambda a: a.leaky_relu(0.2), ()),
    case("gelu", lambda a: a.gelu(), (3, 4)),
    case("gelu-0d", lambda a: a.gelu(), ()),
    case("gelu-tanh", lambda a: a.gelu(approximate="tanh"), (3, 4)),
    case("gelu-tanh-0d", lambda a: a.gelu("tanh"), ()),
    case("softplus", lambda a: a.softplus(), (3, 4)),
    case("softplus-beta", lambda a: a.softplus(beta=2.0), (3, 4)),
    # linear where 2x > 0.2: every positive input (they are at least 0.2), none near it
    case("softplus-linear-part", lambda a: a.softplus(beta=2.0, threshold=0.2), (3, 4)),
    case("softplus-0d", lambda a: a.softplus(), ()),
    case("softmax", lambda a: a.softmax(), (3, 4)),
    case("softmax-axis0", lambda a: a.softmax(axis=0), (3, 4)),
    case("softmax-1d", lambda a: a.softmax(), (5,)),
    case("log_softmax", lambda a: a.log_softmax(), (3, 4)),
    case("log_softmax-axis1-3d", lambda a: a.log_softmax(axis=1), (2, 3, 4)),
    # -- functions of several tensors ----------------------------------------------------
    case("concatenate-axis0", lambda a, b: concatenate([a, b]), (2, 3), (4, 3)),
    case("concatenate-axis-neg", lambda a, b: concatenate([a, b, a], axis=-1), (2, 3), (2, 1)),
    case("concatenate-const", lambda a: concatenate([a, np.ones((1, 3))]), (2, 3)),
    case("concatenate-flat", lambda a, b: concatenate([a, b], axis=None), (2, 3), (4,)),
    case("stack-axis0", lambda a, b: stack([a, b]), (2, 3), (2, 3)),
    case("stack-axis-neg", lambda a, b: stack([a, b, a], axis=-1), (2, 3), (2, 3)),
    case("where", lambda a, b: where(a.data > 0, a, b), (3, 4), (3, 4)),
    case("where-bcast", lambda a, b: where(np.array([True, False, True]), a, b), (2, 3), (1,)),
    case("where-scalar", lambda a: where(a.data < 0, 0.5, a), (3, 4)),
    case("maximum", lambda a, b: maximum(a, b), (3, 4), (3, 4)),
    case("maximum-bcast-both", lambda a, b: maximum(a, b), (3, 1), (1, 4)),
    case("maximum-0d-left", lambda a, b: maximum(a, b), (), (2, 3)),
    case("maximum-scalar", lambda a: maximum(a, 0.1), (3, 4)),
    case("maximum-array-left", lambda a: maximum(np.array([[-1.5], [0.1]]), a), (3,)),
    case("maximum-same-tensor", lambda a: maximum(a, a), (2, 3)),  # ties: g / 2 twice
    case("minimum", lambda a, b: minimum(a, b), (3, 4), (3, 4)),
    case("minimum-bcast-3d", lambda a, b: minimum(a, b), (2, 3, 4), (3, 1)),
    case("minimum-0d-0d", lambda a, b: minimum(a, b), (), ()),
    case("minimum-scalar-left", lambda a: minimum(-0.1, a), (3, 4)),
    case("minimum-same-tensor", lambda a: minimum(a, a), (4,)),
    # -- reused operands and sub-expressions ---------------------------------------------
    case("mix:x*x", lambda a: a * a, (3, 4)),
    case("mix:x+x", lambda a: a + a, (3,)),
    case("mix:x-x", lambda a: a - a, (3,)),
    case("mix:x/x", lambda a: a / a, (3,)),
    case("mix:x@x.T", lambda a: a @ a.T, (3, 4)),
    case("mix:shared-subexpression", lambda a, b: (a * b).tanh() + (a * b) ** 2, (3,), (3,)),
    case("mix:diamond", lambda a: (lambda h: h.exp() * h.sigmoid() - h)(a.tanh()), (2, 3)),
    case("mix:x**x", lambda a: a**a, (3,), kind=POS),
    # -- an intermediate reached by two paths of different length ------------------------
    case("mix:h+h*2", lambda a, b: (lambda h: h + h * 2)(a * b), (3,), (3,)),
    case("mix:h+2*h", lambda a, b: (lambda h: h + 2 * h)(a * b), (2, 3), (3,)),
    case("mix:h-h*2", lambda a, b: (lambda h: h - h * 2)(a * b), (3,), ()),
    case("mix:h+h/2", lambda a: (lambda h: h + h / 2)(a.tanh()), (3, 2)),
    case("mix:h+tanh(h)", lambda a: (lambda h: h + h.tanh())(a * 1.5), (4,)),
    case("mix:residual", lambda x, w: (lambda h: h + (h @ w).tanh())(x.tanh()), (3, 4), (4, 4)),
    case("mix:silu", lambda a: (lambda h: h * h.sigmoid())(a * 2.0), (2, 5)),
    case("mix:centring", lambda a: (lambda h: h - h.mean(axis=1, keepdims=True))(a.exp()), (3, 4)),
    case("mix:normalising", lambda a: (lambda e: e / e.sum())(a.exp()), (5,)),
    case(
        "mix:linear-residual",
        lambda x, w: (lambda h: h + h.linear(w, activation="relu"))(x * 1.0),
        (4, 3),
        (3, 3),
    ),
    case(
        "mix:mlp-layer",
        lambda x, w, b: (x @ w + b).relu().sum(axis=1).mean(),
        (5, 3),
        (3, 4),
        (4,),
    ),
    case(
        "mix:cross-entropy",
        lambda z: -z.log_softmax()[np.arange(4), np.array([0, 2, 1, 2])].mean(),
        (4, 3),
    ),
]


@pytest.fixture(autouse=True, params=[True, False], ids=["saving", "no-saving"])
def memory_saving(request, monkeypatch):
    # With the memory saving on, backward overwrites the gradient of an intermediate
    # nobody can see, in place, when it is large; make it do so here too, where
    # intermediates are small, so that the in-place rules are checked as well. Every
    # case runs with it off too.
    monkeypatch.setattr(_graph.MEMORY, "min_size", 0)
    monkeypatch.setattr(_graph.MEMORY, "enabled", request.param)


def draw(shape: tuple[int, ...], kind: str, rng: np.random.Generator) -> np.ndarray:
    if kind == POS:
        return rng.uniform(0.5, 2.0, size=shape)
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.2, 2.0, size=shape)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("fn", "shapes", "kind"), CASES)
def test_gradient_matches_finite_differences(fn, shapes, kind, dtype):
    rng = np.random.default_rng(zlib.crc32(repr((shapes, kind)).encode()))
    values = [draw(shape, kind, rng).astype(dtype) for shape in shapes]
    inputs = [Tensor(v) for v in values]

    # gradcheck works on float64 copies, also of float32 inputs.
    assert gradcheck(fn, *inputs)

    out = fn(*inputs)
    assert out.dtype == dtype, f"output dtype {out.dtype} for {dtype.__name__} inputs"
    if dtype == np.float64:
        return
    # A float32 graph stays float32, and its gradients match the float64 ones.
    weights = rng.standard_normal(out.shape)
    out.backward(weights.astype(np.float32))
    reference = [Tensor(v.astype(np.float64)) for v in values]
    fn(*reference).backward(weights)
    for got, want in zip(inputs, reference, strict=True):
        assert got.grad.dtype == np.float32
        np.testing.assert_allclose(got.grad, want.grad, rtol=2e-3, atol=2e-4)


def test_the_rule_table_the_gradcheck_table_and_the_readme_name_the_same_ops():
    checked = {rule_of(p.id) for p in CASES} - {None}
    readme = Path(__file__).resolve().parents[1] / "README.md"
    documented = set(re.findall(r"^\| `(\w+)` \|", readme.read_text(encoding="utf-8"), re.M))
    assert checked == set(_rules.RULES)
    assert documented == set(_rules.RULES)
