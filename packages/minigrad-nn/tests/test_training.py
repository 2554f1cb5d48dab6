"""Training works end to end: moons, 5-class spirals, and the original API's loop."""

from __future__ import annotations

import numpy as np

from minigrad import Tensor
from minigrad.nn import (
    MLP,
    SGD,
    Adam,
    Layer,
    binary_cross_entropy_with_logits,
    cross_entropy,
)


def make_moons(n, noise, seed):
    """Two interleaving half circles (scikit-learn's geometry), labels 0 and 1."""
    rng = np.random.default_rng(seed)
    n_out, n_in = n // 2, n - n // 2
    t_out, t_in = np.linspace(0, np.pi, n_out), np.linspace(0, np.pi, n_in)
    x = np.concatenate(
        [
            np.stack([np.cos(t_out), np.sin(t_out)], axis=1),
            np.stack([1 - np.cos(t_in), 0.5 - np.sin(t_in)], axis=1),
        ]
    )
    y = np.concatenate([np.zeros(n_out, dtype=int), np.ones(n_in, dtype=int)])
    return x + rng.normal(scale=noise, size=x.shape), y


def make_spirals(n_per_class, n_classes, noise, seed, turns=1.5):
    """``n_classes`` spiral arms of ``turns`` turns each, 2 pi / n_classes apart."""
    rng = np.random.default_rng(seed)
    r = np.tile(np.linspace(0.05, 1.0, n_per_class), n_classes)
    k = np.repeat(np.arange(n_classes), n_per_class)
    theta = 2 * np.pi * (turns * r + k / n_classes) + rng.normal(scale=noise, size=r.shape)
    return np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1), k


def test_moons_with_adam_and_bce_reach_97_percent():
    x_train, y_train = make_moons(200, 0.1, seed=0)
    x_test, y_test = make_moons(400, 0.1, seed=1)
    model = MLP(2, [16, 16, 1], seed=0)
    opt = Adam(model.parameters(), lr=0.02)
    inputs = Tensor(x_train, requires_grad=False)
    targets = y_train.reshape(-1, 1).astype(float)
    for _ in range(300):
        opt.zero_grad()
        loss = binary_cross_entropy_with_logits(model(inputs), targets)
        loss.backward()
        opt.step()
    logits = model(Tensor(x_test, requires_grad=False)).data[:, 0]
    accuracy = np.mean((logits > 0) == y_test)
    assert accuracy >= 0.97, (accuracy, loss.item())


def test_five_class_spirals_with_cross_entropy():
    x_train, y_train = make_spirals(100, 5, noise=0.1, seed=0)
    x_test, y_test = make_spirals(200, 5, noise=0.1, seed=1)
    model = MLP(2, [32, 32, 5], seed=0)
    opt = Adam(model.parameters(), lr=0.01)
    inputs = Tensor(x_train, requires_grad=False)
    first = cross_entropy(model(inputs), y_train).item()
    assert abs(first - np.log(5)) < 0.5  # an untrained model is close to chance
    for _ in range(300):
        opt.zero_grad()
        loss = cross_entropy(model(inputs), y_train)
        loss.backward()
        opt.step()
    accuracy = np.mean(model(Tensor(x_test, requires_grad=False)).data.argmax(axis=1) == y_test)
    assert accuracy >= 0.95, (accuracy, loss.item())


def test_sgd_with_momentum_trains_too():
    x, y = make_moons(100, 0.1, seed=2)
    model = MLP(2, [16, 16, 1], activation="tanh", seed=1)
    opt = SGD(model.parameters(), lr=0.1, momentum=0.9)
    first = None
    for _ in range(200):
        opt.zero_grad()
        loss = binary_cross_entropy_with_logits(model(x), y.reshape(-1, 1).astype(float))
        loss.backward()
        opt.step()
        first = loss.item() if first is None else first
    assert loss.item() < 0.5 * first
    assert np.mean((model(x).data[:, 0] > 0) == y) >= 0.9


def test_original_api_unchanged(tmp_path, monkeypatch):
    # The original single-package API, line for line (the dataset generated inline here).
    monkeypatch.chdir(tmp_path)
    X, y = make_moons(100, 0.1, seed=3)
    model = MLP(2, [16, 16, 1])
    losses = []
    for _step in range(200):
        ypred = model(Tensor(X))  # batched forward
        loss = ((ypred - Tensor(y.reshape(-1, 1))) ** 2).mean()
        for p in model.parameters():
            p.grad = np.zeros_like(p.data)  # gradients accumulate: zero them
        loss.backward()
        for p in model.parameters():
            p.data += -0.05 * p.grad  # SGD on the raw arrays
        losses.append(loss.item())
    assert losses[-1] < losses[0]

    model.save("my_model.npz")  # '.npz' optional
    for name in ["my_model.npz", "my_model"]:
        loaded = MLP.load(name)
        np.testing.assert_array_equal(loaded(Tensor(X)).data, model(Tensor(X)).data)

    layer = Layer(2, 3)
    layer.save("layer")
    np.testing.assert_array_equal(Layer.load("layer.npz").W.data, layer.W.data)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["layer.npz", "my_model.npz"]


def test_gradients_accumulate_until_zeroed():
    model = MLP(2, [3, 1], seed=0)
    x = Tensor(np.ones((4, 2)), requires_grad=False)
    model(x).sum().backward()
    once = [p.grad.copy() for p in model.parameters()]
    model(x).sum().backward()
    for p, g in zip(model.parameters(), once, strict=True):
        np.testing.assert_allclose(p.grad, 2 * g)
    model.zero_grad()
    model(x).sum().backward()
    for p, g in zip(model.parameters(), once, strict=True):
        np.testing.assert_allclose(p.grad, g)
