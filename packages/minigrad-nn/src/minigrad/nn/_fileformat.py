"""The model file format: a safe ``.npz`` with a JSON header, written atomically.

A file is a zip archive as written by `numpy.savez_compressed`, holding

- ``header``: a 1-D uint8 array, the UTF-8 bytes of a JSON object (format name and
  version, the module's class and constructor arguments, activations, dtype, the name,
  shape and dtype of every array; for checkpoints also the step, user extras and the
  optimizer's type, step count and hyperparameters, and a learning-rate schedule's
  state);
- ``params/<dotted name>``: one float array per parameter (``params/layers.0.W``);
- ``optimizer/<buffer>/<i>``: an optimizer's state buffer for parameter ``i``.

This module knows the file, not the modules in it: it writes and reads the entries
above as plain data (names, JSON values, arrays). Nothing is pickled when writing, and
reading uses ``allow_pickle=False`` after checking each member's declared dtype and shape
against the header and against the bytes the archive really holds, so a file from a
stranger cannot run code, and the arrays it makes the reader allocate are bounded by its
size (deflate expands at most 1032-fold). Which class a file may build, and whether its
arrays fit that class, is decided by the callers (`minigrad.nn.Module.load`,
`minigrad.nn.load_checkpoint`).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
import zipfile
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from minigrad.nn.__about__ import __version__
from minigrad.nn._validation import is_step

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "ModelFile",
    "ModelFileError",
    "json_value",
    "npz_path",
    "write_model_file",
]

FORMAT_NAME = "minigrad-nn"
FORMAT_VERSION = 1

_HEADER = "header"
_PARAMS = "params/"
_OPTIMIZER = "optimizer/"
_MAX_HEADER_BYTES = 16 * 2**20
# Deflate turns one compressed byte into at most 1032 bytes (a 258-byte match per two
# bits); a member that claims more than that is lying about its size.
_MAX_DEFLATE_RATIO = 1032

# The dtypes of the arrays in a file: those of minigrad tensors, except longdouble,
# whose size and precision differ between platforms (it could not be read back the same).
FILE_DTYPES = ("float16", "float32", "float64")
_FILE_DTYPE_NAMES = "float16, float32 or float64"

_Shape = tuple[int, ...]


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


def npz_path(path: str | os.PathLike[str]) -> Path:
    """Where to save: ``path``, with ``.npz`` appended when it has another ending."""
    p = Path(os.fspath(path))
    return p if p.suffix == ".npz" or not p.name else p.with_name(p.name + ".npz")


def _file_to_load(path: str | os.PathLike[str]) -> Path:
    """Which file to read: ``path`` itself if it is a file, else ``path`` + ``.npz``."""
    given = Path(os.fspath(path))
    if given.is_file():
        return given
    npz = npz_path(given)
    if npz != given and npz.is_file():
        return npz
    for candidate in (given, npz):
        if candidate.is_dir():
            raise IsADirectoryError(f"{candidate} is a folder, not a model file")
    tried = str(given) if npz == given else f"{given} or {npz}"
    raise FileNotFoundError(f"no model file at {tried}")


def json_value(value: Any, what: str) -> Any:
    """Return ``value`` as JSON values, with NumPy scalars and arrays as numbers and lists.

    Anything else JSON cannot hold raises `TypeError` naming ``what``.
    """

    def default(obj: Any) -> Any:
        if isinstance(obj, (np.generic, np.ndarray)):
            return obj.tolist()
        raise TypeError(
            f"{what} must be JSON values (numbers, strings, bools, None, lists, dicts), "
            f"got a {type(obj).__name__}"
        )

    return json.loads(json.dumps(value, default=default))


# --------------------------------------------------------------------------- writing


def write_model_file(
    path: str | os.PathLike[str],
    *,
    class_name: str,
    config: Mapping[str, Any],
    activations: Sequence[str],
    parameters: Mapping[str, np.ndarray],
    step: int | None = None,
    extra: Mapping[str, Any] | None = None,
    optimizer: Mapping[str, Any] | None = None,
    schedule: Mapping[str, Any] | None = None,
) -> Path:
    """Write a model file atomically and return its path (``.npz`` appended when missing).

    ``class_name``, ``config`` and ``activations`` go into the header as they are
    (``config`` must already be JSON values); ``parameters`` maps dotted names to
    arrays. ``extra`` values are converted with `json_value`. ``optimizer`` is an
    optimizer's state as `minigrad.nn.Optimizer.state_dict` returns it: its buffers
    become members, the rest goes into the header. ``schedule`` is a learning-rate
    schedule's state as `minigrad.nn.LRSchedule.state_dict` returns it (JSON values),
    stored in the header as it is.
    """
    extras = {
        key: json_value(value, f"checkpoint extra {key!r}") for key, value in (extra or {}).items()
    }
    arrays: dict[str, np.ndarray] = {}
    listed: dict[str, dict[str, Any]] = {}
    for name, array in parameters.items():
        _check_file_dtype(f"parameter {name!r}", array)
        arrays[_PARAMS + name] = array
        listed[name] = {"shape": list(array.shape), "dtype": array.dtype.name}
    dtypes = sorted({entry["dtype"] for entry in listed.values()})

    optimizer_header: dict[str, Any] | None = None
    if optimizer is not None:
        buffer_shapes: dict[str, list[list[int] | None]] = {}
        for buffer_name, buffers in optimizer["buffers"].items():
            buffer_shapes[buffer_name] = []
            for i, buffer in enumerate(buffers):
                if buffer is None:
                    buffer_shapes[buffer_name].append(None)
                else:
                    _check_file_dtype(f"optimizer buffer {buffer_name!r} of parameter {i}", buffer)
                    arrays[f"{_OPTIMIZER}{buffer_name}/{i}"] = buffer
                    buffer_shapes[buffer_name].append(list(buffer.shape))
        optimizer_header = {
            "type": optimizer["type"],
            "step": optimizer["step"],
            "hyperparameters": json_value(optimizer["hyperparameters"], "hyperparameters"),
            "buffers": buffer_shapes,
        }

    header = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "writer": f"minigrad-nn {__version__}",
        "class": class_name,
        "config": dict(config),
        "activations": list(activations),
        "dtype": dtypes[0] if len(dtypes) == 1 else "mixed",
        "parameters": listed,
        "step": None if step is None else int(step),
        "extra": extras,
        "optimizer": optimizer_header,
        "schedule": None if schedule is None else json_value(dict(schedule), "schedule state"),
    }
    text = json.dumps(header, indent=1).encode("utf-8")
    arrays[_HEADER] = np.frombuffer(text, dtype=np.uint8)
    target = npz_path(path)
    _atomic_savez(target, arrays)
    return target


def _check_file_dtype(what: str, array: np.ndarray) -> None:
    """Refuse, before anything is written, an array whose dtype files cannot hold."""
    if array.dtype.name not in FILE_DTYPES:
        raise TypeError(
            f"cannot save {what}: its dtype is {array.dtype.name}, and model files hold "
            f"{_FILE_DTYPE_NAMES} arrays; convert it first (p.data = p.data.astype(...))"
        )


def _atomic_savez(path: Path, arrays: Mapping[str, np.ndarray]) -> None:
    """Write ``arrays`` to ``path`` through a temporary file and ``os.replace``.

    ``path`` is replaced, never written through: a symbolic link there is replaced by
    the new file, and the file it pointed to is left as it was. A failure (a full disk,
    a file size limit, a folder without write permission) raises an `OSError` of the
    same kind naming ``path`` rather than the temporary file, after removing the
    temporary file; the previous file at ``path`` is then untouched.
    """
    directory = path.parent
    # Checked first, so that the error names the folder, not the temporary file.
    if not directory.is_dir():
        if directory.exists():
            raise NotADirectoryError(f"cannot save to {path}: {directory} is not a folder")
        raise FileNotFoundError(
            f"cannot save to {path}: the folder {directory} does not exist; create it first"
        )
    if path.is_dir() and not path.is_symlink():
        raise IsADirectoryError(f"cannot save to {path}: it is a folder")
    tmp_name: str | None = None
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=directory)
        with os.fdopen(fd, "wb") as f:
            savez: Any = np.savez_compressed  # typed as if the keywords were its options
            savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp_name, _file_mode(path))
        os.replace(tmp_name, path)
    except BaseException as exc:
        if tmp_name is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
        if isinstance(exc, OSError):
            raise _save_error(path, exc) from exc
        raise
    # Make the rename itself durable (POSIX; directories cannot be opened on Windows).
    with contextlib.suppress(OSError):
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _save_error(path: Path, exc: OSError) -> OSError:
    """Return the `OSError` to raise for ``exc`` during a save: same kind, naming ``path``."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    message = f"{reason} (saving failed; any previous file there is unchanged)"
    if exc.errno is None:
        return OSError(f"cannot save to {path}: {message}")
    # OSError(errno, ...) picks the subclass (PermissionError for EACCES, ...), and its
    # message names the file: "[Errno 28] No space left on device (...): 'model.npz'".
    return OSError(exc.errno, message, os.fspath(path))


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


class ModelFile:
    """A model file, read and validated: its header and its arrays.

    Opening checks everything this module knows of the format, before reading any
    array data: a zip archive of ``.npy`` members only, each holding the bytes its
    declared shape needs and no more than deflate can produce from the file's bytes; no
    Python objects; a JSON header of this format and a version this reader knows, with
    entries of the right types; members that are exactly the arrays the header lists,
    with its shapes and dtypes. Any failure raises `ModelFileError`.

    Parameters
    ----------
    path : str or os.PathLike
        The file: ``path`` itself when it is a file, else ``path`` with ``.npz``
        appended.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = _file_to_load(path)
        self.header: dict[str, Any] = {}
        self._members: dict[str, tuple[_Shape, np.dtype[Any]]] = {}
        self._arrays: dict[str, np.ndarray] = {}
        # One open file for every read: a save that replaces the file meanwhile cannot
        # mix two versions.
        with open(self.path, "rb") as f:
            self._read_structure(f)
            self._validate_header()
            self._read_arrays(f)

    def error(self, message: str) -> ModelFileError:
        """Return a `ModelFileError` whose message names this file."""
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
                    if key in self._members:
                        # Readers disagree on which of two same-named members counts.
                        raise self.error(
                            f"the archive holds two members named {name!r} (damaged or tampered)"
                        )
                    self._check_member_size(key, info)
                    if key == _HEADER and info.file_size > _MAX_HEADER_BYTES:
                        raise self.error(f"the header is {info.file_size} bytes, too large")
                    with archive.open(info) as member:
                        shape, dtype = self._peek_npy(member, key)
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
        except (ValueError, RecursionError) as exc:  # also integers of too many digits
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

    def _peek_npy(self, member: Any, key: str) -> tuple[_Shape, np.dtype[Any]]:
        """Shape and dtype from an ``.npy`` member's header, reading no data."""
        version = np.lib.format.read_magic(member)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(member)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(member)
        else:
            raise self.error(f"array {key!r} uses unsupported .npy version {version}")
        if dtype.hasobject:
            raise self.error(
                f"array {key!r} holds pickled Python objects; such files are never loaded, "
                "as unpickling can run arbitrary code"
            )
        return tuple(int(n) for n in shape), dtype

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
        self._check_step("header entry 'step'", h.get("step"))

        expected: dict[str, tuple[_Shape, str | None]] = {}
        for name, entry in h["parameters"].items():
            expected[_PARAMS + name] = self._shape_entry(f"parameter {name!r}", entry)
        optimizer = h.get("optimizer")
        if optimizer is not None:
            if not isinstance(optimizer, dict) or not isinstance(optimizer.get("buffers"), dict):
                raise self.error(f"header entry 'optimizer' is invalid: {optimizer!r}")
            self._check_step("the optimizer's step", optimizer.get("step"), optional=False)
            for buffer_name, shapes in optimizer["buffers"].items():
                if not isinstance(shapes, list):
                    raise self.error(f"optimizer buffer {buffer_name!r} entry is invalid")
                for i, shape in enumerate(shapes):
                    if shape is not None:
                        key = f"{_OPTIMIZER}{buffer_name}/{i}"
                        expected[key] = self._shape_entry(key, {"shape": shape, "dtype": None})
        schedule = h.get("schedule")  # absent from files written before schedules existed
        if schedule is not None and not isinstance(schedule, dict):
            raise self.error(f"header entry 'schedule' is invalid: {schedule!r}")

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
            if found_dtype.name not in FILE_DTYPES or (
                dtype_name is not None and found_dtype.name != dtype_name
            ):
                raise self.error(
                    f"array {key!r} has dtype {found_dtype}, the header says "
                    f"{dtype_name or _FILE_DTYPE_NAMES}"
                )

    def _check_step(self, what: str, step: Any, *, optional: bool = True) -> None:
        if step is None and optional:
            return
        if not isinstance(step, int) or not is_step(step):  # (a JSON integer has no bound)
            shown = repr(step) if len(repr(step)) <= 40 else f"{repr(step)[:20]}..."
            raise self.error(
                f"{what} is invalid: {shown} (a step is an integer from 0 to 2**63 - 1; "
                "the file is damaged or tampered)"
            )

    def _shape_entry(self, what: str, entry: Any) -> tuple[_Shape, str | None]:
        shape = entry.get("shape") if isinstance(entry, dict) else None
        dtype = entry.get("dtype") if isinstance(entry, dict) else None
        if not isinstance(shape, list) or not all(
            isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape
        ):
            raise self.error(f"header entry for {what} has an invalid shape: {entry!r}")
        if dtype is not None and dtype not in FILE_DTYPES:
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

    def parameters(self) -> dict[str, np.ndarray]:
        """Return the parameter arrays by dotted name (``layers.0.W``)."""
        return self._arrays_under(_PARAMS)

    def parameter_entries(self) -> dict[str, tuple[_Shape, str]]:
        """Return ``name: (shape, dtype name)`` of every parameter the header lists."""
        return {
            name: (tuple(entry["shape"]), entry["dtype"])
            for name, entry in self.header["parameters"].items()
        }

    def schedule_state(self) -> dict[str, Any] | None:
        """Return the learning-rate schedule's state as saved, or None when there is none."""
        saved = self.header.get("schedule")
        return None if saved is None else dict(saved)

    def optimizer_state(self) -> dict[str, Any] | None:
        """Return the optimizer state as `Optimizer.load_state_dict` takes it, or None."""
        saved = self.header.get("optimizer")
        if saved is None:
            return None
        stored = self._arrays_under(_OPTIMIZER)
        buffers = {
            buffer_name: [
                None if shape is None else stored[f"{buffer_name}/{i}"]
                for i, shape in enumerate(shapes)
            ]
            for buffer_name, shapes in saved["buffers"].items()
        }
        return {
            "type": saved.get("type"),
            "step": saved.get("step"),
            "hyperparameters": saved.get("hyperparameters"),
            "buffers": buffers,
        }

    def _arrays_under(self, prefix: str) -> dict[str, np.ndarray]:
        return {k[len(prefix) :]: v for k, v in self._arrays.items() if k.startswith(prefix)}
