"""Draw the graph of one training step of the XOR example, as docs/xor_graph.svg.

The model and the loss are those of ``examples/train_xor.py``: a 2-8-1 MLP with tanh
hidden units, the binary cross-entropy on logits, the four XOR points. One forward
pass and one backward pass with ``retain_graph=True`` (a plain ``backward()`` would
release the graph), then `minigrad.draw_graph` names the parameters and shows every
tensor's values and gradient. Needs minigrad-core, minigrad-nn and Graphviz's ``dot``.

    python docs/draw_xor_graph.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from minigrad import Tensor, draw_graph
from minigrad.nn import MLP, binary_cross_entropy_with_logits

OUTPUT = Path(__file__).resolve().parent / "xor_graph.svg"


def main() -> None:
    """Build the XOR step, run it forward and backward, and write the picture."""
    X = Tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], requires_grad=False)
    y = np.array([[0.0], [1.0], [1.0], [0.0]])
    model = MLP(2, [8, 1], activation="tanh", seed=0)
    loss = binary_cross_entropy_with_logits(model(X), y)
    loss.backward(retain_graph=True)  # keep the graph: it is drawn after backward
    params = {"X": X, **dict(model.named_parameters())}
    draw_graph(loss, OUTPUT, params=params, max_values=4)
    print(f"loss {loss.item():.4f}; wrote {OUTPUT.name}")


if __name__ == "__main__":
    main()
