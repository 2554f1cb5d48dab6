"""Train, save, load, check identical predictions, and continue training from a checkpoint.

Step by step, on the moons problem with a 2-16-16-1 MLP:

1. train for ``--steps`` steps with Adam;
2. ``model.save()`` the weights, ``MLP.load()`` them into a new object, and check that
   both give bit-identical predictions;
3. ``save_checkpoint()`` the model *and* the optimizer, then continue training twice
   for the same number of steps: once in the running objects, once in fresh objects
   filled by ``load_checkpoint()``; both must end with bit-identical weights.

Target: all checks hold and training accuracy is at least 95%; the exit status is 1
otherwise. Files go to ``--out-dir``; without it, to a temporary folder that is removed
when the script ends, so that repeated runs leave nothing behind.

    python examples/train_with_save.py --out-dir models
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

from minigrad import Tensor, no_grad
from minigrad.data import make_moons
from minigrad.nn import (
    MLP,
    Adam,
    binary_cross_entropy_with_logits,
    load_checkpoint,
    save_checkpoint,
)

TARGET_ACCURACY = 0.95


def train(model: MLP, optimizer: Adam, X: Tensor, y: np.ndarray, steps: int) -> float:
    """Run `steps` training steps; return the last loss."""
    loss = float("nan")
    for _ in range(steps):
        optimizer.zero_grad()
        out = binary_cross_entropy_with_logits(model(X), y)
        out.backward()
        optimizer.step()
        loss = out.item()
    return loss


def logits(model: MLP, X: Tensor) -> np.ndarray:
    with no_grad():
        return model(X).numpy()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Save, load and resume a moons classifier.")
    parser.add_argument("--steps", type=int, help="steps per phase (default 200, quick 100)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the data and the weights")
    parser.add_argument("--quick", action="store_true", help="fewer steps (for tests)")
    parser.add_argument(
        "--out-dir",
        type=Path,
        help="folder to write the model and checkpoint files into, created if needed "
        "(default: a temporary folder, removed at exit)",
    )
    args = parser.parse_args(argv)
    if args.steps is not None and args.steps < 1:
        parser.error(f"argument --steps: must be at least 1, got {args.steps}")
    if args.seed < 0:
        parser.error(f"argument --seed: must be at least 0, got {args.seed}")
    steps = args.steps if args.steps is not None else (100 if args.quick else 200)
    if args.out_dir is None:
        with tempfile.TemporaryDirectory(prefix="minigrad-") as temporary:
            return run(Path(temporary), steps, args.seed, kept=False)
    existing = args.out_dir
    while not existing.exists():  # the folders that do not exist yet are created
        existing = existing.parent
    if not existing.is_dir():
        where = "" if existing == args.out_dir else f"cannot create {args.out_dir}: "
        parser.error(f"argument --out-dir: {where}{existing} is not a folder")
    try:
        args.out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        parser.error(f"argument --out-dir: cannot create {args.out_dir}: {exc.strerror}")
    return run(args.out_dir, steps, args.seed, kept=True)


def run(out_dir: Path, steps: int, seed: int, *, kept: bool) -> int:
    """Train, save, load and resume with files in `out_dir`; return the exit status."""
    failures = []

    X_np, y_np = make_moons(n_samples=100, noise=0.1, random_state=seed)
    X, y = Tensor(X_np, requires_grad=False), y_np.reshape(-1, 1).astype(np.float64)
    model = MLP(2, [16, 16, 1], seed=seed)
    optimizer = Adam(model.parameters(), lr=0.02)
    loss = train(model, optimizer, X, y, steps)
    print(f"1. trained {steps} steps: loss {loss:.4f}")

    model_path = model.save(out_dir / "moons_model")  # ".npz" is added
    loaded = MLP.load(model_path)
    same = np.array_equal(logits(model, X), logits(loaded, X))
    print(f"2. saved {model_path.name} ({model_path.stat().st_size} bytes), loaded it back:")
    print(f"   predictions identical: {same}")
    if not same:
        failures.append("the loaded model predicts differently")

    checkpoint = save_checkpoint(out_dir / "moons_checkpoint", model, optimizer, step=steps)
    resumed = MLP(2, [16, 16, 1], seed=seed + 1)  # other weights, overwritten below
    resumed_optimizer = Adam(resumed.parameters(), lr=0.02)
    info = load_checkpoint(checkpoint, resumed, resumed_optimizer)
    train(model, optimizer, X, y, steps)
    loss = train(resumed, resumed_optimizer, X, y, steps)
    same = all(
        np.array_equal(a.data, b.data)
        for a, b in zip(model.parameters(), resumed.parameters(), strict=True)
    )
    print(f"3. checkpoint {checkpoint.name} at step {info['step']}; {steps} more steps each:")
    print(f"   loss {loss:.4f}, weights of running and resumed model identical: {same}")
    if not same:
        failures.append("training resumed from the checkpoint diverged")

    accuracy = float(np.mean((logits(resumed, X)[:, 0] > 0) == y_np))
    where = f"files in {out_dir}" if kept else "files in a temporary folder, removed at exit"
    print(f"train accuracy {accuracy:.1%} (target {TARGET_ACCURACY:.0%}); {where}")
    if accuracy < TARGET_ACCURACY:
        failures.append(f"accuracy {accuracy:.1%} is below {TARGET_ACCURACY:.0%}")
    for failure in failures:
        print(f"FAILED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
