"""AdamW: decoupled weight decay against an AdamW written out in NumPy, state dicts."""

from __future__ import annotations

import math

import numpy as np
import pytest

from minigrad import Tensor
from minigrad.nn import Adam, AdamW


def numpy_adamw(p0, grads, lr, betas, eps, weight_decay):
    """AdamW as Loshchilov and Hutter's paper and PyTorch's documentation write it."""
    beta1, beta2 = betas
    p = np.array(p0, dtype=float)
    m = np.zeros_like(p)
    v = np.zeros_like(p)
    history = []
    for t, grad in enumerate(grads, start=1):
        g = grad(p)
        p = p * (1 - lr * weight_decay)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
        history.append(p.copy())
    return history


def run(opt, w, grads):
    history = []
    for grad in grads:
        w.grad = grad(w.data)
        opt.step()
        history.append(w.data.copy())
    return history


@pytest.mark.parametrize(
    "hyper",
    [
        {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 1e-2},
        {"lr": 0.05, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.3},
        {"lr": 0.1, "betas": (0.0, 0.5), "eps": 1e-3, "weight_decay": 0.0},
    ],
)
def test_adamw_matches_numpy_adamw(hyper):
    rng = np.random.default_rng(1)
    target = rng.normal(size=(3, 4))
    noise = [rng.normal(size=(3, 4)) for _ in range(100)]
    grads = [lambda p, n=n: 2 * (p - target) + 0.1 * n for n in noise]
    w0 = rng.normal(size=(3, 4))
    w = Tensor(w0.copy())
    ours = run(AdamW([w], **hyper), w, grads)
    expected = numpy_adamw(w0, grads, **hyper)
    for t, (a, b) in enumerate(zip(ours, expected, strict=True)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14, err_msg=f"step {t + 1}")


def test_defaults_are_pytorchs():
    opt = AdamW([Tensor([1.0])])
    assert (opt.lr, opt.betas, opt.eps, opt.weight_decay) == (1e-3, (0.9, 0.999), 1e-8, 1e-2)
    assert repr(opt).startswith("AdamW(1 tensors, lr=0.001")


def test_first_step_by_hand():
    # p = 2 * (1 - 0.1 * 0.5) = 1.9, then Adam's first step moves it by lr against the sign.
    w = Tensor([2.0, -2.0])
    opt = AdamW([w], lr=0.1, weight_decay=0.5)
    w.grad = np.array([4.0, -0.001])
    opt.step()
    assert w.data == pytest.approx([1.9 - 0.1, -1.9 + 0.1], abs=1e-6)


def test_decay_is_decoupled_unlike_adams_l2():
    # With a zero gradient Adam's moments stay zero: AdamW only shrinks, by 1 - lr * wd
    # per step; Adam's L2 penalty goes through the adaptive step and moves by ~lr.
    w_adamw, w_adam = Tensor([4.0]), Tensor([4.0])
    adamw = AdamW([w_adamw], lr=0.1, weight_decay=0.5)
    adam = Adam([w_adam], lr=0.1, weight_decay=0.5)
    for _ in range(3):
        w_adamw.grad = np.zeros(1)
        w_adam.grad = np.zeros(1)
        adamw.step()
        adam.step()
    assert w_adamw.data[0] == pytest.approx(4.0 * 0.95**3, rel=1e-15)
    assert w_adam.data[0] == pytest.approx(4.0 - 0.3, abs=1e-3)


def test_without_weight_decay_adamw_is_adam_bit_for_bit():
    rng = np.random.default_rng(2)
    w0 = rng.normal(size=5)
    noise = [rng.normal(size=5) for _ in range(20)]
    grads = [lambda p, g=g: g * p for g in noise]
    a, b = Tensor(w0.copy()), Tensor(w0.copy())
    assert np.array_equal(
        run(AdamW([a], lr=0.01, weight_decay=0.0), a, grads),
        run(Adam([b], lr=0.01), b, grads),
    )


def test_updates_in_place_and_keeps_float32():
    w = Tensor(np.ones(3, dtype=np.float32))
    data = w.data
    opt = AdamW([w], lr=0.1)
    w.grad = np.ones(3, dtype=np.float32)
    opt.step()
    assert w.data is data and w.data.dtype == np.float32
    assert opt.state["exp_avg"][0].dtype == np.float32


def test_state_dict_round_trip_continues_identically():
    rng = np.random.default_rng(3)
    noise = [rng.normal(size=4) for _ in range(20)]
    grads = [lambda p, g=g: g + p for g in noise]
    w0 = rng.normal(size=4)
    straight = Tensor(w0.copy())
    run(AdamW([straight], lr=0.05, weight_decay=0.1), straight, grads)

    first = Tensor(w0.copy())
    opt = AdamW([first], lr=0.05, weight_decay=0.1)
    run(opt, first, grads[:8])
    state = opt.state_dict()
    assert state["type"] == "AdamW"
    assert state["hyperparameters"]["weight_decay"] == 0.1
    resumed = Tensor(first.data.copy())
    fresh = AdamW([resumed])  # other hyperparameters: restored from the state
    fresh.load_state_dict(state)
    run(fresh, resumed, grads[8:])
    assert np.array_equal(resumed.data, straight.data)


def test_adam_and_adamw_states_do_not_mix():
    adam_state = Adam([Tensor([1.0])]).state_dict()
    with pytest.raises(ValueError, match="is of a Adam optimizer and cannot be loaded into AdamW"):
        AdamW([Tensor([1.0])]).load_state_dict(adam_state)
    with pytest.raises(ValueError, match="is of a AdamW optimizer and cannot be loaded into Adam"):
        Adam([Tensor([1.0])]).load_state_dict(AdamW([Tensor([1.0])]).state_dict())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lr": -1.0}, "lr must be >= 0.0"),
        ({"weight_decay": -0.1}, "weight_decay must be >= 0.0"),
        ({"weight_decay": math.nan}, "weight_decay must be a finite number"),
        ({"betas": (0.9, 1.0)}, r"betas\[1\] must be in \[0.0, 1.0\)"),
        ({"eps": -1e-8}, "eps must be >= 0.0"),
    ],
)
def test_bad_hyperparameters_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        AdamW([Tensor([1.0])], **kwargs)
