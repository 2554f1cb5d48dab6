"""Threads: grad mode is per thread, and backward passes into shared parameters lose nothing."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from minigrad import Tensor, is_grad_enabled, no_grad


def run_in_threads(target, n, *args):
    errors = []

    def guarded(i):
        try:
            target(i, *args)
        except BaseException as exc:  # reported in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=guarded, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads), "a thread did not finish"
    if errors:
        raise errors[0]


def test_one_no_grad_instance_reused_and_nested_restores_the_mode():
    evaluation = no_grad()
    with evaluation:
        with evaluation:
            assert not is_grad_enabled()
        assert not is_grad_enabled()  # the inner block restores what it found: off
    assert is_grad_enabled()
    with evaluation:  # and it can be used again
        assert not is_grad_enabled()
    assert is_grad_enabled()


def test_no_grad_in_another_thread_does_not_stop_this_threads_recording():
    # One no_grad instance shared by threads, entered and left in overlapping order.
    shared = no_grad()
    w = Tensor(np.ones(3))
    entered, leave = threading.Barrier(2), threading.Event()
    seen = {}

    def evaluate(i):
        with shared:
            entered.wait(5)
            leave.wait(5)
            seen["other"] = (w * 2).requires_grad

    thread = threading.Thread(target=evaluate, args=(0,))
    thread.start()
    with shared:
        entered.wait(5)
        inside = (w * 2).requires_grad
    outside = (w * 2).requires_grad  # this thread left its block; the other is still in
    leave.set()
    thread.join(5)
    assert (inside, outside, seen["other"]) == (False, True, False)
    (w * 2).sum().backward()
    np.testing.assert_array_equal(w.grad, [2.0, 2.0, 2.0])


def test_no_grad_on_a_generator_holds_while_it_iterates():
    w = Tensor([1.0, 2.0])

    @no_grad
    def predictions(batches):
        for x in batches:
            yield x * w, is_grad_enabled()

    results = []
    for y, mode_inside in predictions([Tensor([1.0, 1.0]), Tensor([2.0, 2.0])]):
        # between steps, the caller's code records as usual
        results.append((y.requires_grad, mode_inside, is_grad_enabled()))
    assert results == [(False, False, True), (False, False, True)]
    assert is_grad_enabled()


def test_no_grad_generator_passes_send_throw_close_and_return_value():
    @no_grad
    def echo():
        received = []
        try:
            while True:
                value = yield is_grad_enabled()
                received.append(value)
        except KeyError:
            yield "caught"
        return received

    gen = echo()
    assert next(gen) is False
    assert gen.send("a") is False
    assert gen.throw(KeyError("k")) == "caught"
    with pytest.raises(StopIteration) as stop:
        next(gen)
    assert stop.value.value == ["a"]
    assert is_grad_enabled()

    gen = echo()
    next(gen)
    gen.close()
    assert is_grad_enabled()


def test_no_grad_refuses_a_coroutine_function():
    async def step():
        return None

    with pytest.raises(TypeError, match=r"coroutine function .*step.*with no_grad"):
        no_grad(step)


@pytest.mark.parametrize("shape", [(1000, 1000), (3,)])
def test_concurrent_backward_passes_into_shared_parameters_lose_nothing(shape):
    # NumPy releases the GIL in `+=` on large arrays: without serialised accumulation,
    # two passes adding into one gradient at once lose contributions.
    w = Tensor(np.zeros(shape))
    x = Tensor(np.ones(shape), requires_grad=False)
    n_threads, passes = 4, 5 if len(shape) == 2 else 200
    start = threading.Barrier(n_threads)

    def train(i):
        start.wait(10)
        for _ in range(passes):
            (w * x + w).backward()  # gradient 2 per element, into the leaf twice

    run_in_threads(train, n_threads)
    expected = 2.0 * n_threads * passes
    assert w.grad.min() == expected and w.grad.max() == expected


def test_concurrent_backward_into_a_user_assigned_gradient():
    w = Tensor(np.zeros(50))
    given = np.zeros(50)
    w.grad = given  # the engine never writes into this array
    start = threading.Barrier(3)

    def train(i):
        start.wait(10)
        for _ in range(100):
            (w * 3.0).backward()

    run_in_threads(train, 3)
    np.testing.assert_array_equal(w.grad, np.full(50, 900.0))
    np.testing.assert_array_equal(given, np.zeros(50))


def small_model_gradients(seed):
    rng = np.random.default_rng(seed)
    x = Tensor(rng.standard_normal((32, 8)), requires_grad=False)
    w1, w2 = Tensor(rng.standard_normal((8, 16))), Tensor(rng.standard_normal((16, 3)))
    h = x.linear(w1, activation="tanh")
    h = h + (h * h.sigmoid())  # an intermediate reached by two paths
    loss = h.linear(w2).log_softmax(axis=1)[np.arange(32), rng.integers(0, 3, 32)].mean()
    loss.backward()
    return loss.item(), w1.grad.copy(), w2.grad.copy()


def test_separate_graphs_in_separate_threads_are_bit_identical_to_one_thread():
    seeds = list(range(8))
    alone = [small_model_gradients(s) for s in seeds]
    together = {}
    start = threading.Barrier(len(seeds))

    def run(i):
        start.wait(10)
        for _ in range(5):
            together[i] = small_model_gradients(seeds[i])

    run_in_threads(run, len(seeds))
    for i, (loss, g1, g2) in enumerate(alone):
        got_loss, got1, got2 = together[i]
        assert got_loss == loss
        np.testing.assert_array_equal(got1, g1)
        np.testing.assert_array_equal(got2, g2)
