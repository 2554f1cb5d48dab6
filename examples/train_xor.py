"""Learn XOR, the four-point problem no linear model can solve.

A 2-8-1 MLP with tanh hidden units learns the XOR truth table with Adam and the
binary cross-entropy on logits. Target: all four points right (100% accuracy); the
exit status is 1 when it is missed.

    python examples/train_xor.py
    python examples/train_xor.py --steps 300 --seed 3
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from minigrad import Tensor, no_grad
from minigrad.nn import MLP, Adam, binary_cross_entropy_with_logits


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Train a 2-8-1 MLP on XOR.")
    parser.add_argument("--steps", type=int, help="training steps (default 500, quick 200)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the initial weights")
    parser.add_argument("--quick", action="store_true", help="fewer steps (for tests)")
    args = parser.parse_args(argv)
    if args.steps is not None and args.steps < 1:
        parser.error(f"argument --steps: must be at least 1, got {args.steps}")
    if args.seed < 0:
        parser.error(f"argument --seed: must be at least 0, got {args.seed}")
    steps = args.steps if args.steps is not None else (200 if args.quick else 500)

    X = Tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], requires_grad=False)
    y = np.array([[0.0], [1.0], [1.0], [0.0]])
    model = MLP(2, [8, 1], activation="tanh", seed=args.seed)
    optimizer = Adam(model.parameters(), lr=0.05)

    for step in range(1, steps + 1):
        optimizer.zero_grad()
        loss = binary_cross_entropy_with_logits(model(X), y)
        loss.backward()
        optimizer.step()
        if step % max(1, steps // 5) == 0 or step == steps:
            print(f"step {step:4d}  loss {loss.item():.5f}")

    with no_grad():
        probability = model(X).sigmoid().numpy()
    predicted = (probability > 0.5).astype(float)
    for inputs, p, target in zip(X.numpy(), probability[:, 0], y[:, 0], strict=True):
        print(f"  {inputs[0]:.0f} xor {inputs[1]:.0f} = {target:.0f}   model: {p:.3f}")
    accuracy = float(np.mean(predicted == y))
    print(f"accuracy {accuracy:.0%} after {steps} steps (target 100%)")
    return 0 if accuracy == 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
