"""Model files under stress: unusual dtypes, colliding names, failing disks, odd archives."""

from __future__ import annotations

import errno
import io
import json
import os
import subprocess
import sys
import tempfile
import zipfile

import numpy as np
import pytest

from minigrad import Tensor
from minigrad.nn import (
    MLP,
    SGD,
    Adam,
    Layer,
    ModelFileError,
    Module,
    load_checkpoint,
    save_checkpoint,
)


class Scaled(Module):
    """A module whose parameters have the dtype it is given."""

    def __init__(self, dtype="float16"):
        self.dtype = dtype
        self.w = Tensor(np.array([0.1, -2.5, 1000.0, 6e-8], dtype=dtype))
        self.b = Tensor(np.array([1.0 / 3.0], dtype=dtype))

    def forward(self, x):
        return x * self.w + self.b

    def get_config(self):
        return {"dtype": self.dtype}


class Holder(Module):
    """A module that stores whatever it is handed, to build colliding names."""

    def __init__(self):
        pass


def members(path):
    """Every member of a zip archive, by name, as raw bytes."""
    with zipfile.ZipFile(path) as archive:
        return [(info.filename, archive.read(info)) for info in archive.infolist()]


def npy_bytes(array):
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def rewrite_header(path, change):
    """Rewrite the JSON header of the file at ``path`` with ``change(header)``."""
    parts = members(path)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts:
            if name == "header.npy":
                raw = np.lib.format.read_array(io.BytesIO(data))
                header = json.loads(raw.tobytes())
                change(header)
                text = json.dumps(header).encode()
                data = npy_bytes(np.frombuffer(text, dtype=np.uint8))
            archive.writestr(name, data)


# ------------------------------------------------------------------- dtypes


def test_float16_parameters_round_trip_exactly(tmp_path):
    model = Scaled("float16")
    loaded = Scaled.load(model.save(tmp_path / "half"))
    for (name, p), (_, q) in zip(model.named_parameters(), loaded.named_parameters(), strict=True):
        assert q.data.dtype == np.float16, name
        assert q.data.tobytes() == p.data.tobytes(), name


def test_float16_checkpoint_with_adam_state_round_trips(tmp_path):
    model = Scaled("float16")
    optimizer = Adam(model.parameters(), lr=0.01)
    model(Tensor(np.ones(4, np.float16), requires_grad=False)).sum().backward()
    optimizer.step()
    path = save_checkpoint(tmp_path / "ckpt", model, optimizer, step=1)

    fresh = Scaled("float16")
    fresh_optimizer = Adam(fresh.parameters())
    assert load_checkpoint(path, fresh, fresh_optimizer)["step"] == 1
    for p, q in zip(model.parameters(), fresh.parameters(), strict=True):
        assert q.data.dtype == np.float16 and q.data.tobytes() == p.data.tobytes()
    for name in ("exp_avg", "exp_avg_sq"):
        for a, b in zip(optimizer.state[name], fresh_optimizer.state[name], strict=True):
            assert b is not None and a is not None
            assert b.dtype == np.float16 and b.tobytes() == a.tobytes()


@pytest.mark.skipif(
    np.dtype(np.longdouble).name == "float64", reason="longdouble is float64 on this platform"
)
def test_a_dtype_files_cannot_hold_is_refused_at_save_naming_the_parameter(tmp_path):
    model = Scaled("float16")
    model.b = Tensor(np.ones(2, dtype=np.longdouble))
    name = np.dtype(np.longdouble).name
    with pytest.raises(TypeError, match=rf"parameter 'b': its dtype is {name}.*float16, float32"):
        model.save(tmp_path / "long")
    assert list(tmp_path.iterdir()) == []


def test_an_integer_array_put_into_a_parameter_is_refused_at_save(tmp_path):
    layer = Layer(2, 3, seed=0)
    layer.b.data = np.zeros(3, dtype=np.int64)
    with pytest.raises(TypeError, match=r"parameter 'b': its dtype is int64"):
        layer.save(tmp_path / "layer")
    with pytest.raises(TypeError, match=r"parameter 'b': its dtype is int64"):
        save_checkpoint(tmp_path / "ckpt", layer, SGD(layer.parameters(), lr=0.1))
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------- colliding names


def test_int_and_str_keys_with_the_same_dotted_name_are_refused(tmp_path):
    model = Holder()
    model.x = {0: Tensor([1.0]), "0": Tensor([2.0])}
    assert [n for n, _ in model.named_parameters()] == ["x.0", "x.0"]
    with pytest.raises(
        ValueError, match=r"model\.x\[0\] and model\.x\['0'\] are both named 'x\.0'"
    ):
        model.save(tmp_path / "m")
    with pytest.raises(ValueError, match=r"are both named 'x\.0'"):
        save_checkpoint(tmp_path / "c", model)
    with pytest.raises(ValueError, match=r"are both named 'x\.0'"):
        model.state_dict()
    assert list(tmp_path.iterdir()) == []


def test_an_attribute_with_a_dot_next_to_a_container_is_refused(tmp_path):
    model = Holder()
    model.a = {"b": Tensor([1.0])}
    setattr(model, "a.b", Tensor([2.0]))
    with pytest.raises(
        ValueError, match=r"model\.a\['b'\] and getattr\(model, 'a\.b'\) are both named 'a\.b'"
    ):
        model.save(tmp_path / "m")
    assert list(tmp_path.iterdir()) == []


def test_a_tensor_reachable_twice_is_not_a_collision(tmp_path):
    model = Holder()
    shared = Tensor([1.0, 2.0])
    model.first, model.second = shared, [shared]
    path = model.save(tmp_path / "m")
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == ["header.npy", "params/first.npy"]
    assert list(model.state_dict()) == ["first"]


# ------------------------------------------------------------------- failing saves


_FILL_THE_LIMIT = """
import resource
import sys

from minigrad.nn import MLP

path, limit = sys.argv[1], int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
try:
    MLP(64, [256, 256, 1], seed=1).save(path)
except OSError as exc:
    print(type(exc).__name__, exc.errno, exc.filename)
    print(exc)
else:
    print("saved")
"""


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
def test_a_file_size_limit_names_the_target_and_keeps_the_old_file(tmp_path):
    old = MLP(2, [4, 1], seed=0)
    path = old.save(tmp_path / "model.npz")
    before = path.read_bytes()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    result = subprocess.run(
        [sys.executable, "-c", _FILL_THE_LIMIT, str(path), str(64 * 1024)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    kind_line, message = result.stdout.splitlines()
    assert kind_line == f"OSError {errno.EFBIG} {path}"
    assert str(path) in message and ".tmp-" not in message
    assert "File too large" in message and "unchanged" in message
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]  # no temporary file


@pytest.mark.parametrize(
    ("moment", "error"),
    [
        ("create", PermissionError(errno.EACCES, "Permission denied")),
        ("write", OSError(errno.ENOSPC, "No space left on device")),
        ("replace", OSError(errno.EROFS, "Read-only file system")),
    ],
)
def test_a_failing_save_names_the_target_not_the_temporary_file(
    tmp_path, monkeypatch, moment, error
):
    path = Layer(2, 2, seed=0).save(tmp_path / "model")
    before = path.read_bytes()

    def fail(*args, **kwargs):
        error.filename = str(tmp_path / ".model.npz.tmp-abcdefgh")
        raise error

    target = {"create": (tempfile, "mkstemp"), "write": (os, "fsync"), "replace": (os, "replace")}
    monkeypatch.setattr(*target[moment], fail)
    with pytest.raises(type(error)) as caught:
        Layer(2, 2, seed=1).save(path)
    monkeypatch.undo()
    assert caught.value.errno == error.errno
    assert caught.value.filename == str(path)
    assert ".tmp-" not in str(caught.value) and error.strerror in str(caught.value)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]


@pytest.mark.skipif(
    os.name == "nt" or os.geteuid() == 0, reason="needs POSIX permissions that bind the user"
)
def test_a_read_only_folder_names_the_target(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    path = Layer(2, 2, seed=0).save(folder / "model")
    before = path.read_bytes()
    folder.chmod(0o555)
    try:
        with pytest.raises(PermissionError) as caught:
            Layer(2, 2, seed=1).save(path)
    finally:
        folder.chmod(0o755)
    assert caught.value.filename == str(path)
    assert path.read_bytes() == before


@pytest.mark.skipif(os.name == "nt", reason="symbolic links need privileges on Windows")
def test_a_symbolic_link_is_replaced_not_written_through(tmp_path):
    real = Layer(2, 2, seed=0).save(tmp_path / "real")
    before = real.read_bytes()
    link = tmp_path / "link.npz"
    link.symlink_to(real.name)
    Layer(2, 2, seed=1).save(link)
    assert not link.is_symlink() and link.is_file()
    assert real.read_bytes() == before
    np.testing.assert_array_equal(Layer.load(link).W.data, Layer(2, 2, seed=1).W.data)


@pytest.mark.skipif(os.name == "nt", reason="symbolic links need privileges on Windows")
def test_a_symbolic_link_to_a_folder_is_replaced_too(tmp_path):
    folder = tmp_path / "folder"
    folder.mkdir()
    link = tmp_path / "model.npz"
    link.symlink_to(folder.name)
    Layer(2, 2, seed=0).save(link)
    assert not link.is_symlink() and link.is_file()
    assert folder.is_dir() and list(folder.iterdir()) == []


# ------------------------------------------------------------------- damaged files


def test_duplicate_member_names_are_refused_as_damage(tmp_path):
    model = MLP(2, [3, 1], seed=0)
    path = model.save(tmp_path / "m")
    parts = members(path)
    forged = np.full((2, 3), 7.0)
    with (
        pytest.warns(UserWarning, match="Duplicate name"),
        zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive,
    ):
        archive.writestr("params/layers.0.W.npy", npy_bytes(forged))
    assert len(members(path)) == len(parts) + 1
    with pytest.raises(ModelFileError, match=r"two members named 'params/layers\.0\.W\.npy'"):
        MLP.load(path)
    with pytest.raises(ModelFileError, match=r"damaged or tampered"):
        load_checkpoint(path, MLP(2, [3, 1]))


@pytest.mark.parametrize("step", [10**400, 2**63, -1, 1.5], ids=["10**400", "2**63", "-1", "1.5"])
def test_an_impossible_optimizer_step_is_refused_at_load(tmp_path, step):
    model = MLP(2, [3, 1], seed=0)
    path = save_checkpoint(tmp_path / "c", model, Adam(model.parameters()), step=5)

    def change(header):
        header["optimizer"]["step"] = step

    rewrite_header(path, change)
    fresh = MLP(2, [3, 1], seed=1)
    optimizer = Adam(fresh.parameters())
    with pytest.raises(ModelFileError, match=r"optimizer's step is invalid.*damaged or tampered"):
        load_checkpoint(path, fresh, optimizer)
    assert optimizer.step_count == 0


def test_the_largest_step_loads_and_adam_can_take_a_step(tmp_path):
    model = MLP(2, [3, 1], seed=0)
    path = save_checkpoint(tmp_path / "c", model, Adam(model.parameters()), step=2**63 - 1)
    rewrite_header(path, lambda header: header["optimizer"].update(step=2**63 - 1))
    optimizer = Adam(model.parameters())
    assert load_checkpoint(path, model, optimizer)["step"] == 2**63 - 1
    model(Tensor(np.ones((1, 2)), requires_grad=False)).sum().backward()
    optimizer.step()
    assert all(np.isfinite(p.data).all() for p in model.parameters())


def test_an_impossible_training_step_is_refused_at_load(tmp_path):
    model = MLP(2, [3, 1], seed=0)
    path = save_checkpoint(tmp_path / "c", model, step=5)
    rewrite_header(path, lambda header: header.update(step=10**400))
    with pytest.raises(ModelFileError, match=r"header entry 'step' is invalid"):
        load_checkpoint(path, model)


def test_a_number_too_long_for_python_is_a_damaged_header(tmp_path):
    model = MLP(2, [3, 1], seed=0)
    path = save_checkpoint(tmp_path / "c", model, step=5)
    parts = members(path)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts:
            if name == "header.npy":
                text = json.dumps({"format": "minigrad-nn", "step": 0}).replace(
                    "0}", "9" * 5000 + "}"
                )
                data = npy_bytes(np.frombuffer(text.encode(), dtype=np.uint8))
            archive.writestr(name, data)
    with pytest.raises(ModelFileError, match=r"c\.npz: the header is not valid JSON"):
        load_checkpoint(path, model)


def test_an_optimizer_state_dict_with_an_impossible_step_is_refused():
    optimizer = Adam([Tensor([1.0])])
    state = optimizer.state_dict()
    state["step"] = 10**400
    with pytest.raises(ValueError, match=r"step must be an integer from 0 to 2\*\*63 - 1"):
        optimizer.load_state_dict(state)
    assert optimizer.step_count == 0
