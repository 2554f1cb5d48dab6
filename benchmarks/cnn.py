"""The digits CNN's training step in minigrad and in PyTorch (CPU), side by side.

    python benchmarks/cnn.py                 # one thread, 21 rounds
    python benchmarks/cnn.py --rounds 9 --batch-size 128
    python benchmarks/cnn.py --profile       # and a cProfile of minigrad's step

The model and step are those of ``examples/train_digits_cnn.py``: Conv2d(1, 16, 3,
padding=1), ReLU, MaxPool2d(2), Conv2d(16, 32, 3, padding=1), ReLU, MaxPool2d(2),
Flatten, a dense layer to 10 logits; cross-entropy; Adam; a batch of 64 8x8 images.
PyTorch gets minigrad's initial weights (by state_dict name; the dense layer's weight
transposed, since `Layer` stores ``(nin, nout)``), and the first step's loss,
gradients and updated weights must agree to 1e-10 before anything is timed. Steps are
timed in interleaved rounds (see harness.py); the result is the median of the
per-round ratios minigrad / PyTorch with its interquartile range. BLAS and PyTorch use
``--threads`` threads (default 1). Needs PyTorch and threadpoolctl.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys

import harness
import numpy as np

from minigrad import Tensor
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


def minigrad_model(seed: int) -> Sequential:
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


def torch_model(ours: Sequential):  # -> torch.nn.Sequential
    import torch

    theirs = torch.nn.Sequential(
        torch.nn.Conv2d(1, 16, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(16, 32, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(32 * 2 * 2, 10),
    ).double()
    state = ours.state_dict()
    theirs.load_state_dict(
        {
            "0.weight": torch.from_numpy(state["0.weight"]),
            "0.bias": torch.from_numpy(state["0.bias"]),
            "3.weight": torch.from_numpy(state["3.weight"]),
            "3.bias": torch.from_numpy(state["3.bias"]),
            "7.weight": torch.from_numpy(state["7.W"].T.copy()),
            "7.bias": torch.from_numpy(state["7.b"]),
        }
    )
    return theirs


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="The digits CNN's step: minigrad against PyTorch.")
    p.add_argument("--rounds", type=int, default=21, help="interleaved rounds (default 21)")
    p.add_argument("--batch-size", type=int, default=64, help="images per step (default 64)")
    p.add_argument("--threads", type=int, default=1, help="BLAS and PyTorch threads (default 1)")
    p.add_argument("--profile", action="store_true", help="print a cProfile of minigrad's step")
    args = p.parse_args(argv)

    import torch
    from threadpoolctl import threadpool_limits

    threadpool_limits(args.threads)
    torch.set_num_threads(args.threads)
    harness.settle_allocator()

    rng = np.random.default_rng(0)
    images = rng.uniform(0, 1, (args.batch_size, 1, 8, 8))
    labels = rng.integers(0, 10, args.batch_size)
    x, x_t, y_t = (
        Tensor(images, requires_grad=False),
        torch.from_numpy(images),
        torch.from_numpy(labels),
    )

    ours = minigrad_model(0)
    theirs = torch_model(ours)
    optimizer = Adam(ours.parameters(), lr=1e-3)
    torch_optimizer = torch.optim.Adam(theirs.parameters(), lr=1e-3)

    def minigrad_step() -> float:
        optimizer.zero_grad()
        loss = cross_entropy(ours(x), labels)
        loss.backward()
        optimizer.step()
        return loss.item()

    def torch_step() -> float:
        torch_optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(theirs(x_t), y_t)
        loss.backward()
        torch_optimizer.step()
        return float(loss.item())

    # The first step must agree before anything is timed.
    loss, torch_loss = minigrad_step(), torch_step()
    worst = abs(loss - torch_loss) / abs(torch_loss)
    torch_params = dict(theirs.named_parameters())
    for name, param in ours.named_parameters():
        name = {"7.W": "7.weight", "7.b": "7.bias"}.get(name, name)
        grad, value = torch_params[name].grad.numpy(), torch_params[name].detach().numpy()
        if name == "7.weight":
            grad, value = grad.T, value.T
        for a, b in ((param.grad, grad), (param.data, value)):
            worst = max(worst, float(np.abs(a - b).max() / np.abs(b).max()))
    print(f"first step: largest relative difference from PyTorch {worst:.1e}")
    if worst > 1e-10:
        print("FAILED: minigrad's step differs from PyTorch's; not timed")
        return 1

    result = harness.interleave(
        {"pytorch": torch_step, "minigrad": minigrad_step}, rounds=args.rounds, block_seconds=0.2
    )
    mg, pt = result["impls"]["minigrad"], result["impls"]["pytorch"]
    ratio = mg["ratio"]
    print(
        f"batch {args.batch_size}, {args.threads} thread(s), {args.rounds} rounds of "
        f"{result['steps_per_block']} steps; NumPy {np.__version__}, PyTorch {torch.__version__}"
    )
    print(f"  PyTorch  {pt['ms']['median']:.3f} ms/step")
    print(f"  minigrad {mg['ms']['median']:.3f} ms/step")
    print(
        f"  minigrad / PyTorch {ratio['median']:.2f}x "
        f"(IQR {ratio['q25']:.2f}-{ratio['q75']:.2f}; target <= 1.5x)"
    )
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(200):
            minigrad_step()
        profiler.disable()
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(18)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
