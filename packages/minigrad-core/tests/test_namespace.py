"""The top-level `minigrad` namespace: version, lazy names from nn and data, their errors."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import sys

import pytest

import minigrad

LAZY = {
    "Module": "minigrad.nn",
    "Layer": "minigrad.nn",
    "MLP": "minigrad.nn",
    "make_moons": "minigrad.data",
    "make_circles": "minigrad.data",
    "make_linear_regression": "minigrad.data",
    "make_spirals": "minigrad.data",
}


def test_version_is_the_distributions() -> None:
    assert minigrad.__version__ == importlib.metadata.version("minigrad-core")


def test_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Tensr'"):
        minigrad.Tensr  # noqa: B018
    assert not hasattr(minigrad, "Tensr")


@pytest.mark.parametrize("name", sorted(LAZY))
def test_missing_distribution_names_itself(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    module = LAZY[name]
    # None in sys.modules makes the subpackage unimportable, as when it is not installed.
    monkeypatch.setitem(sys.modules, module, None)
    monkeypatch.delitem(minigrad.__dict__, name, raising=False)
    distribution = module.replace("minigrad.", "minigrad-")
    expected = f"{name} needs {distribution}: python -m pip install {distribution}"
    with pytest.raises(ModuleNotFoundError) as info:
        exec(f"from minigrad import {name}", {})
    assert str(info.value) == expected
    assert info.value.name == module


@pytest.mark.parametrize("name", sorted(LAZY))
def test_lazy_name_matches_what_is_installed(name: str) -> None:
    module = LAZY[name]
    if importlib.util.find_spec(module) is None:
        with pytest.raises(ModuleNotFoundError, match=module.replace("minigrad.", "minigrad-")):
            getattr(minigrad, name)
        assert name not in minigrad.__all__
        assert name not in dir(minigrad)
    else:
        assert getattr(minigrad, name) is getattr(importlib.import_module(module), name)
        assert name in minigrad.__all__
        assert name in dir(minigrad)


def test_star_import_gives_core_names() -> None:
    namespace: dict[str, object] = {}
    exec("from minigrad import *", namespace)
    assert namespace["Tensor"] is minigrad.Tensor
    assert namespace["gradcheck"] is minigrad.gradcheck
    assert namespace["no_grad"] is minigrad.no_grad


def test_every_name_in_all_resolves() -> None:
    for name in minigrad.__all__:
        assert getattr(minigrad, name) is not None, name
