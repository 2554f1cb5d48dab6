"""Drawing a graph: the DOT text of the tensors and operations behind a result.

`draw_graph` walks the recorded graph from a tensor back to its leaves, as `backward`
would, and describes it in Graphviz's DOT language: one box per tensor, one ellipse per
operation, an arrow from each input to the operation and from the operation to its
result. The text needs nothing to produce; turning it into a picture needs Graphviz's
``dot`` program, which is run only when a picture file is asked for.

Drawing reads the graph and changes nothing: a gradient is read from ``_grad``, the
field behind `Tensor.grad`, since reading the property would allocate zeros.
"""

from __future__ import annotations

import html
import os
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from minigrad import _rules
from minigrad._graph import released_rule
from minigrad._tensor import CONSTANT, Tensor

__all__ = ["draw_graph"]

Array = npt.NDArray[Any]

# The suffixes `draw_graph` writes: the DOT text itself, or a picture made by `dot`.
_TEXT_SUFFIXES = (".dot", ".gv")
_PICTURE_SUFFIXES = (".svg", ".png", ".pdf")

# Header colours of the boxes: the tensor drawn, the leaves that get a gradient, the
# leaves that do not (data, targets), and the results of operations.
_ROOT_COLOR = "#fde68a"
_LEAF_COLOR = "#bfdbfe"
_DATA_COLOR = "#e5e7eb"
_RESULT_COLOR = "#ffffff"


def draw_graph(
    tensor: Tensor,
    path: str | os.PathLike[str] | None = None,
    *,
    show_data: bool = True,
    show_grad: bool = True,
    params: Mapping[str, Tensor] | Iterable[tuple[str, Tensor]] | None = None,
    max_values: int = 6,
) -> str:
    r"""Return the graph that computed ``tensor`` as Graphviz DOT text; optionally save it.

    Each tensor of the graph is drawn once, as a box (ids ``t0``, ``t1``, ... breadth
    first from ``tensor``, which is ``t0``) that shows its name, shape
    and dtype and, when asked, its values and its gradient. Each operation is an
    ellipse named after its gradient rule (``add``, ``matmul``, ``tanh``, ``linear``
    with its activation, or the name given to `define_op`), with the id of its result
    (``op3`` made ``t3``); arrows go from each input to the operation and on to the
    result, so a tensor used twice has two arrows out. A constant operand, as the 2 of
    ``x + 2``, is drawn as a small ``const`` label beside the operation that uses it,
    one per use (the engine does not keep its value in the graph).

    Drawing changes nothing: no gradient is computed, allocated or reset. Draw before
    `Tensor.backward` to see the values, or after ``backward(retain_graph=True)`` to
    see the gradients too; a plain ``backward()`` releases the graph, and drawing it
    then raises `RuntimeError`.

    Parameters
    ----------
    tensor : Tensor
        The tensor whose graph to draw, usually a loss. A leaf draws as one box.
    path : str or os.PathLike, optional
        Where to save the graph, by suffix: ``.dot`` or ``.gv`` writes the DOT text
        (needs nothing); ``.svg``, ``.png`` or ``.pdf`` renders it with Graphviz's
        ``dot`` program, which must be on the ``PATH``.
    show_data : bool, default True
        Show each tensor's values.
    show_grad : bool, default True
        Show each tensor's gradient: ``grad: —`` when no backward pass has written one
        (reading `Tensor.grad` would then give zeros).
    params : mapping or iterable of (str, Tensor), optional
        Names for tensors, such as ``dict(model.named_parameters())`` of a
        ``minigrad.nn`` module (or its list of pairs as is). A tensor without a name is
        labelled ``leaf`` or after the operation that made it.
    max_values : int, default 6
        Arrays of at most this many elements are shown in full, every number with 4
        significant digits; a larger one is summarised as its minimum, mean and maximum.

    Returns
    -------
    str
        The DOT text, a ``digraph`` laid out left to right; also when ``path`` is given.

    Raises
    ------
    TypeError
        If ``tensor`` or a value of ``params`` is not a `Tensor`, or ``max_values`` is
        not an int.
    ValueError
        If the suffix of ``path`` is not one of those above, or ``max_values`` is
        negative.
    RuntimeError
        If the graph was released by ``backward()``, if a picture is asked for and
        Graphviz's ``dot`` is not installed (the message says how to install it), or
        if ``dot`` fails (the message holds what it printed).

    Examples
    --------
    >>> import re
    >>> from minigrad import Tensor, draw_graph
    >>> x = Tensor([1.0, -2.0])
    >>> y = (x * 3).sum()
    >>> text = draw_graph(y, params={"x": x})
    >>> print(text[:32])
    digraph minigrad {
      rankdir=LR;
    >>> re.findall(r'label="(\w+)"', text)  # the operations, from the result back
    ['sum', 'scale']
    >>> [line.strip() for line in text.splitlines() if "->" in line]
    ['op0 -> t0;', 't1 -> op0;', 'op1 -> t1;', 't2 -> op1;']
    >>> "<b>x</b>" in text, "data: [1, -2]" in text, "grad: —" in text
    (True, True, True)

    ``draw_graph(y, "graph.svg")`` renders the same picture with Graphviz.
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"draw_graph: expected a Tensor, got {type(tensor).__name__}")
    if isinstance(max_values, bool) or not isinstance(max_values, (int, np.integer)):
        raise TypeError(f"draw_graph: max_values must be an int, got {max_values!r}")
    if max_values < 0:
        raise ValueError(f"draw_graph: max_values must be 0 or more, got {max_values}")
    suffix = None if path is None else _check_suffix(path)
    names = _names(params)
    text = _dot_text(tensor, names, show_data, show_grad, int(max_values))
    if path is not None:
        if suffix in _TEXT_SUFFIXES:
            Path(path).write_text(text, encoding="utf-8")
        else:
            _render(text, Path(path), str(suffix)[1:])
    return text


def _check_suffix(path: str | os.PathLike[str]) -> str:
    """Return the lower-case suffix of ``path``, or raise naming the supported ones."""
    suffix = Path(path).suffix.lower()
    if suffix not in _TEXT_SUFFIXES + _PICTURE_SUFFIXES:
        supported = ", ".join(_TEXT_SUFFIXES + _PICTURE_SUFFIXES)
        raise ValueError(
            f"draw_graph: cannot save to {os.fspath(path)!r}: the suffix must be one of "
            f"{supported} (DOT text, or a picture rendered by Graphviz)"
        )
    return suffix


def _names(params: Mapping[str, Tensor] | Iterable[tuple[str, Tensor]] | None) -> dict[int, str]:
    """Map the id of each named tensor to its (first) name."""
    if params is None:
        return {}
    pairs = params.items() if isinstance(params, Mapping) else params
    names: dict[int, str] = {}
    for name, value in pairs:
        if not isinstance(value, Tensor):
            raise TypeError(
                f"draw_graph: params must map names to Tensors; {name!r} is a "
                f"{type(value).__name__}"
            )
        names.setdefault(id(value), str(name))
    return names


def _walk(root: Tensor) -> list[Tensor]:
    """List the tensors of ``root``'s graph once each, breadth first from ``root``.

    Iterative, so graphs of any depth are fine; tensors are told apart by identity.
    Constant operands are not listed.
    """
    order = [root]
    seen = {id(root)}
    i = 0
    while i < len(order):
        node = order[i]
        i += 1
        if node._rule is released_rule:
            raise RuntimeError(
                "draw_graph: the graph was released by backward(), which frees it after "
                "the pass; draw it before calling backward(), or call "
                "backward(retain_graph=True) to keep it for drawing"
            )
        for parent in node._inputs:
            if parent is not CONSTANT and id(parent) not in seen:
                seen.add(id(parent))
                order.append(parent)
    return order


def _dot_text(
    root: Tensor, names: dict[int, str], show_data: bool, show_grad: bool, max_values: int
) -> str:
    """Build the DOT text of ``root``'s graph."""
    order = _walk(root)
    ids = {id(t): f"t{n}" for n, t in enumerate(order)}
    lines = [
        "digraph minigrad {",
        "  rankdir=LR;",
        '  graph [fontname="Helvetica"];',
        '  node [fontname="Helvetica", fontsize=10];',
        "  edge [arrowsize=0.6];",
    ]
    for n, t in enumerate(order):
        rows = _tensor_rows(t, names, show_data, show_grad, max_values)
        color = _box_color(t, t is root)
        lines.append(f"  t{n} [shape=plaintext, label=<{_table(rows, color)}>];")
        if t._rule is None:
            continue
        op = f"op{n}"
        lines.append(
            f'  {op} [shape=ellipse, style=filled, fillcolor="#f3f4f6", '
            f'fontsize=9, height=0.3, label="{_quote(_op_name(t))}"];'
        )
        lines.append(f"  {op} -> t{n};")
        for i, parent in enumerate(t._inputs):
            if parent is CONSTANT:
                const = f"c{n}_{i}"
                lines.append(
                    f'  {const} [shape=plaintext, fontsize=8, fontcolor="#6b7280", label="const"];'
                )
                lines.append(f"  {const} -> {op};")
            else:
                lines.append(f"  {ids[id(parent)]} -> {op};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _op_name(t: Tensor) -> str:
    """Name the operation that made ``t`` after its rule, with ``linear``'s activation."""
    name = str(getattr(t._rule, "__name__", "op"))
    saved = t._saved
    if t._rule is _rules.linear and isinstance(saved, tuple) and isinstance(saved[-1], str):
        name = f"{name} ({saved[-1]})"
    return name


def _box_color(t: Tensor, is_root: bool) -> str:
    if is_root:
        return _ROOT_COLOR
    if t._rule is not None:
        return _RESULT_COLOR
    return _LEAF_COLOR if t.requires_grad else _DATA_COLOR


def _tensor_rows(
    t: Tensor, names: dict[int, str], show_data: bool, show_grad: bool, max_values: int
) -> list[str]:
    """List the rows of a tensor's box: name, shape and dtype, values, gradient."""
    if id(t) in names:
        title = names[id(t)]
    elif t._rule is None:
        title = "leaf"
    else:
        title = _op_name(t)
    kind = f"{t.data.shape} {t.data.dtype}"
    if not t.requires_grad:
        kind += ", no grad"
    rows = [f"<b>{html.escape(title)}</b>", html.escape(kind)]
    if show_data:
        rows.append("data: " + _format_array(t.data, max_values))
    if show_grad:
        grad = t._grad  # not `t.grad`, which would allocate zeros
        rows.append("grad: " + ("—" if grad is None else _format_array(grad, max_values)))
    return rows


def _table(rows: list[str], color: str) -> str:
    """Lay ``rows`` out as an HTML-like Graphviz label: a table, its first row coloured."""
    cells = [f'<tr><td bgcolor="{color}">{rows[0]}</td></tr>']
    cells += [f'<tr><td align="left">{row}</td></tr>' for row in rows[1:]]
    return (
        '<table border="0" cellborder="1" cellspacing="0" cellpadding="3">'
        + "".join(cells)
        + "</table>"
    )


def _format_array(a: Array, max_values: int) -> str:
    """Every value of a small array, else its minimum, mean and maximum; 4 digits each."""
    if a.size == 0:
        return "empty"
    if a.size <= max_values:
        return _format_nested(a.tolist())
    with np.errstate(all="ignore"):
        low, mean, high = a.min(), a.mean(dtype=np.float64), a.max()
    return f"min {_number(low)}, mean {_number(mean)}, max {_number(high)}"


def _format_nested(values: Any) -> str:
    """Format the nested lists of ``ndarray.tolist()`` as NumPy shows them."""
    if isinstance(values, list):  # (as deep as the array has axes, not as the graph)
        return "[" + ", ".join(_format_nested(v) for v in values) + "]"
    return _number(values)


def _number(value: Any) -> str:
    """Format a number with 4 significant digits."""
    return f"{float(value):.4g}"


def _quote(text: str) -> str:
    """Escape ``text`` for a double-quoted DOT string."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _render(text: str, path: Path, fmt: str) -> None:
    """Write ``text`` rendered by Graphviz's ``dot`` as ``fmt`` to ``path``."""
    dot = shutil.which("dot")
    if dot is None:
        raise RuntimeError(
            f"draw_graph: rendering {path.name} needs the 'dot' program of Graphviz, which "
            "is not on the PATH. Install Graphviz (apt-get install graphviz, brew install "
            "graphviz or conda install graphviz), or do without it: draw_graph(tensor) "
            "returns the DOT text, and draw_graph(tensor, 'graph.dot') writes it"
        )
    try:
        subprocess.run(
            [dot, f"-T{fmt}", "-o", str(path)],
            input=text.encode("utf-8"),
            check=True,
            capture_output=True,
        )
    except subprocess.CalledProcessError as exc:
        message = exc.stderr.decode("utf-8", "replace").strip() if exc.stderr else ""
        raise RuntimeError(
            f"draw_graph: Graphviz's dot failed to render {path.name} "
            f"(exit status {exc.returncode}): {message or 'no message'}"
        ) from None
