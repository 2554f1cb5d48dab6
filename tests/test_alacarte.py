"""What each installed combination of the three distributions gives a user.

These tests run in every environment nox builds (core alone, nn with core, data alone,
all three) and assert what that combination must do, read from what is installed.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import subprocess
import sys

import pytest


def _installed(distribution: str) -> bool:
    try:
        importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


CORE, NN, DATA = (_installed(f"minigrad-{p}") for p in ("core", "nn", "data"))


def _run(code: str) -> subprocess.CompletedProcess[str]:
    """Run `code` in a fresh interpreter, so nothing imported here leaks into it."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


def test_something_is_installed() -> None:
    assert CORE or NN or DATA


def test_nn_brings_core() -> None:
    if NN:
        assert CORE, "minigrad-nn is installed without minigrad-core, its dependency"


def _editable(distribution: str) -> bool:
    direct_url = importlib.metadata.distribution(distribution).read_text("direct_url.json")
    return bool(direct_url) and json.loads(direct_url).get("dir_info", {}).get("editable", False)


def test_only_core_ships_the_top_level_init() -> None:
    for package in ("core", "nn", "data"):
        distribution = f"minigrad-{package}"
        if not _installed(distribution) or _editable(distribution):
            continue  # an editable install lists no package files, only a .pth
        files = {str(f) for f in importlib.metadata.files(distribution) or []}
        assert ("minigrad/__init__.py" in files) == (package == "core"), package
        assert f"minigrad/{package}/__about__.py" in files or package == "core"


@pytest.mark.parametrize("package", ["nn", "data"])
def test_subpackage_version(package: str) -> None:
    result = _run(f"import minigrad.{package} as m; print(m.__version__)")
    if _installed(f"minigrad-{package}"):
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == importlib.metadata.version(f"minigrad-{package}")
    else:
        assert result.returncode != 0
        assert "ModuleNotFoundError" in result.stderr


def test_data_without_core_is_a_namespace_package() -> None:
    result = _run(
        "import minigrad.data, minigrad; "
        "X, y = minigrad.data.make_moons(10, random_state=0); "
        "print(getattr(minigrad, '__file__', None), X.shape, y.shape)"
    )
    if not DATA:
        assert result.returncode != 0
    elif CORE:
        assert result.returncode == 0, result.stderr
        assert result.stdout.split()[0].endswith("__init__.py")
    else:
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == ["None", "(10,", "2)", "(10,)"]


@pytest.mark.parametrize(
    ("name", "package"), [("MLP", "nn"), ("Layer", "nn"), ("make_moons", "data")]
)
def test_flat_import(name: str, package: str) -> None:
    result = _run(f"from minigrad import {name}; print({name}.__module__)")
    if not CORE:
        assert result.returncode != 0
    elif _installed(f"minigrad-{package}"):
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(f"minigrad.{package}")
    else:
        assert result.returncode != 0
        message = f"{name} needs minigrad-{package}: python -m pip install minigrad-{package}"
        assert f"ModuleNotFoundError: {message}" in result.stderr


def test_star_import_works_with_whatever_is_installed() -> None:
    result = _run("from minigrad import *; import json; print(json.dumps(dir()))")
    assert result.returncode == 0, result.stderr
    names = set(json.loads(result.stdout))
    if not CORE:  # a bare namespace package: nothing to import, and no error
        assert not names & {"Tensor", "MLP", "make_moons"}
        return
    assert {"Tensor", "gradcheck", "no_grad"} <= names
    assert ("MLP" in names) == NN
    assert ("make_moons" in names) == DATA
