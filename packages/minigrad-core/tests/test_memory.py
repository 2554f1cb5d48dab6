"""No limits a user can hit: deep graphs, freeing by reference counting, no kept activations."""

from __future__ import annotations

import gc
import tracemalloc
import weakref

import numpy as np

from minigrad import Tensor, set_memory_saving


def test_backward_through_a_chain_of_a_million_ops():
    x = Tensor([1.5])
    y = x
    gc.disable()  # the graph has no cycles, so the collector has nothing to do here
    try:
        for _ in range(1_000_000):
            y = -y
        y.backward()  # iterative: no RecursionError
    finally:
        gc.enable()
    np.testing.assert_array_equal(x.grad, [1.0])  # (-1) ** 1_000_000
    np.testing.assert_array_equal(y.data, [1.5])


def build(x, w):
    h = (x @ w).tanh()
    return h, (h * h + h.sigmoid()).mean()


def test_graphs_are_freed_by_reference_counting_alone():
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((4, 3)), requires_grad=False)
    w = Tensor(rng.standard_normal((3, 2)))
    gc.collect()
    gc.disable()
    try:
        # never backwarded
        h, loss = build(x, w)
        refs = [weakref.ref(h), weakref.ref(loss)]
        del h, loss
        assert [r() for r in refs] == [None, None]

        # after backward, and after backward with retain_graph=True
        for retain in (False, True):
            h, loss = build(x, w)
            loss.backward(retain_graph=retain)
            refs = [weakref.ref(h), weakref.ref(loss)]
            del h
            if not retain:
                # the released loss no longer holds the activation
                assert refs[0]() is None
            del loss
            assert [r() for r in refs] == [None, None]
    finally:
        gc.enable()


def test_no_grad_results_and_detached_tensors_are_freed_too():
    w = Tensor(np.ones(3))
    gc.disable()
    try:
        d = (w * 2).detach()
        ref = weakref.ref(d)
        del d
        assert ref() is None
    finally:
        gc.enable()


def growth_while_keeping_losses(retain_graph, steps=6):
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((200, 500)), requires_grad=False)
    w = Tensor(rng.standard_normal((500, 400)) * 0.05)
    losses = []
    tracemalloc.start()
    try:
        for step in range(steps):
            h = (x @ w).tanh()  # 200 x 400 float64: 640 kB per step
            loss = (h * h).mean()
            loss.backward(retain_graph=retain_graph)
            losses.append(loss)
            del h, loss
            if step == 0:
                start, _ = tracemalloc.get_traced_memory()
        end, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return end - start


def test_keeping_losses_after_backward_keeps_no_activations():
    activation = 200 * 400 * 8
    assert growth_while_keeping_losses(retain_graph=False) < activation / 4
    # the same measurement does see activations kept by a retained graph
    assert growth_while_keeping_losses(retain_graph=True) > 5 * activation


def backward_peak(reuse):
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((512, 16)), requires_grad=False)
    w1, w2 = Tensor(rng.standard_normal((16, 256))), Tensor(rng.standard_normal((256, 256)))
    w3 = Tensor(rng.standard_normal((256, 2)))
    previous = set_memory_saving(reuse)
    loss = x.linear(w1, activation="relu").linear(w2, activation="tanh").linear(w3).sum()
    tracemalloc.start()
    try:
        loss.backward()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        set_memory_saving(previous)
    return peak


def test_backward_overwrites_gradients_nobody_can_see_instead_of_allocating():
    activation = 512 * 256 * 8
    saved = backward_peak(reuse=False) - backward_peak(reuse=True)
    assert saved > 0.9 * activation


def backward_peak_in_activations(retain_graph, hold=False, saving=True):
    # Three relu layers on a tall batch: each activation is (4096, 64) float64, 2 MiB,
    # and the weights are small beside it.
    rng = np.random.default_rng(1)
    x = Tensor(rng.standard_normal((4096, 8)), requires_grad=False)
    ws = [Tensor(rng.standard_normal(s) * 0.3) for s in ((8, 64), (64, 64), (64, 1))]
    activation = 4096 * 64 * 8
    tracemalloc.start()
    try:
        start, _ = tracemalloc.get_traced_memory()
        h1 = x.linear(ws[0], activation="relu")
        h2 = h1.linear(ws[1], activation="relu")
        loss = h2.linear(ws[2]).sum()
        held = (h1, h2) if hold else ()
        del h1, h2
        tracemalloc.reset_peak()
        previous = set_memory_saving(saving)
        loss.backward(retain_graph=retain_graph)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        set_memory_saving(previous)
        tracemalloc.stop()
    for h in held:  # what the user holds is intact
        assert h.data.shape == (4096, 64) and h.grad.shape == (4096, 64)
    return (peak - start) / activation


def test_backward_frees_each_activation_as_soon_as_its_rule_has_used_it():
    # As in hand-written code: the two activations, then the gradient of the second, and
    # each layer's output is freed once its relu mask is taken, before `g @ W.T` makes
    # the gradient of its input. So never more than three activations (and a mask).
    assert backward_peak_in_activations(retain_graph=False) < 3.3
    # The same measurement sees the activations a retained graph must keep.
    assert backward_peak_in_activations(retain_graph=True) > 4
    # Activations the user holds stay alive (and get their gradients) too.
    assert backward_peak_in_activations(retain_graph=False, hold=True) > 4
    # With the memory saving switched off, outputs are freed only after their rules.
    assert backward_peak_in_activations(retain_graph=False, saving=False) > 4
