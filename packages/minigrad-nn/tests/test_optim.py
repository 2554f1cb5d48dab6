"""Optimizers: PyTorch's update rules reproduced by hand, state dicts, argument checks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from minigrad import Tensor
from minigrad.nn import SGD, Adam, Optimizer


def run(opt_factory, grads, w0):
    """Apply ``opt`` with a given gradient sequence; return the parameter after each step."""
    w = Tensor(np.array(w0, dtype=float))
    opt = opt_factory([w])
    history = []
    for g in grads:
        w.grad = np.array(g(w.data) if callable(g) else g, dtype=w.data.dtype)
        opt.step()
        history.append(w.data.copy())
    return history


def square_grad(w):
    return 2.0 * w  # gradient of the loss w**2


# ----------------------------------------------------------------- SGD, numbers by hand


def test_sgd_plain_by_hand():
    # w1 = 1 - 0.1 * 2 = 0.8, w2 = 0.8 - 0.1 * 1.6 = 0.64
    hist = run(lambda p: SGD(p, lr=0.1), [square_grad] * 2, [1.0])
    assert [h[0] for h in hist] == pytest.approx([0.8, 0.64], abs=1e-15)


def test_sgd_momentum_by_hand():
    # t1: g=2, buf=2, w=0.8; t2: g=1.6, buf=0.9*2+1.6=3.4, w=0.46;
    # t3: g=0.92, buf=0.9*3.4+0.92=3.98, w=0.062
    hist = run(lambda p: SGD(p, lr=0.1, momentum=0.9), [square_grad] * 3, [1.0])
    assert [h[0] for h in hist] == pytest.approx([0.8, 0.46, 0.062], abs=1e-14)


def test_sgd_nesterov_by_hand():
    # t1: g=2, buf=2, step g+0.9*buf=3.8, w=0.62
    # t2: g=1.24, buf=1.8+1.24=3.04, step 1.24+2.736=3.976, w=0.2224
    hist = run(lambda p: SGD(p, lr=0.1, momentum=0.9, nesterov=True), [square_grad] * 2, [1.0])
    assert [h[0] for h in hist] == pytest.approx([0.62, 0.2224], abs=1e-14)


def test_sgd_dampening_by_hand():
    # t1: buf=g=2 (no dampening on the first step), w=0.8
    # t2: g=1.6, buf=0.9*2+0.5*1.6=2.6, w=0.54
    hist = run(lambda p: SGD(p, lr=0.1, momentum=0.9, dampening=0.5), [square_grad] * 2, [1.0])
    assert [h[0] for h in hist] == pytest.approx([0.8, 0.54], abs=1e-14)


def test_sgd_weight_decay_by_hand():
    # g' = 2w + 0.1w = 2.1w: w1 = 1 - 0.21 = 0.79, w2 = 0.79 * 0.79 = 0.6241
    hist = run(lambda p: SGD(p, lr=0.1, weight_decay=0.1), [square_grad] * 2, [1.0])
    assert [h[0] for h in hist] == pytest.approx([0.79, 0.6241], abs=1e-14)


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_matches_published_formula(nesterov):
    rng = np.random.default_rng(0)
    grads = [rng.normal(size=(3, 4)) for _ in range(5)]
    w0 = rng.normal(size=(3, 4))
    lr, mu, wd = 0.05, 0.8, 0.01
    hist = run(lambda p: SGD(p, lr=lr, momentum=mu, weight_decay=wd, nesterov=nesterov), grads, w0)
    # torch.optim.SGD's documented algorithm, step by step
    w, b = w0.copy(), None
    for t, g in enumerate(grads, start=1):
        g = g + wd * w
        b = g.copy() if t == 1 else mu * b + g
        d = g + mu * b if nesterov else b
        w = w - lr * d
        np.testing.assert_allclose(hist[t - 1], w, rtol=1e-13, atol=1e-15)


# ----------------------------------------------------------------- Adam


def test_adam_first_step_moves_by_lr():
    # m_hat = g and v_hat = g**2 after one step, so the update is lr * g / (|g| + eps)
    g = np.array([2.0, -0.5, 1e-3])
    hist = run(lambda p: Adam(p, lr=0.1), [g], [1.0, 1.0, 1.0])
    expected = 1.0 - 0.1 * g / (np.abs(g) + 1e-8)
    np.testing.assert_allclose(hist[0], expected, rtol=1e-14)


@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_adam_matches_published_formula(weight_decay):
    rng = np.random.default_rng(1)
    grads = [rng.normal(size=5) for _ in range(6)]
    w0 = rng.normal(size=5)
    lr, b1, b2, eps = 0.01, 0.8, 0.99, 1e-6
    hist = run(
        lambda p: Adam(p, lr=lr, betas=(b1, b2), eps=eps, weight_decay=weight_decay), grads, w0
    )
    # Kingma & Ba with L2 added to the gradient, as torch.optim.Adam does
    w, m, v = w0.copy(), np.zeros(5), np.zeros(5)
    for t, g in enumerate(grads, start=1):
        g = g + weight_decay * w
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
        w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
        np.testing.assert_allclose(hist[t - 1], w, rtol=1e-12)


def test_adam_weight_decay_changes_the_update():
    g = [np.array([0.3])] * 3
    plain = run(lambda p: Adam(p, lr=0.1), g, [2.0])
    decayed = run(lambda p: Adam(p, lr=0.1, weight_decay=1.0), g, [2.0])
    assert not np.array_equal(plain[-1], decayed[-1])


# ----------------------------------------------------------------- shared behaviour


@pytest.mark.parametrize(
    "make", [lambda p: SGD(p, lr=0.1, momentum=0.9), lambda p: Adam(p, lr=0.1)]
)
def test_updates_in_place_and_keeps_float32(make):
    w = Tensor(np.ones(4, dtype=np.float32))
    data = w.data
    opt = make([w])
    for _ in range(3):
        w.grad = np.full(4, 0.5, dtype=np.float32)
        opt.step()
    assert w.data is data  # users hold references to the arrays
    assert w.data.dtype == np.float32
    assert np.all(w.data < 1.0)
    for buffers in opt.state.values():
        assert all(b is None or b.dtype == np.float32 for b in buffers)


def test_zero_grad_clears_every_parameter():
    a, b = Tensor(np.ones(3)), Tensor(np.ones((2, 2)))
    a.grad = np.ones(3)
    b.grad = np.ones((2, 2))
    SGD([a, b], lr=0.1).zero_grad()
    assert not a.grad.any() and not b.grad.any()
    assert a.grad.shape == (3,) and b.grad.shape == (2, 2)


@pytest.mark.parametrize(
    "make",
    [
        lambda p: SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
        lambda p: Adam(p, lr=0.05, betas=(0.8, 0.9), weight_decay=0.01),
    ],
)
def test_state_dict_round_trip_continues_identically(make):
    rng = np.random.default_rng(2)
    grads = [rng.normal(size=3) for _ in range(8)]
    w0 = rng.normal(size=3)
    straight = run(make, grads, w0)[-1]

    w = Tensor(w0.copy())
    opt = make([w])
    for g in grads[:4]:
        w.grad = g.copy()
        opt.step()
    state = opt.state_dict()
    w.grad = np.full(3, 100.0)  # later steps must not leak into the saved state
    opt.step()

    w2 = Tensor(np.zeros(3))
    w2.data[...] = run(make, grads[:4], w0)[-1]
    opt2 = make([w2])
    opt2.lr = 123.0  # restored from the state dict, as in PyTorch
    opt2.load_state_dict(state)
    assert opt2.step_count == 4 and opt2.lr == 0.05
    for g in grads[4:]:
        w2.grad = g.copy()
        opt2.step()
    np.testing.assert_array_equal(w2.data, straight)


def test_state_dict_contents():
    w = Tensor(np.ones(2))
    opt = Adam([w], lr=0.01, betas=(0.5, 0.6), eps=1e-7, weight_decay=0.2)
    w.grad = np.ones(2)
    opt.step()
    state = opt.state_dict()
    assert state["type"] == "Adam" and state["step"] == 1
    assert state["hyperparameters"] == {
        "lr": 0.01,
        "betas": [0.5, 0.6],
        "eps": 1e-7,
        "weight_decay": 0.2,
    }
    np.testing.assert_allclose(state["buffers"]["exp_avg"][0], 0.5 * 1.2)
    state["buffers"]["exp_avg"][0][...] = 7.0  # a copy: the optimizer is unaffected
    assert not np.any(opt.state["exp_avg"][0] == 7.0)
    sgd = SGD([w], lr=0.1, momentum=0.9)
    assert sgd.state_dict()["buffers"] == {"momentum_buffer": [None]}


def test_load_state_dict_refuses_what_does_not_fit():
    w = Tensor(np.ones(2))
    adam_state = Adam([w]).state_dict()
    with pytest.raises(ValueError, match="Adam optimizer and cannot be loaded into SGD"):
        SGD([w], lr=0.1).load_state_dict(adam_state)
    with pytest.raises(ValueError, match=r"shape \(2,\).*shape \(3,\)"):
        Adam([Tensor(np.ones(3))]).load_state_dict(adam_state)
    with pytest.raises(ValueError, match="for 1 parameters, this optimizer has 2"):
        Adam([Tensor(np.ones(2)), Tensor(np.ones(2))]).load_state_dict(adam_state)
    with pytest.raises(ValueError, match="not an optimizer state dict"):
        Adam([w]).load_state_dict({"type": "Adam"})
    bad = Adam([w]).state_dict()
    bad["hyperparameters"]["lr"] = -1.0
    opt = Adam([w], lr=0.5)
    with pytest.raises(ValueError, match="lr must be >= 0"):
        opt.load_state_dict(bad)
    assert opt.lr == 0.5  # unchanged after a refused load


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: SGD(p, lr=-0.1), "lr must be >= 0"),
        (lambda p: SGD(p, lr=float("nan")), "lr must be a finite number"),
        (lambda p: SGD(p, lr=0.1, momentum=-1), "momentum must be >= 0"),
        (lambda p: SGD(p, lr=0.1, nesterov=True), "nesterov=True needs momentum > 0"),
        (lambda p: SGD(p, lr=0.1, weight_decay=-1e-3), "weight_decay must be >= 0"),
        (lambda p: Adam(p, betas=(0.9, 1.0)), r"betas\[1\] must be in \[0.0, 1.0\)"),
        (lambda p: Adam(p, betas=(0.9,)), "betas must be a pair"),
        (lambda p: Adam(p, eps=-1.0), "eps must be >= 0"),
        (lambda p: Adam(p, lr="0.1"), "lr must be a finite number"),
    ],
)
def test_bad_hyperparameters_are_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make([Tensor(np.ones(2))])


def test_bad_parameter_lists_are_refused():
    w = Tensor(np.ones(2))
    with pytest.raises(ValueError, match="params is empty"):
        SGD([], lr=0.1)
    with pytest.raises(ValueError, match="appears more than once"):
        Adam([w, w])
    with pytest.raises(TypeError, match=r"params\[1\] is a ndarray"):
        Adam([w, np.ones(2)])
    with pytest.raises(TypeError, match="iterable of Tensors, got Tensor"):
        Adam(w)

    class FakeModel:
        def parameters(self):
            return [w]

    with pytest.raises(TypeError, match=r"pass model.parameters\(\)"):
        Adam(FakeModel())


def test_custom_optimizer_gets_state_dict_for_free():
    class Scaled(Optimizer):
        hyperparameter_names = ("lr",)
        buffer_names = ("velocity",)

        def __init__(self, params, lr):
            super().__init__(params)
            self.lr = lr

        def step(self):
            self.step_count += 1
            for i, p in enumerate(self.params):
                v = self.state["velocity"][i]
                self.state["velocity"][i] = p.grad.copy() if v is None else v + p.grad
                p.data -= self.lr * self.state["velocity"][i]

    w = Tensor(np.ones(2))
    opt = Scaled([w], lr=0.5)
    w.grad = np.ones(2)
    opt.step()
    opt.step()
    assert w.data == pytest.approx([1 - 0.5 - 1.0] * 2)
    other = Scaled([Tensor(np.ones(2))], lr=0.1)
    other.load_state_dict(opt.state_dict())
    assert other.step_count == 2 and other.lr == 0.5
    np.testing.assert_array_equal(other.state["velocity"][0], [2.0, 2.0])
    with pytest.raises(NotImplementedError):
        Optimizer([w]).step()


def test_adam_bias_correction_uses_step_count():
    # after t identical gradients g, m_hat = g and v_hat = g**2 exactly (in exact math)
    g = 0.25
    hist = run(lambda p: Adam(p, lr=0.01, eps=0.0), [np.array([g])] * 20, [0.0])
    steps = np.diff(np.concatenate([[0.0], [h[0] for h in hist]]))
    np.testing.assert_allclose(steps, -0.01, rtol=1e-9)
    assert math.isfinite(hist[-1][0])
