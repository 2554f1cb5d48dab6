"""Where does minigrad's time go on one workload? cProfile of its training step.

    python benchmarks/profile_step.py W1-relu            # top 25 functions by own time
    python benchmarks/profile_step.py W4 --steps 50 --sort cumulative

Prints the time per step of the hand-written NumPy step and of minigrad's (without the
profiler), then minigrad's profile: the gap between the two is what the profile has to
explain. Uses one BLAS thread unless ``--threads`` says otherwise.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys

import harness
import workloads


def main(argv: list[str] | None = None) -> int:
    keys = [w.key for w in workloads.WORKLOADS]
    p = argparse.ArgumentParser(description="cProfile of minigrad's training step.")
    p.add_argument("workload", choices=keys)
    p.add_argument("--steps", type=int, default=None, help="profiled steps (default: ~2 s)")
    p.add_argument("--threads", type=int, default=1, help="BLAS threads (default: 1)")
    p.add_argument("--sort", default="tottime", help="pstats sort key (default: tottime)")
    p.add_argument("--top", type=int, default=25, help="rows to print (default: 25)")
    args = p.parse_args(argv)
    harness.settle_allocator()  # the state run.py measures in

    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=args.threads)
    w = next(w for w in workloads.WORKLOADS if w.key == args.workload)
    prob = w.make()
    ref, mg = workloads.numpy_impl(prob), workloads.minigrad_impl(prob)
    workloads.check_same(ref, mg, w.dtype)
    timing = harness.interleave(
        {"numpy": ref.step, "minigrad": mg.step}, rounds=9, block_seconds=0.05
    )
    t_ref = timing["impls"]["numpy"]["ms"]["median"]
    t_mg = timing["impls"]["minigrad"]["ms"]["median"]
    print(
        f"{w.key}: NumPy by hand {t_ref:.3f} ms/step, minigrad {t_mg:.3f} ms/step "
        f"({t_mg / t_ref:.2f}x, {t_mg - t_ref:+.3f} ms)"
    )
    steps = args.steps or max(1, round(2000 / t_mg))
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(steps):
        mg.step()
    prof.disable()
    print(f"cProfile of {steps} minigrad steps (profiler overhead inflates Python-heavy rows):")
    stats = pstats.Stats(prof, stream=sys.stdout)
    stats.strip_dirs().sort_stats(args.sort).print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
