"""The examples in the docstrings run and print what they show."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest

import minigrad
from minigrad import (
    _anomaly,
    _draw,
    _functional,
    _functions,
    _gradcheck,
    _graph,
    _mode,
    _rules,
    _shapes,
    _tensor,
)

MODULES = (
    _tensor,
    _functions,
    _gradcheck,
    _graph,
    _mode,
    _rules,
    _shapes,
    _draw,
    _anomaly,
    _functional,
)
PUBLIC = ["Tensor", "concatenate", "stack", "where", "no_grad", "is_grad_enabled"]
PUBLIC += ["gradcheck", "GradcheckError", "define_op", "set_memory_saving"]
PUBLIC += ["detect_anomaly"]
PUBLIC += ["draw_graph"]
PUBLIC += ["grad", "value_and_grad", "jacobian"]
PUBLIC += ["maximum", "minimum"]


def _defined_in(obj):
    """The file that defines a function or class (its __module__ says ``minigrad``)."""
    functions = [obj] if hasattr(obj, "__code__") else list(vars(obj).values())
    return next(f.__code__.co_filename for f in functions if hasattr(f, "__code__"))


def _collect_examples():
    """Every docstring example of the core modules, found explicitly.

    `doctest.testmod` skips objects whose ``__module__`` is not the module searched, and
    the public names say ``minigrad`` (where users import them from), so each public name
    is searched on its own, with its defining module's globals.
    """
    finder = doctest.DocTestFinder()
    tests = {}
    for module in (*MODULES, minigrad):
        for test in finder.find(module, module.__name__):
            tests[test.name] = test
    for name in PUBLIC:
        obj = getattr(minigrad, name)
        (home,) = [m for m in MODULES if _defined_in(obj) == m.__file__]
        assert getattr(home, name) is obj
        for test in finder.find(obj, f"{home.__name__}.{name}", module=False, globs=vars(home)):
            tests[test.name] = test
    return [t for t in tests.values() if t.examples]


EXAMPLES = _collect_examples()


@pytest.mark.parametrize("test", EXAMPLES, ids=lambda t: t.name)
def test_docstring_example(test):
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    result = runner.run(test)
    assert result.attempted > 0
    assert result.failed == 0


def test_examples_of_every_public_name_and_method_are_collected():
    names = {t.name for t in EXAMPLES}
    assert f"{_tensor.__name__}.Tensor" in names
    assert f"{_gradcheck.__name__}.gradcheck" in names
    methods = [n for n in dir(minigrad.Tensor) if not n.startswith("_")]
    methods = [n for n in methods if n not in {"data", "requires_grad"}]
    missing = [n for n in methods if f"{_tensor.__name__}.Tensor.{n}" not in names]
    assert missing == []
    assert len(EXAMPLES) > 40


def test_every_public_name_has_an_example():
    public = [getattr(minigrad, n) for n in PUBLIC]
    public += [
        getattr(minigrad.Tensor, n)
        for n in dir(minigrad.Tensor)
        if not n.startswith("_") and n not in {"data", "requires_grad"}
    ]
    missing = [getattr(obj, "__name__", obj) for obj in public if ">>>" not in (obj.__doc__ or "")]
    assert missing == []


def test_readme_examples_run(capsys):
    readme = Path(__file__).resolve().parents[1] / "README.md"
    blocks = re.findall(r"```python\n(.*?)```", readme.read_text(encoding="utf-8"), re.DOTALL)
    assert len(blocks) == 6
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {"__name__": "readme"})
    printed = capsys.readouterr().out
    assert "[[" in printed  # the ten-line example prints w.grad
