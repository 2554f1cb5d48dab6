"""Draw the four minigrad-data generators side by side, for the package README.

Needs matplotlib (a dependency of this script only, never of the package)::

    python packages/minigrad-data/docs/plot_datasets.py   # writes datasets.png beside it
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no window
import matplotlib.pyplot as plt

from minigrad.data import make_circles, make_linear_regression, make_moons, make_spirals


def main() -> None:
    """Parse the command line and write the figure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).with_name("datasets.png"),
        help="PNG file to write (default: datasets.png beside this script)",
    )
    args = parser.parse_args()

    fig, axes = plt.subplots(1, 4, figsize=(16, 4.2))
    panels = [
        ("make_moons(200, noise=0.1)", make_moons(200, noise=0.1, random_state=0)),
        ("make_circles(200, noise=0.05, factor=0.5)", make_circles(200, 0.05, 0.5, random_state=0)),
        ("make_spirals(500, n_classes=5, noise=0.02)", make_spirals(500, 5, 0.02, random_state=0)),
    ]
    for ax, (title, (points, labels)) in zip(axes[:3], panels, strict=True):
        ax.scatter(points[:, 0], points[:, 1], c=labels, cmap="tab10", s=10, vmin=0, vmax=9)
        ax.set_title(title, fontsize=10)
        ax.set_aspect("equal")
    inputs, targets = make_linear_regression(
        100, 1, noise=0.3, coef=[1.5], bias=0.5, random_state=0
    )
    axes[3].scatter(inputs[:, 0], targets, s=10, color="tab:blue")
    line = inputs[:, 0].min(), inputs[:, 0].max()
    axes[3].plot(line, [1.5 * v + 0.5 for v in line], color="tab:red", label="y = 1.5 x + 0.5")
    axes[3].set_title("make_linear_regression(100, noise=0.3)", fontsize=10)
    axes[3].legend(loc="upper left", fontsize=9)
    fig.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=80)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
