"""Training and evaluation modes, and the layers with PyTorch's names.

Gradients against central differences, save and load round trips inside containers,
the propagation of `train` / `eval`, `Dropout`'s statistics and seeding, and the errors
for bad arguments and inputs. The values against PyTorch are in test_layers_torch.py.
"""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest

from minigrad import Tensor, gradcheck
from minigrad.nn import (
    MLP,
    Adam,
    Conv2d,
    Dropout,
    Embedding,
    Flatten,
    Layer,
    LayerNorm,
    MaxPool2d,
    ModelFileError,
    Module,
    ReLU,
    Sequential,
    cross_entropy,
)

RNG = np.random.default_rng(1234)


def randn(*shape: int) -> np.ndarray:
    return RNG.standard_normal(shape)


def every_layer() -> list[Module]:
    """One of each new layer, in a chain that runs on (2, 2, 6, 6) images."""
    # (Overlapping pooling goes before a linear layer: pooling its output again would
    # meet ties, where central differences cannot check a gradient.)
    return [
        Conv2d(2, 3, 3, padding=1, seed=0),  # (2, 3, 6, 6)
        ReLU(),
        MaxPool2d(2, stride=1),  # (2, 3, 5, 5)
        Conv2d(3, 4, (3, 2), stride=(2, 1), padding=(1, 0), bias=False, seed=1),  # (2, 4, 3, 4)
        LayerNorm((3, 4)),
        Dropout(0.3, seed=2),
        MaxPool2d(2),  # (2, 4, 1, 2)
        Flatten(),
        Layer(4 * 1 * 2, 5, "tanh", seed=3),
    ]


def header(path) -> dict:
    with zipfile.ZipFile(path) as archive, archive.open("header.npy") as f:
        return json.loads(np.lib.format.read_array(f).tobytes().decode())


# --------------------------------------------------------------------------- modes


class Net(Module):
    def __init__(self) -> None:
        self.blocks = [Sequential(Layer(4, 4, seed=0), Dropout(0.5, seed=0))]
        self.heads = {"a": Dropout(0.1), "b": (Layer(4, 2, None, seed=1),)}

    def forward(self, x):
        return self.heads["b"][0](self.heads["a"](self.blocks[0](x)))


def modules_of(model: Module) -> list[Module]:
    found = [model, model.blocks[0], *model.blocks[0], model.heads["a"], model.heads["b"][0]]
    assert len({id(m) for m in found}) == 6
    return found


def test_modules_start_in_training_mode_and_train_eval_reach_every_child():
    model = Net()
    assert all(m.training is True for m in modules_of(model))
    assert model.eval() is model
    assert all(m.training is False for m in modules_of(model))
    assert model.train() is model
    assert all(m.training is True for m in modules_of(model))
    assert model.train(False) is model
    assert all(m.training is False for m in modules_of(model))
    model.blocks[0].train()  # a sub-tree only
    assert [m.training for m in modules_of(model)] == [False, True, True, True, False, False]


def test_train_refuses_a_mode_that_is_not_a_bool():
    with pytest.raises(ValueError, match="mode must be True or False, got 'eval'"):
        Layer(2, 2).train("eval")


def test_the_mode_is_saved_nowhere_and_a_loaded_model_trains(tmp_path):
    model = Sequential(Layer(3, 4, seed=0), Dropout(0.5), Layer(4, 1, seed=1)).eval()
    names = [name for name, _ in model.named_parameters()]
    assert names == ["0.W", "0.b", "2.W", "2.b"]
    assert list(model.state_dict()) == names
    assert "training" not in json.dumps(model.get_config())
    loaded = Sequential.load(model.save(tmp_path / "seq"))
    assert loaded.training and all(m.training for m in loaded)


def test_layer_and_mlp_files_are_unchanged_by_the_mode(tmp_path):
    for model in (Layer(2, 3, "tanh", seed=0), MLP(2, [4, 1], seed=0)):
        before = header(model.save(tmp_path / "before"))
        after = header(model.eval().save(tmp_path / "after"))
        assert before == after
        assert "training" not in json.dumps(after)
        assert type(model).load(tmp_path / "after").training is True


# --------------------------------------------------------------------------- gradients


def with_parameters(layer: Module, names: list[str]):
    """A function of (x, *parameters) that runs ``layer`` with those parameters."""

    def run(x, *params):
        for name, p in zip(names, params, strict=True):
            setattr(layer, name, p)
        return layer(x)

    return run


CONV_CASES = [
    {"in_channels": 2, "out_channels": 3, "kernel_size": 3},
    {"in_channels": 2, "out_channels": 3, "kernel_size": 3, "padding": 1},
    {"in_channels": 2, "out_channels": 2, "kernel_size": (2, 3), "stride": (2, 1)},
    {"in_channels": 1, "out_channels": 2, "kernel_size": 3, "stride": 2, "padding": (2, 1)},
    {"in_channels": 2, "out_channels": 1, "kernel_size": 1, "bias": False},
]


@pytest.mark.parametrize("kwargs", CONV_CASES, ids=lambda k: str(sorted(k.items())))
def test_conv2d_gradients_match_central_differences(kwargs):
    conv = Conv2d(**kwargs, seed=0)
    names = ["weight", "bias"] if kwargs.get("bias", True) else ["weight"]
    x = Tensor(randn(2, kwargs["in_channels"], 6, 5))
    assert gradcheck(with_parameters(conv, names), x, *(getattr(conv, n) for n in names))


def test_conv2d_of_one_image_and_its_gradient():
    conv = Conv2d(2, 3, 3, padding=1, seed=0)
    x = Tensor(randn(2, 5, 4))
    out = conv(x)
    assert out.shape == (3, 5, 4)
    np.testing.assert_array_equal(out.data, conv(x.data[None]).data[0])
    assert gradcheck(with_parameters(conv, ["weight", "bias"]), x, conv.weight, conv.bias)


def test_conv2d_equals_a_direct_loop():
    conv = Conv2d(2, 3, (2, 3), stride=(2, 1), padding=(1, 2), seed=0)
    x = randn(2, 2, 5, 6)
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (2, 2)))
    w, b = conv.weight.data, conv.bias.data
    ho, wo = (padded.shape[2] - 2) // 2 + 1, padded.shape[3] - 3 + 1
    expected = np.empty((2, 3, ho, wo))
    for i in range(ho):
        for j in range(wo):
            patch = padded[:, :, 2 * i : 2 * i + 2, j : j + 3]
            expected[:, :, i, j] = np.einsum("ncuv,ocuv->no", patch, w) + b
    np.testing.assert_allclose(conv(x).data, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("kernel", "stride"), [(2, None), (3, None), (2, 1), ((3, 2), (2, 1))])
def test_maxpool_gradients_match_central_differences(kernel, stride):
    pool = MaxPool2d(kernel, stride)
    x = Tensor(RNG.permutation(2 * 3 * 7 * 6).reshape(2, 3, 7, 6) / 10.0)  # no ties
    assert gradcheck(pool, x)


def test_maxpool_splits_the_gradient_of_a_tie_evenly():
    x = Tensor(np.array([[[[1.0, 3.0], [3.0, 0.0]]]]))
    MaxPool2d(2)(x).sum().backward()
    np.testing.assert_array_equal(x.grad, [[[[0.0, 0.5], [0.5, 0.0]]]])


def test_maxpool_values_equal_a_direct_loop_and_drop_what_no_window_reaches():
    x = randn(2, 3, 7, 8)
    for (kh, kw), (sh, sw) in [((2, 2), (2, 2)), ((3, 2), (2, 3)), ((2, 3), (1, 1))]:
        out = MaxPool2d((kh, kw), (sh, sw))(x).data
        ho, wo = (7 - kh) // sh + 1, (8 - kw) // sw + 1
        assert out.shape == (2, 3, ho, wo)
        for i in range(ho):
            for j in range(wo):
                window = x[:, :, i * sh : i * sh + kh, j * sw : j * sw + kw]
                np.testing.assert_array_equal(out[:, :, i, j], window.max(axis=(2, 3)))


@pytest.mark.parametrize("shape", [4, (3, 4)])
def test_layernorm_gradients_match_central_differences(shape):
    norm = LayerNorm(shape)
    norm.weight = Tensor(randn(*norm.weight.shape))
    norm.bias = Tensor(randn(*norm.bias.shape))
    x = Tensor(randn(2, 3, 4))
    assert gradcheck(with_parameters(norm, ["weight", "bias"]), x, norm.weight, norm.bias)


def test_layernorm_without_affine_parameters_normalizes():
    norm = LayerNorm(5, elementwise_affine=False)
    assert norm.parameters() == []
    x = randn(3, 5) * 4 + 2
    y = norm(x).data
    np.testing.assert_allclose(y.mean(axis=-1), 0.0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=-1), 1.0 / (1.0 + 1e-5 / x.var(axis=-1)), rtol=1e-12)
    assert gradcheck(norm, Tensor(x))
    assert [n for n, _ in LayerNorm(5, bias=False).named_parameters()] == ["weight"]


def test_embedding_picks_rows_and_repeated_indices_accumulate():
    table = Embedding(6, 3, seed=0)
    indices = np.array([[1, 4, 1], [0, 1, 5]])
    out = table(indices)
    np.testing.assert_array_equal(out.data, table.weight.data[indices])
    out.backward(np.ones(out.shape))
    np.testing.assert_array_equal(table.weight.grad[:, 0], [1, 3, 0, 0, 1, 1])
    assert gradcheck(lambda w: with_parameters(table, ["weight"])(indices, w), table.weight)
    assert table([2, 3]).shape == (2, 3)  # a list
    assert table(np.int64(2)).shape == (3,)  # one index
    assert table(Tensor([[1.0, 2.0]], requires_grad=False)).shape == (1, 2, 3)
    assert table(np.zeros((0, 4), dtype=int)).shape == (0, 4, 3)


def test_embedding_weights_are_standard_normal():
    w = Embedding(2000, 50, seed=0).weight.data
    assert abs(w.mean()) < 0.01
    assert abs(w.std() - 1.0) < 0.01


def test_flatten_and_relu_gradients():
    x = Tensor(randn(2, 3, 4, 5))
    assert Flatten()(x).shape == (2, 60)
    assert Flatten(2)(x).shape == (2, 3, 20)
    assert Flatten(0, -2)(x).shape == (24, 5)
    assert gradcheck(Flatten(1, 2), x)
    assert gradcheck(ReLU(), Tensor(randn(3, 4)))


def test_a_whole_network_gradient_matches_central_differences():
    model = Sequential(*[m for m in every_layer() if not isinstance(m, Dropout)])
    owners = [
        (module, name)
        for module in model
        for name in ("weight", "bias", "W", "b")
        if isinstance(getattr(module, name, None), Tensor)
    ]
    assert len(owners) == len(model.parameters()) == 7

    def run(x, *params):
        for (module, name), p in zip(owners, params, strict=True):
            setattr(module, name, p)
        return model(x)

    x = Tensor(randn(2, 2, 6, 6))
    assert gradcheck(run, x, *(getattr(module, name) for module, name in owners))


# --------------------------------------------------------------------------- Dropout


def test_dropout_statistics_and_scaling():
    drop = Dropout(0.3, seed=0)
    out = drop(np.ones((400, 500))).data
    kept = out != 0
    assert abs(kept.mean() - 0.7) < 0.005
    np.testing.assert_allclose(out[kept], 1 / 0.7)
    assert abs(out.mean() - 1.0) < 0.01


def test_dropout_gradient_is_the_mask():
    drop = Dropout(0.5, seed=3)
    x = Tensor(randn(10, 10))
    out = drop(x)
    out.backward(np.ones(out.shape))
    np.testing.assert_array_equal(x.grad, (out.data != 0) * 2.0)
    assert gradcheck(lambda x: Dropout(0.4, seed=1)(x), Tensor(randn(4, 5)))


def test_dropout_seeding():
    a, b, c = Dropout(0.5, seed=7), Dropout(0.5, seed=7), Dropout(0.5, seed=8)
    x = np.ones(100)
    first = a(x).data
    np.testing.assert_array_equal(first, b(x).data)
    assert not np.array_equal(first, c(x).data)
    assert not np.array_equal(first, a(x).data)  # a new mask at every call


def test_dropout_identity_in_eval_mode_and_for_p_zero_zeros_for_p_one():
    x = Tensor(randn(3, 4))
    assert Dropout(0.5).eval()(x) is x
    assert Dropout(0.0)(x) is x
    out = Dropout(1.0)(x)
    np.testing.assert_array_equal(out.data, np.zeros((3, 4)))
    out.backward(np.ones((3, 4)))
    np.testing.assert_array_equal(x.grad, np.zeros((3, 4)))


@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan"), "0.5", True, None])
def test_dropout_refuses_a_p_outside_zero_one(p):
    with pytest.raises(ValueError, match=r"Dropout: p must be a probability in \[0, 1\], got"):
        Dropout(p)


# --------------------------------------------------------------------------- dtypes


def test_float32_stays_float32():
    x32 = randn(2, 2, 6, 6).astype(np.float32)
    conv = Conv2d(2, 3, 3, padding=1, seed=0, dtype="float32")
    assert conv.weight.dtype == conv.bias.dtype == np.float32
    model = Sequential(
        conv,
        ReLU(),
        MaxPool2d(2),
        LayerNorm(3, dtype="float32"),
        Dropout(0.2, seed=0),
        Flatten(),
        Layer(27, 4, seed=0, dtype="float32"),
    )
    for data in (x32, x32.astype(np.float64)):  # float64 data goes to the layers' dtype
        out = model(data)
        assert out.dtype == np.float32
        out.sum().backward()
        assert all(p.grad.dtype == np.float32 for p in model.parameters())
    assert Embedding(4, 2, seed=0, dtype="float32")([1, 2]).dtype == np.float32
    assert ReLU()(x32).dtype == MaxPool2d(2)(x32).dtype == Flatten()(x32).dtype == np.float32


# --------------------------------------------------------------------------- files


class Heads(Module):
    """A module of yours holding the layers in a dict and a list."""

    def __init__(self, width: int = 4) -> None:
        self.width = width
        self.parts = {
            "conv": Conv2d(1, width, 3, seed=0),
            "tail": [MaxPool2d(2), Flatten(2), LayerNorm(9), Embedding(7, 2, seed=1)],
        }

    def forward(self, x):
        conv, (pool, flat, norm, _) = self.parts["conv"], self.parts["tail"]
        return norm(flat(pool(conv(x))))

    def get_config(self):
        return {"width": self.width}


def assert_same(a: Module, b: Module, x) -> None:
    assert list(a.state_dict()) == list(b.state_dict())
    for (name, p), (_, q) in zip(a.named_parameters(), b.named_parameters(), strict=True):
        assert p.dtype == q.dtype, name
        np.testing.assert_array_equal(p.data, q.data, err_msg=name)
    a.eval()
    b.eval()
    np.testing.assert_array_equal(a(x).data, b(x).data)


def test_a_sequential_of_every_layer_saves_and_loads(tmp_path):
    model = Sequential(*every_layer())
    x = randn(3, 2, 6, 6)
    path = model.save(tmp_path / "every")
    loaded = Sequential.load(path)
    assert repr(loaded) == repr(model)
    assert_same(model, loaded, x)
    assert_same(model, Module.load(path), x)
    assert header(path)["activations"] == ["tanh"]  # the Layer's, as for an MLP


def test_each_layer_saves_and_loads_alone(tmp_path):
    x = randn(2, 2, 6, 6)
    cases = [
        (Conv2d(2, 3, (3, 2), stride=2, padding=(0, 1), bias=False, seed=0, dtype="float32"), x),
        (MaxPool2d(3, (1, 2)), x),
        (LayerNorm((6, 6), eps=1e-3, bias=False), x),
        (LayerNorm(6, elementwise_affine=False), x),
        (Dropout(0.25), x),
        (Flatten(0, 2), x),
        (ReLU(), x),
        (Embedding(9, 4, seed=0), np.array([[0, 8, 3]])),
    ]
    for i, (layer, data) in enumerate(cases):
        loaded = type(layer).load(layer.save(tmp_path / f"layer{i}"))
        assert loaded.get_config() == layer.get_config()
        assert_same(layer, loaded, data)


def test_nested_sequentials_and_modules_of_yours_save_and_load(tmp_path):
    inner = Sequential(Conv2d(1, 2, 3, padding=1, seed=0), ReLU())
    model = Sequential(inner, Sequential(MaxPool2d(2), Sequential()), Flatten(), Dropout(0.1))
    names = [name for name, _ in model.named_parameters()]
    assert names == ["0.0.weight", "0.0.bias"]
    x = randn(2, 1, 6, 6)
    assert_same(model, Sequential.load(model.save(tmp_path / "nested")), x)

    heads = Heads()
    assert [n for n, _ in heads.named_parameters()] == [
        "parts.conv.weight",
        "parts.conv.bias",
        "parts.tail.2.weight",
        "parts.tail.2.bias",
        "parts.tail.3.weight",
    ]
    assert_same(heads, Heads.load(heads.save(tmp_path / "heads")), randn(2, 1, 8, 8))
    both = Sequential(Heads(), ReLU())
    assert_same(both, Sequential.load(both.save(tmp_path / "both")), randn(2, 1, 8, 8))


def test_sequential_indexing_length_iteration_and_append():
    layers = [Layer(3, 4, seed=0), ReLU(), Layer(4, 2, seed=1)]
    model = Sequential(*layers)
    assert len(model) == 3
    assert list(model) == layers
    assert model[0] is layers[0] and model[-1] is layers[2]
    tail = model[1:]
    assert isinstance(tail, Sequential) and list(tail) == layers[1:]
    assert [n for n, _ in tail.named_parameters()] == ["1.W", "1.b"]
    model.append(Flatten(0))
    assert len(model) == 4 and [n for n, _ in model.named_parameters()][-1] == "2.b"
    assert model(np.ones((1, 3))).shape == (2,)
    assert Sequential()(5) == 5
    with pytest.raises(IndexError, match="index 4 is out of range for 4 modules"):
        model[4]
    with pytest.raises(TypeError, match="argument 1 is a ufunc, not a Module"):
        Sequential(ReLU(), np.tanh)


def test_a_sequential_file_asking_for_a_huge_layer_is_refused_before_building(tmp_path):
    path = Sequential(Conv2d(1, 2, 3, seed=0)).save(tmp_path / "small")
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    head = header(path)
    head["config"]["modules"][0]["config"]["out_channels"] = 10**9
    data = json.dumps(head).encode()
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.frombuffer(data, dtype=np.uint8))
    members["header.npy"] = buffer.getvalue()
    tampered = tmp_path / "tampered.npz"
    with zipfile.ZipFile(tampered, "w") as archive:
        for name, blob in members.items():
            archive.writestr(name, blob)
    with pytest.raises(ModelFileError, match="do not fit a Sequential"):
        Sequential.load(tampered)


def test_a_sequential_with_a_module_that_cannot_be_rebuilt_is_refused_at_save(tmp_path):
    class NeedsArgs(Module):
        def __init__(self, width):
            self.width = width

        def forward(self, x):
            return x

    with pytest.raises(TypeError, match=r"module 1, a NeedsArgs, needs arguments \['width'\]"):
        Sequential(ReLU(), NeedsArgs(3)).save(tmp_path / "x")
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Conv2d(0, 3, 3), "Conv2d: in_channels must be a positive integer, got 0"),
        (lambda: Conv2d(1, 3, 0), r"Conv2d: kernel_size must be a positive int or a pair"),
        (lambda: Conv2d(1, 3, (3, 3, 3)), "Conv2d: kernel_size must be"),
        (lambda: Conv2d(1, 3, 3, stride=0), "Conv2d: stride must be a positive int"),
        (lambda: Conv2d(1, 3, 3, padding=-1), "Conv2d: padding must be an int of at least 0"),
        (lambda: Conv2d(1, 3, 3, bias="no"), "Conv2d: bias must be True or False"),
        (lambda: Conv2d(1, 3, 3, dtype="int32"), "dtype must be float32 or float64"),
        (lambda: MaxPool2d(0), "MaxPool2d: kernel_size must be a positive int"),
        (lambda: MaxPool2d(2, stride=1.5), "MaxPool2d: stride must be a positive int"),
        (lambda: LayerNorm(0), r"LayerNorm: normalized_shape\[0\] must be a positive integer"),
        (lambda: LayerNorm([]), "LayerNorm: normalized_shape must be a positive int"),
        (lambda: LayerNorm(3, eps=-1.0), "LayerNorm: eps must be a non-negative number"),
        (lambda: LayerNorm(3, elementwise_affine=1), "LayerNorm: elementwise_affine must be"),
        (lambda: Embedding(0, 3), "Embedding: num_embeddings must be a positive integer"),
        (lambda: Embedding(3, 2.5), "Embedding: embedding_dim must be a positive integer"),
        (lambda: Flatten(1.0), "Flatten: start_dim must be an int, got 1.0"),
    ],
)
def test_bad_arguments_are_refused_naming_the_layer_and_argument(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize(
    ("layer", "x", "message"),
    [
        (
            Conv2d(3, 4, 3),
            np.zeros((2, 1, 8, 8)),
            r"Conv2d\(in_channels=3, .*\) expects images of shape \(N, 3, H, W\) or \(3, H, W\), "
            r"got shape \(2, 1, 8, 8\)",
        ),
        (Conv2d(3, 4, 3), np.zeros((8, 8)), r"got shape \(8, 8\)"),
        (
            Conv2d(1, 4, 5, padding=1),
            np.zeros((2, 1, 2, 8)),
            r"the input of shape \(2, 1, 2, 8\) is 4x10 after padding, smaller than the 5x5 kernel",
        ),
        (MaxPool2d(2), np.zeros((4, 4)), r"MaxPool2d\(.*\) expects images of shape"),
        (MaxPool2d(3), np.zeros((1, 1, 2, 5)), r"smaller than the 3x3 window"),
        (
            LayerNorm((2, 3)),
            np.zeros((4, 3, 2)),
            r"LayerNorm\(normalized_shape=\(2, 3\)\) expects inputs of shape \(\.\.\., 2, 3\), "
            r"got shape \(4, 3, 2\)",
        ),
        (LayerNorm(3), np.zeros(()), r"got shape \(\)"),
        (Embedding(5, 2), np.array([0, 5]), r"Embedding\(5, 2\): index 5 is outside \[0, 5\)"),
        (Embedding(5, 2), [[-1]], r"index -1 is outside \[0, 5\)"),
        (Embedding(5, 2), np.array([0.0, 1.0]), "indices must be integers, got dtype float64"),
        (Embedding(5, 2), Tensor([0.5]), "a tensor of indices must hold whole numbers"),
    ],
)
def test_bad_inputs_are_refused_naming_the_layer_and_shapes(layer, x, message):
    with pytest.raises(ValueError, match=message):
        layer(x)


def test_a_small_cnn_learns_a_toy_task():
    # Bright square in the top or the bottom half: a few Adam steps must separate them.
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 64)
    images = rng.normal(0, 0.1, (64, 1, 8, 8))
    for i, label in enumerate(labels):
        images[i, 0, 4 * label : 4 * label + 3, 2:5] += 1.0
    model = Sequential(
        Conv2d(1, 4, 3, padding=1, seed=0),
        ReLU(),
        MaxPool2d(2),
        Flatten(),
        Layer(64, 2, None, seed=0),
    )
    optimizer = Adam(model.parameters(), lr=0.02)
    for _ in range(30):
        optimizer.zero_grad()
        loss = cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()
    assert np.mean(np.argmax(model(images).data, axis=1) == labels) == 1.0
