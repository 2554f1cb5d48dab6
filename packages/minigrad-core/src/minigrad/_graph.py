"""The graph and the backward pass: the order of the walk, and who owns which gradient.

The graph
---------
Every operator (see `minigrad._tensor`) returns a tensor. When it must record, that
tensor is a *node* of the graph, with three fields besides its data:

- ``_inputs``: the tensors the operation was applied to (a constant operand, as the 2
  of ``x * 2``, stands there as `minigrad._tensor.CONSTANT`);
- ``_rule``: its vector-Jacobian rule, from `minigrad._rules`;
- ``_saved``: what the forward pass kept for the rule.

A *leaf* is a tensor with no rule: one the user created. Nothing in a node refers to
the node itself, so a graph has no reference cycles and is freed by reference counting
as soon as its last tensor goes.

The order
---------
`backward` runs a node's rule only after **every node that consumes it has run**, so
that the node's gradient is complete when its rule reads it (a node reached by two
paths, as ``h`` in ``h + f(h)``, first receives both contributions). It lists the
nodes so that each comes after all of its inputs (`topological_order`, a depth-first
post-order) and runs them from the end of that list, the root first. A node that has
run is marked (its rule becomes `released_rule`), and a contribution to a marked node,
impossible in this order, raises instead of being lost.

Who owns a gradient
-------------------
- A leaf's ``grad`` accumulates over passes. A pass first collects its own gradient of
  each leaf and adds them in when it ends, under a lock, so that backward passes in
  several threads into the same parameters lose nothing. A leaf's first contribution
  is kept as the rule returned it; if it may be seen elsewhere (the gradient of
  another tensor passed on, as ``add`` does, or a view of one) it is *borrowed*: read,
  never written, and copied only if it must be stored. The engine adds into a leaf's
  array in place only when it allocated that array itself (``_owned``); an array the
  user assigned (``p.grad = ...``) is never written to: the sum goes into an array of
  the pass, which replaces it.
- An intermediate's ``grad`` holds this pass's value, reset when the pass starts. It is
  whatever its consumers' rules returned, or the engine's sum of them; a rule's result
  may be shared (``add`` passes ``g`` to both inputs), so it is never written to in
  place, except by the memory saving below, which first proves that nothing else holds
  it.
- The seed, and so an array given as ``gradient=``, belongs to the root, which the
  memory saving never touches.

Memory saving
-------------
Two optimisations keep the memory of a training step close to hand-written NumPy
code: a node's output is dropped before its rule runs when nothing but this loop can
see the node, and a few rules (`minigrad._rules.IN_PLACE`) then overwrite the node's
gradient in place when nothing else holds that array either. Both are decided by
reference counts in one function, `may_reuse`, and both are off when
`set_memory_saving(False)` was called (or ``MINIGRAD_MEMORY_SAVING=0`` was set before
import), when ``retain_graph=True``, and for arrays below ``MEMORY.min_size``
elements.
"""

from __future__ import annotations

import os
import sys
import threading
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from minigrad import _errors
from minigrad._rules import IN_PLACE, Grads, Rule
from minigrad._shapes import sum_to_shape

if TYPE_CHECKING:
    from minigrad._tensor import Tensor

Array = npt.NDArray[Any]
_ndarray = np.ndarray


class _MemorySaving:
    """The switch of the memory saving, and the size below which it never acts.

    Below ``min_size`` elements a new array costs less than the reference-count check
    (NumPy caches small allocations). Tests lower it to exercise the in-place rules on
    small graphs; it is the engine's one test hook.
    """

    __slots__ = ("enabled", "min_size")

    def __init__(self) -> None:
        self.enabled = os.environ.get("MINIGRAD_MEMORY_SAVING", "1").strip() not in {"0", ""}
        self.min_size = 4096


MEMORY = _MemorySaving()


def set_memory_saving(enabled: bool) -> bool:
    """Turn on or off the memory optimisations of `Tensor.backward`; return the old setting.

    With them on (the default), backward frees a node's output before its rule runs
    and overwrites large intermediate gradients in place, whenever nothing outside the
    backward pass can see them: a training step then peaks at the memory of the same
    step written by hand in NumPy. Results are identical either way; turn them off to
    rule them out when debugging, or set ``MINIGRAD_MEMORY_SAVING=0`` before import.

    Parameters
    ----------
    enabled : bool
        The new setting, for every thread.

    Returns
    -------
    bool
        The setting before the call.

    Examples
    --------
    >>> from minigrad import set_memory_saving
    >>> previous = set_memory_saving(False)
    >>> set_memory_saving(previous)
    False
    """
    previous = MEMORY.enabled
    MEMORY.enabled = bool(enabled)
    return previous


def backward(root: Tensor, seed: Array, retain_graph: bool) -> None:
    """Send ``seed``, the gradient of ``root``, back through ``root``'s graph."""
    order = topological_order(root)  # every node after all of its inputs; root last
    leaf_grads: dict[Tensor, Array] = {}  # this pass's gradient of each leaf
    borrowed: set[Tensor] = set()  # leaves whose entry is an array the pass did not make
    rules: list[tuple[Tensor, Rule]] = []  # with retain_graph: each node's rule, to put back
    root._grad = seed
    # Arrays of at least this many elements are candidates for the memory saving.
    reuse_from = MEMORY.min_size if MEMORY.enabled and not retain_graph else None
    released = released_rule  # (a local name: read for every contribution)
    pop = order.pop
    try:
        while order:
            node = pop()  # all its consumers have run: its gradient is complete
            g, inputs, rule = node._grad, node._inputs, node._rule
            node._rule = released  # it has run: a contribution from now on is refused
            if retain_graph:
                rules.append((node, rule))  # type: ignore[arg-type]
            if g is not None:  # (else nothing reached it: its inputs get nothing from it)
                saved = node._saved
                if reuse_from is not None and g.size >= reuse_from and node is not root:
                    rule, saved = may_reuse(node, g, rule, saved)  # type: ignore[arg-type]
                grads = rule(g, saved, inputs)  # type: ignore[misc]
                saved = None
                i = 0  # (a counter: on W4, range(len()) costs 7 % of backward, enumerate 4 %)
                for grad in grads:
                    if grad is not None:
                        parent = inputs[i]
                        kind = parent._rule
                        if kind is None:  # a leaf: added to its grad at the end
                            collect(leaf_grads, borrowed, parent, grad, g)
                        elif kind is released:  # impossible by the order
                            raise _errors.late_contribution_error(parent.shape)
                        else:
                            add_to_intermediate(parent, grad)
                    i += 1  # noqa: SIM113
                # Drop this loop's references to other nodes and arrays: may_reuse counts them.
                grads = ()
                parent = grad = kind = None  # type: ignore[assignment]
            if not retain_graph:  # release the node: forget its inputs and saved arrays
                node._inputs = ()
                node._saved = None
    finally:
        for node, rule in rules:
            node._rule = rule
    add_to_leaves(leaf_grads, borrowed)


def topological_order(root: Tensor) -> list[Tensor]:
    """Return the nodes of ``root``'s graph (not its leaves), each after all of its inputs.

    A depth-first walk that lists a node once all of its inputs are listed (post-order),
    so that walking the list backwards, from ``root``, reaches every node after all of
    its consumers. It is iterative, so graphs of any depth are fine: a node is expanded
    by pushing it back, then a marker (``None``), then its inputs; popping the marker
    means its inputs are all listed. A node is marked visited when it is expanded, not
    when it is pushed: marking it at the push would list a node reached first from
    ``root`` and later from a deeper consumer before that consumer, the bug of
    minigrad's first engine. A node pushed by several consumers is expanded once. Each
    node's gradient is reset on the way, since an intermediate's ``grad`` holds one
    pass's value. Raises before any leaf gradient is touched if part of the graph was
    released by an earlier pass. (A root whose inputs are all leaves is its own order:
    a single operation, as a per-op benchmark runs it, skips the walk.)
    """
    for parent in root._inputs:
        if parent._rule is not None:
            break
    else:  # one node, whose inputs are all leaves: a single operation
        root._grad = None
        return [root]
    order: list[Tensor] = []
    visited: set[Tensor] = set()
    stack: list[Tensor | None] = [root]
    push, pop, released = stack.append, stack.pop, released_rule  # (local names: faster)
    while stack:
        node = pop()
        if node is None:  # the marker: the node below it has all its inputs listed
            order.append(pop())  # type: ignore[arg-type]
        elif node not in visited:  # (a node pushed by two consumers is expanded once)
            visited.add(node)
            node._grad = None
            push(node)
            push(None)
            for parent in node._inputs:
                rule = parent._rule
                if rule is not None:  # not a leaf
                    if rule is released:
                        raise _errors.released_error()
                    push(parent)
    return order


def add_to_intermediate(node: Tensor, grad: Array) -> None:
    """Add ``grad`` to this pass's gradient of an intermediate ``node``, out of place."""
    data = node.data
    if grad.__class__ is not _ndarray or grad.dtype is not data.dtype or grad.shape != data.shape:
        grad = _fit(grad, data)
    if node._grad is not None:
        grad = _sum(node._grad, grad)
    node._grad = grad


_leaf_lock = threading.Lock()


def collect(
    leaf_grads: dict[Tensor, Array],
    borrowed: set[Tensor],
    leaf: Tensor,
    grad: Array,
    incoming: Any,
) -> None:
    """Add ``grad`` to this pass's gradient of ``leaf`` (``incoming``: the rule's own ``g``).

    A first contribution is kept as it is. One that may be seen elsewhere, the gradient
    of another tensor passed on (by `+`, say) or a view of one (from `reshape`), is
    ``borrowed``: the next contribution is summed out of place, into an array of the
    pass. Any other array a rule returns is new, made for this input alone, and later
    contributions are added to it in place.
    """
    data = leaf.data
    if grad.__class__ is not _ndarray or grad.dtype is not data.dtype or grad.shape != data.shape:
        grad = _fit(grad, data)
    previous = leaf_grads.get(leaf)
    if previous is None:
        leaf_grads[leaf] = grad
        if grad is incoming or grad.base is not None:
            borrowed.add(leaf)
    elif leaf in borrowed:
        leaf_grads[leaf] = _sum(previous, grad)
        borrowed.discard(leaf)
    else:
        previous += grad


def add_to_leaves(leaf_grads: dict[Tensor, Array], borrowed: set[Tensor]) -> None:
    """Add a pass's gradients to the leaves' accumulated ones, all at once, under a lock.

    NumPy releases the GIL inside ``+=`` on large arrays, so passes in other threads
    could otherwise add into one array at the same time; taking the lock once per pass
    costs less than once per contribution, and a pass that raises adds nothing.
    """
    with _leaf_lock:
        for leaf, grad in leaf_grads.items():
            current = leaf._grad
            if current is not None and leaf._owned:
                current += grad  # an array this engine allocated for this leaf
                continue
            if current is None:  # the pass's array becomes the leaf's
                if leaf in borrowed:
                    grad = grad.copy()
            elif leaf in borrowed:  # the user's array and a borrowed one: a new sum
                grad = _sum(current, grad)
            else:  # the user's array is never written to: the sum goes into the pass's
                np.add(current, grad, grad)
            leaf._grad = grad
            leaf._owned = True


def _sum(a: Array, b: Array) -> Array:
    """Return ``a + b`` in a new array (also for 0-d arrays: NumPy adds those into a scalar)."""
    total = a + b
    return total if total.__class__ is _ndarray else np.asarray(total)


def _fit(grad: Any, data: Array) -> Array:
    """Bring a rule's gradient to its input's shape and dtype, as a NumPy array."""
    fitted: Array = np.asarray(grad)
    if fitted.shape != data.shape:
        fitted = sum_to_shape(fitted, data.shape)  # the input was broadcast: sum it back
    if fitted.dtype != data.dtype:
        fitted = fitted.astype(data.dtype)
    return fitted


def released_rule(g: Array, saved: Any, inputs: Any) -> Grads:
    """Rule of a node that has run: in this pass, or in an earlier one that released it."""
    raise _errors.released_error()


# -- the one place where reference counts decide -----------------------------------


def _make_reference_probe() -> tuple[int, int] | None:
    """Measure the reference counts `may_reuse` sees for a node nobody else holds.

    ``may_reuse`` is called from `backward` on a node popped from its list and
    held only by a local variable, and on its gradient held only by the node's slot
    and a local variable. The counts expected in that situation are measured here,
    once, by the same call in the same situation, so that no interpreter detail is
    assumed. Where the interpreter has no reference counts (PyPy), nothing is reused.
    """
    if not hasattr(sys, "getrefcount"):  # pragma: no cover - CPython always has it
        return None

    class Probe:
        __slots__ = ("__weakref__", "_grad")
        _grad: Any

    def counts(node: Any, g: Any) -> tuple[int, int]:  # as in `may_reuse`'s frame
        return sys.getrefcount(node), sys.getrefcount(g)

    order = [Probe()]  # as in `backward`'s frame: popped, held by a local variable
    node = order.pop()
    node._grad = g = Probe()
    expected = counts(node, g)
    del node, g
    return expected


_EXPECTED_COUNTS = _make_reference_probe()
# What a node's `data` becomes when backward drops it early (only when nothing outside
# the backward loop can see the node, so nobody can read it).
RELEASED_DATA: Array = np.empty(0)
RELEASED_DATA.flags.writeable = False


def may_reuse(node: Tensor, g: Array, rule: Callable[..., Grads], saved: Any) -> tuple[Any, Any]:
    """Free what nobody else can see before ``node``'s rule runs; return the rule to run.

    If nothing outside the backward loop refers to ``node`` (no variable, container or
    weak reference), nobody can read its ``data`` or ``grad`` any more: its output is
    dropped now, before the rule allocates its inputs' gradients. If, besides, nothing
    else holds ``g`` and it owns its writable memory, the rule's in-place variant may
    overwrite it. Reference counts answer both questions.
    """
    if _EXPECTED_COUNTS is None:  # pragma: no cover - no reference counts
        return rule, saved
    node_count, grad_count = sys.getrefcount(node), sys.getrefcount(g)
    if node_count != _EXPECTED_COUNTS[0] or weakref.getweakrefcount(node):
        return rule, saved
    node.data = RELEASED_DATA
    node._saved = None
    in_place = IN_PLACE.get(rule)
    if in_place is None or grad_count != _EXPECTED_COUNTS[1]:
        return rule, saved
    if g.base is not None or not g.flags.writeable:
        return rule, saved
    return in_place, [saved]  # the in-place rule empties the list once it has what it needs
