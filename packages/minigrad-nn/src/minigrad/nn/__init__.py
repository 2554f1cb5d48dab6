"""minigrad.nn: modules, losses, optimizers and safe model files for minigrad.

- `Module`, `Layer`, `MLP`: models whose parameters are `minigrad.Tensor` attributes;
- `Sequential`, `Conv2d`, `MaxPool2d`, `Flatten`, `LayerNorm`, `Embedding`, `Dropout`,
  `ReLU`: layers with PyTorch's names, defaults and weight layouts; `Module.train` and
  `Module.eval` switch the mode `Dropout` looks at;
- `mse_loss`, `binary_cross_entropy_with_logits`, `cross_entropy`: stable losses;
- `Optimizer`, `SGD`, `Adam`, `AdamW`: PyTorch's update rules, applied in place;
- `clip_grad_norm`, and the learning-rate schedules `CosineSchedule`, `StepSchedule`,
  `LinearSchedule` on the base class `LRSchedule`;
- `Module.save` / `Module.load`, `save_checkpoint` / `load_checkpoint`: compressed
  ``.npz`` files with a JSON header, written atomically and loaded without pickle;
  `ModelFileError` for files that are damaged, tampered, foreign or unsafe.

Examples
--------
>>> import numpy as np
>>> from minigrad import Tensor
>>> from minigrad.nn import MLP, Adam, binary_cross_entropy_with_logits
>>> X = Tensor(np.array([[0.0, 0.0], [1.0, 1.0]]), requires_grad=False)
>>> y = np.array([[0.0], [1.0]])
>>> model = MLP(2, [8, 1], seed=0)
>>> opt = Adam(model.parameters(), lr=0.05)
>>> for _ in range(50):
...     opt.zero_grad()
...     loss = binary_cross_entropy_with_logits(model(X), y)
...     loss.backward()
...     opt.step()
>>> loss.item() < 0.1
True
"""

from __future__ import annotations

from minigrad.nn.__about__ import __version__ as __version__
from minigrad.nn._checkpoint import load_checkpoint, save_checkpoint
from minigrad.nn._clip import clip_grad_norm
from minigrad.nn._conv import Conv2d, MaxPool2d
from minigrad.nn._fileformat import ModelFileError
from minigrad.nn._layers import MLP, Layer
from minigrad.nn._losses import binary_cross_entropy_with_logits, cross_entropy, mse_loss
from minigrad.nn._module import Module
from minigrad.nn._more_layers import Dropout, Embedding, Flatten, LayerNorm, ReLU
from minigrad.nn._optim import SGD, Adam, AdamW, Optimizer
from minigrad.nn._schedules import CosineSchedule, LinearSchedule, LRSchedule, StepSchedule
from minigrad.nn._sequential import Sequential

__all__ = [
    "MLP",
    "SGD",
    "Adam",
    "AdamW",
    "Conv2d",
    "CosineSchedule",
    "Dropout",
    "Embedding",
    "Flatten",
    "LRSchedule",
    "Layer",
    "LayerNorm",
    "LinearSchedule",
    "MaxPool2d",
    "ModelFileError",
    "Module",
    "Optimizer",
    "ReLU",
    "Sequential",
    "StepSchedule",
    "__version__",
    "binary_cross_entropy_with_logits",
    "clip_grad_norm",
    "cross_entropy",
    "load_checkpoint",
    "mse_loss",
    "save_checkpoint",
]

# Public names show their public home (`minigrad.nn.ModelFileError` in tracebacks, reprs
# and docs), not the private module that defines them. Model files name classes the
# same way, so files written before and after this stay loadable.
for _public in (
    MLP,
    SGD,
    Adam,
    AdamW,
    Conv2d,
    CosineSchedule,
    Dropout,
    Embedding,
    Flatten,
    LRSchedule,
    Layer,
    LayerNorm,
    LinearSchedule,
    MaxPool2d,
    ModelFileError,
    Module,
    Optimizer,
    ReLU,
    Sequential,
    StepSchedule,
    binary_cross_entropy_with_logits,
    clip_grad_norm,
    cross_entropy,
    load_checkpoint,
    mse_loss,
    save_checkpoint,
):
    _public.__module__ = __name__
del _public
