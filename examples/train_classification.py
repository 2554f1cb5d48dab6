"""Classify two interleaving moons: the original minigrad demo, 40 samples.

A 2-16-16-1 ReLU MLP learns `make_moons(40, noise=0.1)` with Adam and the binary
cross-entropy on logits, then is scored on 500 fresh points from the same
distribution. Target: at least 95% accuracy on the training points; the exit status
is 1 when it is missed. ``--plot moons.png`` draws the decision boundary (``.png`` is
added to a name without an extension; the name is checked before training).

    python examples/train_classification.py
    python examples/train_classification.py --plot moons.png
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from pathlib import Path

import numpy as np

from minigrad import Tensor, no_grad
from minigrad.data import make_moons
from minigrad.nn import MLP, Adam, binary_cross_entropy_with_logits

TARGET_ACCURACY = 0.95


def predict(model: MLP, X: np.ndarray) -> np.ndarray:
    """Class 1 where the logit is positive (probability above 1/2)."""
    with no_grad():
        logits = model(Tensor(X, requires_grad=False))
    return (logits.numpy()[:, 0] > 0).astype(np.int64)


def plot(path: Path, model: MLP, X: np.ndarray, y: np.ndarray, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")  # write files only; no window needed
    import matplotlib.pyplot as plt

    gx, gy = np.meshgrid(np.linspace(-1.6, 2.6, 250), np.linspace(-1.2, 1.7, 200))
    regions = predict(model, np.column_stack([gx.ravel(), gy.ravel()])).reshape(gx.shape)
    fig, ax = plt.subplots(figsize=(6, 4.5))
    ax.contourf(
        gx, gy, regions, levels=[-0.5, 0.5, 1.5], colors=["tab:blue", "tab:orange"], alpha=0.25
    )
    ax.scatter(X[:, 0], X[:, 1], c=np.where(y == 1, "tab:orange", "tab:blue"), edgecolors="k")
    ax.set(title=title, aspect="equal")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)


def check_plot_path(parser: argparse.ArgumentParser, path: Path) -> Path:
    """Return the PNG file that --plot names (``.png`` added to a bare name), or exit 2.

    Checked before training, so that a run is never lost to a plot it cannot write.
    """
    if path.is_dir():
        parser.error(f"argument --plot: {path} is a folder; give a file name such as out.png")
    if not path.suffix:
        path = path.with_name(path.name + ".png")
    if path.suffix.lower() != ".png" or path.is_dir():
        parser.error(f"argument --plot: {path} is not a .png file name; plots are PNG images")
    folder = path.parent
    while not folder.exists():  # the folders that do not exist yet are created
        folder = folder.parent
    if not folder.is_dir():
        parser.error(f"argument --plot: cannot write {path}: {folder} is not a folder")
    if not os.access(folder, os.W_OK):
        parser.error(f"argument --plot: cannot write {path}: the folder {folder} is read-only")
    if importlib.util.find_spec("matplotlib") is None:
        parser.error("argument --plot: needs matplotlib: python -m pip install matplotlib")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Train a 2-16-16-1 MLP on 40 moons points.")
    parser.add_argument("--steps", type=int, help="training steps (default 300, quick 150)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the data and the weights")
    parser.add_argument("--quick", action="store_true", help="fewer steps (for tests)")
    parser.add_argument("--plot", type=Path, metavar="PNG", help="write the decision boundary")
    args = parser.parse_args(argv)
    if args.steps is not None and args.steps < 1:
        parser.error(f"argument --steps: must be at least 1, got {args.steps}")
    if args.seed < 0:
        parser.error(f"argument --seed: must be at least 0, got {args.seed}")
    if args.plot is not None:
        args.plot = check_plot_path(parser, args.plot)
    steps = args.steps if args.steps is not None else (150 if args.quick else 300)

    X, y = make_moons(n_samples=40, noise=0.1, random_state=args.seed)
    X_test, y_test = make_moons(n_samples=500, noise=0.1, random_state=args.seed + 1)
    model = MLP(2, [16, 16, 1], seed=args.seed)
    optimizer = Adam(model.parameters(), lr=0.02)
    inputs, targets = Tensor(X, requires_grad=False), y.reshape(-1, 1).astype(np.float64)

    for step in range(1, steps + 1):
        optimizer.zero_grad()
        loss = binary_cross_entropy_with_logits(model(inputs), targets)
        loss.backward()
        optimizer.step()
        if step % max(1, steps // 5) == 0 or step == steps:
            accuracy = np.mean(predict(model, X) == y)
            print(f"step {step:4d}  loss {loss.item():.4f}  train accuracy {accuracy:.1%}")

    train_acc = float(np.mean(predict(model, X) == y))
    test_acc = float(np.mean(predict(model, X_test) == y_test))
    print(
        f"train accuracy {train_acc:.1%} on {len(X)} points (target {TARGET_ACCURACY:.0%}), "
        f"test accuracy {test_acc:.1%} on {len(X_test)} new points"
    )
    if args.plot is not None:
        plot(args.plot, model, X, y, f"moons: train {train_acc:.0%}, test {test_acc:.1%}")
        print(f"wrote {args.plot}")
    return 0 if train_acc >= TARGET_ACCURACY else 1


if __name__ == "__main__":
    sys.exit(main())
