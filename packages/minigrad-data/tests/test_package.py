"""Tests of the package as a whole: no dependency on minigrad-core, version, API, docs."""

from __future__ import annotations

import doctest
import json
import re
import subprocess
import sys
import textwrap
import types
from pathlib import Path

import pytest

import minigrad.data
import minigrad.data._batching
import minigrad.data._datasets

PUBLIC_NAMES = [
    "batches",
    "make_circles",
    "make_linear_regression",
    "make_moons",
    "make_spirals",
]


def _run_python(code: str) -> str:
    """Run `code` in a fresh interpreter and return what it printed."""
    completed = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


def test_importing_minigrad_data_loads_no_other_minigrad_module() -> None:
    # The folder holding ``minigrad/data`` is made the whole ``minigrad`` package, as an
    # implicit namespace package is when minigrad-core is absent: core's __init__ is never
    # run, whether or not core is installed here. An import of core from data would then
    # either fail or show up in sys.modules.
    minigrad_dir = Path(minigrad.data.__file__).resolve().parent.parent
    output = _run_python(
        f"""
        import json, sys, types
        package = types.ModuleType("minigrad")
        package.__path__ = [{str(minigrad_dir)!r}]
        sys.modules["minigrad"] = package
        import minigrad.data
        X, y = minigrad.data.make_moons(10, noise=0.1, random_state=0)
        print(json.dumps(sorted(m for m in sys.modules if m.startswith("minigrad"))))
        """
    )
    loaded = json.loads(output)
    assert "minigrad._tensor" not in loaded
    assert [m for m in loaded if m != "minigrad" and not m.startswith("minigrad.data")] == []
    assert "minigrad.data._datasets" in loaded  # the check did see data's own modules


def test_source_imports_only_numpy_the_standard_library_and_itself() -> None:
    package_dir = Path(minigrad.data.__file__).resolve().parent
    output = _run_python(
        f"""
        import ast, json, pathlib
        names = set()
        for path in pathlib.Path({str(package_dir)!r}).glob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    names.update(alias.name for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0:
                    names.add(node.module)
        print(json.dumps(sorted(names)))
        """
    )
    imported = json.loads(output)
    allowed_prefixes = ("numpy", "minigrad.data")
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    outside = [
        name
        for name in imported
        if not name.startswith(allowed_prefixes) and name.split(".")[0] not in stdlib
    ]
    assert outside == []
    assert "numpy" in imported


def test_version_is_a_release_string() -> None:
    parts = minigrad.data.__version__.split(".")
    assert len(parts) >= 2
    assert all(part.isdigit() for part in parts[:2])


def test_public_api_is_exactly_the_documented_names() -> None:
    assert sorted(n for n in minigrad.data.__all__ if n != "__version__") == PUBLIC_NAMES
    for name in PUBLIC_NAMES:
        docstring = getattr(minigrad.data, name).__doc__
        for section in ("Parameters", "Returns" if name != "batches" else "Yields"):
            assert section in docstring, f"{name} lacks a {section} section"
        assert "Raises" in docstring
        assert ">>> " in docstring, f"{name} lacks an example"


@pytest.mark.parametrize(
    "module", [minigrad.data, minigrad.data._datasets, minigrad.data._batching]
)
def test_docstring_examples_run_as_written(module: types.ModuleType) -> None:
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


def test_readme_example_runs() -> None:
    readme = Path(__file__).resolve().parents[1] / "README.md"
    blocks = re.findall(r"```python\n(.*?)```", readme.read_text(encoding="utf-8"), re.DOTALL)
    assert blocks, "the README has no Python example"
    for block in blocks:
        namespace: dict[str, object] = {"__name__": "readme"}
        exec(compile(block, "README.md", "exec"), namespace)
    assert namespace["X"].shape == (200, 2)  # type: ignore[attr-defined]
