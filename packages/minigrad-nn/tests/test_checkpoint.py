"""Checkpoints: exact resumption with Adam and SGD, extras, and refusal of misfits."""

from __future__ import annotations

import numpy as np
import pytest

from minigrad import Tensor
from minigrad.nn import (
    MLP,
    SGD,
    Adam,
    Layer,
    ModelFileError,
    binary_cross_entropy_with_logits,
    load_checkpoint,
    save_checkpoint,
)

RNG = np.random.default_rng(0)
X = Tensor(RNG.normal(size=(64, 2)), requires_grad=False)
Y = (X.data[:, :1] * X.data[:, 1:] > 0).astype(float)  # XOR-like quadrants


def train(model, opt, steps):
    for _ in range(steps):
        opt.zero_grad()
        loss = binary_cross_entropy_with_logits(model(X), Y)
        loss.backward()
        opt.step()


@pytest.mark.parametrize(
    "make_opt",
    [
        lambda params: Adam(params, lr=0.02, weight_decay=1e-3),
        lambda params: SGD(params, lr=0.1, momentum=0.9, nesterov=True),
    ],
    ids=["adam", "sgd-nesterov"],
)
def test_resume_is_bit_identical(tmp_path, make_opt):
    n = 30
    straight = MLP(2, [16, 16, 1], seed=0)
    train(straight, make_opt(straight.parameters()), n)

    first = MLP(2, [16, 16, 1], seed=0)
    opt = make_opt(first.parameters())
    train(first, opt, n // 2)
    path = save_checkpoint(tmp_path / "ckpt", first, opt, step=n // 2, losses=[0.5, 0.25])

    fresh = MLP(2, [16, 16, 1], seed=99)  # different weights...
    fresh_opt = make_opt(fresh.parameters())
    fresh_opt.lr = 1.0  # ...and hyperparameters: all restored from the file
    info = load_checkpoint(path, fresh, fresh_opt)
    assert info == {"step": n // 2, "losses": [0.5, 0.25]}
    assert fresh_opt.step_count == n // 2
    train(fresh, fresh_opt, n - n // 2)

    for (name, a), (_, b) in zip(
        straight.named_parameters(), fresh.named_parameters(), strict=True
    ):
        assert np.array_equal(a.data, b.data), name  # bit for bit


def test_resume_without_the_optimizer_state_differs(tmp_path):
    # Control for the test above: restarting Adam from scratch is not the same run.
    straight = MLP(2, [8, 1], seed=0)
    train(straight, Adam(straight.parameters(), lr=0.02), 20)
    first = MLP(2, [8, 1], seed=0)
    train(first, Adam(first.parameters(), lr=0.02), 10)
    path = save_checkpoint(tmp_path / "c", first)
    fresh = MLP(2, [8, 1], seed=1)
    assert load_checkpoint(path, fresh) == {"step": None}
    train(fresh, Adam(fresh.parameters(), lr=0.02), 10)
    assert not np.array_equal(straight.layers[0].W.data, fresh.layers[0].W.data)


def test_checkpoint_before_first_step_and_model_load(tmp_path):
    model = MLP(2, [4, 1], seed=0)
    opt = SGD(model.parameters(), lr=0.1, momentum=0.5)  # no momentum buffers yet
    path = save_checkpoint(tmp_path / "c.npz", model, opt, step=0)
    other = MLP(2, [4, 1], seed=1)
    other_opt = SGD(other.parameters(), lr=0.1, momentum=0.5)
    assert load_checkpoint(path, other, other_opt) == {"step": 0}
    assert other_opt.state["momentum_buffer"] == [None] * 4
    loaded = MLP.load(path)  # a checkpoint is also a model file
    np.testing.assert_array_equal(loaded.layers[1].W.data, model.layers[1].W.data)


def test_extras_are_json_values(tmp_path):
    model = MLP(2, [3], seed=0)
    path = save_checkpoint(
        tmp_path / "c", model, step=np.int64(5), epoch=np.int32(2), curve=np.array([1.0, 0.5])
    )
    assert load_checkpoint(path, model) == {"step": 5, "epoch": 2, "curve": [1.0, 0.5]}
    with pytest.raises(TypeError, match="checkpoint extra 'model_copy' must be JSON values"):
        save_checkpoint(tmp_path / "d", model, model_copy=model)
    with pytest.raises(TypeError, match="step must be a non-negative int"):
        save_checkpoint(tmp_path / "d", model, step=1.5)
    with pytest.raises(TypeError, match=r"model must be a minigrad\.nn\.Module"):
        save_checkpoint(tmp_path / "d", {"W": np.ones(2)})
    assert not (tmp_path / "d.npz").exists()


def test_misfitting_checkpoints_are_refused_and_change_nothing(tmp_path):
    model = MLP(2, [4, 1], seed=0)
    opt = Adam(model.parameters())
    path = save_checkpoint(tmp_path / "c", model, opt, step=3)

    other = MLP(2, [5, 1], seed=1)
    with pytest.raises(ModelFileError, match=r"saved from MLP with configuration"):
        load_checkpoint(path, other)
    tanh = MLP(2, [4, 1], activation="tanh", seed=1)
    with pytest.raises(ModelFileError, match="'activation': 'relu'"):
        load_checkpoint(path, tanh)

    target = MLP(2, [4, 1], seed=1)
    before = target.state_dict()
    with pytest.raises(ModelFileError, match="Adam optimizer and cannot be loaded into SGD"):
        load_checkpoint(path, target, SGD(target.parameters(), lr=0.1))
    for name, value in target.state_dict().items():
        np.testing.assert_array_equal(value, before[name])  # nothing was loaded

    no_opt = save_checkpoint(tmp_path / "plain", model)
    with pytest.raises(ModelFileError, match="holds no optimizer state"):
        load_checkpoint(no_opt, target, Adam(target.parameters()))

    with pytest.raises(ModelFileError, match=r"holds a minigrad\.nn\.MLP, the model is a"):
        load_checkpoint(path, Layer(2, 4))
