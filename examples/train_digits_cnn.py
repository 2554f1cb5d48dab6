"""Classify handwritten digits with a small convolutional network: real data, 8x8 pixels.

scikit-learn's digits (1,797 images of 8x8 pixels, 16 grey levels) are split once,
with a fixed seed, into 1,437 training and 360 test images, stratified by class. The
network is built from minigrad.nn's PyTorch-style layers:

    Conv2d(1, 16, 3, padding=1) -> ReLU -> MaxPool2d(2)     8x8 -> 4x4
    Conv2d(16, 32, 3, padding=1) -> ReLU -> MaxPool2d(2)    4x4 -> 2x2
    Flatten -> Layer(128, 10)                               logits of the 10 digits

It trains with Adam (cosine learning-rate decay) on mini-batches of 64 and the
cross-entropy, with a progress bar.
Target: at least 97% accuracy on the 360 test images; the exit status is 1 when it is
missed, 2 when an option is bad or scikit-learn is missing (nothing is trained then).
``--plot out.png`` draws the misclassified test digits and the confusion matrix (``.png``
is added to a name without an extension; the name is checked before training).

    python examples/train_digits_cnn.py
    python examples/train_digits_cnn.py --plot docs/digits_cnn.png
    python examples/train_digits_cnn.py --quick            # a few seconds
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import sys
import time
from pathlib import Path

# Arrays this small gain nothing from a second BLAS thread, and on a busy machine
# competing threads make every step several times slower. Set before NumPy loads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
from tqdm import tqdm

from minigrad import Tensor, no_grad
from minigrad.nn import (
    Adam,
    Conv2d,
    Flatten,
    Layer,
    MaxPool2d,
    ReLU,
    Sequential,
    cross_entropy,
)

TARGET_ACCURACY = 0.97
SPLIT_SEED = 0  # the train/test split never changes; --seed sets weights and batches
TEST_SIZE = 360
PROG = Path(__file__).name


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Train a small CNN on scikit-learn's 8x8 digits.",
        epilog="Exit status: 0 target reached, 1 target missed, 2 bad options or "
        "scikit-learn missing (nothing trained).",
    )
    parser.add_argument("--steps", type=int, help="training steps (default 600, quick 500)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights and batches")
    parser.add_argument("--quick", action="store_true", help="fewer steps (for tests)")
    parser.add_argument("--batch-size", type=int, default=64, help="mini-batch size")
    parser.add_argument(
        "--plot", type=Path, metavar="PNG", help="write misclassified digits + confusion matrix"
    )
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    args = parser.parse_args(argv)
    for name, minimum in (("steps", 1), ("seed", 0), ("batch_size", 1)):
        value = getattr(args, name)
        if value is not None and value < minimum:
            option = "--" + name.replace("_", "-")
            parser.error(f"argument {option}: must be at least {minimum}, got {value}")
    if args.plot is not None:
        args.plot = check_plot_path(parser, args.plot)
    if args.steps is None:
        args.steps = 500 if args.quick else 600
    return args


def check_plot_path(parser: argparse.ArgumentParser, path: Path) -> Path:
    """Return the PNG file that --plot names (``.png`` added to a bare name), or exit 2.

    Checked before training, as in the other examples, so that a run is never lost to a
    plot it cannot write.
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


def load_data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The digits as (N, 1, 8, 8) images in [0, 1], split into train and test sets."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = (digits.images / 16.0).reshape(-1, 1, 8, 8)
    X_train, X_test, y_train, y_test = train_test_split(
        images, digits.target, test_size=TEST_SIZE, random_state=SPLIT_SEED, stratify=digits.target
    )
    return X_train, X_test, y_train, y_test


def make_model(seed: int) -> Sequential:
    rng = np.random.default_rng(seed)
    return Sequential(
        Conv2d(1, 16, 3, padding=1, seed=rng),
        ReLU(),
        MaxPool2d(2),
        Conv2d(16, 32, 3, padding=1, seed=rng),
        ReLU(),
        MaxPool2d(2),
        Flatten(),
        Layer(32 * 2 * 2, 10, None, seed=rng),
    )


def learning_rate(step: int, total: int, peak: float = 0.01) -> float:
    """Cosine decay from ``peak`` to nearly 0: large steps first, fine ones at the end."""
    return peak * (0.01 + 0.495 * (1.0 + math.cos(math.pi * step / total)))


def predict(model: Sequential, X: np.ndarray) -> np.ndarray:
    """The most likely digit of each image, in evaluation mode."""
    model.eval()
    with no_grad():
        logits = model(Tensor(X, requires_grad=False))
    model.train()
    return np.argmax(logits.data, axis=1)


def plot(path: Path, X: np.ndarray, y: np.ndarray, predicted: np.ndarray, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")  # write files only; no window needed
    import matplotlib.pyplot as plt

    wrong = np.flatnonzero(predicted != y)[:24]
    confusion = np.zeros((10, 10), dtype=np.int64)
    np.add.at(confusion, (y, predicted), 1)

    fig = plt.figure(figsize=(11, 5))
    grid = fig.add_gridspec(4, 12)
    for k in range(24):
        ax = fig.add_subplot(grid[k // 6, k % 6])
        ax.set_axis_off()
        if k < len(wrong):
            i = wrong[k]
            ax.imshow(X[i, 0], cmap="gray_r", vmin=0, vmax=1)
            ax.set_title(f"{y[i]} as {predicted[i]}", fontsize=9, color="tab:red")
    if len(wrong) == 0:
        fig.text(0.25, 0.5, "no test digit misclassified", ha="center")
    ax = fig.add_subplot(grid[:, 6:])
    ax.imshow(confusion, cmap="Blues")
    for (i, j), count in np.ndenumerate(confusion):
        if count:
            color = "white" if count > confusion.max() / 2 else "black"
            ax.text(j, i, str(count), ha="center", va="center", fontsize=8, color=color)
    ax.set(
        xticks=range(10),
        yticks=range(10),
        xlabel="predicted",
        ylabel="true",
        title="confusion matrix (test set)",
    )
    fig.suptitle(f"{title}; misclassified test digits: true as predicted")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        X_train, X_test, y_train, y_test = load_data()
    except ImportError:
        print(
            f"{PROG}: error: this example needs scikit-learn for its data: "
            "python -m pip install -r examples/requirements.txt",
            file=sys.stderr,
        )
        return 2
    model = make_model(args.seed)
    optimizer = Adam(model.parameters(), lr=0.01)
    order_rng = np.random.default_rng([args.seed, 1])
    print(
        f"training a CNN on {len(X_train)} digits for {args.steps} steps "
        f"(batch {args.batch_size}, Adam, cosine learning rate), seed {args.seed}"
    )

    started = time.perf_counter()
    order, position = order_rng.permutation(len(X_train)), 0
    losses: list[float] = []
    with tqdm(total=args.steps, unit="step", disable=args.no_progress) as bar:
        for step in range(args.steps):
            if position + args.batch_size > len(X_train):  # a new epoch, a new order
                order, position = order_rng.permutation(len(X_train)), 0
            batch = order[position : position + args.batch_size]
            position += args.batch_size
            optimizer.lr = learning_rate(step, args.steps)
            optimizer.zero_grad()
            loss = cross_entropy(model(Tensor(X_train[batch], requires_grad=False)), y_train[batch])
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            bar.set_postfix(loss=f"{np.mean(losses[-20:]):.4f}", refresh=False)
            bar.update(1)
    elapsed = time.perf_counter() - started

    train_acc = float(np.mean(predict(model, X_train) == y_train))
    predicted = predict(model, X_test)
    test_acc = float(np.mean(predicted == y_test))
    print(
        f"step {args.steps}: loss {np.mean(losses[-20:]):.4f} (mean of last 20), "
        f"train accuracy {train_acc:.1%}, test accuracy {test_acc:.1%} on {len(X_test)} digits"
    )
    print(f"{args.steps} steps in {elapsed:.1f} s ({1e3 * elapsed / args.steps:.2f} ms/step)")
    if args.plot is not None:
        wrong = int(np.sum(predicted != y_test))
        plot(
            args.plot,
            X_test,
            y_test,
            predicted,
            f"test accuracy {test_acc:.1%} ({wrong} of {len(X_test)} wrong)",
        )
        print(f"wrote {args.plot}")
    if test_acc < TARGET_ACCURACY:
        print(f"FAILED: test accuracy {test_acc:.1%} is below the target {TARGET_ACCURACY:.0%}")
        return 1
    print(f"OK: test accuracy {test_acc:.1%} >= target {TARGET_ACCURACY:.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
