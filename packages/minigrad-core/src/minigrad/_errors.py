"""The engine's error messages: each names the operation, the values, and what to do."""

from __future__ import annotations

import reprlib
from typing import Any

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[Any]

# NumPy's error for an axis out of range (a ValueError and an IndexError); it moved to
# numpy.exceptions in NumPy 1.25.
AxisError: type[ValueError] = getattr(np, "exceptions", np).AxisError


def shape_error(op: str, *shapes: tuple[int, ...], detail: str = "") -> ValueError:
    """Build the error for operands whose shapes do not fit together."""
    listed = " and ".join(str(s) for s in shapes)
    message = f"{op}: shapes {listed} are not compatible"
    if detail:
        message += f" ({detail})"
    return ValueError(message)


def broadcast_error(op: str, a: Array, b: Array) -> ValueError:
    """Build the error for operands NumPy cannot broadcast together."""
    return shape_error(
        op,
        a.shape,
        b.shape,
        detail="they cannot be broadcast together: each axis, aligned from the right, "
        "must be equal or 1; reshape one operand",
    )


def matmul_error(a: Array, b: Array) -> ValueError:
    """Build the error for operands of ``@`` whose shapes do not fit."""
    if a.ndim == 0 or b.ndim == 0:
        detail = "matmul needs operands with at least one axis; use * for scalars"
    else:
        detail = (
            f"the last axis of the left operand ({a.shape[-1]}) must equal the "
            f"{'only' if b.ndim == 1 else 'second-to-last'} axis of the right operand "
            f"({b.shape[0] if b.ndim == 1 else b.shape[-2]}), and batch axes must broadcast"
        )
    return shape_error("matmul", a.shape, b.shape, detail=detail)


def data_error(data: Any, exc: ValueError) -> ValueError:
    """Build the error for data that NumPy cannot turn into an array of numbers."""
    reason = str(exc).split(". ")[0]
    if "inhomogeneous" in str(exc):
        reason = "its nested sequences have different lengths"
    return ValueError(
        f"Tensor: data must be a rectangular array of numbers, got {reprlib.repr(data)} ({reason})"
    )


def axis_out_of_range(op: str, axis: Any, shape: tuple[int, ...]) -> ValueError:
    """Build NumPy's ``AxisError`` for an axis out of range, naming the op and the shape."""
    n = len(shape)
    valid = f"valid axes are -{n} to {n - 1}" if n else "a 0-d tensor has no axes"
    return AxisError(f"{op}: axis {axis} is out of bounds for a tensor of shape {shape}; {valid}")


def axis_error(op: str, axis: Any, shape: tuple[int, ...], exc: ValueError) -> ValueError:
    """Build the error for an axis argument NumPy refused, naming the op and the shape.

    An out-of-range axis gives NumPy's ``AxisError`` class (a ``ValueError`` and an
    ``IndexError``), anything else (a repeated axis, say) a plain ``ValueError``.
    """
    if isinstance(exc, AxisError):
        return axis_out_of_range(op, axis, shape)
    return ValueError(f"{op}: invalid axis {axis} for a tensor of shape {shape}: {exc}")


def axis_type_error(op: str, axis: Any, item: Any, shape: tuple[int, ...]) -> TypeError:
    """Build the error for an axis argument that is not an int (or a tuple of ints)."""
    what = type(item).__name__ if item is axis else f"a tuple holding a {type(item).__name__}"
    return TypeError(
        f"{op}: axis must be None, an int or a tuple of ints, got {axis!r} ({what}) "
        f"for a tensor of shape {shape}"
    )


def no_grad_error() -> RuntimeError:
    """Build the error for backward() on a tensor that does not require grad."""
    return RuntimeError(
        "backward() called on a tensor that does not require grad: none of the "
        "tensors it was computed from requires grad, or it was computed inside "
        "no_grad(), or it comes from detach(). Create the tensors you want "
        "gradients for with requires_grad=True (the default) and compute the result "
        "outside no_grad()."
    )


def released_error() -> RuntimeError:
    """Build the error for backward() through a graph a previous pass released."""
    return RuntimeError(
        "backward() through a graph that has already been freed: the previous backward() "
        "released the arrays it saved. To call backward() more than once through the same "
        "graph, pass retain_graph=True to every call but the last; otherwise run the forward "
        "computation again to build a new graph."
    )


def late_contribution_error(shape: tuple[int, ...]) -> RuntimeError:
    """Build the error of the engine's own check: a gradient for a node that already ran."""
    return RuntimeError(
        f"backward: internal error: a gradient arrived for a node of shape {shape} "
        f"after its rule had run, so it would be lost; please report this with the code "
        f"that built the graph"
    )


def seed_shape_error(given: tuple[int, ...], shape: tuple[int, ...]) -> ValueError:
    """Build the error for a ``gradient=`` of the wrong shape."""
    return ValueError(
        f"backward: gradient shape {given} does not match the tensor's shape {shape}; "
        f"pass an array of the tensor's shape (or nothing for ones)"
    )
