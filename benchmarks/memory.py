"""Memory of one training step, measured with tracemalloc (NumPy reports its buffers to it).

``step_peak`` is the highest traced memory during one step minus what was held just before
it (parameters, data, gradients kept from the previous step): the step's own working set.
``growth`` is the traced memory after the last of many steps minus that after the first:
a graph or cache kept alive by mistake shows here as growth proportional to the steps.
"""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Callable
from typing import Any


def step_memory(make: Callable[[], Any], steps: int) -> dict[str, float]:
    """Build an implementation with ``make`` and measure one step's peak and the growth.

    Memory is in MiB.
    """
    gc.collect()
    tracemalloc.start()
    try:
        impl = make()
        impl.step()  # the first step allocates lazily created state (gradients)
        gc.collect()
        before, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        impl.step()
        after_first, peak = tracemalloc.get_traced_memory()
        for _ in range(steps - 1):  # keep no list here: it would be traced too
            impl.step()
        after_last, peak_all = tracemalloc.get_traced_memory()
        gc.collect()
        after_gc, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    mib = 1024.0 * 1024.0
    return {
        "held_before_step": before / mib,
        "step_peak": (peak - before) / mib,
        "peak_over_steps": (peak_all - before) / mib,
        "after_first": after_first / mib,
        "after_last": after_last / mib,
        "growth": (after_last - after_first) / mib,
        "growth_after_gc": (after_gc - after_first) / mib,
        "steps": steps,
    }
