"""Sphinx configuration of the minigrad documentation site: `nox -s docs` builds it.

The API reference is read from the docstrings (numpydoc format) of the three installed
packages; the tutorials are MyST notebooks, executed on every build, so a cell that
raises fails the build. `check_reference` fails the build too when a public name (one in
a package's ``__all__``, or a public member of a documented class) has no entry.
"""

from __future__ import annotations

import inspect
from typing import Any

from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util import logging

import minigrad
import minigrad.data
import minigrad.nn

project = "minigrad"
author = "the minigrad authors"
copyright = "the minigrad authors, MIT license"
release = minigrad.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "myst_nb",
]

exclude_patterns = ["_build", "**.ipynb_checkpoints"]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb"}

# `Tensor` in a docstring links to its entry when there is one (and stays plain text
# when there is not, such as `numpy.ndarray`: the site links to nothing outside itself).
default_role = "py:obj"

# Docstrings: numpydoc sections; members are listed by autodoc where a page asks.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
autodoc_member_order = "bysource"
autodoc_typehints = "none"  # the numpydoc "Parameters" sections say the types
autodoc_preserve_defaults = True
autosummary_generate = False

# Tutorials: every code cell runs on every build, in a scratch folder (files a tutorial
# writes never land in the repository); an exception in a cell fails the build.
nb_execution_mode = "force"
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_execution_timeout = 120
nb_execution_in_temp = True
nb_merge_streams = True

html_theme = "furo"
html_title = f"minigrad {release}"
html_static_path = ["_static"]
html_favicon = "_static/favicon.svg"
html_show_sourcelink = False
html_copy_source = False
html_last_updated_fmt = None

# ---------------------------------------------------------------- reference check

# The packages whose public names the reference must document, by import name.
PACKAGES = {"minigrad": minigrad, "minigrad.nn": minigrad.nn, "minigrad.data": minigrad.data}

logger = logging.getLogger(__name__)


def _public_members(cls: type) -> list[str]:
    """Return the public methods and properties a class defines itself (not inherited)."""
    names = []
    for name, value in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(value, (property, classmethod, staticmethod)) or inspect.isfunction(value):
            names.append(name)
    return names


def _expected_entries() -> dict[str, str]:
    """Each name the reference must document, with where it comes from (for the message).

    A name re-exported by another package (``minigrad.MLP`` is ``minigrad.nn.MLP``) is
    expected once, under the package that defines it.
    """
    expected: dict[str, str] = {}
    for package_name, package in PACKAGES.items():
        for name in package.__all__:
            if name.startswith("__"):
                continue
            obj = getattr(package, name)
            home = package_name
            for other_name, other in PACKAGES.items():
                if other_name != package_name and getattr(other, name, None) is obj:
                    # The subpackage that defines it, not the top-level re-export.
                    home = max(home, other_name, key=len)
            full = f"{home}.{name}"
            expected[full] = f"{name} in {home}.__all__"
            if inspect.isclass(obj):
                for member in _public_members(obj):
                    expected[f"{full}.{member}"] = f"a public member of {full}"
    return expected


def check_reference(app: Sphinx, env: BuildEnvironment) -> None:
    """Warn (an error under ``-W``) for each public name the API reference leaves out."""
    documented = set(env.get_domain("py").objects)  # type: ignore[attr-defined]
    missing = {name: why for name, why in _expected_entries().items() if name not in documented}
    for name, why in sorted(missing.items()):
        logger.warning(
            "%s (%s) is not in the API reference: add it to the page of its group in docs/api/",
            name,
            why,
            type="minigrad",
            subtype="undocumented",
        )
    if not missing:
        logger.info("API reference: every public name of the three packages is documented")


def setup(app: Sphinx) -> dict[str, Any]:
    """Run `check_reference` once every page has been read."""
    app.connect("env-check-consistency", check_reference)
    return {"parallel_read_safe": True}
