"""Module, Layer and MLP: parameter walking, state dicts, initialization, forward passes."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from minigrad import Tensor
from minigrad.nn import MLP, Layer, Module


def const(x):
    return Tensor(np.asarray(x, dtype=float), requires_grad=False)


class Net(Module):
    def __init__(self):
        self.first = Layer(2, 3, seed=0)
        self.blocks = [Layer(3, 3, seed=1), (Layer(3, 2, seed=2),)]
        self.heads = {"x": Layer(2, 1, seed=3), "y": Tensor(np.zeros(4))}
        self.shared = self.first  # reachable twice: listed once
        self.gain = Tensor(np.ones(1))
        self.note = "not a parameter"
        self.array = np.ones(3)  # a plain array is not a parameter

    def forward(self, x):
        return x


def test_parameters_walk_attributes_in_order():
    net = Net()
    names = [name for name, _ in net.named_parameters()]
    assert names == [
        "first.W", "first.b",
        "blocks.0.W", "blocks.0.b",
        "blocks.1.0.W", "blocks.1.0.b",
        "heads.x.W", "heads.x.b", "heads.y",
        "gain",
    ]  # fmt: skip
    params = net.parameters()
    assert params[0] is net.first.W and params[-1] is net.gain
    assert len({id(p) for p in params}) == len(params)


class Box(Module):
    """A module whose attributes a test sets at random."""

    def forward(self, x):
        return x


def random_structure(rng: np.random.Generator) -> Module:
    """Modules, lists, tuples, dicts, tensors and plain values, nested at random.

    Objects are often reused, so that tensors, containers and modules are reachable
    along several paths and cycles occur (a list inside itself, a module inside its
    own child).
    """
    made: list[object] = []

    def draw(depth: int) -> object:
        r = rng.random()
        if made and r < 0.2:
            return made[rng.integers(len(made))]
        if depth >= 4 or r < 0.2 + 0.1 * depth:
            leaf = rng.integers(4)
            if leaf == 0:
                return rng.integers(10)  # a plain value: skipped
            if leaf == 1:
                return np.ones(2)  # a plain array: skipped
            obj: object = Tensor(np.zeros(int(rng.integers(1, 4))))
            made.append(obj)
            return obj
        kind = rng.integers(4)
        if kind == 0:
            box = Box()
            made.append(box)
            for i in range(rng.integers(1, 5)):
                setattr(box, f"a{i}", draw(depth + 1))
            return box
        items = [draw(depth + 1) for _ in range(rng.integers(1, 5))]
        if kind == 1:
            items.append(items)  # the list inside itself
            made.append(items)
            return items
        if kind == 2:
            return tuple(items)
        mapping = {f"k{i}": v for i, v in enumerate(items)}
        made.append(mapping)
        return mapping

    root = Box()
    made.append(root)
    for i in range(rng.integers(2, 6)):
        setattr(root, f"a{i}", draw(1))
    return root


def walked_by_recursion(root: Module) -> list[tuple[str, object]]:
    """The walk as documented, written as plain recursion (the oracle)."""
    found: list[tuple[str, object]] = []
    seen: set[int] = set()

    def visit(obj: object, name: str) -> None:
        if isinstance(obj, Module):
            children = list(vars(obj).items())
        elif isinstance(obj, dict):
            children = list(obj.items())
        elif isinstance(obj, (list, tuple)):
            children = list(enumerate(obj))
        elif not isinstance(obj, Tensor):
            return
        if id(obj) in seen:
            return
        seen.add(id(obj))
        if isinstance(obj, (Tensor, Module)):
            found.append((name, obj))
        if not isinstance(obj, Tensor):
            for key, value in children:
                visit(value, f"{name}.{key}" if name else str(key))

    visit(root, "")
    return found


@pytest.mark.parametrize("seed", range(100))
def test_the_walk_agrees_with_plain_recursion_on_random_structures(seed):
    root = random_structure(np.random.default_rng(seed))
    want = walked_by_recursion(root)
    tensors = [(name, obj) for name, obj in want if isinstance(obj, Tensor)]
    got = root.named_parameters()
    assert [name for name, _ in got] == [name for name, _ in tensors]
    assert all(a is b for (_, a), (_, b) in zip(got, tensors, strict=True))
    params = root.parameters()
    assert len(params) == len(tensors)
    assert all(a is b for a, (_, b) in zip(params, tensors, strict=True))
    root.eval()  # reaches every module, however often and however deep
    assert not any(obj.training for _, obj in want if isinstance(obj, Module))


def test_mlp_parameter_names_and_layers_list():
    model = MLP(2, [16, 16, 1], seed=0)
    assert isinstance(model.layers, list) and len(model.layers) == 3
    assert list(model.state_dict()) == [f"layers.{i}.{n}" for i in range(3) for n in ("W", "b")]
    assert [p.shape for p in model.parameters()] == [(2, 16), (16,), (16, 16), (16,), (16, 1), (1,)]
    assert all(p.requires_grad for p in model.parameters())


def test_state_dict_is_a_snapshot_and_restores():
    model = MLP(2, [4, 1], seed=0)
    state = model.state_dict()
    snapshot = {k: v.copy() for k, v in state.items()}
    w = model.layers[0].W.data
    w += 1.0  # train a little
    np.testing.assert_array_equal(state["layers.0.W"], snapshot["layers.0.W"])
    model.load_state_dict(state)
    assert model.layers[0].W.data is w  # copied in place: references stay valid
    np.testing.assert_array_equal(w, snapshot["layers.0.W"])


def test_load_state_dict_accepts_tensors():
    a, b = MLP(2, [3], seed=0), MLP(2, [3], seed=1)
    b.load_state_dict({n: Tensor(p.data) for n, p in a.named_parameters()})
    np.testing.assert_array_equal(b.layers[0].W.data, a.layers[0].W.data)


def test_load_state_dict_names_every_problem_and_changes_nothing():
    model = MLP(2, [4, 1], seed=0)
    before = model.state_dict()
    state = MLP(2, [4, 1], seed=1).state_dict()
    del state["layers.1.b"]
    state["layers.9.W"] = np.ones(2)
    state["layers.0.W"] = np.ones((3, 4))
    with pytest.raises(ValueError) as info:
        model.load_state_dict(state)
    message = str(info.value)
    assert "missing entries ['layers.1.b']" in message
    assert "unexpected entries ['layers.9.W']" in message
    assert "'layers.0.W' has shape (3, 4), the parameter has (2, 4)" in message
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])
    with pytest.raises(TypeError, match="expects a mapping"):
        model.load_state_dict([1, 2])
    with pytest.raises(ValueError, match="dtype <U1"):
        model.load_state_dict({**before, "layers.1.b": np.array(["x"])})


def test_zero_grad_resets_gradients():
    model = MLP(2, [3, 1], seed=0)
    model(const([[1.0, 2.0]])).sum().backward()
    assert any(p.grad.any() for p in model.parameters())
    model.zero_grad()
    for p in model.parameters():
        assert p.grad.shape == p.shape and not p.grad.any()


@pytest.mark.parametrize(
    ("activation", "fn"),
    [
        ("relu", lambda z: np.maximum(z, 0)),
        ("tanh", np.tanh),
        ("sigmoid", lambda z: 1 / (1 + np.exp(-z))),
        ("linear", lambda z: z),
        (None, lambda z: z),
    ],
)
@pytest.mark.parametrize("batch", [(), (5,), (2, 3)])
def test_layer_forward_matches_numpy(activation, fn, batch):
    layer = Layer(4, 3, activation=activation, seed=0)
    layer.b.data[...] = [0.5, -0.25, 0.0]
    x = np.random.default_rng(1).normal(size=(*batch, 4))
    out = layer(const(x))
    assert out.shape == (*batch, 3)
    np.testing.assert_allclose(out.data, fn(x @ layer.W.data + layer.b.data), rtol=1e-12)


def test_wrong_input_width_names_the_layer():
    model = MLP(2, [4, 1], seed=0)
    with pytest.raises(
        ValueError,
        match=r"Layer\(nin=2, nout=4\) expects inputs of shape \(\.\.\., 2\), got shape \(5, 3\)",
    ):
        model(np.ones((5, 3)))
    with pytest.raises(ValueError, match=r"got shape \(\)"):
        Layer(2, 1)(Tensor(1.0))


def test_other_errors_of_the_forward_pass_are_not_called_shape_errors(monkeypatch):
    def broken(self, weight, bias=None, activation=None):
        raise ValueError("something else went wrong")

    monkeypatch.setattr(Tensor, "linear", broken)
    with pytest.raises(ValueError, match=r"^something else went wrong$"):
        Layer(2, 1, seed=0)(np.ones((3, 2)))


@pytest.mark.parametrize("layer_dtype", [np.float32, np.float64])
@pytest.mark.parametrize("data_dtype", [np.float32, np.float64, np.int64])
def test_data_takes_the_layers_dtype(layer_dtype, data_dtype):
    model = MLP(3, [4, 2], seed=0, dtype=layer_dtype)
    data = np.arange(6).reshape(2, 3).astype(data_dtype)
    out_array = model(data)
    as_tensor = data if data_dtype != np.int64 else data.astype(np.float64)
    out_tensor = model(Tensor(as_tensor, requires_grad=False))
    assert out_array.dtype == out_tensor.dtype == layer_dtype
    expected = np.maximum(data.astype(layer_dtype) @ model.layers[0].W.data, 0)
    expected = expected @ model.layers[1].W.data
    rtol = 1e-6 if layer_dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out_array.data, expected, rtol=rtol)
    np.testing.assert_array_equal(out_tensor.data, out_array.data)
    out_tensor.sum().backward()
    assert all(p.grad.dtype == layer_dtype for p in model.parameters())


def test_an_input_that_requires_grad_keeps_its_dtype():
    # Not data: its gradient must come back in its own dtype, so NumPy's promotion applies.
    layer = Layer(2, 2, seed=0, dtype=np.float32)
    x = Tensor(np.ones((3, 2)))
    out = layer(x)
    assert out.dtype == np.float64
    out.sum().backward()
    assert x.grad.dtype == np.float64
    relu_slope = (out.data > 0).astype(np.float64)
    np.testing.assert_allclose(x.grad, relu_slope @ layer.W.data.T.astype(np.float64))


def test_layer_accepts_arrays_and_gradients_flow():
    layer = Layer(2, 2, activation="tanh", seed=0)
    x = np.array([[1.0, -1.0], [0.5, 2.0]])
    np.testing.assert_array_equal(layer(x).data, layer(const(x)).data)
    layer(x).sum().backward()
    z = x @ layer.W.data + layer.b.data
    dz = 1 - np.tanh(z) ** 2
    np.testing.assert_allclose(layer.W.grad, x.T @ dz, rtol=1e-12)
    np.testing.assert_allclose(layer.b.grad, dz.sum(axis=0), rtol=1e-12)


def test_mlp_forward_matches_numpy():
    model = MLP(3, [8, 8, 2], activation="tanh", output_activation="sigmoid", seed=4)
    x = np.random.default_rng(0).normal(size=(6, 3))
    h = x
    for i, layer in enumerate(model.layers):
        h = h @ layer.W.data + layer.b.data
        h = np.tanh(h) if i < 2 else 1 / (1 + np.exp(-h))
    np.testing.assert_allclose(model(const(x)).data, h, rtol=1e-12)
    assert [layer.activation for layer in MLP(2, [4, 4, 1]).layers] == ["relu", "relu", "linear"]


def test_same_seed_same_model_and_different_seed_differs():
    a, b, c = MLP(2, [8, 1], seed=7), MLP(2, [8, 1], seed=7), MLP(2, [8, 1], seed=8)
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        np.testing.assert_array_equal(pa.data, pb.data)
    assert not np.array_equal(a.layers[0].W.data, c.layers[0].W.data)
    # The int seeds PCG64, named, so a seed keeps its weights across NumPy versions.
    std = math.sqrt(2 / (2 + 8))
    expected = np.random.Generator(np.random.PCG64(7)).standard_normal((2, 8)) * std
    np.testing.assert_array_equal(a.layers[0].W.data, expected)
    g1, g2 = np.random.default_rng(3), np.random.default_rng(3)
    np.testing.assert_array_equal(Layer(3, 3, seed=g1).W.data, Layer(3, 3, seed=g2).W.data)
    # unseeded models are random
    assert not np.array_equal(MLP(2, [8]).layers[0].W.data, MLP(2, [8]).layers[0].W.data)


def test_initialization_statistics():
    nin, nout = 300, 500
    layer = Layer(nin, nout, seed=0)
    w = layer.W.data
    assert w.shape == (nin, nout) and w.dtype == np.float64
    assert abs(w.mean()) < 0.02 * math.sqrt(2 / (nin + nout))
    assert w.std() == pytest.approx(math.sqrt(2 / (nin + nout)), rel=0.01)
    assert not layer.b.data.any()
    # layers of one MLP draw different weights from the one generator
    model = MLP(4, [4, 4], seed=0)
    assert not np.array_equal(model.layers[0].W.data, model.layers[1].W.data)


def test_float32_models_stay_float32():
    model = MLP(2, [4, 1], seed=0, dtype=np.float32)
    assert all(p.data.dtype == np.float32 for p in model.parameters())
    np.testing.assert_allclose(
        model.layers[0].W.data, MLP(2, [4, 1], seed=0).layers[0].W.data, rtol=1e-6
    )
    out = model(Tensor(np.ones((3, 2), dtype=np.float32), requires_grad=False))
    assert out.data.dtype == np.float32


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Layer(0, 3), "nin must be a positive integer, got 0"),
        (lambda: Layer(2, 2.5), "nout must be a positive integer, got 2.5"),
        (lambda: Layer(True, 2), "nin must be a positive integer, got True"),
        (lambda: Layer(2, 2, activation="gelu"), r"activation must be one of .* got 'gelu'"),
        (lambda: Layer(2, 2, seed=-1), "seed must be None, a non-negative int"),
        (lambda: Layer(2, 2, seed="a"), "seed must be None"),
        (lambda: Layer(2, 2, dtype=np.int64), "dtype must be float32 or float64"),
        (lambda: Layer(2, 2, dtype="nonsense"), "dtype must be float32 or float64"),
        (lambda: MLP(2, []), "nouts must be a non-empty list"),
        (lambda: MLP(2, 5), "nouts must be a non-empty list"),
        (lambda: MLP(2, [4, 0]), r"nouts\[1\] must be a positive integer, got 0"),
        (lambda: MLP(2, [4], output_activation="softmax"), "output_activation must be one of"),
    ],
)
def test_bad_arguments_are_refused(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_activation_can_be_changed_and_is_validated():
    layer = Layer(2, 2, activation="relu", seed=0)
    layer.activation = "tanh"
    x = np.array([[-3.0, 1.0]])
    np.testing.assert_allclose(layer(x).data, np.tanh(x @ layer.W.data), rtol=1e-12)
    with pytest.raises(ValueError, match="activation must be one of"):
        layer.activation = "swish"


def _core_linear_accepts(activation):
    x = Tensor(np.ones((1, 2)), requires_grad=False)
    try:
        x.linear(np.ones((2, 1)), np.zeros(1), activation)
    except ValueError:
        return False
    return True


def _layer_accepts(activation):
    try:
        Layer(2, 1, activation, seed=0)
    except ValueError:
        return False
    return True


def test_layers_accept_exactly_the_activations_core_linear_accepts():
    # Asked of `Tensor.linear` itself, never read from core's internals. The names core's
    # own error lists are tried too, so an activation added to core shows up here.
    x = Tensor(np.ones((1, 2)), requires_grad=False)
    with pytest.raises(ValueError) as info:
        x.linear(np.ones((2, 1)), None, "no such activation")
    listed = [
        name for name in re.findall(r"'([^']*)'", str(info.value)) if name != "no such activation"
    ]
    assert {"linear", "relu", "tanh", "sigmoid"} <= set(listed)
    candidates = [None, "linear", "relu", "tanh", "sigmoid", np.str_("tanh"), *listed]
    candidates += ["identity", "none", "None", "", "ReLU", "Linear", "gelu", "softmax", 5]
    for activation in candidates:
        assert _layer_accepts(activation) == _core_linear_accepts(activation), activation
    # ...and nn's error lists the same names, in the same order, as core's.
    with pytest.raises(ValueError) as nn_info:
        Layer(2, 1, "no such activation")
    nn_listed = re.findall(r"'([^']*)'", str(nn_info.value))
    assert [name for name in nn_listed if name != "no such activation"] == listed
    assert "None" in str(nn_info.value) and "None" in str(info.value)


@pytest.mark.parametrize("activation", [None, "linear", "relu", "tanh", "sigmoid"])
def test_an_activation_means_what_it_means_to_core_linear(activation):
    layer = Layer(3, 2, activation, seed=0)
    layer.b.data[...] = [0.5, -0.5]
    x = np.random.default_rng(0).normal(size=(4, 3))
    expected = Tensor(x, requires_grad=False).linear(layer.W.data, layer.b.data, activation)
    np.testing.assert_array_equal(layer(x).data, expected.data)


def test_none_and_linear_are_one_activation_stored_as_linear():
    for activation in (None, "linear"):
        layer = Layer(2, 2, activation, seed=0)
        assert layer.activation == "linear"
        assert layer.get_config()["activation"] == "linear"
    model = MLP(2, [3, 1], activation=None, output_activation=None, seed=0)
    assert model.get_config()["activation"] == "linear"
    assert model.get_config()["output_activation"] == "linear"
    assert type(Layer(2, 2, np.str_("tanh"), seed=0).activation) is str


def test_seed_takes_none_an_int_or_a_generator_like_minigrad_data():
    # The same int, as a Python or NumPy integer, gives the same weights.
    np.testing.assert_array_equal(Layer(3, 3, seed=np.int64(5)).W.data, Layer(3, 3, seed=5).W.data)
    # A generator is used as it is and advances: two layers from one differ.
    rng = np.random.default_rng(0)
    assert not np.array_equal(Layer(3, 3, seed=rng).W.data, Layer(3, 3, seed=rng).W.data)
    for seed in (True, 1.0, "1", -1):
        with pytest.raises(ValueError, match=r"^seed must be None, a non-negative int or a"):
            Layer(2, 2, seed=seed)
    with pytest.raises(ValueError, match=r"legacy RandomState, pass numpy\.random\.default_rng"):
        MLP(2, [2], seed=np.random.RandomState(0))


def test_repr_and_config():
    model = MLP(2, [8, 1], activation="tanh", seed=0)
    assert repr(model) == (
        "MLP(nin=2, nouts=[8, 1], activation='tanh', output_activation='linear', dtype='float64')"
    )
    assert MLP(2, [1], activation="sigmoid").get_config()["activation"] == "sigmoid"
    assert repr(Layer(2, 3, seed=0)) == "Layer(nin=2, nout=3, activation='relu', dtype='float64')"


def test_module_without_forward_says_so():
    class Empty(Module):
        pass

    with pytest.raises(NotImplementedError, match="Empty does not define forward"):
        Empty()(1)
    assert Empty().parameters() == [] and Empty().state_dict() == {}
