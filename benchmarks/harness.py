"""Timing, statistics and machine description shared by the benchmark scripts.

Every comparison here is *interleaved*: one round times a block of steps of each
implementation back to back (reference, minigrad, PyTorch, then the next round), so slow
drifts of the machine (another process, frequency scaling) hit all of them alike. The
ratio of a round is taken inside that round, and the reported ratio is the median of
those per-round ratios, with its spread.
"""

from __future__ import annotations

import gc
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

Step = Callable[[], object]


def percentile(values: Sequence[float], q: float) -> float:
    """Return the ``q``-th percentile (0-100) of ``values``, linear interpolation."""
    return float(np.percentile(np.asarray(values, dtype=np.float64), q))


def summarize(values: Sequence[float]) -> dict[str, float]:
    """Median, quartiles and range of a list of measurements."""
    return {
        "median": statistics.median(values),
        "q25": percentile(values, 25),
        "q75": percentile(values, 75),
        "min": min(values),
        "max": max(values),
        "n": len(values),
    }


def time_block(step: Step, n: int) -> float:
    """Run ``step`` ``n`` times and return the seconds per call."""
    start = time.perf_counter()
    for _ in range(n):
        step()
    return (time.perf_counter() - start) / n


def steps_per_block(steps: Sequence[Step], block_seconds: float, max_steps: int = 10_000) -> int:
    """Choose how many steps make one timed block: about ``block_seconds`` of the slowest.

    All implementations run the same number of steps per block, so a round's ratio is a
    ratio of two equally long (in steps) measurements.
    """
    slowest = 0.0
    for step in steps:
        n = 1
        while True:
            t = time_block(step, n)
            if t * n > 0.01 or n >= max_steps:
                break
            n *= 4
        slowest = max(slowest, t)
    return max(1, min(max_steps, round(block_seconds / max(slowest, 1e-9))))


def interleave(
    steps: dict[str, Step],
    *,
    rounds: int,
    block_seconds: float,
    warmup: int = 2,
    fixed_steps: int | None = None,
) -> dict[str, Any]:
    """Time the named steps in interleaved rounds; the first name is the denominator.

    Returns per implementation the per-round milliseconds per step and their summary,
    and for every other implementation the per-round ratio to the first one. With
    ``fixed_steps`` a block has that many steps (no calibration: for steps of seconds).
    """
    names = list(steps)
    for name in names:
        for _ in range(warmup):
            steps[name]()
    n = fixed_steps or steps_per_block(list(steps.values()), block_seconds)
    per_round: dict[str, list[float]] = {name: [] for name in names}
    gc.collect()
    for r in range(rounds):
        # Rotate who goes first so that no implementation always follows the same one.
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            per_round[name].append(time_block(steps[name], n) * 1e3)
    base = names[0]
    result: dict[str, Any] = {"steps_per_block": n, "rounds": rounds, "impls": {}}
    for name in names:
        entry: dict[str, Any] = {
            "ms_per_step": per_round[name],
            "ms": summarize(per_round[name]),
        }
        if name != base:
            ratios = [a / b for a, b in zip(per_round[name], per_round[base], strict=True)]
            entry["ratio_per_round"] = ratios
            entry["ratio"] = summarize(ratios)
        result["impls"][name] = entry
    return result


def settle_allocator() -> None:
    """Allocate and free one 30 MiB array, so every run starts with the allocator in one state.

    glibc's malloc serves blocks above a threshold (128 KiB at start) with fresh
    ``mmap`` calls and returns them to the system on free, which costs page faults on
    every reuse; it raises that threshold the first time such a block is freed. Any
    process that has handled a large array once (importing PyTorch does) is in the
    raised state, a fresh one is not, and the difference moves both the hand-written
    step and minigrad (more for minigrad, which makes more temporaries). Settling it
    first makes results independent of whether PyTorch was imported or which workload
    ran first. Elsewhere this is a harmless allocation.
    """
    block = np.empty(30 * 1024 * 1024 // 8)
    block[::512] = 0.0  # touch it, so it is really allocated
    del block


def cpu_model() -> str:
    """Return the CPU model name from /proc/cpuinfo where it exists, else platform's."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def blas_info() -> list[dict[str, Any]]:
    """Return threadpoolctl's description of the loaded BLAS / OpenMP libraries."""
    from threadpoolctl import threadpool_info

    keep = ("user_api", "internal_api", "prefix", "version", "num_threads", "architecture")
    return [{k: lib.get(k) for k in keep if k in lib} for lib in threadpool_info()]


def numpy_blas_threads() -> int:
    """Return how many threads NumPy's BLAS uses now (1 when it cannot be told)."""
    from threadpoolctl import threadpool_info

    libs = [lib for lib in threadpool_info() if lib.get("user_api") == "blas"]
    for lib in libs:
        if "numpy" in str(lib.get("filepath", "")):
            return int(lib["num_threads"])
    return int(libs[0]["num_threads"]) if libs else 1


def machine_info() -> dict[str, Any]:
    """Describe the machine and the numerical stack the numbers were measured on."""
    info: dict[str, Any] = {
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "cpu": cpu_model(),
        "logical_cpus": os.cpu_count(),
        "numpy": np.__version__,
        "openblas_env": {
            k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if k in os.environ
        },
    }
    try:
        import minigrad

        info["minigrad"] = getattr(minigrad, "__version__", "unknown")
    except ImportError:  # pragma: no cover - the benchmark needs minigrad anyway
        info["minigrad"] = None
    return info
