"""What backward() does: seeding, accumulation, graph release, gradient modes."""

from __future__ import annotations

import threading
import warnings
import weakref

import numpy as np
import pytest

from minigrad import Tensor, is_grad_enabled, no_grad


def test_backward_seeds_with_ones():
    x = Tensor([1.0, 2.0, 3.0])
    y = x * x  # not a scalar: the seed is ones of its shape
    y.backward()
    np.testing.assert_array_equal(y.grad, [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(x.grad, [2.0, 4.0, 6.0])


def test_backward_of_a_non_scalar_is_the_gradient_of_its_sum():
    rng = np.random.default_rng(3)
    values, weights = rng.standard_normal((4, 3)), rng.standard_normal((3, 2))
    grads = []
    for reduce in (False, True):
        x, w = Tensor(values), Tensor(weights)
        y = (x @ w).tanh()
        (y.sum() if reduce else y).backward()
        grads.append((x.grad, w.grad))
    for plain, summed in zip(*grads, strict=True):
        np.testing.assert_allclose(plain, summed, rtol=1e-12)


def test_backward_with_an_explicit_gradient():
    x = Tensor([1.0, 2.0])
    (x * 3).backward(np.array([10.0, -1.0]))
    np.testing.assert_array_equal(x.grad, [30.0, -3.0])
    x2 = Tensor([1.0, 2.0])
    (x2 * 3).backward(Tensor([1.0, 1.0]))
    np.testing.assert_array_equal(x2.grad, [3.0, 3.0])


def test_leaf_gradients_accumulate_across_calls():
    x = Tensor([1.0, -2.0])
    for _ in range(3):
        (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, 3 * 2 * x.data)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_scalar_leaves_accumulate_and_every_gradient_is_an_array(dtype):
    # NumPy returns scalars, not 0-d arrays, from operations on 0-d arrays; a gradient
    # kept as a scalar would not accumulate in place.
    x, w = Tensor(np.array(2.0, dtype=dtype)), Tensor(np.array(3.0, dtype=dtype))
    for _ in range(2):
        (x * 1.5).backward()
        (x * w).backward()
    h = x * w
    (h * h * 2).backward()
    for t, want in ((x, 2 * (1.5 + 3.0) + 4 * 6.0 * 3.0), (w, 2 * 2.0 + 4 * 6.0 * 2.0), (h, 24.0)):
        assert type(t.grad) is np.ndarray and t.grad.dtype == dtype
        assert t.grad == want
    x.grad = np.array(1.0)  # assigned: never written to, but still added to
    (x * w).backward()
    (x * w).backward()
    assert type(x.grad) is np.ndarray and x.grad == 1.0 + 2 * 3.0


def test_assigning_zeros_resets_accumulation_as_in_the_original_loop():
    x = Tensor([1.0, -2.0])
    (x * x).sum().backward()
    x.grad = np.zeros_like(x.data)
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, 2 * x.data)
    x.zero_grad()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])


def test_intermediate_gradient_holds_this_pass_only():
    x = Tensor([1.0, 2.0])
    h = x * 3
    y = (h * h).sum()
    y.backward(retain_graph=True)
    np.testing.assert_array_equal(h.grad, 2 * h.data)
    y.backward()
    np.testing.assert_array_equal(h.grad, 2 * h.data)  # not twice
    np.testing.assert_array_equal(x.grad, 2 * 3 * 2 * h.data)  # the leaf: twice


def test_retain_graph_twice_gives_exactly_twice_the_leaf_gradients():
    rng = np.random.default_rng(0)
    w = Tensor(rng.standard_normal((3, 2)))
    x = Tensor(rng.standard_normal((4, 3)), requires_grad=False)
    loss = (x @ w).tanh().sum()
    loss.backward(retain_graph=True)
    once = w.grad.copy()
    loss.backward(retain_graph=True)
    np.testing.assert_array_equal(w.grad, 2 * once)


def test_second_backward_through_a_released_graph_raises():
    x = Tensor([1.0, 2.0])
    loss = (x * x).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        loss.backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])  # the failed call changed nothing


def test_backward_through_a_released_intermediate_raises_before_touching_leaves():
    x = Tensor([1.0, 2.0])
    h = x * 2
    h.sum().backward()
    with pytest.raises(RuntimeError, match="already been freed"):
        (h * 3 + x).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 2.0])


def test_the_graph_is_released_after_backward():
    x = Tensor([1.0, 2.0])
    h = x.exp()
    saved = weakref.ref(h)  # exp saves its output for its rule: the loss holds it
    loss = h.sum()
    del h
    assert saved() is not None
    loss.backward()
    assert saved() is None  # released: the loss no longer holds the activation
    with pytest.raises(RuntimeError, match="already been freed"):
        loss.backward()


def test_retain_graph_keeps_the_graph():
    x = Tensor([1.0, 2.0])
    h = x.exp()
    saved = weakref.ref(h)
    loss = h.sum()
    del h
    loss.backward(retain_graph=True)
    assert saved() is not None
    loss.backward()
    np.testing.assert_allclose(x.grad, 2 * np.exp([1.0, 2.0]))


def test_backward_on_a_tensor_that_does_not_require_grad_says_what_to_do():
    x = Tensor([1.0, 2.0], requires_grad=False)
    with pytest.raises(RuntimeError, match=r"does not require grad.*requires_grad=True"):
        (x * 2).sum().backward()


def test_backward_on_a_leaf():
    x = Tensor([1.0, 2.0])
    x.backward()
    x.backward(np.array([2.0, 3.0]))
    np.testing.assert_array_equal(x.grad, [3.0, 4.0])


def test_gradient_of_wrong_shape_is_refused():
    x = Tensor([1.0, 2.0])
    with pytest.raises(ValueError, match=r"gradient shape \(3,\).*shape \(2,\)"):
        (x * 2).backward(np.ones(3))


def test_leaves_get_arrays_of_their_own():
    a = Tensor([1.0, 2.0])
    b = Tensor([3.0, 4.0])
    seed = np.array([1.0, 1.0])
    (a + b).backward(seed)
    assert not np.shares_memory(a.grad, b.grad)
    assert not np.shares_memory(a.grad, seed)
    a.grad += 100  # updating one gradient in place changes nothing else
    np.testing.assert_array_equal(b.grad, [1.0, 1.0])
    np.testing.assert_array_equal(seed, [1.0, 1.0])

    x = Tensor([[1.0, 2.0]])
    x.reshape(2).sum().backward()
    x.grad *= 2  # writable, not a read-only broadcast view
    np.testing.assert_array_equal(x.grad, [[2.0, 2.0]])


def test_requires_grad_false_records_nothing():
    x = Tensor([1.0, 2.0], requires_grad=False)
    a = x * 2
    kept = weakref.ref(a)
    y = (a + 1).exp().sum()
    del a
    assert not y.requires_grad
    assert kept() is None  # y keeps no inputs: nothing was recorded
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()


def test_no_grad_records_nothing_and_restores_the_mode():
    w = Tensor([1.0, 2.0])
    assert is_grad_enabled()
    with no_grad():
        assert not is_grad_enabled()
        h = w * 3
        kept = weakref.ref(h)
        y = h.tanh()
        del h
    assert is_grad_enabled()
    assert not y.requires_grad
    assert kept() is None  # y keeps no inputs
    z = w * 3  # recording again
    z.sum().backward()
    np.testing.assert_array_equal(w.grad, [3.0, 3.0])


def test_no_grad_restores_the_mode_after_an_exception():
    with pytest.raises(KeyError), no_grad():
        raise KeyError("boom")
    assert is_grad_enabled()


def test_nested_no_grad():
    with no_grad():
        with no_grad():
            pass
        assert not is_grad_enabled()
    assert is_grad_enabled()


def test_no_grad_as_a_decorator_with_and_without_parentheses():
    w = Tensor([1.0])

    @no_grad
    def f(x):
        return x * w

    @no_grad()
    def g(x):
        return x * w

    assert not f(Tensor([2.0])).requires_grad
    assert not g(Tensor([2.0])).requires_grad
    assert f.__name__ == "f"
    assert is_grad_enabled()


def test_no_grad_is_per_thread():
    w = Tensor([1.0, 2.0])
    inside = threading.Event()
    release = threading.Event()
    seen = {}

    def evaluate():
        with no_grad():
            inside.set()
            release.wait(5)
            seen["other thread"] = (w * 2).requires_grad

    thread = threading.Thread(target=evaluate)
    thread.start()
    inside.wait(5)
    seen["this thread"] = (w * 2).requires_grad  # another thread is inside no_grad
    release.set()
    thread.join()
    assert seen == {"other thread": False, "this thread": True}


def test_detach_cuts_the_graph_and_shares_data():
    x = Tensor([1.0, 2.0])
    d = x.detach()
    assert not d.requires_grad
    assert np.shares_memory(d.data, x.data)
    y = (d * x).sum()
    y.backward()
    np.testing.assert_array_equal(x.grad, [1.0, 2.0])  # d counted as a constant


def test_only_inputs_that_require_grad_get_gradients():
    x = Tensor([1.0, 2.0], requires_grad=False)
    w = Tensor([3.0, 4.0])
    (x * w).sum().backward()
    np.testing.assert_array_equal(w.grad, [1.0, 2.0])
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])


def test_a_shared_subgraph_gets_the_sum_of_both_paths():
    x = Tensor([2.0])
    h = x * x  # used by two consumers
    y = h * 3 + h.exp()
    y.backward()
    expected = 3 * 2 * x.data + np.exp(x.data**2) * 2 * x.data
    np.testing.assert_allclose(x.grad, expected)
    np.testing.assert_allclose(h.grad, 3 + np.exp(4.0))


def test_an_assigned_gradient_array_is_never_written_to():
    x = Tensor([1.0, 2.0])
    mine = np.zeros(2)
    x.grad = mine
    for _ in range(2):
        (x * x).sum().backward()
        (x * 3).sum().backward()
    np.testing.assert_array_equal(mine, [0.0, 0.0])
    np.testing.assert_array_equal(x.grad, 2 * (2 * x.data + 3))


def test_a_leaf_used_many_times_sums_every_contribution():
    w = Tensor([0.5, -1.0])
    h = Tensor([1.0, 1.0], requires_grad=False)
    for _ in range(50):
        h = h * w + w
    h.sum().backward()
    # forward-mode by hand: h' = h * w + w gives dh'/dw = dh/dw * w + h + 1
    value, slope = np.ones(2), np.zeros(2)
    for _ in range(50):
        value, slope = value * w.data + w.data, slope * w.data + value + 1
    np.testing.assert_allclose(h.data, value)
    np.testing.assert_allclose(w.grad, slope)


def test_reductions_of_a_leaf_accumulate_with_every_kind_of_existing_gradient():
    x = Tensor(np.ones((2, 3)))
    x.sum().backward()  # no gradient yet
    x.mean(axis=0).backward(np.array([3.0, 6.0, 9.0]))  # an engine-owned gradient
    np.testing.assert_array_equal(x.grad, [[2.5, 4.0, 5.5]] * 2)  # 1 + [3, 6, 9] / 2
    mine = np.zeros((2, 3))
    x.grad = mine  # an assigned gradient, never written to
    x.sum(axis=1, keepdims=True).backward(np.array([[1.0], [2.0]]))
    np.testing.assert_array_equal(x.grad, [[1.0] * 3, [2.0] * 3])
    assert not mine.any()


def build_network(values, hold):
    x = Tensor(values[0], requires_grad=False)
    w1, b1, w2, b2, w3 = (Tensor(v) for v in values[1:])
    h1 = x.linear(w1, b1, "relu")
    h2 = (h1 @ w2 + b2).tanh()
    h3 = h2.linear(w3, activation="sigmoid").relu()
    loss = (h3 * h3).sum()
    held = (h1, h2, h3) if hold else ()
    return loss, (w1, b1, w2, b2, w3), held


def test_gradients_are_the_same_whether_intermediates_are_held_or_not():
    # Backward may overwrite the gradient of an intermediate nobody else can see (to
    # save memory); held intermediates keep theirs, and the leaves get the same values.
    rng = np.random.default_rng(5)
    shapes = [(128, 3), (3, 64), (64,), (64, 64), (64,), (64, 2)]  # overwritten when large
    values = [rng.standard_normal(s) for s in shapes]

    loss, leaves_a, _ = build_network(values, hold=False)
    loss.backward()
    loss, leaves_b, held = build_network(values, hold=True)
    loss.backward(retain_graph=True)  # never overwrites anything
    for a, b in zip(leaves_a, leaves_b, strict=True):
        np.testing.assert_array_equal(a.grad, b.grad)

    loss, _, held_c = build_network(values, hold=True)
    loss.backward()
    for h_b, h_c in zip(held, held_c, strict=True):
        np.testing.assert_array_equal(h_b.grad, h_c.grad)
    # h3's gradient is d(sum h3**2)/d h3 = 2 h3, before any activation's slope
    np.testing.assert_allclose(held_c[2].grad, 2 * held_c[2].data)


def test_an_empty_batch_runs_forward_and_backward():
    W, b = Tensor(np.ones((2, 3))), Tensor(np.ones(3))
    x = Tensor(np.zeros((0, 2)), requires_grad=False)
    out = (x @ W + b).relu()
    assert out.shape == (0, 3)
    out.sum().backward()
    np.testing.assert_array_equal(W.grad, np.zeros((2, 3)))
    np.testing.assert_array_equal(b.grad, np.zeros(3))
    y = x.linear(W, b, "tanh")
    assert y.shape == (0, 3)


@pytest.mark.parametrize(
    "reduce",
    [
        lambda x: x.mean(axis=0),
        lambda x: x.sum(axis=0, keepdims=True),
        lambda x: x.sum(),
        lambda x: x.sum(axis=1),
        lambda x: x.mean(axis=(0, 1), keepdims=True),
    ],
)
def test_a_reduction_of_an_empty_tensor_sends_back_a_gradient_of_its_shape(reduce):
    x = Tensor(np.zeros((0, 3)))
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a mean of nothing, as in NumPy
        y = reduce(x)
    y.backward(np.ones(y.shape))
    assert x.grad.shape == (0, 3)


@pytest.mark.parametrize("retain_graph", [False, True])
def test_a_contribution_after_a_node_has_run_is_refused(monkeypatch, retain_graph):
    # The engine's internal check: if its order ever let a node run before all of its
    # consumers, the late gradient raises instead of being silently lost. Swap the shared
    # intermediate with its deeper consumer in the order to see the check act.
    from minigrad import _graph

    order = _graph.topological_order

    def shared_node_too_late(root):
        nodes = order(root)  # [h, tanh(h), root]: h must run last, after tanh(h)
        nodes[0], nodes[1] = nodes[1], nodes[0]
        return nodes

    monkeypatch.setattr(_graph, "topological_order", shared_node_too_late)
    a = Tensor([2.0])
    h = a * 3.0
    out = h + h.tanh()
    with pytest.raises(RuntimeError, match=r"internal error: a gradient arrived .* after its rule"):
        out.backward(retain_graph=retain_graph)
    assert a.grad.tolist() == [0.0]  # the failed pass added nothing
    if retain_graph:  # the graph is left as it was: a correct pass still runs through it
        monkeypatch.setattr(_graph, "topological_order", order)
        out.backward()
        assert a.grad == pytest.approx([3.0 * (1.0 + (1.0 - np.tanh(6.0) ** 2))])


def test_the_order_lists_every_node_after_all_of_its_consumers_reached_first():
    # The first engine's walk marked a node when it was pushed, so h, pushed first as
    # an input of the root, was listed as done before tanh(h), its deeper consumer.
    from minigrad._graph import topological_order

    a = Tensor([2.0])
    h = a * 3.0
    t = h.tanh()
    out = h + t
    assert [id(n) for n in topological_order(out)] == [id(h), id(t), id(out)]
    out = t + h  # and in the other operand order
    assert [id(n) for n in topological_order(out)] == [id(h), id(t), id(out)]


@pytest.mark.parametrize(
    ("x_shape", "w_shape"), [((3,), (3, 0)), ((2, 2, 0), (0, 3)), ((0,), (0, 2)), ((0, 2), (2, 3))]
)
def test_linear_with_an_axis_of_length_0_runs_backward(x_shape, w_shape):
    x, w = Tensor(np.ones(x_shape)), Tensor(np.ones(w_shape))
    out = x.linear(w, Tensor(np.ones(w_shape[1])), "relu")
    out.sum().backward()
    assert x.grad.shape == x_shape and w.grad.shape == w_shape
    np.testing.assert_array_equal(w.grad, np.zeros(w_shape))


def test_max_of_an_empty_tensor_along_a_non_empty_axis_is_empty_as_in_numpy():
    x = Tensor(np.zeros((0, 3)))
    assert x.max(axis=1).shape == (0,) and x.max(axis=1, keepdims=True).shape == (0, 1)
    x.max(axis=1).sum().backward()
    assert x.grad.shape == (0, 3)
    for axis in (0, None):
        with pytest.raises(ValueError, match=r"max: cannot take the maximum over an axis of len"):
            x.max(axis=axis)


def test_a_pass_that_raises_changes_no_leaf_gradient():
    from minigrad import define_op

    def failing_rule(g, saved):
        raise ArithmeticError("rule failed")

    bad = define_op("bad", lambda a: (a * 1.0, None), failing_rule)
    x, w = Tensor([1.0, 2.0]), Tensor([3.0, 4.0])
    loss = bad(x).sum() + (x * w).sum()  # (x * w) runs first, then bad raises
    with pytest.raises(ArithmeticError, match="rule failed"):
        loss.backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])
    np.testing.assert_array_equal(w.grad, [0.0, 0.0])
