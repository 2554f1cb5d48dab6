"""Per-op overhead: forward + backward of one op on minigrad against bare NumPy calls.

For each op and shape four loops are timed, interleaved round by round:

- ``numpy``: the bare NumPy forward call (``a + b``);
- ``numpy_fb``: forward plus the hand-written backward, accumulated into gradient
  arrays (``c = a + b; ga += g; gb += g``) — what an engine must do at the least;
- ``minigrad``: ``c = a + b; c.backward(g)`` on tensors that require gradients
  (leaf gradients accumulate across calls, as they do in a training loop);
- ``torch`` (when importable): the same as ``minigrad`` on PyTorch tensors.

The overhead is ``minigrad - numpy_fb`` in microseconds per op: the median over rounds of
the difference within a round.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
from harness import summarize

Loop = Callable[[int], None]

# (label, shape of a, shape of b or None for unary ops)
OPS: list[tuple[str, tuple[int, ...], tuple[int, ...] | None]] = [
    ("a + b", (16,), (16,)),
    ("a + b", (100, 16), (100, 16)),
    ("a * b", (16,), (16,)),
    ("a * b", (100, 16), (100, 16)),
    ("tanh(a)", (16,), None),
    ("tanh(a)", (100, 16), None),
    ("a @ b", (16,), (16,)),
    ("a @ b", (100, 16), (16, 16)),
    ("a.sum()", (16,), None),
    ("a.sum()", (100, 16), None),
]


def _numpy_loops(op: str, a: Any, b: Any) -> tuple[Loop, Loop]:
    """The bare forward call, and forward plus hand-written backward."""
    ga, gb = np.zeros_like(a), None if b is None else np.zeros_like(b)
    add = np.add
    if op == "a + b":
        g = np.ones_like(a + b)

        def fwd(n: int) -> None:
            for _ in range(n):
                _ = a + b

        def fb(n: int) -> None:
            for _ in range(n):
                _ = a + b
                add(ga, g, out=ga)
                add(gb, g, out=gb)

    elif op == "a * b":
        g = np.ones_like(a * b)

        def fwd(n: int) -> None:
            for _ in range(n):
                _ = a * b

        def fb(n: int) -> None:
            for _ in range(n):
                _ = a * b
                add(ga, g * b, out=ga)
                add(gb, g * a, out=gb)

    elif op == "tanh(a)":
        g = np.ones_like(a)
        tanh = np.tanh

        def fwd(n: int) -> None:
            for _ in range(n):
                _ = tanh(a)

        def fb(n: int) -> None:
            for _ in range(n):
                t = tanh(a)
                add(ga, g * (1.0 - t * t), out=ga)

    elif op == "a @ b":
        g = np.ones_like(a @ b)
        one_d = a.ndim == 1

        def fwd(n: int) -> None:
            for _ in range(n):
                _ = a @ b

        if one_d:

            def fb(n: int) -> None:
                for _ in range(n):
                    _ = a @ b
                    add(ga, g * b, out=ga)
                    add(gb, g * a, out=gb)

        else:

            def fb(n: int) -> None:
                for _ in range(n):
                    _ = a @ b
                    add(ga, g @ b.T, out=ga)
                    add(gb, a.T @ g, out=gb)

    elif op == "a.sum()":
        g = np.ones(())

        def fwd(n: int) -> None:
            for _ in range(n):
                _ = a.sum()

        def fb(n: int) -> None:
            for _ in range(n):
                _ = a.sum()
                add(ga, g, out=ga)

    else:  # pragma: no cover
        raise ValueError(op)
    return fwd, fb


def _tensor_loop(op: str, a: Any, b: Any, seed: Any) -> Loop:
    """Forward + backward on tensors (minigrad's or PyTorch's); ``seed`` None for 0-d."""
    if op == "a + b":

        def f(n: int) -> None:
            for _ in range(n):
                (a + b).backward(seed)

    elif op == "a * b":

        def f(n: int) -> None:
            for _ in range(n):
                (a * b).backward(seed)

    elif op == "tanh(a)":

        def f(n: int) -> None:
            for _ in range(n):
                a.tanh().backward(seed)

    elif op == "a @ b":

        def f(n: int) -> None:
            for _ in range(n):
                (a @ b).backward(seed)

    elif op == "a.sum()":

        def f(n: int) -> None:
            for _ in range(n):
                a.sum().backward()

    else:  # pragma: no cover
        raise ValueError(op)
    return f


def _per_call_us(loop: Loop, n: int) -> float:
    start = time.perf_counter()
    loop(n)
    return (time.perf_counter() - start) / n * 1e6


def measure_ops(*, rounds: int, seconds_per_loop: float, with_torch: bool) -> list[dict[str, Any]]:
    """Time every (op, shape) of ``OPS``; return one row per op with medians in µs."""
    from minigrad import Tensor

    torch: Any = None
    if with_torch:
        import torch

    rng = np.random.default_rng(0)
    rows = []
    for op, shape_a, shape_b in OPS:
        a = rng.standard_normal(shape_a)
        b = None if shape_b is None else rng.standard_normal(shape_b)
        fwd, fb = _numpy_loops(op, a, b)
        out_shape = np.shape(_forward_value(op, a, b))
        seed = None if out_shape == () else np.ones(out_shape)
        ta = Tensor(a)
        tb = None if b is None else Tensor(b)
        loops: dict[str, Loop] = {
            "numpy": fwd,
            "numpy_fb": fb,
            "minigrad": _tensor_loop(op, ta, tb, seed),
        }
        if torch is not None:
            xa = torch.tensor(a, requires_grad=True)
            xb = None if b is None else torch.tensor(b, requires_grad=True)
            tseed = None if seed is None else torch.ones(out_shape, dtype=torch.float64)
            loops["torch"] = _tensor_loop(op, xa, xb, tseed)
        # calibrate on the slowest loop, then interleave
        for loop in loops.values():
            loop(50)
        slowest = max(_per_call_us(loop, 200) for loop in loops.values())
        n = max(50, int(seconds_per_loop * 1e6 / slowest))
        times: dict[str, list[float]] = {name: [] for name in loops}
        for _ in range(rounds):
            for name, loop in loops.items():
                times[name].append(_per_call_us(loop, n))
        row: dict[str, Any] = {
            "op": op,
            "shape": " @ ".join(str(s) for s in (shape_a, shape_b) if s is not None)
            if op == "a @ b"
            else str(shape_a),
            "calls_per_round": n,
        }
        for name, values in times.items():
            row[name] = summarize(values)
        # Differences taken inside each round, like the workloads' ratios, so that load
        # from other processes during one round cancels out.
        diffs = [m - r for m, r in zip(times["minigrad"], times["numpy_fb"], strict=True)]
        row["overhead"] = summarize(diffs)
        row["overhead_us"] = row["overhead"]["median"]
        rows.append(row)
    return rows


def _forward_value(op: str, a: Any, b: Any) -> Any:
    if op == "a + b":
        return a + b
    if op == "a * b":
        return a * b
    if op == "tanh(a)":
        return np.tanh(a)
    if op == "a @ b":
        return a @ b
    return a.sum()
