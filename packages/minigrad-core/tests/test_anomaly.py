"""detect_anomaly: the first NaN or infinity is named by its operation and line of code."""

from __future__ import annotations

import threading
import warnings

import numpy as np
import pytest

import minigrad
from minigrad import Tensor, define_op, detect_anomaly


def quiet(fn, *args):
    """Call ``fn`` with NumPy's floating-point warnings silenced (they are not the point)."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return fn(*args)


def test_a_non_finite_result_names_the_op_the_shapes_and_the_line():
    x = Tensor([[1.0, 0.0, 2.0]])
    with detect_anomaly(), pytest.raises(FloatingPointError) as caught:
        quiet(lambda: (x * 2.0).log())  # the line the message must show
    message = str(caught.value)
    assert message.startswith("log: its result (shape (1, 3)) holds inf")
    assert "inputs of shapes ((1, 3))" in message
    assert f"{__file__}:" in message
    assert "the line the message must show" in message


def test_a_non_finite_gradient_names_the_rule_and_the_input_and_adds_nothing():
    x = Tensor([4.0, 0.0, 9.0])
    w = Tensor([1.0, 2.0, 3.0])
    with detect_anomaly():
        y = ((x**0.5) * w).sum()  # finite: sqrt(0) is 0, but its slope there is not
        with pytest.raises(FloatingPointError) as caught:
            quiet(y.backward)
    message = str(caught.value)
    assert message.startswith("pow: its gradient rule returned inf for input 0 (shape (3,))")
    assert "y = ((x**0.5) * w).sum()" in message
    assert x.grad.tolist() == [0.0, 0.0, 0.0]  # the pass raised: no leaf got anything
    assert w.grad.tolist() == [0.0, 0.0, 0.0]


def test_nan_is_named_as_nan():
    x = Tensor([1.0, 2.0])
    with detect_anomaly(), pytest.raises(FloatingPointError, match=r"^div: .* holds nan"):
        d = x - x
        quiet(lambda: d / d)  # 0 / 0


def test_the_first_bad_op_is_the_one_named():
    # exp overflows (inf) before the subtraction makes a NaN: exp is the one to blame.
    x = Tensor([1.0, 1000.0])
    with detect_anomaly(), pytest.raises(FloatingPointError, match=r"^exp: .* holds inf"):
        e = quiet(x.exp)
        _ = e - e


def test_a_non_finite_seed_is_named_as_such():
    x = Tensor([1.0, 2.0])
    with detect_anomaly():
        y = x * 3.0
        with pytest.raises(
            FloatingPointError, match=r"the gradient passed to backward\(\) holds nan"
        ):
            y.backward(np.array([np.nan, 1.0]))


def test_outside_the_block_nothing_is_checked_and_results_are_unchanged():
    x = Tensor([4.0, 0.0])
    y = quiet(lambda: (x**0.5).sum())
    quiet(y.backward)
    assert np.isinf(x.grad[1])  # the same computation, unchecked
    assert minigrad._tensor.ANOMALY is False


def test_finite_graphs_give_the_same_gradients_checked_or_not():
    rng = np.random.default_rng(0)
    values = [rng.standard_normal(s) for s in [(64, 5), (5, 16), (16,), (16, 3)]]
    labels = rng.integers(0, 3, 64)

    def gradients():
        x, w1, b1, w2 = (Tensor(v) for v in values)
        h = x.linear(w1, b1, "tanh")
        h = h + h * h.sigmoid()  # a shared intermediate
        logp = (h @ w2).log_softmax(axis=1)
        loss = -logp[np.arange(64), labels].mean() + (w1.abs().clip(0.0, 1.0)).sum()
        loss.backward()
        return [t.grad for t in (x, w1, b1, w2)]

    plain = gradients()
    with detect_anomaly():
        checked = gradients()
    for a, b in zip(plain, checked, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-14, atol=1e-15)


def test_ops_declared_by_users_are_checked_too():
    reciprocal = define_op("reciprocal", lambda a: (1.0 / a, a), lambda g, a: (-g / (a * a),))
    with detect_anomaly(), pytest.raises(FloatingPointError, match=r"^reciprocal: .* holds inf"):
        quiet(reciprocal, Tensor([1.0, 0.0]))


def test_blocks_nest_and_close_on_exceptions():
    with detect_anomaly():
        with detect_anomaly():
            assert minigrad._tensor.ANOMALY
        assert minigrad._tensor.ANOMALY  # the outer block is still open
        with pytest.raises(KeyError), detect_anomaly():
            raise KeyError("x")
        assert minigrad._tensor.ANOMALY
    assert not minigrad._tensor.ANOMALY
    quiet(Tensor([0.0]).log)  # unchecked again: no error


def test_as_a_decorator():
    @detect_anomaly()
    def loss(x):
        return (x * 0.0).log().sum()

    assert loss.__name__ == "loss"
    with pytest.raises(FloatingPointError, match=r"^log: "):
        quiet(loss, Tensor([1.0]))
    assert not minigrad._tensor.ANOMALY


def test_it_is_global_like_pytorchs_other_threads_are_checked_while_a_block_is_open():
    errors = []

    def worker():
        try:
            quiet(Tensor([0.0]).log)
        except FloatingPointError as exc:
            errors.append(exc)

    with detect_anomaly():
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
    assert len(errors) == 1
    assert str(errors[0]).startswith("log: ")
