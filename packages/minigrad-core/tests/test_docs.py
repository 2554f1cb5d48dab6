"""The examples in the docstrings run and print what they show."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest

import minigrad
from minigrad import _gradcheck, _tensor


@pytest.mark.parametrize("module", [_tensor, _gradcheck, minigrad], ids=lambda m: m.__name__)
def test_docstring_examples(module):
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


def test_every_public_name_has_an_example():
    names = ["Tensor", "concatenate", "stack", "where", "no_grad", "is_grad_enabled"]
    names += ["gradcheck", "GradcheckError"]
    public = [getattr(minigrad, n) for n in names]
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
    assert len(blocks) == 2
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {"__name__": "readme"})
    printed = capsys.readouterr().out
    assert "[[" in printed  # the ten-line example prints w.grad
