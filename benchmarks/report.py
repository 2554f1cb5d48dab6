"""Markdown tables and the bar chart made from a results dictionary."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _ratio_cell(entry: dict[str, Any] | None) -> str:
    if entry is None:
        return "—"
    r = entry["ratio"]
    return f"{r['median']:.2f}x ({r['q25']:.2f}-{r['q75']:.2f})"


def _verdict(ratio: float, target: float | None) -> str:
    if target is None:
        return ""
    if ratio <= target:
        return "meets"
    return f"**MISS** by {ratio / target:.2f}x"


def workload_table(results: dict[str, Any]) -> str:
    """Median ms/step of each implementation and the median per-round ratios."""
    has_torch = any("torch" in w["timing"]["impls"] for w in results["workloads"])
    head = "| workload | NumPy by hand ms | minigrad ms | minigrad / NumPy (IQR) | target | "
    sep = "|---|---:|---:|---:|---:|"
    if has_torch:
        head += "PyTorch ms | PyTorch / NumPy (IQR) | minigrad / PyTorch | "
        sep += "---:|---:|---:|"
    head += "verdict |"
    sep += "---|"
    lines = [head, sep]
    for w in results["workloads"]:
        impls = w["timing"]["impls"]
        mg = impls["minigrad"]
        ratio = mg["ratio"]["median"]
        cells = [
            f"{w['key']}",
            f"{impls['numpy']['ms']['median']:.3f}",
            f"{mg['ms']['median']:.3f}",
            _ratio_cell(mg),
            f"≤ {w['target']:.2f}x" if w["target"] else "",
        ]
        verdict = _verdict(ratio, w["target"])
        if has_torch:
            t = impls.get("torch")
            cells += [
                f"{t['ms']['median']:.3f}" if t else "—",
                _ratio_cell(t),
                f"{ratio / t['ratio']['median']:.2f}x" if t else "—",
            ]
            if t and ratio > t["ratio"]["median"]:
                verdict += "; slower than PyTorch"
        cells.append(verdict)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


# The workloads that time the original API's training loop are named after the workload
# whose library loop they rewrite, with this suffix.
ORIGINAL_SUFFIX = "-orig"


def original_loop_table(results: dict[str, Any]) -> str:
    """The original API's loop beside the library's, each as a ratio to its own reference.

    For W1 and W3 both loops compute the same step, so the two references are the same
    computation; W2's original loop takes MSE on one-hot targets (that API has no
    cross-entropy), and its reference does too.
    """
    by_key = {w["key"]: w for w in results["workloads"]}
    pairs = []
    for w in results["workloads"]:
        if w["key"].endswith(ORIGINAL_SUFFIX):
            library = by_key.get(w["key"][: -len(ORIGINAL_SUFFIX)])
            pairs.append((library, w))
    if not pairs:
        return ""
    lines = [
        "| workload | library loop ms | library loop / NumPy (IQR) | original loop ms | "
        "original loop / NumPy (IQR) | target | verdict (original loop) |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for library, orig in pairs:
        mg = orig["timing"]["impls"]["minigrad"]
        lib = library["timing"]["impls"]["minigrad"] if library else None
        cells = [
            orig["key"][: -len(ORIGINAL_SUFFIX)],
            f"{lib['ms']['median']:.3f}" if lib else "—",
            _ratio_cell(lib),
            f"{mg['ms']['median']:.3f}",
            _ratio_cell(mg),
            f"≤ {orig['target']:.2f}x" if orig["target"] else "",
            _verdict(mg["ratio"]["median"], orig["target"]),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def ops_table(results: dict[str, Any]) -> str:
    """Per-op forward + backward cost next to the bare NumPy calls, in µs."""
    rows = results.get("ops") or []
    if not rows:
        return ""
    has_torch = "torch" in rows[0]
    head = "| op | shape | NumPy call µs | NumPy fwd+bwd by hand µs | minigrad fwd+bwd µs | "
    head += "overhead µs (target ≤ 3) |"
    sep = "|---|---|---:|---:|---:|---:|"
    if has_torch:
        head += " PyTorch fwd+bwd µs |"
        sep += "---:|"
    lines = [head, sep]
    for r in rows:
        over = r["overhead_us"]
        cells = [
            f"`{r['op']}`",
            r["shape"],
            f"{r['numpy']['median']:.2f}",
            f"{r['numpy_fb']['median']:.2f}",
            f"{r['minigrad']['median']:.2f}",
            f"{over:.2f}" + ("" if over <= 3.0 else " **MISS**"),
        ]
        if has_torch:
            cells.append(f"{r['torch']['median']:.2f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def memory_table(results: dict[str, Any]) -> str:
    """Peak traced memory of one step and growth over many, minigrad against NumPy."""
    rows = results.get("memory") or []
    if not rows:
        return ""
    lines = [
        "| workload | NumPy step peak MiB | minigrad step peak MiB | "
        "ratio (target ≤ 1.3 for W3, W5) | growth over steps MiB (NumPy / minigrad) | steps |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        ref, mg = r["numpy"], r["minigrad"]
        ratio = r["ratio"]
        lines.append(
            f"| {r['key']} | {ref['step_peak']:.3g} | {mg['step_peak']:.3g} | "
            f"{ratio:.2f}x{' **MISS**' if r.get('target') and ratio > r['target'] else ''} | "
            f"{ref['growth']:+.3f} / {mg['growth']:+.3f} | {mg['steps']} |"
        )
    return "\n".join(lines)


def machine_block(results: dict[str, Any]) -> str:
    """The machine and BLAS configuration, as a short Markdown list."""
    m = results["machine"]
    lines = [
        f"- CPU: {m['cpu']} ({m['logical_cpus']} logical CPUs), {m['platform']}",
        f"- Python {m['python']}, NumPy {m['numpy']}, minigrad {m['minigrad']}"
        + (f", PyTorch {results['torch']['version']}" if results.get("torch") else ""),
        f"- threads: {results['threads']}",
    ]
    for lib in results["blas"]:
        lines.append(
            f"- {lib.get('user_api')}: {lib.get('internal_api')} {lib.get('version')} "
            f"({lib.get('prefix')}), kernel {lib.get('architecture')}, "
            f"{lib.get('num_threads')} thread(s)"
        )
    if m.get("openblas_env"):
        lines.append(f"- environment: {m['openblas_env']}")
    return "\n".join(lines)


def markdown(results: dict[str, Any]) -> str:
    """Every table of a run, ready to paste into the README."""
    parts = [
        f"Command: `{results['command']}`",
        "",
        machine_block(results),
        "",
        "Training step, median of interleaved rounds (ratio: median per-round ratio, IQR):",
        "",
        workload_table(results),
    ]
    checks = []
    for w in results["workloads"]:
        worst = max(max(c.values()) for c in w["check"].values())
        checks.append(f"{w['key']} {worst:.1e}")
    parts += [
        "",
        "First-step check against the hand-written gradients (largest relative error of "
        "loss, gradients and updated weights over minigrad and PyTorch): " + ", ".join(checks),
    ]
    original = original_loop_table(results)
    if original:
        parts += [
            "",
            "The original API's training loop beside the library's (each against its own "
            "hand-written reference; W2's original loop and its reference take MSE on "
            "one-hot targets):",
            "",
            original,
        ]
    if results.get("ops"):
        parts += ["", "Per-op forward + backward:", "", ops_table(results)]
    if results.get("memory"):
        parts += ["", "Memory (tracemalloc):", "", memory_table(results)]
    return "\n".join(parts) + "\n"


def chart(results: dict[str, Any], path: Path) -> None:
    """Bar chart: ratio to hand-written NumPy per workload, and per-op overhead."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    workloads = results["workloads"]
    ops = results.get("ops") or []
    # about half an inch per workload, so that a dozen bars with long names stay legible
    width_workloads = max(7.5, 0.55 * len(workloads) + 1.5)
    fig, axes = plt.subplots(
        1,
        2 if ops else 1,
        figsize=(width_workloads + (5.5 if ops else 0), 4.8),
        squeeze=False,
        gridspec_kw={"width_ratios": [width_workloads, 5.5] if ops else [1]},
    )
    ax = axes[0][0]
    keys = [w["key"] for w in workloads]
    x = list(range(len(keys)))
    series = [("minigrad", "#1f77b4")]
    if any("torch" in w["timing"]["impls"] for w in workloads):
        series.append(("torch", "#ff7f0e"))
    width = 0.8 / len(series)
    for k, (name, color) in enumerate(series):
        xs, med, lo, hi = [], [], [], []
        for i, w in enumerate(workloads):
            entry = w["timing"]["impls"].get(name)
            if entry is None:
                continue
            r = entry["ratio"]
            xs.append(i + (k - (len(series) - 1) / 2) * width)
            med.append(r["median"])
            lo.append(r["median"] - r["q25"])
            hi.append(r["q75"] - r["median"])
        label = "minigrad" if name == "minigrad" else "PyTorch CPU"
        ax.bar(xs, med, width, yerr=[lo, hi], color=color, label=label, capsize=3)
    for i, w in enumerate(workloads):
        if w["target"]:
            ax.hlines(w["target"], i - 0.45, i + 0.45, colors="black", linestyles="dashed")
    ax.axhline(1.0, color="grey", linewidth=0.8)
    ax.set_xticks(x, keys, fontsize=8, rotation=30, ha="right")
    ax.set_ylabel("time per step / hand-written NumPy")
    ax.set_title(f"Training step (threads: {results['threads']}); dashed: target")
    ax.legend()
    if ops:
        ax2 = axes[0][1]
        labels = [f"{r['op']}\n{r['shape'].replace(' ', '')}" for r in ops]
        xs2 = list(range(len(ops)))
        ax2.bar([i - 0.2 for i in xs2], [r["numpy_fb"]["median"] for r in ops], 0.4, label="NumPy")
        ax2.bar(
            [i + 0.2 for i in xs2], [r["minigrad"]["median"] for r in ops], 0.4, label="minigrad"
        )
        ax2.set_xticks(xs2, labels, fontsize=7, rotation=30, ha="right")
        ax2.set_ylabel("µs per forward + backward")
        ax2.set_title("Per op: hand-written NumPy vs minigrad")
        ax2.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
