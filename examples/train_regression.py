"""Fit a linear regression with gradient descent, 50 noisy samples.

`make_linear_regression` draws 50 samples of ``y = X @ coef + bias + noise`` with three
known coefficients; a single linear `Layer` learns them with SGD (momentum) on the
mean squared error. It prints the coefficients it found next to the true ones and the
R² score. Target: R² of at least 0.95; the exit status is 1 when it is missed.

    python examples/train_regression.py
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from minigrad import Tensor, no_grad
from minigrad.data import make_linear_regression
from minigrad.nn import SGD, Layer, mse_loss

TARGET_R2 = 0.95
TRUE_COEF = [2.0, -1.0, 0.5]
TRUE_BIAS = 0.3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fit y = X @ coef + bias on 50 samples.")
    parser.add_argument("--steps", type=int, help="training steps (default 200, quick 100)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the data and the weights")
    parser.add_argument("--quick", action="store_true", help="fewer steps (for tests)")
    args = parser.parse_args(argv)
    if args.steps is not None and args.steps < 1:
        parser.error(f"argument --steps: must be at least 1, got {args.steps}")
    if args.seed < 0:
        parser.error(f"argument --seed: must be at least 0, got {args.seed}")
    steps = args.steps if args.steps is not None else (100 if args.quick else 200)

    X, y = make_linear_regression(
        50, n_features=3, noise=0.2, coef=TRUE_COEF, bias=TRUE_BIAS, random_state=args.seed
    )
    model = Layer(3, 1, activation="linear", seed=args.seed)
    optimizer = SGD(model.parameters(), lr=0.05, momentum=0.9)
    inputs, targets = Tensor(X, requires_grad=False), y.reshape(-1, 1)

    for step in range(1, steps + 1):
        optimizer.zero_grad()
        loss = mse_loss(model(inputs), targets)
        loss.backward()
        optimizer.step()
        if step % max(1, steps // 5) == 0 or step == steps:
            print(f"step {step:4d}  mse {loss.item():.5f}")

    with no_grad():
        predicted = model(inputs).numpy()[:, 0]
    r2 = 1.0 - np.sum((y - predicted) ** 2) / np.sum((y - y.mean()) ** 2)
    print(f"coefficients learned {np.round(model.W.numpy()[:, 0], 3).tolist()}, true {TRUE_COEF}")
    print(f"bias learned {model.b.numpy().item():.3f}, true {TRUE_BIAS}")
    print(f"R2 {r2:.4f} on {len(X)} samples (target {TARGET_R2})")
    return 0 if r2 >= TARGET_R2 else 1


if __name__ == "__main__":
    sys.exit(main())
