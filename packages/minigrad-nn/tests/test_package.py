"""The package surface: exported names, version, docs whose examples run."""

from __future__ import annotations

import ast
import doctest
import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest

import minigrad
import minigrad.nn

PUBLIC = [
    "MLP",
    "SGD",
    "Adam",
    "Layer",
    "ModelFileError",
    "Module",
    "Optimizer",
    "Conv2d",
    "Dropout",
    "Embedding",
    "Flatten",
    "LayerNorm",
    "MaxPool2d",
    "ReLU",
    "Sequential",
    "AdamW",
    "CosineSchedule",
    "LRSchedule",
    "LinearSchedule",
    "StepSchedule",
    "clip_grad_norm",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "load_checkpoint",
    "mse_loss",
    "save_checkpoint",
]

# Every module of the package, found rather than listed, so that a new one is not missed.
MODULES = [
    "minigrad.nn",
    *(f"minigrad.nn.{m.name}" for m in pkgutil.iter_modules(minigrad.nn.__path__)),
]


def test_exports():
    assert sorted(minigrad.nn.__all__) == sorted([*PUBLIC, "__version__"])
    for name in PUBLIC:
        # the public path, never the private module that defines it
        assert getattr(minigrad.nn, name).__module__ == "minigrad.nn"
    assert repr(minigrad.nn.ModelFileError) == "<class 'minigrad.nn.ModelFileError'>"
    assert issubclass(minigrad.nn.ModelFileError, ValueError)


def test_version_comes_from_about():
    about = importlib.import_module("minigrad.nn.__about__")
    assert minigrad.nn.__version__ == about.__version__
    assert all(part.isdigit() for part in about.__version__.split(".")[:2])


def test_original_top_level_names_resolve_to_nn():
    from minigrad import MLP, Layer, Module

    assert (MLP, Layer, Module) == (minigrad.nn.MLP, minigrad.nn.Layer, minigrad.nn.Module)


def _imports_of_nn_modules():
    """``{module: (names imported at module level, names imported inside functions)}``."""
    graph = {}
    for name in MODULES:
        tree = ast.parse(inspect.getsource(importlib.import_module(name)))
        top, nested = set(), set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported = {node.module}
            elif isinstance(node, ast.Import):
                imported = {alias.name for alias in node.names}
            else:
                continue
            (top if node in tree.body else nested).update(imported)
        graph[name] = (top, nested)
    return graph


def test_nn_modules_import_each_other_in_one_direction():
    graph = _imports_of_nn_modules()
    own = {name: {m for m in top if m in graph} for name, (top, _) in graph.items()}
    # No imports inside functions to dodge a cycle: every dependency is visible at the top.
    assert {name: sorted(nested) for name, (_, nested) in graph.items() if nested} == {}
    # ...and those form no cycle: modules can be ordered so that each imports only earlier ones.
    ordered = []
    while len(ordered) < len(own):
        ready = [n for n in own if n not in ordered and own[n] <= set(ordered)]
        assert ready, f"import cycle among {sorted(set(own) - set(ordered))}"
        ordered.extend(sorted(ready))
    # The file format knows nothing about modules, optimizers or tensors.
    format_imports = graph["minigrad.nn._fileformat"][0]
    assert not {m for m in format_imports if m.startswith("minigrad")} - {
        "minigrad.nn.__about__",
        "minigrad.nn._validation",
    }


def _public_objects():
    for name in PUBLIC:
        obj = getattr(minigrad.nn, name)
        yield name, obj
        if inspect.isclass(obj):
            for attr, member in vars(obj).items():
                if attr.startswith("_"):
                    continue
                member = member.fget if isinstance(member, property) else member
                member = member.__func__ if isinstance(member, classmethod) else member
                if callable(member):
                    yield f"{name}.{attr}", member


@pytest.mark.parametrize(("name", "obj"), list(_public_objects()), ids=lambda v: str(v))
def test_every_public_name_has_a_docstring_with_an_example(name, obj):
    doc = inspect.getdoc(obj) or ""
    assert doc.strip(), f"{name} has no docstring"
    assert ">>>" in doc, f"{name}'s docstring has no example"


def _doctests():
    """Every docstring example of the package, each docstring once."""
    finder = doctest.DocTestFinder()
    found = {}
    for module in MODULES:
        for test in finder.find(importlib.import_module(module)):
            found.setdefault(test.name, test)
    # The public classes name minigrad.nn as their module, where doctest does not look
    # into methods defined elsewhere: collect those from the classes themselves.
    for name in PUBLIC:
        obj = getattr(minigrad.nn, name)
        if inspect.isclass(obj):
            for test in finder.find(obj, f"minigrad.nn.{name}", module=False, globs={}):
                found.setdefault(test.name, test)
    return [test for _, test in sorted(found.items()) if test.examples]


DOCTESTS = _doctests()


@pytest.mark.parametrize("test", DOCTESTS, ids=lambda t: t.name)
def test_docstring_examples_run(test, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the examples save files in the current folder
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.attempted > 0
    assert result.failed == 0


def test_every_module_and_public_docstring_example_is_run():
    ran = {test.docstring for test in DOCTESTS}
    assert importlib.import_module("minigrad.nn").__doc__ in ran
    missing = [name for name, obj in _public_objects() if obj.__doc__ not in ran]
    assert missing == []


def _readme_blocks():
    readme = Path(__file__).resolve().parents[1] / "README.md"
    return re.findall(r"```python\n(.*?)```", readme.read_text(encoding="utf-8"), re.DOTALL)


def test_readme_examples_run(tmp_path, monkeypatch, capsys):
    blocks = _readme_blocks()
    assert len(blocks) >= 2
    monkeypatch.chdir(tmp_path)
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {"__name__": "readme"})
    out = capsys.readouterr().out
    accuracy = float(re.search(r"accuracy ([\d.]+)%", out).group(1))
    assert accuracy >= 97.0, out
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "cnn.npz",
        "moons-ckpt.npz",
        "moons-model.npz",
        "residual.npz",
    ]
