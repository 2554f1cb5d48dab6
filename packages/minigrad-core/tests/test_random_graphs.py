"""Random programs: backward agrees with an oracle that shares no code with the engine.

Each seed draws one program of 3 to 15 operations over every op family, whose operands
come from all earlier nodes, so fan-out, diamonds, residuals (``h + f(h)``), reductions
broadcast back into their input (``h - h.mean(axis=1, keepdims=True)``, ``e / e.sum()``),
self-products (``x * x``, ``a @ a.T``, ``concatenate([h, h])``), overlapping sliding
windows reduced as in a convolution or a pooling, and the odd empty array are common.
Some leaves are made with ``requires_grad=False``, as data and masks are, so every op
also meets operands that need no gradient, on either side. The sinks of the program are
reduced to a scalar by fixed random weights, or the last node gets them as
``backward(gradient=W)``.

The program is run by two interpreters: the engine (`Tensor` operations and
``backward``) and a plain-NumPy interpreter that only evaluates forward. The oracle is
central differences of the NumPy interpreter in float64: every element of every leaf
(and of two intermediates, whose ``grad`` is checked when they are held) for the small
sizes; for the large sizes the directional derivative along a random direction. Every
program runs at small sizes and at sizes above the engine's threshold for in-place
gradient reuse and early release, with every intermediate held in a list or with only
the leaves and the output referenced, in float64 and in float32.

Values are kept away from the kinks of relu, leaky_relu, abs, clip, max, min, maximum
and minimum and from softplus's threshold (or exactly on them where the function is
locally constant), and var and std from zero variance: a program whose kinks would be
crossed by a finite
difference step or by float32 rounding is redrawn. ``MINIGRAD_RANDOM_GRAPHS=2000`` runs
more programs than the default 200.
"""

from __future__ import annotations

import math
import operator
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest

from minigrad import Tensor, concatenate, maximum, minimum, set_memory_saving, stack, where

# The engine overwrites gradients in place and releases arrays early only for arrays of
# at least this many elements (a private constant of the engine, deliberately restated
# here, not imported). The small sizes stay far below it; every large program has an
# intermediate of at least this size (the (m, n) shapes below all exceed it).
REUSE_THRESHOLD = 4096
SIZES = ("small", "large")
SMALL_DIMS = [(3, 4), (4, 3), (2, 3), (3, 2), (4, 5)]
LARGE_DIMS = [(80, 64), (72, 60), (64, 72)]
BATCH = 2

N_GRAPHS = int(os.environ.get("MINIGRAD_RANDOM_GRAPHS", "200"))

BOUND = 60.0  # every value of every node stays within +-BOUND
EXP_MAX = 3.5  # exp only of values up to this
POS_MIN = 0.2  # log, a tensor base of `**` and non-integer powers: values at least this
DEN_MIN = 0.25  # a divisor is at least this far from 0
VAR_MIN = 0.05  # var and std only of slices whose variance is at least this
MAX_ELEMENTS = 3 * 80 * 80  # no node larger than this at the large sizes
# Distance from a kink (relu/abs at 0, clip at its bounds, max's runner-up) below which an
# op is refused, unless the value sits exactly on the kink.
MARGIN = {"small": 1e-3, "large": 2e-5}
FD_EPS = 1e-6  # central differences, per element (small) or along a direction (large)

# Tolerances, measured against rounding on hundreds of programs with a room of 100 or
# more, and far below what a wrong gradient (a missing or doubled contribution, off by a
# factor) gives. Small sizes compare every element, relative to the element and to the
# largest gradient of the program (at least 1).
RTOL = {np.float64: 1e-6, np.float32: 5e-4}
# Large sizes compare sum(grad * v) with the oracle, relative to sum(|grad * v|): an error
# spread over N elements moves the sum by about 1 / sqrt(N) of that.
DIR_RTOL = {np.float64: 1e-5, np.float32: 2e-4}
# The loss itself, relative to sum(|sink * W|) (see `oracle`).
LOSS_RTOL = {np.float64: 1e-10, np.float32: 1e-5}

BINOPS: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "**": operator.pow,
}


class Rejected(Exception):  # noqa: N818 - a signal to redraw, not an error
    """A proposed operation (or a whole program) does not meet the value constraints."""


@dataclass
class Node:
    kind: str  # "leaf" or an operation
    args: tuple[int, ...] = ()
    p: dict[str, Any] = field(default_factory=dict)


@dataclass
class Program:
    seed: int
    dims: dict[str, dict[str, int]]
    nodes: list[Node]
    vals: dict[str, list[np.ndarray]]  # float64 value of every node, per size
    pats: dict[str, list[Any]]  # which side of each kink every element is on
    sinks: list[int]
    weights: dict[str, list[np.ndarray]]  # per size, one per sink
    seed_mode: bool  # backward(gradient=W) on the last node, else sum((sink * W).sum())
    checked: list[int]  # intermediates whose .grad is checked too (when held)
    families: set[str]
    constants: frozenset[int] = frozenset()  # leaves made with requires_grad=False

    @property
    def differentiated(self) -> list[int]:
        """The leaves that require a gradient."""
        return [i for i in self.leaves if i not in self.constants]

    @property
    def leaves(self) -> list[int]:
        return [i for i, n in enumerate(self.nodes) if n.kind == "leaf"]


# ----------------------------------------------------------------- NumPy interpreter


def np_sigmoid(x: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def np_gelu(x: np.ndarray, approximate: str) -> np.ndarray:
    """x * Phi(x): Phi from math.erf (the textbook formula) or PyTorch's tanh form."""
    dt = x.dtype.type
    if approximate == "tanh":
        inner = dt(math.sqrt(2 / math.pi)) * (x + dt(0.044715) * x**3)
        return dt(0.5) * x * (dt(1) + np.tanh(inner))
    erf = np.vectorize(math.erf, otypes=[np.float64])(x.astype(np.float64) / math.sqrt(2))
    return np.asarray(x * (0.5 * (1.0 + erf))).astype(x.dtype)


def np_softplus(x: np.ndarray, beta: float, threshold: float) -> np.ndarray:
    """log(1 + e**(beta x)) / beta as max(z, 0) + log1p(e**-|z|); x above the threshold."""
    dt = x.dtype.type
    z = x * dt(beta)
    soft = (np.maximum(z, dt(0)) + np.log1p(np.exp(-np.abs(z)))) / dt(beta)
    return np.where(z > threshold, x, soft)


def reshape_target(shape: tuple[int, ...], how: str) -> tuple[int, ...]:
    if how == "flat":
        return (-1,)
    if how == "rev":
        return shape[::-1]
    if how == "unsq":
        return (1, *shape)
    return (shape[0] * shape[1], *shape[2:])  # "merge"


def axes_of(axis: Any, ndim: int) -> list[int]:
    """The axes an axis argument names, from 0 to ndim - 1 (every axis for None)."""
    if axis is None:
        return list(range(ndim))
    return [a % ndim for a in ((axis,) if isinstance(axis, int) else axis)] if ndim else []


def np_windows(x: np.ndarray, window: tuple[int, ...], axes: list[int]) -> np.ndarray:
    """Every window, by slicing: position ``offsets`` inside the windows of all windows."""
    counts = list(x.shape)
    for ax, w in zip(axes, window, strict=True):
        counts[ax] -= w - 1
    out = np.empty((*counts, *window), dtype=x.dtype)
    for offsets in np.ndindex(*window):
        starts = [0] * x.ndim
        for ax, o in zip(axes, offsets, strict=True):
            starts[ax] += o
        place = tuple(slice(b, b + n) for b, n in zip(starts, counts, strict=True))
        out[(Ellipsis, *offsets)] = x[place]
    return out


def np_apply(node: Node, ins: list[np.ndarray], size: str) -> np.ndarray:
    """The value of one operation, in plain NumPy, in the dtype of its inputs."""
    k, p = node.kind, node.p
    x = ins[0]
    dt = x.dtype.type
    if k == "binary":
        out = BINOPS[p["op"]](x, ins[1])
    elif k == "scalar":
        c, f = dt(float(p["c"])), BINOPS[p["op"]]
        out = f(c, x) if p["left"] else f(x, c)
    elif k == "neg":
        out = -x
    elif k == "unary":
        name, kw = p["name"], p.get("kw", {})
        if name == "sigmoid":
            out = np_sigmoid(x)
        elif name == "relu":
            out = np.where(x > 0, x, dt(0))
        elif name == "square":
            out = x * x
        elif name == "leaky_relu":
            out = np.where(x > 0, x, x * dt(kw.get("negative_slope", 0.01)))
        elif name == "gelu":
            out = np_gelu(x, kw.get("approximate", "none"))
        elif name == "softplus":
            out = np_softplus(x, kw.get("beta", 1.0), kw.get("threshold", 20.0))
        else:  # exp, log, tanh, abs, sqrt, sin, cos
            out = getattr(np, name)(x)
    elif k == "clip":
        out = np.clip(x, p["lo"], p["hi"])
    elif k == "reduce":
        out = getattr(np, p["name"])(x, axis=p["axis"], keepdims=p["keepdims"])
    elif k == "matmul":
        out = np.matmul(x, ins[1])
    elif k == "linear":
        out = np.matmul(x, ins[1])
        if len(ins) == 3:
            out = out + ins[2]
        act = p["act"]
        if act == "relu":
            out = np.where(out > 0, out, dt(0))
        elif act == "tanh":
            out = np.tanh(out)
        elif act == "sigmoid":
            out = np_sigmoid(out)
    elif k == "getitem":
        out = x[p["key"]]
    elif k == "concat":
        out = np.concatenate(ins, axis=p["axis"])
    elif k == "stack":
        out = np.stack(ins, axis=p["axis"])
    elif k == "where":
        a, b = where_operands(ins, p, lambda c: dt(c))
        out = np.where(p["mask"][size], a, b)
    elif k == "extremum":
        a, b = where_operands(ins, p, lambda c: dt(c))
        out = np.where(a >= b, a, b) if p["name"] == "maximum" else np.where(a <= b, a, b)
    elif k == "softmax":
        axis = -1 if p["axis"] is None else p["axis"]
        z = x - x.max(axis=axis, keepdims=True)
        if p["name"] == "softmax":
            e = np.exp(z)
            out = e / e.sum(axis=axis, keepdims=True)
        else:
            out = z - np.log(np.exp(z).sum(axis=axis, keepdims=True))
    elif k == "stat":  # var, std
        out = getattr(np, p["name"])(x, axis=p["axis"], keepdims=p["keepdims"], ddof=p["ddof"])
    elif k == "logsumexp":
        out = np.logaddexp.reduce(x, axis=p["axis"], keepdims=p["keepdims"])
    elif k == "flatten":
        if x.ndim == 0:
            out = x.reshape(1)
        else:
            s, e = p["start"] % x.ndim, p["end"] % x.ndim
            merged = int(np.prod(x.shape[s : e + 1]))
            out = x.reshape((*x.shape[:s], merged, *x.shape[e + 1 :]))
    elif k == "squeeze":
        named = axes_of(p["axis"], x.ndim)
        out = np.squeeze(x, axis=tuple(a for a in named if x.shape[a] == 1))
    elif k == "unsqueeze":
        out = np.expand_dims(x, p["axis"])
    elif k == "pad":
        out = np.pad(x, p["width"], mode="constant", constant_values=p["value"])
    elif k == "windows":
        window = p["window"] if isinstance(p["window"], tuple) else (p["window"],)
        out = np_windows(x, window, axes_of(p["axis"], x.ndim))
    elif k == "reshape":
        out = x.reshape(reshape_target(x.shape, p["how"]))
    elif k == "transpose":
        out = x.T if p["how"] in ("T", "none") else np.transpose(x, p["how"])
    else:  # pragma: no cover - a bug in this file
        raise AssertionError(k)
    return np.asarray(out)


def where_operands(ins: list[Any], p: dict[str, Any], const: Callable[[float], Any]) -> list[Any]:
    if p["const"] is None:
        return list(ins)
    c = const(p["const"])
    return [ins[0], c] if p["const_side"] == "y" else [c, ins[0]]


def kink_pattern(node: Node, ins: list[np.ndarray]) -> Any:
    """Which side of its kinks each input element is on (None for smooth operations)."""
    k, p = node.kind, node.p
    if k == "unary" and p["name"] in ("relu", "abs", "leaky_relu"):
        return np.sign(ins[0])
    if k == "unary" and p["name"] == "softplus":
        return np.sign(softplus_excess(ins[0], p))
    if k == "extremum":
        a, b = where_operands(ins, p, float)
        return np.sign(a - b)
    if k == "clip":
        return [np.sign(ins[0] - b) for b in (p["lo"], p["hi"]) if b is not None]
    if k == "reduce" and p["name"] in ("max", "min"):
        return ins[0] == getattr(ins[0], p["name"])(axis=p["axis"], keepdims=True)
    if k == "linear" and p["act"] == "relu":
        z = np.matmul(ins[0], ins[1])
        return np.sign(z + ins[2] if len(ins) == 3 else z)
    return None


def softplus_excess(x: np.ndarray, p: dict[str, Any]) -> np.ndarray:
    """beta x - threshold: softplus jumps (by a little) to x where this turns positive."""
    kw = p.get("kw", {})
    return np.asarray(x * kw.get("beta", 1.0) - kw.get("threshold", 20.0))


def same_pattern(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is b
    if isinstance(a, list):
        return all(np.array_equal(u, v) for u, v in zip(a, b, strict=True))
    return bool(np.array_equal(a, b))


def kink_distances(node: Node, ins: list[np.ndarray]) -> list[np.ndarray]:
    """Distances of the inputs from the kinks; exactly 0 (on the kink) is allowed."""
    k, p = node.kind, node.p
    if k == "unary" and p["name"] in ("relu", "abs", "leaky_relu"):
        return [np.abs(ins[0])]
    if k == "unary" and p["name"] == "softplus":
        return [np.abs(softplus_excess(ins[0], p))]
    if k == "extremum":
        a, b = where_operands(ins, p, float)
        return [np.abs(a - b)]
    if k == "clip":
        return [np.abs(ins[0] - b) for b in (p["lo"], p["hi"]) if b is not None]
    if k == "reduce" and p["name"] in ("max", "min") and ins[0].size:
        return [np.abs(getattr(ins[0], p["name"])(axis=p["axis"], keepdims=True) - ins[0])]
    if k == "linear" and p["act"] == "relu":
        z = np.matmul(ins[0], ins[1])
        return [np.abs(z + ins[2] if len(ins) == 3 else z)]
    return []


def check_domain(node: Node, ins: list[np.ndarray]) -> bool:
    """Whether the inputs are in the part of the domain the programs keep to."""
    k, p = node.kind, node.p
    x = ins[0]
    if k == "binary" and p["op"] == "/":
        return bool(np.all(np.abs(ins[1]) >= DEN_MIN))
    if k == "binary" and p["op"] == "**":
        return bool(np.all(x >= POS_MIN) and np.all(np.abs(ins[1]) <= 3))
    if k == "scalar" and p["op"] == "/" and p["left"]:
        return bool(np.all(np.abs(x) >= DEN_MIN))
    if k == "scalar" and p["op"] == "**" and not p["left"] and p["c"] not in (2, 3):
        return bool(np.all(x >= POS_MIN))
    if k == "unary" and p["name"] in ("log", "sqrt"):
        return bool(np.all(x >= POS_MIN))
    if k == "unary" and p["name"] == "exp":
        return bool(np.all(x <= EXP_MAX))
    if k == "stat":  # away from zero variance (std's gradient there) and from N <= ddof
        count = int(np.prod([x.shape[a] for a in axes_of(p["axis"], x.ndim)]))
        if x.size == 0 or count - p["ddof"] < 1:
            return False
        return bool(np.all(np.var(x, axis=p["axis"], ddof=p["ddof"]) >= VAR_MIN))
    return True


def loss_terms(prog: Program, size: str, vals: list[np.ndarray]) -> list[float]:
    """sum(sink * W) for every sink: the loss is their sum."""
    return [
        float(np.dot(vals[s].ravel(), w.ravel()))
        for s, w in zip(prog.sinks, prog.weights[size], strict=True)
    ]


def evaluate(
    prog: Program,
    size: str,
    override: dict[int, np.ndarray],
    dtype: Any = np.float64,
    dirty: set[int] | None = None,
) -> list[np.ndarray]:
    """Node values with some nodes replaced; only what depends on them is recomputed.

    ``dirty``, when given, receives the nodes that were recomputed. Raises `Rejected` when
    a recomputed node is on another side of a kink than at the program's point (a finite
    difference across a kink measures nothing useful).
    """
    base = prog.vals[size]
    if dirty is None:
        dirty = set()
    if dtype is not np.float64:
        vals = [v.astype(dtype) for v in base]
        dirty.update(range(len(base)))
    else:
        vals = list(base)
        dirty.update(override)
    for i, v in override.items():
        vals[i] = np.asarray(v)
    start = min(override) + 1 if override else 0
    for i in range(start, len(prog.nodes)):
        node = prog.nodes[i]
        if node.kind == "leaf" or not dirty.intersection(node.args):
            continue
        ins = [vals[a] for a in node.args]
        pattern = kink_pattern(node, ins)
        if not same_pattern(pattern, prog.pats[size][i]):
            raise Rejected(f"t{i} crosses a kink")
        vals[i] = np_apply(node, ins, size)
        dirty.add(i)
    return vals


# ------------------------------------------------------------------ the program generator


def drawn(rng: np.random.Generator, shape: tuple[int, ...], kind: str) -> np.ndarray:
    """Leaf values, representable in float32 so that both dtypes start from one point."""
    if kind == "pos":
        x = rng.uniform(0.5, 2.0, shape)
    else:
        x = rng.uniform(0.3, 1.5, shape) * rng.choice([-1.0, 1.0], shape)
        if kind == "weight" and shape:
            x /= np.sqrt(shape[0])
    return np.asarray(x, dtype=np.float32).astype(np.float64)


def broadcast(*shapes: tuple[int, ...]) -> tuple[int, ...] | None:
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        return None


def matmul_shape(sa: tuple[int, ...], sb: tuple[int, ...]) -> tuple[int, ...] | None:
    if not sa or not sb:
        return None
    a2 = (1, *sa) if len(sa) == 1 else sa
    b2 = (*sb, 1) if len(sb) == 1 else sb
    batch = broadcast(a2[:-2], b2[:-2])
    if a2[-1] != b2[-2] or batch is None:
        return None
    out = (*batch, a2[-2], b2[-1])
    if len(sb) == 1:
        out = out[:-1]
    if len(sa) == 1:
        out = out[:-2] + out[-1:] if len(sb) > 1 else out[:-1]
    return out


def typed_constant(rng: np.random.Generator, c: float) -> Any:
    """A constant as a Python int or float, or a NumPy float64 or float32 scalar."""
    form = rng.integers(4)
    if form == 0 and float(c).is_integer():
        return int(c)
    if form == 2:
        return np.float64(c)
    if form == 3:
        return np.float32(c)
    return float(c)


class Gen:
    """Builds a program node by node, evaluating every proposal at both sizes."""

    def __init__(self, rng: np.random.Generator, dims: dict[str, dict[str, int]]) -> None:
        self.rng = rng
        self.dims = dims
        self.nodes: list[Node] = []
        self.vals: dict[str, list[np.ndarray]] = {s: [] for s in SIZES}
        self.pats: dict[str, list[Any]] = {s: [] for s in SIZES}
        self.used: list[int] = []
        self.families: set[str] = set()

    # -- queries
    def shape(self, i: int, size: str) -> tuple[int, ...]:
        return self.vals[size][i].shape

    def ndim(self, i: int) -> int:
        return self.vals["small"][i].ndim

    def both(self, pred: Callable[..., bool], *idx: int) -> bool:
        return all(pred(*(self.shape(i, s) for i in idx)) for s in SIZES)

    def vmin(self, i: int, absolute: bool = False) -> float:
        vs = [np.abs(self.vals[s][i]) if absolute else self.vals[s][i] for s in SIZES]
        return min((float(v.min()) for v in vs if v.size), default=np.inf)

    def choice(self, options: list[Any], p: list[float] | None = None) -> Any:
        return options[self.rng.choice(len(options), p=p)]

    def pick(self, pred: Callable[[int], bool] | None = None) -> int:
        """An earlier node: often the latest, often one nothing consumes yet, else any."""
        cands = [i for i in range(len(self.nodes)) if pred is None or pred(i)]
        if not cands:
            raise Rejected("no operand")
        r = self.rng.random()
        unused = [i for i in cands if not self.used[i]]
        if r < 0.35:
            return cands[-1]
        if r < 0.65 and unused:
            return self.choice(unused)
        return self.choice(cands)

    # -- construction
    def leaf(self, shape_of: Callable[[str], tuple[int, ...]], kind: str = "any") -> int:
        for s in SIZES:
            self.vals[s].append(drawn(self.rng, tuple(shape_of(s)), kind))
            self.pats[s].append(None)
        self.nodes.append(Node("leaf", (), {"kind": kind}))
        self.used.append(0)
        return len(self.nodes) - 1

    def op(self, kind: str, args: list[int], **p: Any) -> int:
        node = Node(kind, tuple(args), p)
        outs, pats = {}, {}
        for s in SIZES:
            ins = [self.vals[s][a] for a in args]
            if not check_domain(node, ins):
                raise Rejected("domain")
            for d in kink_distances(node, ins):
                if np.any((d > 0) & (d < MARGIN[s])):
                    raise Rejected("near a kink")
            with warnings.catch_warnings(), np.errstate(all="raise", under="ignore"):
                warnings.simplefilter("error")
                try:
                    out = np_apply(node, ins, s)
                except (ArithmeticError, ValueError, IndexError, RuntimeWarning) as exc:
                    raise Rejected(str(exc)) from None
            if out.size > MAX_ELEMENTS or out.ndim > 4:
                raise Rejected("too large")
            if out.size and not (np.all(np.isfinite(out)) and np.abs(out).max() <= BOUND):
                raise Rejected("out of bounds")
            outs[s], pats[s] = out, kink_pattern(node, ins)
        for s in SIZES:
            self.vals[s].append(outs[s])
            self.pats[s].append(pats[s])
        for a in set(args):
            self.used[a] += 1
        self.nodes.append(node)
        self.used.append(0)
        return len(self.nodes) - 1

    def rollback(self, n: int) -> None:
        for node in self.nodes[n:]:
            for a in set(node.args):
                if a < n:
                    self.used[a] -= 1
        del self.nodes[n:], self.used[n:]
        for s in SIZES:
            del self.vals[s][n:], self.pats[s][n:]

    # -- building blocks shared by the families
    def positive(self, i: int) -> int:
        """``i`` if its values are at least POS_MIN, else a positive function of it."""
        if self.vmin(i) >= POS_MIN:
            return i
        how = self.rng.integers(4)
        if how == 0:  # x.abs() + 0.5
            return self.scalar(self.op("unary", [i], name="abs"), "+", 0.5)
        if how == 1:  # x * x + 0.25
            return self.scalar(self.op("binary", [i, i], op="*"), "+", 0.25)
        if how == 2:
            return self.op("unary", [i], name="exp")
        return self.scalar(self.op("unary", [i], name="sigmoid"), "+", 0.25)

    def scalar(self, i: int, op: str, c: float, left: bool | None = None) -> int:
        if left is None:
            left = op in "+*" and bool(self.rng.random() < 0.5)
        return self.op("scalar", [i], op=op, c=typed_constant(self.rng, c), left=left)

    def partner_leaf(self, a: int, kind: str = "any") -> int:
        """A new leaf that broadcasts with ``a``: same shape, a suffix, size-1 axes, 0-d."""
        nd = self.ndim(a)
        how = self.choice(
            ["same", "scalar"] + (["suffix", "ones"] if nd else []) + (["outer"] if nd == 1 else [])
        )
        if how == "same":
            return self.leaf(lambda s: self.shape(a, s), kind)
        if how == "scalar":
            return self.leaf(lambda s: (), kind)
        if how == "suffix":
            k = int(self.rng.integers(1, nd + 1))
            return self.leaf(lambda s: self.shape(a, s)[k:], kind)
        if how == "ones":
            axes = set(self.rng.choice(nd, size=int(self.rng.integers(1, nd + 1)), replace=False))
            return self.leaf(
                lambda s: tuple(1 if ax in axes else d for ax, d in enumerate(self.shape(a, s))),
                kind,
            )
        d = self.choice(["m", "n"])
        return self.leaf(lambda s: (self.dims[s][d], 1), kind)

    def fits(self, a: int, b: int) -> bool:
        def ok(sa: tuple[int, ...], sb: tuple[int, ...]) -> bool:
            out = broadcast(sa, sb)
            return out is not None and len(out) <= 3 and int(np.prod(out)) <= MAX_ELEMENTS

        return self.both(ok, a, b)

    def random_axis(self, nd: int) -> tuple[Any, bool]:
        keepdims = bool(self.rng.random() < 0.5)
        r = self.rng.random()
        if nd == 0 or r < 0.3:
            return None, keepdims
        if nd >= 2 and r < 0.5:
            k = int(self.rng.integers(2, nd + 1))
            axes = [
                int(ax) - (nd if self.rng.random() < 0.3 else 0)
                for ax in self.rng.choice(nd, size=k, replace=False)
            ]
            return tuple(axes), keepdims
        ax = int(self.rng.integers(nd))
        return (ax - nd if self.rng.random() < 0.3 else ax), keepdims

    def transposed(self, a: int) -> int:
        nd = self.ndim(a)
        if nd == 2:
            return self.op("transpose", [a], how=self.choice(["T", "none", (1, 0)]), star=True)
        return self.op("transpose", [a], how=(0, 2, 1), star=bool(self.rng.random() < 0.5))


# -- the op families; each adds one or a few nodes or raises Rejected


def fam_binary(g: Gen) -> None:
    op = g.choice(["+", "-", "*", "/", "**"], p=[0.25, 0.2, 0.25, 0.15, 0.15])
    a = g.pick()
    r = g.rng.random()
    if r < 0.25:
        b = a
    elif r < 0.6:
        b = g.pick(lambda j: g.fits(a, j))
    else:
        b = g.partner_leaf(a)
    if g.rng.random() < 0.5:
        a, b = b, a
    if op == "**":
        a = g.positive(a)
    if op == "/" and g.vmin(b, absolute=True) < DEN_MIN:
        b = g.positive(b)
    if not g.fits(a, b):
        raise Rejected("shapes")
    g.op("binary", [a, b], op=op)


def fam_scalar(g: Gen) -> None:
    op = g.choice(["+", "-", "*", "/", "**"])
    left = bool(g.rng.random() < 0.5)
    a = g.pick()
    if op == "**" and left:  # c ** x
        c = g.choice([2.0, 0.5, 1.5, 3.0])
    elif op == "**":  # x ** c
        c = g.choice([2, 3, 0.5, -1, 1.5, -0.5])
        if c not in (2, 3):
            a = g.positive(a)
    elif op == "/" and left:  # c / x
        c = g.choice([1.5, -2.0, 1.0, 0.5])
        if g.vmin(a, absolute=True) < DEN_MIN:
            a = g.positive(a)
    elif op == "/":
        c = g.choice([2.0, -4.0, 0.5, 3.0])
    else:
        c = g.choice([2.0, 3.0, -1.5, 0.5, -2.0, 1.0])
    g.scalar(a, op, c, left)


def clip_bounds(g: Gen) -> tuple[float | None, float | None]:
    lo, hi = sorted(g.rng.choice([-1.0, -0.5, 0.0, 0.5, 1.0], size=2, replace=False))
    r = g.rng.random()
    return (None if r < 0.15 else float(lo)), (None if 0.15 <= r < 0.3 else float(hi))


UNARY = ["exp", "log", "tanh", "sigmoid", "relu", "abs", "neg", "clip"]
UNARY += ["sqrt", "square", "sin", "cos", "leaky_relu", "gelu", "softplus"]


def unary_options(g: Gen, name: str) -> dict[str, Any]:
    """Keyword arguments for the unary ops that take some (often none: the defaults)."""
    if g.rng.random() < 0.3:
        return {}
    if name == "leaky_relu":
        return {"negative_slope": g.choice([0.2, 0.5, -0.1])}
    if name == "gelu":
        return {"approximate": g.choice(["none", "tanh"])}
    if name == "softplus":
        return {"beta": g.choice([1.0, 2.0, 0.5]), "threshold": g.choice([20.0, 1.0])}
    return {}


def fam_unary(g: Gen) -> None:
    name = g.choice(UNARY)
    a = g.pick()
    if name in ("log", "sqrt"):
        g.op("unary", [g.positive(a)], name=name)
    elif name in ("leaky_relu", "gelu", "softplus"):
        g.op("unary", [a], name=name, kw=unary_options(g, name))
    elif name == "neg":
        g.op("neg", [a])
    elif name == "clip":
        lo, hi = clip_bounds(g)
        g.op("clip", [a], lo=lo, hi=hi)
    else:
        g.op("unary", [a], name=name)


def fam_reduce(g: Gen) -> None:
    """A reduction, usually broadcast back into its input: h - h.mean(1, keepdims=True)."""
    a = g.pick()
    name = g.choice(["sum", "mean", "max", "min"])
    axis, keepdims = g.random_axis(g.ndim(a))
    r = g.op("reduce", [a], name=name, axis=axis, keepdims=keepdims)
    if g.rng.random() < 0.65 and g.fits(a, r):
        op = g.choice(["-", "+", "*", "/"])
        if op == "/" and g.vmin(r, absolute=True) < DEN_MIN:
            op = "-"
        pair = [a, r] if op == "/" or g.rng.random() < 0.7 else [r, a]
        g.op("binary", pair, op=op)


def fam_normalize(g: Gen) -> None:
    """e / e.sum(...) for a positive e."""
    a = g.pick()
    e = g.op("unary", [a], name="exp") if g.rng.random() < 0.6 else g.positive(a)
    nd = g.ndim(e)
    if nd and g.rng.random() < 0.6:
        axis: Any = int(g.rng.integers(-nd, nd))
        s = g.op("reduce", [e], name=g.choice(["sum", "mean"]), axis=axis, keepdims=True)
    else:
        s = g.op("reduce", [e], name="sum", axis=None, keepdims=False)
    g.op("binary", [e, s], op="/")


# The f of h op f(h).
RESIDUAL = ["tanh", "sigmoid", "relu", "exp", "abs", "neg", "clip", "softmax", "scale", "linear"]
RESIDUAL += ["sin", "gelu", "softplus", "leaky_relu"]


def fam_residual(g: Gen) -> None:
    """h op f(h): the input reaches the result directly and through f."""
    h = g.pick()
    f = g.choice(RESIDUAL)
    nd = g.ndim(h)
    if f == "neg":
        t = g.op("neg", [h])
    elif f == "clip":
        lo, hi = clip_bounds(g)
        t = g.op("clip", [h], lo=lo, hi=hi)
    elif f == "softmax" and nd:
        t = g.op(
            "softmax",
            [h],
            name=g.choice(["softmax", "log_softmax"]),
            axis=int(g.rng.integers(-nd, nd)),
        )
    elif f == "scale":
        t = g.scalar(h, "*", g.choice([2.0, -0.5, 3.0]))
    elif f == "linear" and nd:
        w = g.leaf(lambda s: (g.shape(h, s)[-1],) * 2, "weight")
        b = g.leaf(lambda s: g.shape(h, s)[-1:]) if g.rng.random() < 0.6 else None
        t = g.op(
            "linear",
            [h, w] if b is None else [h, w, b],
            act=g.choice([None, "relu", "tanh", "sigmoid"]),
        )
    elif f in ("softmax", "linear"):
        t = g.op("unary", [h], name="tanh")
    else:
        t = g.op("unary", [h], name=f)
    op = g.choice(["+", "-", "*"])
    g.op("binary", [h, t] if g.rng.random() < 0.6 else [t, h], op=op)


def fam_matmul(g: Gen) -> None:
    a = g.pick(lambda i: 1 <= g.ndim(i) <= 3)
    nd = g.ndim(a)
    r = g.rng.random()
    if r < 0.3:  # a @ a.T, a.T @ a, or a @ a for a vector
        if nd == 1:
            g.op("matmul", [a, a])
            return
        t = g.transposed(a)
        g.op("matmul", [a, t] if g.rng.random() < 0.5 else [t, a])
        return
    if r < 0.55:
        b = g.pick(
            lambda j: (
                g.both(lambda x, y: matmul_shape(x, y) is not None, a, j)
                or g.both(lambda x, y: matmul_shape(y, x) is not None, a, j)
            )
        )
        pair = [a, b] if g.both(lambda x, y: matmul_shape(x, y) is not None, a, b) else [b, a]
        g.op("matmul", pair)
        return
    d = g.choice(["m", "n", "b"])
    if g.rng.random() < 0.6:  # a @ w
        if g.rng.random() < 0.3:
            w = g.leaf(lambda s: g.shape(a, s)[-1:], "weight")
        else:
            w = g.leaf(lambda s: (g.shape(a, s)[-1], g.dims[s][d]), "weight")
        g.op("matmul", [a, w])
    else:  # w @ a
        w = g.leaf(lambda s: (g.dims[s][d], g.shape(a, s)[max(nd - 2, 0)]), "weight")
        g.op("matmul", [w, a])


def fam_linear(g: Gen) -> None:
    x = g.pick(lambda i: 1 <= g.ndim(i) <= 3 and g.both(lambda s: s[-1] > 0, i))
    r = g.rng.random()
    if r < 0.3:
        w = g.pick(lambda j: g.ndim(j) == 2 and g.both(lambda sx, sw: sw[0] == sx[-1], x, j))
    else:
        d = g.choice(["m", "n"])
        w = g.leaf(lambda s: (g.shape(x, s)[-1], g.dims[s][d]), "weight")
    r = g.rng.random()
    if r < 0.3:
        b = None
    elif r < 0.45:
        b = g.pick(lambda j: g.ndim(j) == 1 and g.both(lambda sw, sb: sb[0] == sw[1], w, j))
    else:
        b = g.leaf(lambda s: g.shape(w, s)[1:])
    act = g.choice([None, "relu", "tanh", "sigmoid"])
    g.op("linear", [x, w] if b is None else [x, w, b], act=act)


def fam_index(g: Gen) -> None:
    a = g.pick(lambda i: g.ndim(i) >= 1)
    nd = g.ndim(a)
    rows = min(g.shape(a, s)[0] for s in SIZES)
    keys: list[Any] = [slice(None, None, -1), 0, -1, [0, 0, -1]]
    if rows >= 2:
        keys += [slice(1, None), np.array([1, 0, 1])]
    if nd >= 2:
        keys += [(slice(None), slice(None, None, 2)), (Ellipsis, -1), (None, slice(None, 2))]
        if min(g.shape(a, s)[1] for s in SIZES) >= 2:
            keys += [(slice(None), [1, 1, 0]), ([0, -1, 0], slice(None, None, 2))]
    if g.rng.random() < 0.08:
        keys = [slice(0, 0)]  # an empty result
    g.op("getitem", [a], key=g.choice(keys))


def fam_concat(g: Gen) -> None:
    a = g.pick(lambda i: g.ndim(i) >= 1)
    nd = g.ndim(a)
    axis = int(g.rng.integers(nd))

    def fits(j: int) -> bool:
        def ok(sa: tuple[int, ...], sb: tuple[int, ...]) -> bool:
            return len(sa) == len(sb) and all(
                x == y for k, (x, y) in enumerate(zip(sa, sb, strict=True)) if k != axis
            )

        return g.both(ok, a, j)

    r = g.rng.random()
    if r < 0.35:
        b = a
    elif r < 0.6:
        b = g.pick(fits)
    else:
        d = g.choice(["same", "one", "m"])

        def shape_of(s: str) -> tuple[int, ...]:
            sh = list(g.shape(a, s))
            sh[axis] = {"same": sh[axis], "one": 1, "m": g.dims[s]["m"]}[d]
            return tuple(sh)

        b = g.leaf(shape_of)
    parts = [a, b] if g.rng.random() < 0.5 else [b, a]
    if g.rng.random() < 0.2:
        parts.append(a)
    g.op("concat", parts, axis=axis - nd if g.rng.random() < 0.3 else axis)


def fam_stack(g: Gen) -> None:
    a = g.pick(lambda i: g.ndim(i) <= 2)
    nd = g.ndim(a)
    r = g.rng.random()
    if r < 0.35:
        b = a
    elif r < 0.6:
        b = g.pick(lambda j: g.both(lambda x, y: x == y, a, j))
    else:
        b = g.leaf(lambda s: g.shape(a, s))
    parts = [a, b] if g.rng.random() < 0.5 else [b, a]
    g.op("stack", parts, axis=int(g.rng.integers(-nd - 1, nd + 1)))


def fam_where(g: Gen) -> None:
    a = g.pick()
    r = g.rng.random()
    const, side = None, "y"
    if r < 0.25:
        args = [a, a]
    elif r < 0.5:
        args = [a, g.pick(lambda j: g.fits(a, j))]
    elif r < 0.75:
        args = [a, g.partner_leaf(a)]
    else:
        args = [a]
        const, side = g.choice([0.0, 1.5, -1.0]), g.choice(["x", "y"])
    if len(args) == 2 and g.rng.random() < 0.5:
        args.reverse()
    if len(args) == 2 and not g.fits(*args):
        raise Rejected("shapes")
    mask = {}
    for s in SIZES:
        shape = broadcast(*(g.shape(i, s) for i in args))
        mask[s] = g.rng.random(shape) < 0.5
    g.op("where", args, mask=mask, const=const, const_side=side)


def fam_extremum(g: Gen) -> None:
    """maximum or minimum of two operands that broadcast, of one with itself (ties), or
    of one and a constant."""
    a = g.pick()
    r = g.rng.random()
    const, side = None, "y"
    if r < 0.2:
        args = [a, a]
    elif r < 0.5:
        args = [a, g.pick(lambda j: g.fits(a, j))]
    elif r < 0.8:
        args = [a, g.partner_leaf(a)]
    else:
        args = [a]
        const, side = g.choice([0.0, 0.5, -1.0]), g.choice(["x", "y"])
    if len(args) == 2 and g.rng.random() < 0.5:
        args.reverse()
    if len(args) == 2 and not g.fits(*args):
        raise Rejected("shapes")
    name = g.choice(["maximum", "minimum"])
    g.op("extremum", args, name=name, const=const, const_side=side)


def fam_softmax(g: Gen) -> None:
    a = g.pick(lambda i: g.ndim(i) >= 1)
    nd = g.ndim(a)
    axis = None if g.rng.random() < 0.25 else int(g.rng.integers(-nd, nd))
    g.op("softmax", [a], name=g.choice(["softmax", "log_softmax"]), axis=axis)


def fam_reshape(g: Gen) -> None:
    a = g.pick()
    nd = g.ndim(a)
    hows = ["flat"] + (["unsq"] if nd <= 2 else []) + (["rev", "merge"] if nd >= 2 else [])
    g.op("reshape", [a], how=g.choice(hows), star=bool(g.rng.random() < 0.5))


def fam_transpose(g: Gen) -> None:
    a = g.pick(lambda i: g.ndim(i) >= 1)
    nd = g.ndim(a)
    r = g.rng.random()
    if r < 0.4:
        how: Any = "T"
    elif r < 0.55:
        how = "none"
    else:
        how = tuple(int(ax) for ax in g.rng.permutation(nd))
    g.op("transpose", [a], how=how, star=bool(g.rng.random() < 0.5))


def fam_stats(g: Gen) -> None:
    """var or std; often a normalisation, (h - h.mean(axis)) / h.std(axis)."""
    a = g.pick()
    axis, keepdims = g.random_axis(g.ndim(a))
    ddof = g.choice([0, 1])
    if g.ndim(a) and g.rng.random() < 0.4:
        s = g.op("stat", [a], name="std", axis=axis, keepdims=True, ddof=ddof)
        m = g.op("reduce", [a], name="mean", axis=axis, keepdims=True)
        g.op("binary", [g.op("binary", [a, m], op="-"), s], op="/")
        return
    g.op("stat", [a], name=g.choice(["var", "std"]), axis=axis, keepdims=keepdims, ddof=ddof)


def fam_logsumexp(g: Gen) -> None:
    """logsumexp; often subtracted from its input (log_softmax over several axes)."""
    a = g.pick()
    axis, keepdims = g.random_axis(g.ndim(a))
    if g.ndim(a) and g.rng.random() < 0.5:
        r = g.op("logsumexp", [a], axis=axis, keepdims=True)
        g.op("binary", [a, r], op="-")
        return
    g.op("logsumexp", [a], axis=axis, keepdims=keepdims)


def fam_pad(g: Gen) -> None:
    a = g.pick()
    nd = g.ndim(a)
    r = g.rng.random()
    width: Any
    if r < 0.3 or nd == 0:
        width = int(g.rng.integers(0, 3))  # every side of every axis
    elif r < 0.5:
        width = tuple(int(w) for w in g.rng.integers(0, 3, size=2))  # one pair for all axes
    else:
        width = tuple(tuple(int(w) for w in g.rng.integers(0, 3, size=2)) for _ in range(nd))
    g.op("pad", [a], width=width, value=g.choice([0.0, 1.0, -0.5]))


def fam_flatten(g: Gen) -> None:
    """flatten, squeeze and unsqueeze: only the shape changes."""
    a = g.pick()
    nd = g.ndim(a)
    how = g.choice(["flatten", "squeeze", "unsqueeze"])
    if how == "flatten":
        start = int(g.rng.integers(nd)) if nd else 0
        end = int(g.rng.integers(start, nd)) if nd else 0
        if nd and g.rng.random() < 0.3:
            start, end = start - nd, end - nd
        g.op("flatten", [a], start=start, end=-1 if g.rng.random() < 0.3 else end)
    elif how == "squeeze":
        ones = [i for i in range(nd) if g.both(lambda s, i=i: s[i] == 1, a)]
        r = g.rng.random()
        axis: Any = None
        if nd and r < 0.7:  # an axis of length 1 if there is one; else one left as it is
            axis = g.choice(ones) if ones and r < 0.5 else int(g.rng.integers(-nd, nd))
            if r > 0.6:
                axis = (axis, g.choice(list(range(nd))))
                if axis[0] % nd == axis[1]:
                    axis = axis[:1]
        g.op("squeeze", [a], axis=axis)
    else:
        g.op("unsqueeze", [a], axis=int(g.rng.integers(-nd - 1, nd + 1)))


def fam_windows(g: Gen) -> None:
    """Overlapping sliding windows, usually reduced over the window: a conv or a pooling."""
    a = g.pick(lambda i: g.ndim(i) >= 1)
    nd = g.ndim(a)
    k = 1 if nd == 1 or g.rng.random() < 0.5 else 2
    axes = [int(ax) for ax in g.rng.choice(nd, size=k, replace=False)]
    window = tuple(int(g.rng.integers(1, 4)) for _ in axes)
    for ax, w in zip(axes, window, strict=True):
        if not g.both(lambda s, ax=ax, w=w: s[ax] >= w, a):
            raise Rejected("window longer than its axis")
    axis: Any = [ax - nd if g.rng.random() < 0.3 else ax for ax in axes]
    if k == 1 and g.rng.random() < 0.5:
        w = g.op("windows", [a], window=window[0], axis=axis[0])
    else:
        w = g.op("windows", [a], window=window, axis=tuple(axis))
    within = tuple(range(-k, 0))  # the window's own axes
    r = g.rng.random()
    if r < 0.35:  # pooling
        name = g.choice(["sum", "mean", "max"])
        g.op("reduce", [w], name=name, axis=within, keepdims=False)
    elif r < 0.7:  # a convolution with a kernel of the window's shape
        kernel = g.leaf(lambda s: window, "weight")
        product = g.op("binary", [w, kernel], op="*")
        g.op("reduce", [product], name="sum", axis=within, keepdims=False)


FAMILIES: dict[str, tuple[Callable[[Gen], None], float]] = {
    "binary": (fam_binary, 3.0),
    "scalar": (fam_scalar, 2.0),
    "unary": (fam_unary, 3.0),
    "reduce": (fam_reduce, 2.0),
    "normalize": (fam_normalize, 1.5),
    "residual": (fam_residual, 2.0),
    "matmul": (fam_matmul, 1.5),
    "linear": (fam_linear, 1.2),
    "index": (fam_index, 1.5),
    "concat": (fam_concat, 1.0),
    "stack": (fam_stack, 0.7),
    "where": (fam_where, 1.0),
    "extremum": (fam_extremum, 1.5),
    "softmax": (fam_softmax, 1.0),
    "reshape": (fam_reshape, 0.7),
    "transpose": (fam_transpose, 0.7),
    "stats": (fam_stats, 1.0),
    "logsumexp": (fam_logsumexp, 0.8),
    "pad": (fam_pad, 0.7),
    "flatten": (fam_flatten, 0.8),
    "windows": (fam_windows, 1.0),
}
FAMILY_NAMES = list(FAMILIES)
FAMILY_P = np.array([w for _, w in FAMILIES.values()]) / sum(w for _, w in FAMILIES.values())


def draw_program(seed: int, rng: np.random.Generator) -> Program:
    small, large = SMALL_DIMS[rng.integers(len(SMALL_DIMS))], LARGE_DIMS[rng.integers(3)]
    dims = {
        "small": {"m": small[0], "n": small[1], "b": BATCH},
        "large": {"m": large[0], "n": large[1], "b": BATCH},
    }
    g = Gen(rng, dims)
    first = ("b", "m", "n") if rng.random() < 0.15 else ("m", "n")
    g.leaf(lambda s: tuple(dims[s][d] for d in first))
    menu = [("m", "n"), ("n",), (1, "n"), ("m", 1), (), ("m",), ("n", "m")]
    for _ in range(rng.integers(3)):
        spec = menu[rng.integers(len(menu))]
        kind = "pos" if rng.random() < 0.25 else "any"
        g.leaf(lambda s, spec=spec: tuple(dims[s].get(d, d) for d in spec), kind)
    target = int(rng.integers(3, 14))
    tries = 0
    while sum(n.kind != "leaf" for n in g.nodes) < target:
        tries += 1
        if tries > 400:
            raise Rejected("stuck")
        name = FAMILY_NAMES[rng.choice(len(FAMILY_NAMES), p=FAMILY_P)]
        mark = len(g.nodes)
        try:
            FAMILIES[name][0](g)
        except Rejected:
            g.rollback(mark)
        else:
            g.families.add(name)
    inner = [i for i, n in enumerate(g.nodes) if n.kind != "leaf"]
    if max(g.vals["large"][i].size for i in inner) < REUSE_THRESHOLD:
        raise Rejected("no large intermediate")
    # The loss: every sink, weighted; or only the last node as backward(gradient=W), the
    # other sinks then being branches that do not reach the output.
    seed_mode = bool(rng.random() < 0.3)
    sinks = [inner[-1]] if seed_mode else [i for i in inner if not g.used[i]]
    weights = {s: [drawn(rng, g.vals[s][i].shape, "any") * 0.8 for i in sinks] for s in SIZES}
    # Some leaves other than the first are constants (data, masks: requires_grad=False),
    # unless the output would then need no gradient at all.
    constants = frozenset(
        i for i in range(1, len(g.nodes)) if g.nodes[i].kind == "leaf" and rng.random() < 0.3
    )
    needs = [False] * len(g.nodes)
    for i, node in enumerate(g.nodes):
        needs[i] = i not in constants if node.kind == "leaf" else any(needs[a] for a in node.args)
    if not any(needs[s] for s in sinks):
        constants = frozenset()
        needs = [True] * len(g.nodes)
    sized = [i for i in inner if g.vals["small"][i].size and needs[i]]
    checked = [int(i) for i in rng.choice(sized, size=min(2, len(sized)), replace=False)]
    return Program(
        seed,
        dims,
        g.nodes,
        g.vals,
        g.pats,
        sinks,
        weights,
        seed_mode,
        checked,
        g.families,
        constants,
    )


# ------------------------------------------------------------------------------ oracle


@dataclass
class Oracle:
    loss: float
    loss_scale: float
    grads: dict[int, np.ndarray]  # small: d loss / d node, per element
    dirs: dict[int, tuple[np.ndarray, float]]  # large: (direction v, d loss / d node . v)


def oracle(prog: Program, size: str) -> Oracle:
    vals = prog.vals[size]
    terms = loss_terms(prog, size, vals)
    # sum(|sink * W|), plus a floor as if the sinks were about 1 with independent errors
    # (a sink can be the small difference of large values, as in h - h.tanh()).
    scale = float(
        sum(
            np.abs(vals[s] * w).sum() + np.sqrt(np.sum(w * w))
            for s, w in zip(prog.sinks, prog.weights[size], strict=True)
        )
    )

    def f(i: int, v: np.ndarray) -> float:
        dirty: set[int] = set()
        new = evaluate(prog, size, {i: v}, dirty=dirty)
        return sum(
            float(np.dot(new[s].ravel(), w.ravel())) if s in dirty else t
            for s, w, t in zip(prog.sinks, prog.weights[size], terms, strict=True)
        )

    grads, dirs = {}, {}
    for i in prog.differentiated + prog.checked:
        x = vals[i]
        if size == "small":
            g = np.zeros(x.shape)
            for idx in np.ndindex(x.shape):
                eps = FD_EPS * max(1.0, abs(float(x[idx])))
                xp, xm = x.copy(), x.copy()
                xp[idx] += eps
                xm[idx] -= eps
                g[idx] = (f(i, xp) - f(i, xm)) / (2 * eps)
            grads[i] = g
        else:
            v = np.random.default_rng([prog.seed, i]).standard_normal(x.shape)
            dirs[i] = v, (f(i, x + FD_EPS * v) - f(i, x - FD_EPS * v)) / (2 * FD_EPS)
    return Oracle(sum(terms), scale, grads, dirs)


@dataclass
class Case:
    prog: Program
    oracles: dict[str, Oracle]


def make_case(seed: int) -> Case:
    """The program for ``seed`` and its oracle; redrawn until its kinks are safe."""
    rng = np.random.default_rng(seed)
    for _ in range(100):
        try:
            prog = draw_program(seed, rng)
            for s in SIZES:  # float32 rounding must not cross a kink either
                evaluate(prog, s, {}, np.float32)
            return Case(prog, {s: oracle(prog, s) for s in SIZES})
        except Rejected:
            continue
    raise AssertionError(f"seed {seed}: no valid program in 100 draws")  # pragma: no cover


# ---------------------------------------------------------------------------- the engine


def engine_apply(node: Node, ins: list[Any], size: str) -> Tensor:
    """The same operation through the engine's public API."""
    k, p = node.kind, node.p
    x = ins[0]
    if k == "binary":
        return BINOPS[p["op"]](x, ins[1])
    if k == "scalar":
        f, c = BINOPS[p["op"]], p["c"]
        return f(c, x) if p["left"] else f(x, c)
    if k == "neg":
        return -x
    if k == "unary":
        return getattr(x, p["name"])(**p.get("kw", {}))
    if k == "clip":
        return x.clip(p["lo"], p["hi"])
    if k == "reduce":
        method = getattr(x, p["name"])
        if p["axis"] is None and not p["keepdims"]:
            return method()
        return method(axis=p["axis"], keepdims=p["keepdims"])
    if k == "matmul":
        return x @ ins[1]
    if k == "linear":
        return x.linear(ins[1], ins[2] if len(ins) == 3 else None, p["act"])
    if k == "getitem":
        return x[p["key"]]
    if k == "concat":
        return concatenate(ins, axis=p["axis"])
    if k == "stack":
        return stack(ins, axis=p["axis"])
    if k == "where":
        return where(p["mask"][size], *where_operands(ins, p, float))
    if k == "extremum":
        return (maximum if p["name"] == "maximum" else minimum)(*where_operands(ins, p, float))
    if k == "softmax":
        method = getattr(x, p["name"])
        return method() if p["axis"] is None else method(axis=p["axis"])
    if k == "stat":
        return getattr(x, p["name"])(axis=p["axis"], keepdims=p["keepdims"], ddof=p["ddof"])
    if k == "logsumexp":
        if p["axis"] is None and not p["keepdims"]:
            return x.logsumexp()
        return x.logsumexp(axis=p["axis"], keepdims=p["keepdims"])
    if k == "flatten":
        return x.flatten(p["start"], p["end"])
    if k == "squeeze":
        return x.squeeze() if p["axis"] is None else x.squeeze(p["axis"])
    if k == "unsqueeze":
        return x.unsqueeze(p["axis"])
    if k == "pad":
        return x.pad(p["width"], value=p["value"])
    if k == "windows":
        return x.sliding_windows(p["window"], axis=p["axis"])
    if k == "reshape":
        shape = reshape_target(x.shape, p["how"])
        return x.reshape(*shape) if p["star"] else x.reshape(shape)
    if k == "transpose":
        how = p["how"]
        if how == "T":
            return x.T
        if how == "none":
            return x.transpose()
        return x.transpose(*how) if p["star"] else x.transpose(how)
    raise AssertionError(k)  # pragma: no cover - a bug in this file


def build(
    prog: Program, size: str, dtype: Any, leaves: dict[int, Tensor], held: list[Tensor] | None
) -> tuple[Tensor, np.ndarray | None]:
    """Run the program through the engine; return what to call backward on.

    Unless ``held`` is given, the intermediates are referenced only by this frame, so
    they go out of scope on return and only the graph refers to them.
    """
    env: list[Tensor] = []
    for i, node in enumerate(prog.nodes):
        if node.kind == "leaf":
            env.append(leaves[i])
        else:
            env.append(engine_apply(node, [env[a] for a in node.args], size))
    weights = [w.astype(dtype) for w in prog.weights[size]]
    if held is not None:
        held.extend(env)
    if prog.seed_mode:
        return env[prog.sinks[0]], weights[0]
    root = None
    for s, w in zip(prog.sinks, weights, strict=True):
        term = (env[s] * w).sum()
        root = term if root is None else root + term
    assert root is not None
    return root, None


def name(prog: Program, i: int) -> str:
    return f"{'x' if prog.nodes[i].kind == 'leaf' else 't'}{i}"


def run(case: Case, size: str, hold: bool, dtype: Any) -> list[str]:
    """Run one variant; return what is wrong with it (empty when all agrees)."""
    prog, orc = case.prog, case.oracles[size]
    leaves = {
        i: Tensor(prog.vals[size][i].astype(dtype), requires_grad=i not in prog.constants)
        for i in prog.leaves
    }
    held: list[Tensor] | None = [] if hold else None
    try:
        root, seed = build(prog, size, dtype, leaves, held)
        value = np.asarray(root.data, dtype=np.float64)
        if seed is not None:
            value = np.sum(value * seed.astype(np.float64))
            seed_copy = seed.copy()
            root.backward(gradient=seed)
        else:
            root.backward()
    except Exception as exc:  # reported with the program, like a wrong gradient
        return [f"the engine raised {type(exc).__name__}: {exc}"]
    errors = []
    if seed is not None and not np.array_equal(seed, seed_copy):
        errors.append("backward wrote into the array passed as gradient=")
    if not abs(float(value) - orc.loss) <= LOSS_RTOL[dtype] * orc.loss_scale:
        errors.append(f"loss: engine {float(value):.6g}, oracle {orc.loss:.6g}")
    for i in sorted(prog.constants):
        if leaves[i].grad.any():
            errors.append(f"{name(prog, i)} requires no gradient, yet its grad is not zero")
    checks = {i: leaves[i] for i in prog.differentiated}
    if held is not None:
        checks.update({i: held[i] for i in prog.checked})
    grads = {i: t.grad for i, t in checks.items()}
    if size == "small":
        scale = max([1.0] + [float(np.abs(g).max()) for g in orc.grads.values() if g.size])
    for i, grad in grads.items():
        what = f"{name(prog, i)}.grad"
        if grad.shape != prog.vals[size][i].shape or grad.dtype != dtype:
            errors.append(
                f"{what} is {grad.dtype} {grad.shape}, not {np.dtype(dtype)} "
                f"{prog.vals[size][i].shape}"
            )
            continue
        if size == "small":
            errors += compare(what, grad.astype(np.float64), orc.grads[i], scale, RTOL[dtype])
        else:
            v, want = orc.dirs[i]
            spread = broadcast_spread(prog, size, i) if dtype == np.float32 else 1.0
            terms = grad.astype(np.float64) * v
            errors += compare_dir(what, terms, want, v, orc, DIR_RTOL[dtype], spread)
    return errors


def compare_dir(
    what: str,
    terms: np.ndarray,
    want: float,
    v: np.ndarray,
    orc: Oracle,
    rtol: float,
    spread: float = 1.0,
) -> list[str]:
    """Compare sum(grad * v), given as its terms, with the oracle's directional derivative.

    Relative to sum(|grad * v|), plus a floor as if every element's gradient were about
    1 with independent errors, plus the rounding error of the central difference. A
    leaf broadcast to ``spread`` times its size gets its gradient as a sum over that
    many positions, whose rounding grows with their number even when the terms cancel
    (a scalar scaling a tensor that is then standardised has gradient 0, summed from
    thousands of large terms): the floor counts each position (used for float32).
    """
    got = float(terms.sum())
    floor = np.sqrt(np.sum(v * v) * spread)
    tol = rtol * (float(np.abs(terms).sum()) + abs(want) + floor)
    tol += 1e-9 * orc.loss_scale
    if abs(got - want) <= tol:
        return []
    return [
        f"{what} along a random direction v: sum(grad * v) is {got:.6g} in the engine, "
        f"{want:.6g} by central differences (tolerance {tol:.2g})"
    ]


def broadcast_spread(prog: Program, size: str, leaf: int) -> float:
    """How many times larger than ``leaf`` the largest result of an op using it is (>= 1)."""
    own = max(prog.vals[size][leaf].size, 1)
    uses = [prog.vals[size][j].size for j, n in enumerate(prog.nodes) if leaf in n.args]
    return max([own, *uses]) / own


def compare(what: str, got: np.ndarray, want: np.ndarray, scale: float, rtol: float) -> list[str]:
    tol = rtol * (scale + np.abs(want))
    bad = ~(np.abs(got - want) <= tol)
    if not bad.any():
        return []
    worst = np.unravel_index(np.argmax(np.where(bad, np.abs(got - want) / tol, 0)), bad.shape)
    more = f" (and {int(bad.sum()) - 1} more elements)" if bad.sum() > 1 else ""
    return [
        f"{what} differs at {tuple(int(k) for k in worst)}: engine {got[worst]:.6g}, "
        f"oracle {want[worst]:.6g}{more}"
    ]


# ----------------------------------------------------------------------- describing a case


def fmt_key(key: Any) -> str:
    def one(k: Any) -> str:
        if isinstance(k, slice):
            text = ":".join("" if v is None else str(v) for v in (k.start, k.stop, k.step))
            return text[:-1] if text.endswith(":") and k.step is None else text
        if k is Ellipsis:
            return "..."
        if isinstance(k, np.ndarray):
            return f"np.array({k.tolist()})"
        return repr(k)

    return ", ".join(one(k) for k in key) if isinstance(key, tuple) else one(key)


def fmt_const(c: Any) -> str:
    return repr(c) if isinstance(c, np.generic) else str(c)


def expression(prog: Program, i: int, size: str) -> str:
    node = prog.nodes[i]
    k, p = node.kind, node.p
    a = [name(prog, j) for j in node.args]
    if k == "binary":
        return f"{a[0]} {p['op']} {a[1]}"
    if k == "scalar":
        c = fmt_const(p["c"])
        return f"{c} {p['op']} {a[0]}" if p["left"] else f"{a[0]} {p['op']} {c}"
    if k == "neg":
        return f"-{a[0]}"
    if k == "unary":
        kw = ", ".join(f"{key}={value!r}" for key, value in p.get("kw", {}).items())
        return f"{a[0]}.{p['name']}({kw})"
    if k == "clip":
        return f"{a[0]}.clip({p['lo']}, {p['hi']})"
    if k == "reduce":
        if p["axis"] is None and not p["keepdims"]:
            return f"{a[0]}.{p['name']}()"
        return f"{a[0]}.{p['name']}(axis={p['axis']}, keepdims={p['keepdims']})"
    if k == "matmul":
        return f"{a[0]} @ {a[1]}"
    if k == "linear":
        return f"{a[0]}.linear({', '.join(a[1:])}, activation={p['act']!r})"
    if k == "getitem":
        return f"{a[0]}[{fmt_key(p['key'])}]"
    if k in ("concat", "stack"):
        fn = "concatenate" if k == "concat" else "stack"
        return f"{fn}([{', '.join(a)}], axis={p['axis']})"
    if k == "where":
        ops = where_operands(a, p, str)
        return f"where(M{i}, {ops[0]}, {ops[1]})"
    if k == "extremum":
        ops = where_operands(a, p, str)
        return f"{p['name']}({ops[0]}, {ops[1]})"
    if k == "softmax":
        axis = "" if p["axis"] is None else f"axis={p['axis']}"
        return f"{a[0]}.{p['name']}({axis})"
    if k == "stat":
        return f"{a[0]}.{p['name']}(axis={p['axis']}, keepdims={p['keepdims']}, ddof={p['ddof']})"
    if k == "logsumexp":
        return f"{a[0]}.logsumexp(axis={p['axis']}, keepdims={p['keepdims']})"
    if k == "flatten":
        return f"{a[0]}.flatten({p['start']}, {p['end']})"
    if k in ("squeeze", "unsqueeze"):
        return f"{a[0]}.{k}({'' if p['axis'] is None else p['axis']})"
    if k == "pad":
        return f"{a[0]}.pad({p['width']}, value={p['value']})"
    if k == "windows":
        return f"{a[0]}.sliding_windows({p['window']}, axis={p['axis']})"
    if k == "reshape":
        shape = reshape_target(prog.vals[size][node.args[0]].shape, p["how"])
        return f"{a[0]}.reshape({', '.join(map(str, shape)) if p['star'] else shape})"
    if p["how"] == "T":
        return f"{a[0]}.T"
    return f"{a[0]}.transpose({'' if p['how'] == 'none' else p['how']})"


def describe(prog: Program, size: str) -> str:
    vals = prog.vals[size]
    leaves = "; ".join(
        f"{name(prog, i)} = leaf {vals[i].shape}"
        + (" (positive)" if prog.nodes[i].p["kind"] == "pos" else "")
        + (" (requires_grad=False)" if i in prog.constants else "")
        for i in prog.leaves
    )
    lines = [leaves]
    for i, node in enumerate(prog.nodes):
        if node.kind != "leaf":
            note = f"; M{i} a fixed random mask" if node.kind == "where" else ""
            lines.append(
                f"{name(prog, i)} = {expression(prog, i, size)}".ljust(48)
                + f"  # {vals[i].shape}{note}"
            )
    if prog.seed_mode:
        lines.append(f"{name(prog, prog.sinks[0])}.backward(gradient=W)  # W: fixed random")
    else:
        terms = " + ".join(f"({name(prog, s)} * W{s}).sum()" for s in prog.sinks)
        lines.append(f"out = {terms}  # W: fixed random weights")
    return "\n".join(lines)


# -------------------------------------------------------------------------------- tests


def check_seed(seed: int) -> tuple[Case, list[str]]:
    """Run every variant of the program for ``seed``; return a report of what is wrong."""
    case = make_case(seed)
    report = []
    for size in SIZES:
        failing: dict[str, list[str]] = {}
        # Held intermediates are never released early; scoped ones are, unless the
        # memory saving is switched off, so every graph also runs without it.
        for hold, saving in ((True, True), (False, True), (False, False)):
            for dtype in (np.float64, np.float32):
                previous = set_memory_saving(saving)
                try:
                    errors = run(case, size, hold, dtype)
                finally:
                    set_memory_saving(previous)
                if errors:
                    how = "held" if hold else "scoped" if saving else "scoped-no-saving"
                    failing[f"{np.dtype(dtype)}/{how}"] = errors
        if failing:
            (first, errors), *_ = failing.items()
            report.append(
                f"{size} sizes, wrong in {', '.join(failing)} (held: every intermediate kept "
                f"in a list; scoped: only leaves and output referenced; no-saving: with "
                f"set_memory_saving(False)). {first}:"
            )
            report += [f"   {e}" for e in errors]
            report.append(describe(case.prog, size))
    return case, report


@pytest.mark.parametrize("seed", range(N_GRAPHS), ids=lambda seed: f"seed{seed}")
def test_random_graph(seed: int) -> None:
    _, report = check_seed(seed)
    if report:
        pytest.fail(f"seed {seed}:\n" + "\n".join(report), pytrace=False)


def test_the_checker_sees_a_missing_contribution() -> None:
    # The comparison itself: a gradient off by a factor on one element, or by a little
    # everywhere, is reported; rounding-sized differences are not.
    want = np.random.default_rng(0).standard_normal((3, 4))
    assert compare("x", want * (1 + 1e-9), want, 1.0, RTOL[np.float64]) == []
    wrong = want.copy()
    wrong[1, 2] /= 3
    (message,) = compare("x0.grad", wrong, want, 1.0, RTOL[np.float64])
    assert message.startswith("x0.grad differs at (1, 2)")
    assert compare("x", want * 1.01, want, 1.0, RTOL[np.float32])
    # Along a direction, at the large sizes: three rows of 80 missing a contribution.
    rng = np.random.default_rng(1)
    grad, v = rng.standard_normal((80, 64)), rng.standard_normal((80, 64))
    exact = float((grad * v).sum())
    orc = Oracle(loss=0.0, loss_scale=100.0, grads={}, dirs={})
    for dtype in (np.float64, np.float32):
        assert compare_dir("x", grad * v * (1 + 1e-7), exact, v, orc, DIR_RTOL[dtype]) == []
        wrong = grad.copy()
        wrong[[0, 0, -1]] *= 0.5  # rows 0 and -1 get half of what they should
        assert compare_dir("x", wrong * v, exact, v, orc, DIR_RTOL[dtype])
    # A scalar broadcast over 5,000 positions: rounding-sized cancellation passes in
    # float32, a contribution lost from 1 % of the positions does not.
    v1 = np.array([1.3])
    per_position = rng.standard_normal(5000) * 20.0
    exact = float(per_position.sum() * v1[0])
    rounded = float(per_position.astype(np.float32).sum(dtype=np.float32))
    assert (
        compare_dir("x", np.array([rounded]) * v1, exact, v1, orc, DIR_RTOL[np.float32], 5000) == []
    )
    lost = float(per_position[50:].sum())
    assert compare_dir("x", np.array([lost]) * v1, exact, v1, orc, DIR_RTOL[np.float32], 5000)


def test_programs_cover_every_family_and_both_sizes() -> None:
    # The generator really produces what the random tests claim to check.
    families: set[str] = set()
    shared = constants = 0
    for seed in range(40):
        prog = make_case(seed).prog
        families |= prog.families
        uses = [a for n in prog.nodes for a in n.args]
        shared += any(uses.count(a) > 1 for a in set(uses) if prog.nodes[a].kind != "leaf")
        constants += any(a in prog.constants for a in uses)
        assert all(v.size < REUSE_THRESHOLD for v in prog.vals["small"])
        assert max(v.size for v in prog.vals["large"]) >= REUSE_THRESHOLD
    assert families == set(FAMILIES)
    assert shared >= 30  # most programs reuse an intermediate
    assert constants >= 8  # and many combine a leaf that requires no gradient


# ------------------------------------------------------ regression cases, computed by hand


def test_a_product_reached_directly_and_through_a_scale():
    a, b = Tensor(np.array(-4.0)), Tensor(np.array(2.0))
    d = a * b
    (d + d * 2).backward()  # 3 a b
    assert a.grad == 6.0
    assert b.grad == -12.0


def test_the_micrograd_readme_expression():
    a, b = Tensor(np.array(-4.0)), Tensor(np.array(2.0))
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    assert g.data == pytest.approx(24.7041, abs=1e-4)
    assert a.grad == pytest.approx(138.8338, abs=1e-4)
    assert b.grad == pytest.approx(645.5773, abs=1e-4)


def _weights(shape: tuple[int, ...]) -> np.ndarray:
    return np.random.default_rng(7).uniform(-1.0, 1.0, shape)


def test_silu_of_an_intermediate():
    x0, w0 = np.array([[-1.5, 0.3, 2.0], [0.7, -0.2, 1.1]]), 1.5
    W = _weights(x0.shape)
    x = Tensor(x0)
    h = x * w0
    (h * h.sigmoid() * W).sum().backward()
    hv = x0 * w0
    s = 1 / (1 + np.exp(-hv))
    np.testing.assert_allclose(x.grad, W * (s + hv * s * (1 - s)) * w0, rtol=1e-12)


def test_centering_an_intermediate():
    x0 = np.array([[1.0, -2.0, 0.5, 3.0], [0.2, 0.4, -1.0, 2.5]])
    W = _weights(x0.shape)
    x = Tensor(x0)
    h = x * 2.0
    ((h - h.mean(axis=1, keepdims=True)) * W).sum().backward()
    np.testing.assert_allclose(x.grad, 2.0 * (W - W.mean(axis=1, keepdims=True)), rtol=1e-12)


def test_normalizing_an_exponential():
    x0 = np.array([0.5, -1.0, 2.0, 0.1])
    W = _weights(x0.shape)
    x = Tensor(x0)
    e = x.exp()
    (e / e.sum() * W).sum().backward()
    p = np.exp(x0) / np.exp(x0).sum()
    np.testing.assert_allclose(x.grad, p * (W - (p * W).sum()), rtol=1e-12)


def test_a_residual_tanh():
    x0 = np.array([[0.3, -1.2], [2.0, 0.05]])
    W = _weights(x0.shape)
    x = Tensor(x0)
    h = x * 3.0
    ((h + h.tanh()) * W).sum().backward()
    np.testing.assert_allclose(x.grad, 3.0 * W * (2 - np.tanh(3.0 * x0) ** 2), rtol=1e-12)
