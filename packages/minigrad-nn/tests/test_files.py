"""Model files: round trips, the header, and refusal of bad, foreign and unsafe files."""

from __future__ import annotations

import errno
import importlib
import io
import json
import os
import pickle
import subprocess
import sys
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest

from minigrad import Tensor
from minigrad.nn import MLP, Layer, ModelFileError, Module, load_checkpoint


def predict(model, x):
    return model(Tensor(x, requires_grad=False)).data


def read_raw(path):
    """Every array of a file (allow_pickle=False) and its decoded JSON header."""
    with np.load(path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    return arrays, json.loads(arrays.pop("header").tobytes().decode())


def write_raw(path, arrays, header=None):
    if header is not None:
        arrays = {**arrays, "header": np.frombuffer(json.dumps(header).encode(), np.uint8)}
    np.savez_compressed(path, **arrays)
    return path


@pytest.fixture
def saved(tmp_path):
    model = MLP(3, [5, 4, 2], activation="tanh", output_activation="sigmoid", seed=0)
    return model, model.save(tmp_path / "model.npz")


# ------------------------------------------------------------------- round trips


def test_mlp_round_trip_and_extension_added(tmp_path):
    model = MLP(3, [5, 4, 2], activation="tanh", output_activation="sigmoid", seed=0)
    path = model.save(tmp_path / "model")
    assert path == tmp_path / "model.npz" and path.is_file()
    assert not (tmp_path / "model").exists()
    x = np.random.default_rng(0).normal(size=(7, 3))
    for name in ["model", "model.npz", str(tmp_path / "model")]:
        loaded = MLP.load(tmp_path / name if not os.path.isabs(name) else name)
        assert type(loaded) is MLP
        assert loaded.get_config() == model.get_config()
        assert [layer.activation for layer in loaded.layers] == ["tanh", "tanh", "sigmoid"]
        for (n1, p1), (n2, p2) in zip(
            model.named_parameters(), loaded.named_parameters(), strict=True
        ):
            assert n1 == n2
            np.testing.assert_array_equal(p1.data, p2.data)
        np.testing.assert_array_equal(predict(loaded, x), predict(model, x))


def test_layer_round_trip_float32(tmp_path):
    layer = Layer(4, 3, activation=None, seed=5, dtype=np.float32)
    layer.b.data[...] = [1.0, 2.0, 3.0]
    loaded = Layer.load(layer.save(tmp_path / "layer"))
    assert loaded.activation == "linear" and loaded.W.data.dtype == np.float32
    np.testing.assert_array_equal(loaded.W.data, layer.W.data)
    np.testing.assert_array_equal(loaded.b.data, [1.0, 2.0, 3.0])


@pytest.mark.parametrize(
    "build",
    [
        lambda: Layer(1, 1, seed=0),
        lambda: Layer(4, 3, "sigmoid", seed=0, dtype="float32"),
        lambda: MLP(2, [1], seed=0),
        lambda: MLP(2, [1], activation="tanh", output_activation="relu", seed=0),
        lambda: MLP(3, [4, 4, 4, 4, 2], activation=None, seed=0, dtype=np.float32),
    ],
    ids=["layer-1x1", "layer-float32", "mlp-one-layer", "mlp-one-layer-tanh", "mlp-deep"],
)
def test_what_a_configuration_plans_is_what_it_builds(tmp_path, build):
    # Loading compares the shapes a configuration plans with the file before building;
    # a plan that differed from what the constructor builds would refuse these files.
    model = build()
    loaded = type(model).load(model.save(tmp_path / "m"))
    assert loaded.get_config() == model.get_config()
    assert [(n, p.shape, p.dtype) for n, p in loaded.named_parameters()] == [
        (n, p.shape, p.dtype) for n, p in model.named_parameters()
    ]


def test_a_configuration_saying_none_for_linear_loads(tmp_path):
    # Files store 'linear' for both spellings; a configuration with None (as written by
    # hand) means the same and loads.
    model = MLP(2, [3, 1], activation=None, seed=0)
    arrays, header = read_raw(model.save(tmp_path / "m"))
    assert header["config"]["activation"] == header["config"]["output_activation"] == "linear"
    assert header["activations"] == ["linear", "linear"]
    header["config"]["activation"] = header["config"]["output_activation"] = None
    loaded = MLP.load(write_raw(tmp_path / "none.npz", arrays, header))
    assert [layer.activation for layer in loaded.layers] == ["linear", "linear"]
    np.testing.assert_array_equal(predict(loaded, np.ones((2, 2))), predict(model, np.ones((2, 2))))


def test_module_load_dispatches_to_the_saved_class(saved):
    model, path = saved
    loaded = Module.load(path)
    assert type(loaded) is MLP
    np.testing.assert_array_equal(loaded.layers[2].W.data, model.layers[2].W.data)


def test_custom_module_round_trip(tmp_path):
    class TwoHeads(Module):
        def __init__(self, width, *, seed=None):
            self.width = width
            rng = np.random.default_rng(seed)
            self.trunk = Layer(2, width, seed=rng)
            self.heads = {"a": Layer(width, 1, None, seed=rng), "b": Layer(width, 3, seed=rng)}
            self.scale = Tensor(np.ones(1))

        def forward(self, x):
            h = self.trunk(x)
            return self.heads["a"](h) * self.scale, self.heads["b"](h)

        def get_config(self):
            return {"width": self.width}

    net = TwoHeads(6, seed=1)
    net.scale.data[...] = 3.0
    loaded = TwoHeads.load(net.save(tmp_path / "net"))
    assert [n for n, _ in loaded.named_parameters()] == [
        "trunk.W", "trunk.b", "heads.a.W", "heads.a.b", "heads.b.W", "heads.b.b", "scale",
    ]  # fmt: skip
    x = np.ones((2, 2))
    for a, b in zip(net(Tensor(x)), loaded(Tensor(x)), strict=True):
        np.testing.assert_array_equal(a.data, b.data)


def test_module_without_config_cannot_be_saved(tmp_path):
    class NeedsArgs(Module):
        def __init__(self, n):
            self.w = Tensor(np.zeros(n))

    with pytest.raises(TypeError, match=r"needs arguments \['n'\].*define NeedsArgs.get_config"):
        NeedsArgs(3).save(tmp_path / "x")
    assert list(tmp_path.iterdir()) == []


def test_header_documents_the_model(saved):
    model, path = saved
    with zipfile.ZipFile(path) as archive:
        assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in archive.infolist())
    arrays, header = read_raw(path)
    assert header["format"] == "minigrad-nn" and header["format_version"] == 1
    assert header["class"] == "minigrad.nn.MLP"
    assert header["config"] == {
        "nin": 3,
        "nouts": [5, 4, 2],
        "activation": "tanh",
        "output_activation": "sigmoid",
        "dtype": "float64",
    }
    assert header["activations"] == ["tanh", "tanh", "sigmoid"]
    assert header["dtype"] == "float64"
    assert header["parameters"]["layers.1.W"] == {"shape": [5, 4], "dtype": "float64"}
    assert sorted(arrays) == sorted(f"params/{n}" for n, _ in model.named_parameters())


# ------------------------------------------------------------------- refused files


def test_foreign_files_are_refused(tmp_path):
    text = tmp_path / "notes.npz"
    text.write_text("just some text")
    with pytest.raises(ModelFileError, match=r"not a \.npz \(zip\) archive"):
        MLP.load(text)
    empty = tmp_path / "empty.npz"
    empty.write_bytes(b"")
    with pytest.raises(ModelFileError, match="empty"):
        MLP.load(empty)
    npy = tmp_path / "array.npz"
    with open(npy, "wb") as f:
        np.save(f, np.ones(3))
    with pytest.raises(ModelFileError, match=r"single \.npy array"):
        MLP.load(npy)
    plain = tmp_path / "plain.npz"
    np.savez_compressed(plain, W=np.ones((3, 5)), b=np.zeros(5))
    with pytest.raises(ModelFileError, match="without a minigrad header"):
        MLP.load(plain)
    other_format = write_raw(tmp_path / "other.npz", {}, {"format": "something-else"})
    with pytest.raises(ModelFileError, match="header format is 'something-else'"):
        MLP.load(other_format)
    archive = tmp_path / "archive.npz"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("readme.txt", "hello")
    with pytest.raises(ModelFileError, match=r"unexpected member \'readme\.txt\'"):
        MLP.load(archive)


def test_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        MLP.load(tmp_path / "nothing")
    tried = f"{tmp_path / 'nothing'} or {tmp_path / 'nothing.npz'}"
    assert str(info.value) == f"no model file at {tried}"
    with pytest.raises(FileNotFoundError) as info:
        MLP.load(tmp_path / "nothing.npz")
    assert str(info.value) == f"no model file at {tmp_path / 'nothing.npz'}"


def test_load_reads_the_path_as_given_before_adding_npz(tmp_path):
    model = Layer(2, 3, seed=0)
    renamed = model.save(tmp_path / "weights").rename(tmp_path / "weights.bin")
    np.testing.assert_array_equal(Layer.load(renamed).W.data, model.W.data)
    # An existing file of another kind is read as it is, and refused for what it is.
    notes = tmp_path / "text.txt"
    notes.write_text("some notes")
    with pytest.raises(ModelFileError, match=r"text\.txt: not a minigrad model file: it is not"):
        Layer.load(notes)


def test_load_of_a_folder(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    with pytest.raises(IsADirectoryError) as info:
        Layer.load(folder)
    assert str(info.value) == f"{folder} is a folder, not a model file"
    # A folder beside a model file of the same name plus .npz: the file is meant.
    model = Layer(2, 3, seed=0)
    model.save(folder)
    assert (tmp_path / "run.npz").is_file()
    np.testing.assert_array_equal(Layer.load(folder).W.data, model.W.data)


def test_save_into_a_missing_folder_names_the_folder(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        Layer(2, 3, seed=0).save(tmp_path / "nodir" / "model")
    message = str(info.value)
    assert f"the folder {tmp_path / 'nodir'} does not exist" in message
    assert ".tmp-" not in message
    (tmp_path / "plain").write_text("a file, not a folder")
    with pytest.raises(NotADirectoryError, match=r"plain is not a folder"):
        Layer(2, 3, seed=0).save(tmp_path / "plain" / "model")
    (tmp_path / "taken.npz").mkdir()
    with pytest.raises(IsADirectoryError, match=r"taken\.npz: it is a folder"):
        Layer(2, 3, seed=0).save(tmp_path / "taken")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain", "taken.npz"]
    assert list((tmp_path / "taken.npz").iterdir()) == []


@pytest.mark.parametrize("fraction", [0.1, 0.3, 0.5, 0.7, 0.9, 0.99])
def test_truncated_files_are_refused(saved, fraction):
    _, path = saved
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])
    with pytest.raises(ModelFileError, match=r"damaged or truncated|not a minigrad"):
        MLP.load(path)


def test_corrupted_bytes_never_crash_the_reader(saved):
    # Flip bytes all over the file: each load either succeeds with a valid model or
    # raises ModelFileError -- never another exception.
    model, path = saved
    original = path.read_bytes()
    rng = np.random.default_rng(0)
    refused = 0
    for position in rng.choice(len(original), size=60, replace=False):
        data = bytearray(original)
        data[position] ^= 0xFF
        path.write_bytes(bytes(data))
        try:
            loaded = MLP.load(path)
        except ModelFileError:
            refused += 1
        else:
            np.testing.assert_array_equal(loaded.layers[0].W.data, model.layers[0].W.data)
    assert refused > 30  # most bytes matter: compressed data is CRC-checked


def test_tampered_array_shape_is_refused(saved, tmp_path):
    _, path = saved
    arrays, header = read_raw(path)
    arrays["params/layers.0.W"] = np.ones((4, 5))
    bad = write_raw(tmp_path / "bad.npz", arrays, header)
    with pytest.raises(ModelFileError, match=r"'params/layers.0.W' has shape \(4, 5\), the header"):
        MLP.load(bad)
    # header changed to agree with the arrays: the configuration still builds (3, 5)
    header["parameters"]["layers.0.W"]["shape"] = [4, 5]
    bad = write_raw(tmp_path / "bad2.npz", arrays, header)
    with pytest.raises(ModelFileError, match=r"layers.0.W: file \(4, 5\).*model \(3, 5\)"):
        MLP.load(bad)


def test_tampered_configuration_is_refused(saved, tmp_path):
    _, path = saved
    arrays, header = read_raw(path)
    header["config"]["nouts"] = [5, 4, 3]
    with pytest.raises(ModelFileError, match="do not fit a MLP"):
        MLP.load(write_raw(tmp_path / "a.npz", arrays, header))
    header["config"] = {"nin": -3, "nouts": [5]}
    with pytest.raises(ModelFileError, match="does not build a MLP: nin must be a positive"):
        MLP.load(write_raw(tmp_path / "b.npz", arrays, header))
    header["config"] = {"nin": 3, "nouts": [5, 4, 2], "bogus": 1}
    with pytest.raises(ModelFileError, match="does not build a MLP"):
        MLP.load(write_raw(tmp_path / "c.npz", arrays, header))
    header["config"] = {"nin": 3, "nouts": [5, 4, 2], "activation": "gelu"}
    with pytest.raises(ModelFileError, match="does not build a MLP: activation must be one of"):
        MLP.load(write_raw(tmp_path / "e.npz", arrays, header))
    _, header = read_raw(path)
    header["activations"] = ["relu", "relu", "linear"]
    with pytest.raises(ModelFileError, match="header lists activations"):
        MLP.load(write_raw(tmp_path / "d.npz", arrays, header))


def npy_bytes(shape, data, descr="<f8"):
    """An ``.npy`` member declaring ``shape`` but holding the bytes ``data``."""
    buffer = io.BytesIO()
    header = {"descr": descr, "fortran_order": False, "shape": tuple(shape)}
    np.lib.format.write_array_header_1_0(buffer, header)
    return buffer.getvalue() + data


def write_members(path, members):
    """A deflated zip of the given ``.npy`` members (names without ``.npy``)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name + ".npy", data)
    return path


def patch_central_directory(path, member, *, compressed=None, uncompressed=None):
    """Overwrite the sizes the zip's central directory declares for ``member``."""
    data = bytearray(path.read_bytes())
    name = (member + ".npy").encode()
    entry = data.index(b"PK\x01\x02")  # the first central directory record
    while data[entry + 46 : entry + 46 + len(name)] != name:
        entry = data.index(b"PK\x01\x02", entry + 4)
    if compressed is not None:
        data[entry + 20 : entry + 24] = compressed.to_bytes(4, "little")
    if uncompressed is not None:
        data[entry + 24 : entry + 28] = uncompressed.to_bytes(4, "little")
    path.write_bytes(bytes(data))
    return path


def _npy_of(array):
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def load_peak(load, path):
    """Run ``load(path)``, expecting ModelFileError; return its message and peak memory."""
    tracemalloc.start()
    try:
        with pytest.raises(ModelFileError) as info:
            load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return str(info.value), peak


_SMALL = 8 * 2**20  # far below the hundreds of MB the tampered files ask for


@pytest.mark.parametrize(
    ("cls", "config"),
    [
        (Layer, {"nin": 6000, "nout": 6000, "activation": "relu", "dtype": "float64"}),
        (MLP, {"nin": 2, "nouts": [6000, 6000, 1], "activation": "relu", "dtype": "float64"}),
        (MLP, {"nin": 2, "nouts": [5] * 200_000, "activation": "relu", "dtype": "float64"}),
    ],
    ids=["layer", "mlp", "mlp-many-layers"],
)
def test_a_tiny_file_cannot_make_load_build_a_large_model(tmp_path, cls, config):
    # The header's configuration asks for a large model; the arrays are small. Loading
    # must compare the two before building anything.
    path = (Layer(2, 3, seed=0) if cls is Layer else MLP(2, [3, 1], seed=0)).save(tmp_path / "m")
    arrays, header = read_raw(path)
    header["config"] = config
    tampered = write_raw(tmp_path / "tampered.npz", arrays, header)
    assert tampered.stat().st_size < 4000
    message, peak = load_peak(cls.load, tampered)
    assert f"do not fit a {cls.__name__} built from the file's configuration" in message
    assert peak < _SMALL


def test_arrays_cannot_declare_more_data_than_their_members_hold(tmp_path):
    header = {
        **read_raw(Layer(6, 6, seed=0).save(tmp_path / "m"))[1],
        "config": {"nin": 6000, "nout": 6000, "activation": "relu", "dtype": "float64"},
        "parameters": {
            "W": {"shape": [6000, 6000], "dtype": "float64"},
            "b": {"shape": [6000], "dtype": "float64"},
        },
    }
    members = {
        "header": _npy_of(np.frombuffer(json.dumps(header).encode(), np.uint8)),
        "params/W": npy_bytes((6000, 6000), bytes(48)),  # 288 MB announced, 48 bytes held
        "params/b": npy_bytes((6000,), bytes(6000 * 8)),
    }
    path = write_members(tmp_path / "liar.npz", members)
    assert path.stat().st_size < 4000
    message, peak = load_peak(Layer.load, path)
    assert "array 'params/W' declares shape (6000, 6000) of float64, but its member holds 48" in (
        message
    )
    assert peak < _SMALL

    # The zip's directory also claims the member is that large: deflate cannot produce
    # so many bytes from what the file holds.
    announced = len(npy_bytes((6000, 6000), b"")) + 6000 * 6000 * 8
    patch_central_directory(path, "params/W", uncompressed=announced)
    message, peak = load_peak(Layer.load, path)
    assert f"member 'params/W' claims {announced} bytes from" in message
    assert "more than is possible" in message
    assert peak < _SMALL

    # ...and a member cannot claim more compressed bytes than the whole file has.
    patch_central_directory(path, "params/W", compressed=10**9)
    message, _ = load_peak(Layer.load, path)
    assert "members claim more bytes than the file holds" in message


def test_missing_and_unlisted_arrays_are_refused(saved, tmp_path):
    _, path = saved
    arrays, header = read_raw(path)
    del arrays["params/layers.2.b"]
    with pytest.raises(ModelFileError, match=r"missing: \['params/layers.2.b'\]"):
        MLP.load(write_raw(tmp_path / "a.npz", arrays, header))
    arrays, header = read_raw(path)
    arrays["params/extra"] = np.ones(2)
    with pytest.raises(ModelFileError, match=r"not listed in the header: \['params/extra'\]"):
        MLP.load(write_raw(tmp_path / "b.npz", arrays, header))
    arrays, header = read_raw(path)
    arrays["params/layers.0.b"] = np.ones(5, dtype=np.int64)
    with pytest.raises(ModelFileError, match="has dtype int64"):
        MLP.load(write_raw(tmp_path / "c.npz", arrays, header))


def test_bad_json_header_is_refused(saved, tmp_path):
    _, path = saved
    arrays, _ = read_raw(path)
    arrays["header"] = np.frombuffer(b'{"format": "minigrad-nn", ', np.uint8)
    with pytest.raises(ModelFileError, match="header is not valid JSON"):
        MLP.load(write_raw(tmp_path / "a.npz", arrays))
    arrays["header"] = np.frombuffer(b"[1, 2]", np.uint8)
    with pytest.raises(ModelFileError, match="not a JSON object"):
        MLP.load(write_raw(tmp_path / "b.npz", arrays))
    arrays["header"] = np.array([1.5, 2.5])
    with pytest.raises(ModelFileError, match="1-D uint8 array"):
        MLP.load(write_raw(tmp_path / "c.npz", arrays))
    arrays["header"] = np.frombuffer(b"\xff\xfe{}", np.uint8)
    with pytest.raises(ModelFileError, match="not valid JSON"):
        MLP.load(write_raw(tmp_path / "d.npz", arrays))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format_version": 2}, "format version 2 .*upgrade minigrad-nn"),
        ({"format_version": "1"}, "invalid format version '1'"),
        ({"format_version": 0}, "invalid format version 0"),
        ({"class": 42}, "header entry 'class' is missing or invalid"),
        ({"parameters": None}, "header entry 'parameters'"),
        ({"step": -1}, "header entry 'step' is invalid"),
    ],
)
def test_tampered_header_entries_are_refused(saved, tmp_path, change, message):
    _, path = saved
    arrays, header = read_raw(path)
    header.update(change)
    with pytest.raises(ModelFileError, match=message):
        MLP.load(write_raw(tmp_path / "bad.npz", arrays, header))


def test_wrong_class_is_refused(saved, tmp_path):
    _, path = saved
    with pytest.raises(ModelFileError, match=r"holds a minigrad.nn.MLP, not a minigrad.nn.Layer"):
        Layer.load(path)
    arrays, header = read_raw(path)
    header["class"] = "os.system"  # never imported or called
    with pytest.raises(ModelFileError, match=r"os\.system, a class that has not been imported"):
        Module.load(write_raw(tmp_path / "a.npz", arrays, header))


_NET = """
import numpy as np
from minigrad import Tensor
from minigrad.nn import Layer, Module


class Net(Module):
    def __init__(self, width):
        self.width = width
        self.body = Layer(2, width, seed=3)
        self.scale = Tensor(np.full(1, 2.0))

    def forward(self, x):
        return self.body(x) * self.scale

    def get_config(self):
        return {"width": self.width}
"""

_SCRIPT = """
import sys
from minigrad.nn import Adam, save_checkpoint

class_source = open(sys.argv[1]).read()
exec(class_source)  # defines Net here, in __main__, as a script that trains it would
net = Net(4)
net.save(sys.argv[2])
save_checkpoint(sys.argv[3], net, Adam(net.parameters()), step=5)
"""


def test_class_saved_from_a_script_loads_from_the_module_that_defines_it(tmp_path, monkeypatch):
    # A script defines Net and saves it (the file names __main__.Net); a program then
    # imports the same class from a module and loads the file with it.
    module = "minigrad_nn_test_models"
    (tmp_path / f"{module}.py").write_text(_NET)
    script = tmp_path / "train.py"
    script.write_text(_SCRIPT)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    args = [tmp_path / f"{module}.py", tmp_path / "net", tmp_path / "ckpt"]
    subprocess.run([sys.executable, script, *args], check=True, env=env)
    assert read_raw(tmp_path / "net.npz")[1]["class"] == "__main__.Net"

    with pytest.raises(ModelFileError) as info:
        Module.load(tmp_path / "net.npz")  # nothing says which Net is meant
    assert "__main__.Net: a class defined in the script that saved it" in str(info.value)
    assert "Net.load()" in str(info.value)

    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, module, raising=False)
    net_class = importlib.import_module(module).Net
    loaded = net_class.load(tmp_path / "net.npz")
    assert type(loaded) is net_class and loaded.width == 4
    np.testing.assert_array_equal(loaded.body.W.data, Layer(2, 4, seed=3).W.data)
    np.testing.assert_array_equal(loaded.scale.data, [2.0])
    fresh = net_class(4)
    fresh.scale.data[...] = 0.0
    assert load_checkpoint(tmp_path / "ckpt.npz", fresh)["step"] == 5
    np.testing.assert_array_equal(fresh.scale.data, [2.0])
    # Another class of another name is still refused.
    with pytest.raises(ModelFileError, match=r"__main__\.Net"):
        MLP.load(tmp_path / "net.npz")


class _Payload:
    """Unpickling this creates ``marker``: proof that a loader unpickled the file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


@pytest.mark.parametrize("member", ["params/layers.0.W", "header"])
def test_pickle_bearing_files_are_refused_without_unpickling(saved, tmp_path, member):
    _, path = saved
    arrays, header = read_raw(path)
    arrays["header"] = np.frombuffer(json.dumps(header).encode(), np.uint8)

    # Control: the payload is live -- an unsafe loader would create the marker.
    control_marker = tmp_path / "control-marker"
    control = tmp_path / "control.npz"
    np.savez(control, x=np.array([_Payload(control_marker)], dtype=object))
    with np.load(control, allow_pickle=True) as npz:
        npz["x"]
    assert control_marker.exists()

    marker = tmp_path / "marker"
    arrays[member] = np.array([_Payload(marker)], dtype=object)
    evil = tmp_path / "evil.npz"
    np.savez(evil, **arrays)  # savez pickles object arrays
    with pytest.raises(ModelFileError, match="pickled Python objects"):
        MLP.load(evil)
    assert not marker.exists()


def test_raw_pickle_file_is_refused_without_unpickling(tmp_path):
    marker = tmp_path / "marker"
    evil = tmp_path / "evil.npz"
    evil.write_bytes(pickle.dumps(_Payload(marker)))
    with pytest.raises(ModelFileError, match="pickled Python data"):
        MLP.load(evil)
    assert not marker.exists()


# ------------------------------------------------------------------- atomic saves


def test_failed_write_keeps_previous_file_and_leaves_no_temp(saved, monkeypatch):
    model, path = saved
    before = path.read_bytes()
    real_savez = np.savez_compressed

    def fail_midway(file, *args, **kwargs):
        buffer = io.BytesIO()
        real_savez(buffer, *args, **kwargs)
        file.write(buffer.getvalue()[: len(buffer.getvalue()) // 2])  # half written...
        raise OSError(errno.ENOSPC, "No space left on device")  # ...then the disk fills

    monkeypatch.setattr(np, "savez_compressed", fail_midway)
    other = MLP(3, [5, 4, 2], activation="tanh", output_activation="sigmoid", seed=99)
    with pytest.raises(OSError, match="No space left"):
        other.save(path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    np.testing.assert_array_equal(MLP.load(path).layers[0].W.data, model.layers[0].W.data)
    assert sorted(p.name for p in path.parent.iterdir()) == ["model.npz"]


def test_interrupted_write_leaves_no_temp(tmp_path, monkeypatch):
    def interrupted(file, *args, **kwargs):
        file.write(b"PK\x03\x04partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez_compressed", interrupted)
    with pytest.raises(KeyboardInterrupt):
        Layer(2, 2, seed=0).save(tmp_path / "new")
    assert list(tmp_path.iterdir()) == []  # no target, no temporary file


def test_save_replaces_and_keeps_permissions(tmp_path):
    path = Layer(2, 2, seed=0).save(tmp_path / "m")
    os.chmod(path, 0o640)
    Layer(2, 2, seed=1).save(path)
    assert path.stat().st_mode & 0o777 == 0o640 or os.name == "nt"
    np.testing.assert_array_equal(Layer.load(path).W.data, Layer(2, 2, seed=1).W.data)
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]


@pytest.mark.skipif(os.name == "nt", reason="POSIX permission bits")
def test_new_file_mode_follows_umask_without_changing_it(tmp_path, monkeypatch):
    umask = os.umask(0o022)
    os.umask(umask)

    def no_umask(mask):
        raise AssertionError("save changed the process umask")

    # Saving must not touch the umask: another thread may be creating files meanwhile.
    monkeypatch.setattr(os, "umask", no_umask)
    path = Layer(2, 2, seed=0).save(tmp_path / "fresh")
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


_SAVER = """
import io
import os
import sys
import time

import numpy as np

from minigrad.nn import MLP

path, moment = sys.argv[1], sys.argv[2]


def stop_here(marker):
    print(marker, flush=True)  # the parent kills this process when it reads the marker
    time.sleep(600)


if moment == "mid-write":
    write = np.savez_compressed

    def half_then_stop(file, *args, **kwargs):
        buffer = io.BytesIO()
        write(buffer, *args, **kwargs)
        file.write(buffer.getvalue()[: len(buffer.getvalue()) // 2])
        file.flush()
        stop_here("writing")

    np.savez_compressed = half_then_stop
else:
    os.replace = lambda src, dst: stop_here("replacing")

MLP(16, [32, 1], seed=1).save(path)
"""


@pytest.mark.parametrize(
    ("moment", "marker"), [("mid-write", "writing"), ("before-rename", "replacing")]
)
def test_killed_saver_leaves_the_previous_file_intact(tmp_path, moment, marker):
    old = MLP(16, [32, 1], seed=0)
    path = old.save(tmp_path / "big.npz")
    before = path.read_bytes()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    proc = subprocess.Popen(
        [sys.executable, "-c", _SAVER, str(path), moment], stdout=subprocess.PIPE, env=env
    )
    try:
        assert proc.stdout is not None
        # The saver is inside save(), stopped at the given moment: kill it there.
        assert proc.stdout.readline().decode().strip() == marker
    finally:
        proc.kill()  # SIGKILL: no cleanup handlers run
        proc.wait()
        proc.stdout.close()
    assert path.read_bytes() == before
    np.testing.assert_array_equal(MLP.load(path).layers[0].W.data, old.layers[0].W.data)
    # A killed process cannot remove its temporary file; it is recognisable.
    leftovers = [p for p in tmp_path.iterdir() if p != path]
    assert len(leftovers) == 1 and leftovers[0].name.startswith(".big.npz.tmp-")
    if moment == "mid-write":
        with pytest.raises(ModelFileError):
            MLP.load(leftovers[0])
    else:  # written completely, killed just before the rename
        new = MLP(16, [32, 1], seed=1)
        np.testing.assert_array_equal(MLP.load(leftovers[0]).layers[0].W.data, new.layers[0].W.data)
