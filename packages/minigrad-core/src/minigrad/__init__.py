"""minigrad: a small, readable reverse-mode autograd engine on NumPy.

This package (the ``minigrad-core`` distribution) holds the engine: `Tensor`,
`no_grad`, `gradcheck`, the functions `concatenate`, `stack`, `where`, `maximum` and
`minimum`, and `define_op` to add an operation of your own; `grad`, `value_and_grad`
and `jacobian` turn a function into one that returns its derivatives; `draw_graph` draws a
graph, and `detect_anomaly` names the operation that made the first NaN or infinity.

The engine reads top to bottom in four modules: `minigrad._tensor` (the `Tensor` type
and its operators), `minigrad._rules` (every operation's gradient rule, in one table),
`minigrad._graph` (the backward pass: its order, who owns which gradient, the memory
saving) and `minigrad._mode` (grad mode and `no_grad`); `_shapes` and `_errors` hold
what they share.

Two more distributions add subpackages under the same import name:
``minigrad-nn`` (``minigrad.nn``: layers, losses, optimizers, save/load) and
``minigrad-data`` (``minigrad.data``: synthetic datasets). Their main names are
also reachable from here, as in the original single-package API::

    from minigrad import Tensor, MLP, make_moons

They are imported lazily, on first use; a name whose distribution is not
installed raises `ModuleNotFoundError` saying which one to install.
"""

from __future__ import annotations

import importlib
import importlib.util
from pkgutil import extend_path
from typing import TYPE_CHECKING, Any

# `X as X`: an explicit re-export, for type checkers (the real __all__ is computed below).
from minigrad.__about__ import __version__ as __version__
from minigrad._anomaly import detect_anomaly as detect_anomaly
from minigrad._draw import draw_graph as draw_graph
from minigrad._functional import grad as grad
from minigrad._functional import jacobian as jacobian
from minigrad._functional import value_and_grad as value_and_grad
from minigrad._functions import concatenate as concatenate
from minigrad._functions import maximum as maximum
from minigrad._functions import minimum as minimum
from minigrad._functions import stack as stack
from minigrad._functions import where as where
from minigrad._gradcheck import GradcheckError as GradcheckError
from minigrad._gradcheck import gradcheck as gradcheck
from minigrad._graph import set_memory_saving as set_memory_saving
from minigrad._mode import is_grad_enabled as is_grad_enabled
from minigrad._mode import no_grad as no_grad
from minigrad._tensor import Tensor as Tensor
from minigrad._tensor import define_op as define_op

# Let ``minigrad.nn`` and ``minigrad.data`` be found in other folders too, as
# when a package is installed in editable mode from its own source tree.
__path__ = extend_path(__path__, __name__)

if TYPE_CHECKING:
    from minigrad.data import make_circles as make_circles
    from minigrad.data import make_linear_regression as make_linear_regression
    from minigrad.data import make_moons as make_moons
    from minigrad.data import make_spirals as make_spirals
    from minigrad.nn import MLP as MLP
    from minigrad.nn import Layer as Layer
    from minigrad.nn import Module as Module

# The public names report this package as their module (in reprs, tracebacks and help()),
# not the private module that defines them.
for _public in (
    Tensor,
    GradcheckError,
    concatenate,
    define_op,
    detect_anomaly,
    draw_graph,
    grad,
    gradcheck,
    is_grad_enabled,
    jacobian,
    maximum,
    minimum,
    no_grad,
    set_memory_saving,
    stack,
    value_and_grad,
    where,
):
    _public.__module__ = __name__
del _public

_CORE_NAMES = [
    "GradcheckError",
    "Tensor",
    "__version__",
    "concatenate",
    "define_op",
    "detect_anomaly",
    "draw_graph",
    "grad",
    "gradcheck",
    "is_grad_enabled",
    "jacobian",
    "maximum",
    "minimum",
    "no_grad",
    "set_memory_saving",
    "stack",
    "value_and_grad",
    "where",
]

# Top-level names that live in the optional distributions: name -> (module, distribution).
_LAZY_NAMES = {
    "Module": ("minigrad.nn", "minigrad-nn"),
    "Layer": ("minigrad.nn", "minigrad-nn"),
    "MLP": ("minigrad.nn", "minigrad-nn"),
    "make_moons": ("minigrad.data", "minigrad-data"),
    "make_circles": ("minigrad.data", "minigrad-data"),
    "make_linear_regression": ("minigrad.data", "minigrad-data"),
    "make_spirals": ("minigrad.data", "minigrad-data"),
}


def _installed(module: str) -> bool:
    """Whether a subpackage can be imported, found without importing it."""
    return importlib.util.find_spec(module) is not None


def __getattr__(name: str) -> Any:
    try:
        module, distribution = _LAZY_NAMES[name]
    except KeyError:
        raise AttributeError(f"module 'minigrad' has no attribute {name!r}") from None
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise
        # ModuleNotFoundError, not AttributeError: `from minigrad import MLP` would turn
        # an AttributeError into a generic "cannot import name" and lose this message.
        raise ModuleNotFoundError(
            f"{name} needs {distribution}: python -m pip install {distribution}",
            name=module,
        ) from None
    value = getattr(mod, name)
    globals()[name] = value  # cache: later lookups skip __getattr__
    return value


def _available_names() -> list[str]:
    names = list(_CORE_NAMES)
    for module in sorted({module for module, _ in _LAZY_NAMES.values()}):
        if _installed(module):
            names += [n for n, (m, _) in _LAZY_NAMES.items() if m == module]
    return names


def __dir__() -> list[str]:
    # The public names only, as for `import *`: not the helpers this module imports.
    return sorted(_available_names())


# `from minigrad import *` must work with core alone, so __all__ names only what is
# installed. It is computed once, at import, which is when `import *` reads it.
__all__ = _available_names()
