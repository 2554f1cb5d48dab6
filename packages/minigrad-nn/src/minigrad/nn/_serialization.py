"""Model files and checkpoints: a safe ``.npz`` format, written atomically.

A file is a zip archive as written by `numpy.savez_compressed`, holding

- ``header``: a 1-D uint8 array, the UTF-8 bytes of a JSON object (format name and
  version, the module's class and constructor arguments, activations, dtype, the name,
  shape and dtype of every array; for checkpoints also the step, user extras and the
  optimizer's type, step count and hyperparameters);
- ``params/<dotted name>``: one float array per parameter (``params/layers.0.W``);
- ``optimizer/<buffer>/<i>``: an optimizer's state buffer for parameter ``i``.

Nothing is pickled when writing, and reading uses ``allow_pickle=False`` after checking
each member's declared dtype and shape against the header and against the bytes the
archive really holds, so a file from a stranger cannot run code, and the arrays it makes
the reader allocate are bounded by its size (deflate expands at most 1032-fold). For
`Layer` and `MLP` the configuration is checked against those shapes before the model is
built; other classes are built from their configuration first, then checked.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import numbers
import os
import tempfile
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO, TypeVar, cast

import numpy as np

from minigrad.nn.__about__ import __version__
from minigrad.nn._module import (
    _FLOAT_DTYPES,
    _REGISTRY,
    Module,
    _activations,
    _class_key,
    _needs_config,
    _planned_parameters,
)
from minigrad.nn._optim import Optimizer

__all__ = ["ModelFileError", "load_checkpoint", "save_checkpoint"]

FORMAT_NAME = "minigrad-nn"
FORMAT_VERSION = 1

_HEADER = "header"
_PARAMS = "params/"
_OPTIMIZER = "optimizer/"
_MAX_HEADER_BYTES = 16 * 2**20
# Deflate turns one compressed byte into at most 1032 bytes (a 258-byte match per two
# bits); a member that claims more than that is lying about its size.
_MAX_DEFLATE_RATIO = 1032
_M = TypeVar("_M", bound=Module)


class ModelFileError(ValueError):
    """A model or checkpoint file is not valid: damaged, tampered, foreign or unsafe.

    Raised by `Module.load` and `load_checkpoint` for a file that is truncated, is not a
    zip/``.npz`` archive, was not written by minigrad-nn, has an unknown format version,
    holds a different class or architecture, has arrays whose names, shapes or dtypes do
    not match its header, or holds pickled objects (which are never loaded). The message
    names the file and what is wrong.

    Examples
    --------
    >>> from pathlib import Path
    >>> from minigrad.nn import MLP, ModelFileError
    >>> _ = Path("notes.npz").write_text("not a model")
    >>> try:
    ...     MLP.load("notes.npz")
    ... except ModelFileError as exc:
    ...     print(exc)
    notes.npz: not a minigrad model file: it is not a .npz (zip) archive
    """


def _npz_path(path: str | os.PathLike[str]) -> Path:
    """Where to save: ``path``, with ``.npz`` appended when it has another ending."""
    p = Path(os.fspath(path))
    return p if p.suffix == ".npz" or not p.name else p.with_name(p.name + ".npz")


def _file_to_load(path: str | os.PathLike[str]) -> Path:
    """Which file to read: ``path`` itself if it is a file, else ``path`` + ``.npz``."""
    given = Path(os.fspath(path))
    if given.is_file():
        return given
    npz = _npz_path(given)
    if npz != given and npz.is_file():
        return npz
    for candidate in (given, npz):
        if candidate.is_dir():
            raise IsADirectoryError(f"{candidate} is a folder, not a model file")
    tried = str(given) if npz == given else f"{given} or {npz}"
    raise FileNotFoundError(f"no model file at {tried}")


def _json_value(value: Any, what: str) -> Any:
    """``value`` with NumPy scalars and arrays turned into JSON numbers and lists."""

    def default(obj: Any) -> Any:
        if isinstance(obj, (np.generic, np.ndarray)):
            return obj.tolist()
        raise TypeError(
            f"{what} must be JSON values (numbers, strings, bools, None, lists, dicts), "
            f"got a {type(obj).__name__}"
        )

    return json.loads(json.dumps(value, default=default))


# --------------------------------------------------------------------------- writing


def save_checkpoint(
    path: str | os.PathLike[str],
    model: Module,
    optimizer: Optimizer | None = None,
    step: int | None = None,
    **extra: Any,
) -> Path:
    """Save a model, and optionally its optimizer, step and extras, atomically.

    The file is a model file (`Module.load` reads it) that also carries the optimizer's
    state, the step number and ``extra``, so that `load_checkpoint` resumes training
    exactly where it stopped. It is written to a temporary file in the same folder
    (named ``.<name>.npz.tmp-XXXXXXXX``), flushed to disk and renamed over ``path``: a
    crash mid-save leaves the previous file intact (a process killed mid-save can leave
    its temporary file behind; such files are safe to delete).

    Parameters
    ----------
    path : str or os.PathLike
        Where to write; ``.npz`` is appended when missing.
    model : Module
        The model whose architecture and weights to save.
    optimizer : Optimizer, optional
        Its step count, hyperparameters and buffers are saved too.
    step : int, optional
        The training step, returned by `load_checkpoint`.
    **extra
        Further JSON values to keep (loss history, epoch, ...). NumPy scalars and
        arrays are stored as numbers and lists.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    TypeError
        If ``model`` is not a Module, an extra is not JSON-serializable, or the model's
        class needs constructor arguments but does not define ``get_config``.
    FileNotFoundError, NotADirectoryError, IsADirectoryError
        If the folder to save into does not exist or is a file, or ``path`` is a folder.

    Examples
    --------
    >>> from minigrad.nn import MLP, Adam, save_checkpoint, load_checkpoint
    >>> model = MLP(2, [8, 1], seed=0)
    >>> opt = Adam(model.parameters(), lr=0.01)
    >>> save_checkpoint("ckpt", model, opt, step=100, best_loss=0.25).name
    'ckpt.npz'
    >>> model2 = MLP(2, [8, 1])
    >>> opt2 = Adam(model2.parameters())
    >>> load_checkpoint("ckpt.npz", model2, opt2)
    {'step': 100, 'best_loss': 0.25}
    """
    if not isinstance(model, Module):
        raise TypeError(f"model must be a minigrad.nn.Module, got {type(model).__name__}")
    if optimizer is not None and not isinstance(optimizer, Optimizer):
        raise TypeError(
            f"optimizer must be a minigrad.nn.Optimizer or None, got {type(optimizer).__name__}"
        )
    step_value: object = step  # checked at run time: callers may pass anything
    if step_value is not None and (
        isinstance(step_value, bool)
        or not isinstance(step_value, numbers.Integral)
        or int(step_value) < 0
    ):
        raise TypeError(f"step must be a non-negative int or None, got {step!r}")
    cls = type(model)
    required = _needs_config(cls)
    if required:
        raise TypeError(
            f"{cls.__name__}.__init__ needs arguments {required}, so load() could not "
            f"rebuild it: define {cls.__name__}.get_config() returning them as a dict"
        )
    config = _json_value(model.get_config(), f"{cls.__name__}.get_config() values")
    if not isinstance(config, dict):
        raise TypeError(f"{cls.__name__}.get_config() must return a dict, got {config!r}")
    for key, value in extra.items():
        extra[key] = _json_value(value, f"checkpoint extra {key!r}")

    named = model.named_parameters()
    arrays: dict[str, np.ndarray] = {}
    parameters: dict[str, dict[str, Any]] = {}
    for name, p in named:
        arrays[_PARAMS + name] = p.data
        parameters[name] = {"shape": list(p.data.shape), "dtype": p.data.dtype.name}
    dtypes = sorted({entry["dtype"] for entry in parameters.values()})

    optimizer_header: dict[str, Any] | None = None
    if optimizer is not None:
        state = optimizer.state_dict()
        buffers_header: dict[str, list[list[int] | None]] = {}
        for buffer_name, buffers in state["buffers"].items():
            buffers_header[buffer_name] = []
            for i, buffer in enumerate(buffers):
                if buffer is None:
                    buffers_header[buffer_name].append(None)
                else:
                    arrays[f"{_OPTIMIZER}{buffer_name}/{i}"] = buffer
                    buffers_header[buffer_name].append(list(buffer.shape))
        optimizer_header = {
            "type": state["type"],
            "step": state["step"],
            "hyperparameters": _json_value(state["hyperparameters"], "hyperparameters"),
            "buffers": buffers_header,
        }

    header = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "writer": f"minigrad-nn {__version__}",
        "class": _class_key(cls),
        "config": config,
        "activations": _activations(model),
        "dtype": dtypes[0] if len(dtypes) == 1 else "mixed",
        "parameters": parameters,
        "step": None if step is None else int(step),
        "extra": extra,
        "optimizer": optimizer_header,
    }
    text = json.dumps(header, indent=1).encode("utf-8")
    arrays[_HEADER] = np.frombuffer(text, dtype=np.uint8)
    target = _npz_path(path)
    _atomic_savez(target, arrays)
    return target


def _atomic_savez(path: Path, arrays: Mapping[str, np.ndarray]) -> None:
    """Write ``arrays`` to ``path`` through a temporary file and ``os.replace``."""
    directory = path.parent
    # Checked first, so that the error names the folder, not the temporary file.
    if not directory.is_dir():
        if directory.exists():
            raise NotADirectoryError(f"cannot save to {path}: {directory} is not a folder")
        raise FileNotFoundError(
            f"cannot save to {path}: the folder {directory} does not exist; create it first"
        )
    if path.is_dir():
        raise IsADirectoryError(f"cannot save to {path}: it is a folder")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            savez: Any = np.savez_compressed  # typed as if the keywords were its options
            savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp_name, _file_mode(path))
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    # Make the rename itself durable (POSIX; directories cannot be opened on Windows).
    with contextlib.suppress(OSError):
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _read_umask() -> int:
    # The only portable way to read the umask is to set it; done once, at import, so
    # that saving never changes process-wide state while other threads may create files.
    umask = os.umask(0o022)
    os.umask(umask)
    return umask


_UMASK = _read_umask()


def _file_mode(path: Path) -> int:
    """Permissions for the new file: the old file's, else what ``open()`` would give."""
    try:
        return os.stat(path).st_mode & 0o777
    except OSError:
        return 0o666 & ~_UMASK


# --------------------------------------------------------------------------- reading


class _File:
    """A validated model file: its header and lazily read arrays."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = _file_to_load(path)
        self.header: dict[str, Any] = {}
        self._members: dict[str, tuple[tuple[int, ...], np.dtype[Any]]] = {}
        self._arrays: dict[str, np.ndarray] = {}
        # One open file for every read: a save that replaces the file meanwhile cannot
        # mix two versions.
        with open(self.path, "rb") as f:
            self._read_structure(f)
            self._validate_header()
            self._read_arrays(f)

    def error(self, message: str) -> ModelFileError:
        return ModelFileError(f"{self.path}: {message}")

    def _read_structure(self, f: BinaryIO) -> None:
        magic = f.read(4)
        if magic != b"PK\x03\x04":
            if magic[:1] == b"\x80":
                what = "it holds pickled Python data, which is never loaded"
            elif magic == b"\x93NUM":
                what = "it is a single .npy array, not a .npz archive"
            elif not magic:
                what = "the file is empty"
            else:
                what = "it is not a .npz (zip) archive"
            raise self.error(f"not a minigrad model file: {what}")
        try:
            file_size = os.fstat(f.fileno()).st_size
            f.seek(0)
            with zipfile.ZipFile(f) as archive:
                infos = archive.infolist()
                if sum(info.compress_size for info in infos) > file_size:
                    raise self.error(
                        "the archive's members claim more bytes than the file holds "
                        "(damaged or tampered)"
                    )
                for info in infos:
                    name = info.filename
                    if not name.endswith(".npy"):
                        raise self.error(f"not a minigrad model file: unexpected member {name!r}")
                    key = name[: -len(".npy")]
                    self._check_member_size(key, info)
                    if key == _HEADER and info.file_size > _MAX_HEADER_BYTES:
                        raise self.error(f"the header is {info.file_size} bytes, too large")
                    with archive.open(info) as member:
                        shape, dtype = _peek_npy(member, self, key)
                        data_bytes = info.file_size - member.tell()
                    if math.prod(shape) * dtype.itemsize != data_bytes:
                        raise self.error(
                            f"array {key!r} declares shape {shape} of {dtype}, but its member "
                            f"holds {data_bytes} bytes of data (damaged or tampered)"
                        )
                    self._members[key] = shape, dtype
                if _HEADER not in self._members:
                    raise self.error(
                        "not a minigrad model file: a .npz archive without a minigrad "
                        "header (was it written by numpy.savez rather than Module.save?)"
                    )
                with archive.open(_HEADER + ".npy") as member:
                    raw = np.lib.format.read_array(member, allow_pickle=False)
        except ModelFileError:
            raise
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
            raise self.error(f"the file is damaged or truncated ({exc})") from None
        if raw.dtype != np.uint8 or raw.ndim != 1:
            raise self.error(
                f"the header must be a 1-D uint8 array, got {raw.dtype} of shape {raw.shape}"
            )
        try:
            header = json.loads(raw.tobytes().decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            raise self.error(f"the header is not valid JSON ({exc})") from None
        if not isinstance(header, dict):
            raise self.error("the header is not a JSON object")
        self.header = header

    def _check_member_size(self, key: str, info: zipfile.ZipInfo) -> None:
        """Refuse a member whose declared size its compressed bytes cannot produce.

        Array sizes are read from the members before any data, and each must match its
        member's declared size; this bounds that size by the bytes actually in the file,
        so a small file cannot make the reader allocate a large array.
        """
        if info.compress_type == zipfile.ZIP_STORED:
            possible = info.compress_size
        elif info.compress_type == zipfile.ZIP_DEFLATED:
            possible = _MAX_DEFLATE_RATIO * info.compress_size + 1024
        else:
            raise self.error(
                f"member {key!r} uses zip compression method {info.compress_type}; "
                "minigrad model files use deflate (or none)"
            )
        if info.file_size > possible:
            raise self.error(
                f"member {key!r} claims {info.file_size} bytes from {info.compress_size} "
                "compressed bytes, more than is possible (damaged or tampered)"
            )

    def _validate_header(self) -> None:
        h = self.header
        if h.get("format") != FORMAT_NAME:
            raise self.error(
                f"not a minigrad model file: header format is {h.get('format')!r}, "
                f"expected {FORMAT_NAME!r}"
            )
        version = h.get("format_version")
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise self.error(f"invalid format version {version!r}")
        if version > FORMAT_VERSION:
            raise self.error(
                f"written in format version {version} by {h.get('writer', 'a newer writer')}; "
                f"minigrad-nn {__version__} reads format version {FORMAT_VERSION}: upgrade "
                "minigrad-nn to load it"
            )
        expected_types: dict[str, type | tuple[type, ...]] = {
            "class": str,
            "config": dict,
            "activations": list,
            "dtype": str,
            "parameters": dict,
            "extra": dict,
        }
        for key, kind in expected_types.items():
            if not isinstance(h.get(key), kind):
                raise self.error(f"header entry {key!r} is missing or invalid: {h.get(key)!r}")
        step = h.get("step")
        if step is not None and (isinstance(step, bool) or not isinstance(step, int) or step < 0):
            raise self.error(f"header entry 'step' is invalid: {step!r}")

        expected: dict[str, tuple[tuple[int, ...], str | None]] = {}
        for name, entry in h["parameters"].items():
            expected[_PARAMS + name] = self._shape_entry(f"parameter {name!r}", entry)
        optimizer = h.get("optimizer")
        if optimizer is not None:
            if not isinstance(optimizer, dict) or not isinstance(optimizer.get("buffers"), dict):
                raise self.error(f"header entry 'optimizer' is invalid: {optimizer!r}")
            for buffer_name, shapes in optimizer["buffers"].items():
                if not isinstance(shapes, list):
                    raise self.error(f"optimizer buffer {buffer_name!r} entry is invalid")
                for i, shape in enumerate(shapes):
                    if shape is not None:
                        key = f"{_OPTIMIZER}{buffer_name}/{i}"
                        expected[key] = self._shape_entry(key, {"shape": shape, "dtype": None})

        members = {k: v for k, v in self._members.items() if k != _HEADER}
        missing = sorted(set(expected) - set(members))
        unexpected = sorted(set(members) - set(expected))
        if missing:
            raise self.error(f"arrays listed in the header are missing: {missing} (truncated?)")
        if unexpected:
            raise self.error(f"arrays not listed in the header: {unexpected}")
        for key, (shape, dtype_name) in expected.items():
            found_shape, found_dtype = members[key]
            if found_shape != shape:
                raise self.error(f"array {key!r} has shape {found_shape}, the header says {shape}")
            if found_dtype.name not in _FLOAT_DTYPES or (
                dtype_name is not None and found_dtype.name != dtype_name
            ):
                raise self.error(
                    f"array {key!r} has dtype {found_dtype}, the header says "
                    f"{dtype_name or 'float32 or float64'}"
                )

    def _shape_entry(self, what: str, entry: Any) -> tuple[tuple[int, ...], str | None]:
        shape = entry.get("shape") if isinstance(entry, dict) else None
        dtype = entry.get("dtype") if isinstance(entry, dict) else None
        if not isinstance(shape, list) or not all(
            isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape
        ):
            raise self.error(f"header entry for {what} has an invalid shape: {entry!r}")
        if dtype is not None and dtype not in _FLOAT_DTYPES:
            raise self.error(f"header entry for {what} has an invalid dtype: {entry!r}")
        return tuple(shape), dtype

    def _read_arrays(self, f: BinaryIO) -> None:
        """Read every array listed in the header, never unpickling."""
        try:
            f.seek(0)
            with np.load(f, allow_pickle=False) as npz:
                for key in self._members:
                    if key != _HEADER:
                        self._arrays[key] = npz[key]
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, KeyError) as exc:
            raise self.error(f"the file is damaged or truncated ({exc})") from None

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """Return the arrays whose names start with ``prefix``, keyed without it."""
        return {k[len(prefix) :]: v for k, v in self._arrays.items() if k.startswith(prefix)}

    def check_parameters(
        self, have: Mapping[str, tuple[tuple[int, ...], str]], class_name: str
    ) -> None:
        """Raise unless ``have`` (name: shape, dtype) matches the file's parameters."""
        stored = {
            name: (tuple(entry["shape"]), entry["dtype"])
            for name, entry in self.header["parameters"].items()
        }
        if have != stored:
            missing = sorted(set(have) - set(stored))
            unexpected = sorted(set(stored) - set(have))
            differ = [
                f"{n}: file {stored[n][0]} {stored[n][1]}, model {have[n][0]} {have[n][1]}"
                for n in sorted(set(have) & set(stored))
                if have[n] != stored[n]
            ]
            parts = []
            if missing:
                parts.append(f"parameters missing from the file: {missing}")
            if unexpected:
                parts.append(f"parameters the model does not have: {unexpected}")
            if differ:
                parts.append("shape or dtype differs: " + "; ".join(differ))
            raise self.error(
                f"the arrays do not fit a {class_name} built from the file's "
                f"configuration ({', '.join(parts)})"
            )

    def check_fits(self, model: Module) -> None:
        """Raise unless the file's parameters and activations match ``model``'s."""
        have = {name: (p.data.shape, p.data.dtype.name) for name, p in model.named_parameters()}
        self.check_parameters(have, type(model).__name__)
        activations = _activations(model)
        if activations != self.header["activations"]:
            raise self.error(
                f"the header lists activations {self.header['activations']}, but the "
                f"configuration builds {activations}"
            )


def _peek_npy(member: Any, file: _File, key: str) -> tuple[tuple[int, ...], np.dtype[Any]]:
    """Shape and dtype from an ``.npy`` member's header, reading no data."""
    version = np.lib.format.read_magic(member)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(member)
    elif version == (2, 0):
        shape, _, dtype = np.lib.format.read_array_header_2_0(member)
    else:
        raise file.error(f"array {key!r} uses unsupported .npy version {version}")
    if dtype.hasobject:
        raise file.error(
            f"array {key!r} holds pickled Python objects; such files are never loaded, "
            "as unpickling can run arbitrary code"
        )
    return tuple(int(n) for n in shape), dtype


def _saved_by_script(key: str, cls: type) -> bool:
    """Whether ``key`` names ``cls`` as it was called in a script run as ``__main__``.

    A class defined in a script is saved as ``__main__.Net``; a program that later
    imports the same class from a module (``from mymodels import Net``) and calls
    ``Net.load`` or passes a ``Net`` means that class.
    """
    return key == f"__main__.{cls.__qualname__}"


def _build(file: _File, cls: type[_M]) -> _M:
    key = file.header["class"]
    found = _REGISTRY.get(key)
    if (found is None or not issubclass(found, cls)) and _saved_by_script(key, cls):
        found = cls
    if found is None:
        name = key.rsplit(".", 1)[-1]
        if key.startswith("__main__."):
            raise file.error(
                f"the file holds a {key}: a class defined in the script that saved it, "
                f"run as __main__; load it with {name}.load() on that class, imported from "
                "the module that defines it now"
            )
        raise file.error(
            f"the file holds a {key}, a class that has not been imported; import the "
            f"module that defines it, then call {name}.load()"
        )
    if not issubclass(found, cls):
        raise file.error(
            f"the file holds a {key}, not a {_class_key(cls)}; load it with {found.__name__}.load()"
        )
    config = file.header["config"]
    try:
        # Layer and MLP: compare the shapes the configuration would build with the
        # file's before building, so a tampered configuration cannot make a small file
        # allocate a large model. (A class of yours is built from the configuration
        # first, and its parameters are compared afterwards.)
        planned = _planned_parameters(found, config)
        if planned is not None:
            # Never more entries than the file has, however many layers it claims.
            limit = len(file.header["parameters"]) + 1
            file.check_parameters(dict(itertools.islice(planned, limit)), found.__name__)
        model: Module = found(**config)
    except (TypeError, ValueError, OverflowError, MemoryError) as exc:
        if isinstance(exc, ModelFileError):
            raise
        raise file.error(
            f"its configuration {config} does not build a {found.__name__}: {exc}"
        ) from None
    file.check_fits(model)
    return cast(_M, model)  # issubclass(found, cls) was checked above


def _load_module(path: str | os.PathLike[str], cls: type[_M]) -> _M:
    file = _File(path)
    model = _build(file, cls)
    model.load_state_dict(file.arrays(_PARAMS))
    return model


def load_checkpoint(
    path: str | os.PathLike[str], model: Module, optimizer: Optimizer | None = None
) -> dict[str, Any]:
    """Load a checkpoint written by `save_checkpoint` into existing objects, in place.

    The model's parameters (and the optimizer's step count, hyperparameters and
    buffers, when an optimizer is given) are overwritten with the saved ones, so
    training continues exactly as if it had not stopped. Everything is checked before
    anything changes: the file must hold the model's class with the same configuration.

    Parameters
    ----------
    path : str or os.PathLike
        The checkpoint: ``path`` itself when it is a file, else ``path`` with ``.npz``
        appended.
    model : Module
        Receives the weights.
    optimizer : Optimizer, optional
        Receives the optimizer state; the checkpoint must hold one of the same type.

    Returns
    -------
    dict
        ``{"step": step, **extra}``, as passed to `save_checkpoint` (``step`` is None
        when none was saved).

    Raises
    ------
    ModelFileError
        If the file is invalid or does not fit ``model`` or ``optimizer``.

    Examples
    --------
    >>> from minigrad.nn import MLP, save_checkpoint, load_checkpoint
    >>> model = MLP(2, [4, 1], seed=0)
    >>> path = save_checkpoint("checkpoint", model, step=7)
    >>> fresh = MLP(2, [4, 1], seed=1)
    >>> load_checkpoint(path, fresh)["step"]
    7
    >>> bool((fresh.layers[0].W.data == model.layers[0].W.data).all())
    True
    """
    if not isinstance(model, Module):
        raise TypeError(f"model must be a minigrad.nn.Module, got {type(model).__name__}")
    file = _File(path)
    header = file.header
    key = _class_key(type(model))
    if header["class"] != key and not _saved_by_script(header["class"], type(model)):
        raise file.error(f"the checkpoint holds a {header['class']}, the model is a {key}")
    config = _json_value(model.get_config(), "get_config() values")
    if header["config"] != config:
        raise file.error(
            f"the checkpoint was saved from {type(model).__name__} with configuration "
            f"{header['config']}, the model has {config}"
        )
    file.check_fits(model)
    params = file.arrays(_PARAMS)
    if optimizer is not None:
        saved = header.get("optimizer")
        if saved is None:
            raise file.error(
                "the checkpoint holds no optimizer state; load it without an optimizer"
            )
        buffers: dict[str, list[np.ndarray | None]] = {}
        stored = file.arrays(_OPTIMIZER)
        for buffer_name, shapes in saved["buffers"].items():
            buffers[buffer_name] = [
                None if shape is None else stored[f"{buffer_name}/{i}"]
                for i, shape in enumerate(shapes)
            ]
        state = {
            "type": saved.get("type"),
            "step": saved.get("step"),
            "hyperparameters": saved.get("hyperparameters"),
            "buffers": buffers,
        }
        try:
            optimizer.load_state_dict(state)
        except (TypeError, ValueError) as exc:
            raise file.error(f"the optimizer state does not fit: {exc}") from None
    model.load_state_dict(params)
    return {"step": header["step"], **header["extra"]}
