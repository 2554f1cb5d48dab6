"""Benchmark minigrad against the same training steps written by hand in NumPy.

Runs the workloads W1-W6 and the original API's loop on W1-W3 (the ``-orig`` workloads;
see workloads.py), the per-op overhead table and the memory measurements; interleaves the
implementations round by round; checks on the first step that minigrad's (and PyTorch's)
gradients equal the hand-written ones; prints Markdown tables and writes a JSON file and
a bar chart.

    python benchmarks/run.py                 # full run, a few minutes
    python benchmarks/run.py --quick         # about a minute
    python benchmarks/run.py --threads 1     # one BLAS thread (and one PyTorch thread)

PyTorch is optional: when ``import torch`` works, a PyTorch CPU column is added with the
same dtype and as many threads as NumPy's BLAS uses.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import time
from pathlib import Path
from typing import Any

import harness
import memory
import ops
import report
import workloads

HERE = Path(__file__).resolve().parent
# W1 shows a small graph's memory staying flat over many steps; W3 and W5 the peak.
MEMORY_WORKLOADS = ("W1-relu", "W3", "W5-f64", "W5-f32")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="minigrad against hand-written NumPy (and PyTorch, when installed).",
    )
    p.add_argument("--quick", action="store_true", help="fewer rounds: about a minute")
    p.add_argument(
        "--threads",
        type=int,
        default=None,
        metavar="N",
        help="limit BLAS (and PyTorch) to N threads via threadpoolctl; default: as is",
    )
    p.add_argument(
        "--only",
        default=None,
        metavar="KEYS",
        help="comma-separated workloads to run, e.g. W1-relu,W4 (default: all)",
    )
    p.add_argument("--no-torch", action="store_true", help="leave PyTorch out even if present")
    p.add_argument(
        "--cold-allocator",
        action="store_true",
        help="do not settle malloc's mmap threshold first (see harness.settle_allocator)",
    )
    p.add_argument("--no-ops", action="store_true", help="skip the per-op table")
    p.add_argument("--no-memory", action="store_true", help="skip the memory measurements")
    p.add_argument(
        "--memory-steps",
        type=int,
        default=None,
        metavar="N",
        help="steps over which memory growth is measured "
        "(default 1000, W5 10; with --quick 100, W5 2)",
    )
    p.add_argument(
        "--output",
        type=Path,
        default=None,
        help="JSON result file; the chart goes beside it with .png (default: "
        "benchmarks/results.json, or results-quick.json with --quick, which is not committed)",
    )
    p.add_argument("--markdown", type=Path, default=None, help="also write the tables here")
    args = p.parse_args(argv)
    if args.output is None:
        args.output = HERE / ("results-quick.json" if args.quick else "results.json")
    if args.threads is not None and args.threads < 1:
        p.error(f"--threads must be at least 1, got {args.threads}")
    if args.memory_steps is not None and args.memory_steps < 2:
        p.error(f"--memory-steps must be at least 2, got {args.memory_steps}")
    known = [w.key for w in workloads.WORKLOADS]
    if args.only:
        args.only = [k.strip() for k in args.only.split(",") if k.strip()]
        unknown = [k for k in args.only if k not in known]
        if unknown:
            p.error(f"unknown workload(s) {', '.join(unknown)}; choose from {', '.join(known)}")
    return args


def load_torch(wanted: bool) -> Any:
    """Return the torch module when it is importable and wanted, else None."""
    if not wanted:
        return None
    try:
        import torch
    except ImportError:
        return None
    return torch


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def run_workload(w: workloads.Workload, torch: Any, quick: bool) -> dict[str, Any]:
    """Check the first step, then time the implementations interleaved."""
    prob = w.make()
    ref = workloads.numpy_impl(prob)
    mg = workloads.minigrad_impl(prob)
    checks = {"minigrad": workloads.check_same(ref, mg, w.dtype)}
    steps = {"numpy": ref.step, "minigrad": mg.step}
    if torch is not None:
        ref_t = workloads.numpy_impl(prob)
        th = workloads.torch_impl(prob)
        checks["torch"] = workloads.check_same(ref_t, th, w.dtype)
        steps["torch"] = th.step
    if w.heavy:
        timing = harness.interleave(
            steps, rounds=3 if quick else 9, block_seconds=0.0, warmup=0, fixed_steps=1
        )
    else:
        timing = harness.interleave(
            steps, rounds=9 if quick else 31, block_seconds=0.02 if quick else 0.1
        )
    return {
        "key": w.key,
        "title": w.title,
        "dtype": w.dtype,
        "target": w.target,
        "torch_when_issue_written": w.torch_reported,
        "check": checks,
        "timing": timing,
    }


def run_memory(w: workloads.Workload, quick: bool, steps: int | None) -> dict[str, Any]:
    prob = w.make()
    if steps is None:
        steps = (2 if quick else 10) if w.heavy else (100 if quick else 1000)
    ref = memory.step_memory(lambda: workloads.numpy_impl(prob), steps)
    mg = memory.step_memory(lambda: workloads.minigrad_impl(prob), steps)
    return {
        "key": w.key,
        "numpy": ref,
        "minigrad": mg,
        "ratio": mg["step_peak"] / ref["step_peak"] if ref["step_peak"] > 0 else float("nan"),
        # the peak target is for W3 and W5; W1 is here for the flatness
        "target": None if w.key.startswith("W1") else 1.3,
    }


def _recorded(argv: list[str]) -> list[str]:
    """The arguments as the results record them: without ``--markdown FILE``.

    Where else the tables were written does not change the results, and the path is
    the writer's own.
    """
    kept: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--markdown":
            skip = True
        elif not arg.startswith("--markdown="):
            kept.append(arg)
    return kept


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.cold_allocator:
        harness.settle_allocator()
    torch = load_torch(not args.no_torch)  # import before limiting, so its pools are seen
    limiter = None
    if args.threads is not None:
        from threadpoolctl import threadpool_limits

        limiter = threadpool_limits(limits=args.threads)
    threads = args.threads if args.threads is not None else harness.numpy_blas_threads()
    torch_info = None
    if torch is not None:
        torch.set_num_threads(threads)
        torch_info = {"version": torch.__version__, "threads": torch.get_num_threads()}
        log(f"PyTorch {torch.__version__} found: adding a PyTorch CPU column ({threads} threads)")
    else:
        log("PyTorch is not importable here: no PyTorch column")

    command = "python benchmarks/run.py" + "".join(f" {a}" for a in _recorded(argv or sys.argv[1:]))
    results: dict[str, Any] = {
        "command": command,
        "quick": args.quick,
        "threads": args.threads if args.threads is not None else f"default ({threads})",
        "allocator": "cold" if args.cold_allocator else "settled",
        "machine": harness.machine_info(),
        "blas": harness.blas_info(),
        "torch": torch_info,
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "workloads": [],
        "ops": [],
        "memory": [],
    }
    selected = [w for w in workloads.WORKLOADS if not args.only or w.key in args.only]
    t0 = time.perf_counter()
    failed = []
    for w in selected:
        log(f"{w.key}: {w.title}")
        try:
            entry = run_workload(w, torch, args.quick)
        except RuntimeError as e:  # a wrong gradient: refuse to time it
            log(f"  FAILED the first-step check: {e}")
            failed.append(w.key)
            continue
        results["workloads"].append(entry)
        impls = entry["timing"]["impls"]
        line = f"  numpy {impls['numpy']['ms']['median']:.3f} ms"
        for name in ("minigrad", "torch"):
            if name in impls:
                line += (
                    f", {name} {impls[name]['ms']['median']:.3f} ms"
                    f" ({impls[name]['ratio']['median']:.2f}x)"
                )
        log(line)
        gc.collect()
    if not args.no_ops:
        log("per-op overhead")
        results["ops"] = ops.measure_ops(
            rounds=5 if args.quick else 15,
            seconds_per_loop=0.01 if args.quick else 0.05,
            with_torch=torch is not None,
        )
    if not args.no_memory:
        for w in selected:
            if w.key in MEMORY_WORKLOADS and w.key not in failed:
                log(f"memory {w.key}")
                results["memory"].append(run_memory(w, args.quick, args.memory_steps))
    results["seconds"] = time.perf_counter() - t0
    if limiter is not None:
        limiter.restore_original_limits()

    text = report.markdown(results)
    print(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    png = args.output.with_suffix(".png")
    if results["workloads"]:
        report.chart(results, png)
    if args.markdown:
        args.markdown.write_text(text, encoding="utf-8")
    log(f"wrote {args.output} and {png} in {results['seconds']:.0f} s")
    if failed:
        log(f"gradient check failed for {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
