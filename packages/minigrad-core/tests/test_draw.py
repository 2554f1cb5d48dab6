"""`draw_graph`: the DOT text describes the graph, shows true values, and changes nothing."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import minigrad
from minigrad import Tensor, define_op, draw_graph

DOT = shutil.which("dot")
needs_dot = pytest.mark.skipif(DOT is None, reason="Graphviz's dot program is not installed")

NODE = re.compile(r"^  (\w+) \[(.*)\];$")
EDGE = re.compile(r"^  (\w+) -> (\w+);$")
NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?|nan|-?inf")


def parse(text: str) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Nodes (id -> attributes) and edges of the DOT text; every other line is known."""
    lines = text.splitlines()
    assert lines[0] == "digraph minigrad {"
    assert lines[-1] == "}"
    assert "  rankdir=LR;" in lines
    nodes: dict[str, str] = {}
    edges: list[tuple[str, str]] = []
    for line in lines[1:-1]:
        if line.startswith(("  rankdir=", "  graph [", "  node [", "  edge [")):
            continue  # the layout and the default attributes
        if edge := EDGE.match(line):
            edges.append((edge[1], edge[2]))
        else:
            node = NODE.match(line)
            assert node, line
            assert node[1] not in nodes, f"{node[1]} drawn twice"
            nodes[node[1]] = node[2]
    for tail, head in edges:
        assert tail in nodes and head in nodes, (tail, head)
    return nodes, edges


def kinds(nodes: dict[str, str]) -> tuple[list[str], list[str], list[str]]:
    """The ids of the tensor boxes, the operations and the constants."""
    boxes = [n for n in nodes if re.fullmatch(r"t\d+", n)]
    ops = [n for n in nodes if re.fullmatch(r"op\d+", n)]
    consts = [n for n in nodes if re.fullmatch(r"c\d+_\d+", n)]
    assert len(boxes) + len(ops) + len(consts) == len(nodes)
    return boxes, ops, consts


def box_rows(attributes: str) -> list[str]:
    """The text of each row of a tensor's box."""
    rows = re.findall(r"<td[^>]*>(.*?)</td>", attributes)
    return [re.sub(r"</?b>", "", row) for row in rows]


def boxes_by_name(text: str) -> dict[str, list[str]]:
    nodes, _ = parse(text)
    boxes, _, _ = kinds(nodes)
    rows = [box_rows(nodes[b]) for b in boxes]
    return {r[0]: r for r in rows}


def row(rows: list[str], prefix: str) -> str:
    (found,) = [r for r in rows if r.startswith(prefix)]
    return found[len(prefix) :]


def numbers(text: str) -> np.ndarray:
    return np.array([float(n) for n in NUMBER.findall(text)])


def op_label(attributes: str) -> str:
    return re.search(r'label="([^"]*)"', attributes)[1]  # type: ignore[index]


def twice_used_graph() -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    x = Tensor([0.5, -1.0, 2.0])
    h = x.tanh()
    s = h * 2
    y = h + s
    loss = y.sum()
    return x, h, s, y, loss


# ------------------------------------------------------------------ shape of the graph


def test_a_tensor_used_twice_is_drawn_once_with_two_arrows_out() -> None:
    *_, loss = twice_used_graph()
    nodes, edges = parse(draw_graph(loss))
    boxes, ops, consts = kinds(nodes)
    assert len(boxes) == 5  # x, h, h * 2, h + h * 2, the sum
    assert sorted(op_label(nodes[o]) for o in ops) == ["add", "scale", "sum", "tanh"]
    assert consts == []
    # One arrow from each input to its operation, one from each operation to its result.
    assert len(edges) == 1 + 1 + 2 + 1 + 4
    (h_id,) = [b for b in boxes if box_rows(nodes[b])[0] == "tanh"]
    out_of_h = [head for tail, head in edges if tail == h_id]
    assert sorted(op_label(nodes[o]) for o in out_of_h) == ["add", "scale"]
    for o in ops:  # each operation makes the box of the same number
        assert (o, "t" + o[2:]) in edges


def test_every_operation_has_one_arrow_per_input_including_repeats() -> None:
    a = Tensor([1.0, 2.0])
    b = Tensor([3.0, 4.0])
    z = (a * a) @ b - (1.0 - a).exp()
    nodes, edges = parse(draw_graph(z))
    boxes, ops, consts = kinds(nodes)
    assert len(boxes) == 7  # a, b, a*a, (a*a)@b, 1-a, exp, z
    labels = {o: op_label(nodes[o]) for o in ops}
    assert sorted(labels.values()) == ["exp", "matmul", "mul", "sub", "sub"]
    (mul,) = [o for o, name in labels.items() if name == "mul"]
    into_mul = [tail for tail, head in edges if head == mul]
    assert len(into_mul) == 2 and into_mul[0] == into_mul[1]  # a * a: a, twice
    # The constant 1 of `1.0 - a` is a small "const" label feeding its operation.
    (const,) = consts
    assert op_label(nodes[const]) == "const"
    [(_, head)] = [e for e in edges if e[0] == const]
    assert labels[head] == "sub"
    assert len(edges) == 5 + (2 + 2 + 2 + 1 + 2)  # one per result, one per input


def test_ids_are_stable_and_the_drawn_tensor_is_t0() -> None:
    *_, loss = twice_used_graph()
    text = draw_graph(loss)
    assert text == draw_graph(loss)
    nodes, _ = parse(text)
    assert "#fde68a" in nodes["t0"]  # the root's colour
    assert box_rows(nodes["t0"])[:2] == ["sum", "() float64"]


def test_a_leaf_alone_is_one_box() -> None:
    x = Tensor(np.ones((2, 2), dtype=np.float32), requires_grad=False)
    nodes, edges = parse(draw_graph(x, params={"inputs": x}))
    assert list(nodes) == ["t0"]
    assert edges == []
    rows = box_rows(nodes["t0"])
    assert rows[:3] == ["inputs", "(2, 2) float32, no grad", "data: [[1, 1], [1, 1]]"]
    assert rows[3] == "grad: —"


def test_op_names_of_linear_and_define_op() -> None:
    softplus = define_op(
        "softplus", lambda x: (np.logaddexp(0.0, x), x), lambda g, x: (g / (1 + np.exp(-x)),)
    )
    x = Tensor([[1.0, 2.0]])
    w = Tensor([[0.5], [-0.5]])
    b = Tensor([0.1])
    out = softplus(x.linear(w, b, activation="tanh")) + x.linear(w)
    nodes, _ = parse(draw_graph(out))
    _, ops, _ = kinds(nodes)
    assert sorted(op_label(nodes[o]) for o in ops) == ["add", "linear", "linear (tanh)", "softplus"]


def test_a_deep_chain_is_drawn_without_recursion() -> None:
    x = Tensor([1.0])
    y = x
    for _ in range(10_000):
        y = -y
    nodes, edges = parse(draw_graph(y, show_data=False, show_grad=False))
    boxes, ops, consts = kinds(nodes)
    assert (len(boxes), len(ops), len(consts)) == (10_001, 10_000, 0)
    assert len(edges) == 20_000
    assert box_rows(nodes["t10000"])[0] == "leaf"


# ------------------------------------------------------------------ what the boxes say


def test_names_from_params_as_a_mapping_or_as_pairs() -> None:
    w = Tensor([[1.0, 2.0], [3.0, 4.0]])
    b = Tensor([0.5, -0.5])
    x = Tensor([[1.0, 1.0]], requires_grad=False)
    out = (x @ w + b).relu().sum()
    for params in ({"layer.W": w, "layer.b": b}, [("layer.W", w), ("layer.b", b)]):
        names = boxes_by_name(draw_graph(out, params=params))
        assert set(names) == {"layer.W", "layer.b", "leaf", "matmul", "add", "relu", "sum"}
        assert names["layer.W"][1:3] == ["(2, 2) float64", "data: [[1, 2], [3, 4]]"]
        assert names["layer.b"][1:3] == ["(2,) float64", "data: [0.5, -0.5]"]
        assert names["leaf"][1] == "(1, 2) float64, no grad"


def test_names_are_escaped() -> None:
    w = Tensor([1.0])
    names = boxes_by_name(draw_graph(w * 2, params={"a<b>&c": w}))
    assert "a&lt;b&gt;&amp;c" in names


def test_values_and_grads_shown_are_the_real_ones() -> None:
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((2, 3)))
    w = Tensor(rng.standard_normal(3) * 1e-3)
    h = x * w
    y = (h.tanh() + h).sum(axis=1)
    loss = (y * y).mean()
    loss.backward(retain_graph=True)
    named = {"x": x, "w": w, "h": h, "y": y, "loss": loss}
    shown = boxes_by_name(draw_graph(loss, params=named))
    for name, t in named.items():
        data, grad = numbers(row(shown[name], "data: ")), numbers(row(shown[name], "grad: "))
        assert data.shape == (t.data.size,), name
        np.testing.assert_allclose(data, t.data.ravel(), rtol=6e-4, err_msg=name)
        assert t._grad is not None
        np.testing.assert_allclose(grad, t._grad.ravel(), rtol=6e-4, err_msg=name)
    assert row(shown["x"], "data: ").startswith("[[")  # nested as the array is


def test_large_arrays_are_summarised_and_rows_can_be_left_out() -> None:
    x = Tensor(np.arange(10.0) - 2.5)
    loss = (x * x).sum()
    loss.backward(retain_graph=True)
    shown = boxes_by_name(draw_graph(loss, params={"x": x}))
    data = row(shown["x"], "data: ")
    assert data.startswith("min ") and ", mean " in data and ", max " in data
    np.testing.assert_allclose(numbers(data), [-2.5, 2.0, 6.5])
    np.testing.assert_allclose(numbers(row(shown["x"], "grad: ")), [-5.0, 4.0, 13.0])
    full = boxes_by_name(draw_graph(loss, params={"x": x}, max_values=10))
    np.testing.assert_allclose(numbers(row(full["x"], "data: ")), x.data)
    bare = boxes_by_name(draw_graph(loss, params={"x": x}, show_data=False, show_grad=False))
    assert bare["x"] == ["x", "(10,) float64"]


def test_numbers_have_four_significant_digits() -> None:
    x = Tensor([1 / 3, 123456.0, -2.5e-7, 0.0, np.nan])
    assert (
        row(boxes_by_name(draw_graph(x))["leaf"], "data: ")
        == "[0.3333, 1.235e+05, -2.5e-07, 0, nan]"
    )


def test_grads_before_backward_show_none_yet() -> None:
    *_, loss = twice_used_graph()
    for rows in boxes_by_name(draw_graph(loss)).values():
        assert row(rows, "grad: ") == "—"


# ------------------------------------------------------------------ nothing changes


def snapshot(tensors: list[Tensor]) -> list[tuple[object, ...]]:
    state = []
    for t in tensors:
        grad = t._grad
        state.append(
            (
                t.data,
                t.data.copy(),
                grad,
                None if grad is None else grad.copy(),
                getattr(t, "_owned", "unset"),
                t._rule,
                t._inputs,
                t._saved,
                t.requires_grad,
            )
        )
    return state


def assert_same(before: list[tuple[object, ...]], after: list[tuple[object, ...]]) -> None:
    for old, new in zip(before, after, strict=True):
        data, data_copy, grad, grad_copy, *fields = old
        assert new[0] is data
        np.testing.assert_array_equal(new[1], data_copy)
        assert new[2] is grad  # None stays None: reading `grad` would allocate zeros
        if grad is not None:
            np.testing.assert_array_equal(new[3], grad_copy)
        assert all(a is b for a, b in zip(new[4:], fields, strict=True))


@pytest.mark.parametrize("backward", [False, True])
def test_drawing_changes_no_state(backward: bool) -> None:
    tensors = list(twice_used_graph())
    loss = tensors[-1]
    if backward:
        loss.backward(retain_graph=True)
    before = snapshot(tensors)
    draw_graph(loss, params={"x": tensors[0]})
    assert_same(before, snapshot(tensors))
    if not backward:
        assert all(t._grad is None for t in tensors)
    # The graph still runs backward as if it had never been drawn.
    loss.backward()
    expected = (2 if backward else 1) * 3 / np.cosh([0.5, -1.0, 2.0]) ** 2  # d/dx 3 tanh(x)
    np.testing.assert_allclose(tensors[0].grad, expected)


# ------------------------------------------------------------------ errors


def test_a_released_graph_is_refused() -> None:
    *_, loss = twice_used_graph()
    loss.backward()
    with pytest.raises(RuntimeError, match=r"released by backward\(\).*retain_graph=True"):
        draw_graph(loss)


def test_a_released_part_of_the_graph_is_refused() -> None:
    x = Tensor([1.0, 2.0])
    h = x.tanh()
    h.sum().backward()  # releases h
    z = h * 2  # a new node on top of it
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        draw_graph(z)


def test_bad_arguments() -> None:
    x = Tensor([1.0])
    with pytest.raises(TypeError, match="expected a Tensor, got ndarray"):
        draw_graph(np.ones(2))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_values must be 0 or more, got -1"):
        draw_graph(x, max_values=-1)
    with pytest.raises(TypeError, match="'w' is a ndarray"):
        draw_graph(x, params={"w": np.ones(1)})  # type: ignore[dict-item]


@pytest.mark.parametrize("name", ["graph.jpg", "graph", "graph.svg.txt"])
def test_unknown_suffix_is_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match=r"\.dot, \.gv, \.svg, \.png, \.pdf"):
        draw_graph(Tensor([1.0]) * 2, tmp_path / name)
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ files


@pytest.mark.parametrize("name", ["graph.dot", "graph.gv", "GRAPH.DOT"])
def test_dot_text_is_written(tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # writing text needs no Graphviz
    *_, loss = twice_used_graph()
    path = tmp_path / name
    text = draw_graph(loss, str(path))
    assert path.read_text(encoding="utf-8") == text == draw_graph(loss)


def test_without_dot_rendering_says_how_to_install_graphviz(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert shutil.which("dot") is None
    *_, loss = twice_used_graph()
    with pytest.raises(RuntimeError) as info:
        draw_graph(loss, tmp_path / "graph.svg")
    message = str(info.value)
    for hint in ("apt-get install graphviz", "brew install graphviz", "conda install graphviz"):
        assert hint in message
    assert "graph.dot" in message and "returns the DOT text" in message
    assert not (tmp_path / "graph.svg").exists()


@pytest.mark.skipif(sys.platform == "win32", reason="the stand-in dot is a shell script")
def test_a_failing_dot_reports_what_it_printed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tmp_path / "bin" / "dot"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'Error: something broke' >&2\nexit 3\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(fake.parent))
    with pytest.raises(RuntimeError, match=r"exit status 3\): Error: something broke"):
        draw_graph(Tensor([1.0]) * 2, tmp_path / "graph.png")


@needs_dot
def test_dot_reads_the_text_as_the_graph_we_counted() -> None:
    a = Tensor([1.0, 2.0], dtype=np.float32)
    h = (a * a + 1.0).tanh()
    out = (h + h.exp()).sum()
    out.backward(retain_graph=True)
    text = draw_graph(out, params={"a": a})
    nodes, edges = parse(text)
    result = subprocess.run(
        [str(DOT), "-Tplain"], input=text.encode(), capture_output=True, check=True
    )
    plain = result.stdout.decode().splitlines()
    assert sum(line.startswith("node ") for line in plain) == len(nodes)
    assert sum(line.startswith("edge ") for line in plain) == len(edges)


@needs_dot
def test_svg_is_rendered(tmp_path: Path) -> None:
    x, *_, loss = twice_used_graph()
    loss.backward(retain_graph=True)
    path = tmp_path / "graph.svg"
    text = draw_graph(loss, path, params={"the_input": x})
    svg = path.read_text(encoding="utf-8")
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and svg.rstrip().endswith("</svg>")
    for op in ("tanh", "scale", "add", "sum", "the_input"):
        assert f">{op}</text>" in svg
    assert text.startswith("digraph")


@needs_dot
@pytest.mark.parametrize(
    ("suffix", "signature"), [(".png", b"\x89PNG\r\n\x1a\n"), (".pdf", b"%PDF")]
)
def test_png_and_pdf_are_rendered(tmp_path: Path, suffix: str, signature: bytes) -> None:
    *_, loss = twice_used_graph()
    path = tmp_path / f"graph{suffix}"
    draw_graph(loss, path)
    assert path.read_bytes().startswith(signature)


def test_draw_graph_is_a_public_name() -> None:
    namespace: dict[str, object] = {}
    exec("from minigrad import *", namespace)
    assert namespace["draw_graph"] is minigrad.draw_graph
    assert minigrad.draw_graph.__module__ == "minigrad"
