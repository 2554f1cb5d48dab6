"""How long does `minigrad.draw_graph` take on a large graph? DOT text only, no Graphviz.

    python benchmarks/draw.py                 # a chain of 10,000 operations
    python benchmarks/draw.py --nodes 100000

Builds a chain of elementwise operations on a (16,) vector (as W4 does, with one
parameter used by every step) and times `draw_graph` on its result: the median of a
few calls, and the time per tensor drawn. The target is under a second for 10,000
nodes.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from minigrad import Tensor, draw_graph


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Time draw_graph on a long chain.")
    p.add_argument("--nodes", type=int, default=10_000, help="operations in the chain")
    p.add_argument("--repeat", type=int, default=5, help="timed calls (median reported)")
    args = p.parse_args(argv)
    rng = np.random.default_rng(0)
    w = Tensor(rng.standard_normal(16))
    h = Tensor(rng.standard_normal(16), requires_grad=False)
    for i in range(args.nodes):  # alternate an op with two tensor inputs and one with one
        h = h * w if i % 2 == 0 else h.tanh()
    times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        text = draw_graph(h)
        times.append(time.perf_counter() - start)
    median = statistics.median(times)
    boxes = text.count("shape=plaintext")  # one per tensor
    print(f"draw_graph on {args.nodes:,} operations: {median:.3f} s (median of {args.repeat})")
    print(f"  {boxes:,} tensors, {len(text):,} characters of DOT text")
    print(f"  {median / args.nodes * 1e6:.1f} µs per operation (target: under 1 s for 10,000)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
