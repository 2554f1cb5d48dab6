"""Checkpoints: a model file that also carries optimizer and schedule state, step, extras.

`save_checkpoint` writes the same file as `Module.save` plus what resuming training
needs; `load_checkpoint` restores it into existing objects, in place, so that training
continues exactly where it stopped. The file format is `minigrad.nn._fileformat`'s; how
a module goes into a file and is checked against one is `minigrad.nn._module`'s.
"""

from __future__ import annotations

import numbers
import os
from pathlib import Path
from typing import Any

from minigrad.nn._fileformat import ModelFile, json_value
from minigrad.nn._module import Module, _check_file_fits, _class_key, _save_module, _saved_by_script
from minigrad.nn._optim import Optimizer
from minigrad.nn._schedules import LRSchedule

__all__ = ["load_checkpoint", "save_checkpoint"]


def save_checkpoint(
    path: str | os.PathLike[str],
    model: Module,
    optimizer: Optimizer | None = None,
    step: int | None = None,
    *,
    schedule: LRSchedule | None = None,
    **extra: Any,
) -> Path:
    """Save a model, and optionally its optimizer, step, schedule and extras, atomically.

    The file is a model file (`Module.load` reads it) that also carries the optimizer's
    state, the step number, the learning-rate schedule's state and ``extra``, so that
    `load_checkpoint` resumes training exactly where it stopped. It is written to a
    temporary file in the same folder (named ``.<name>.npz.tmp-XXXXXXXX``), flushed to
    disk and renamed over ``path``: a crash mid-save leaves the previous file intact (a
    process killed mid-save can leave its temporary file behind; such files are safe to
    delete).

    Parameters
    ----------
    path : str or os.PathLike
        Where to write; ``.npz`` is appended when missing.
    model : Module
        The model whose architecture and weights to save.
    optimizer : Optimizer, optional
        Its step count, hyperparameters and buffers are saved too.
    step : int, optional
        The training step, returned by `load_checkpoint`.
    schedule : LRSchedule, optional
        A learning-rate schedule (`CosineSchedule`, ...) whose state to save, keyword
        only. It must drive ``optimizer`` when both are given.
    **extra
        Further JSON values to keep (loss history, epoch, ...). NumPy scalars and
        arrays are stored as numbers and lists. No extra can be named ``schedule``.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    TypeError
        If ``model`` is not a Module, an extra is not JSON-serializable, or the model's
        class needs constructor arguments but does not define ``get_config``.
    ValueError
        If ``schedule`` drives another optimizer than ``optimizer``.
    FileNotFoundError, NotADirectoryError, IsADirectoryError
        If the folder to save into does not exist or is a file, or ``path`` is a folder.

    Examples
    --------
    >>> from minigrad.nn import MLP, Adam, save_checkpoint, load_checkpoint
    >>> model = MLP(2, [8, 1], seed=0)
    >>> opt = Adam(model.parameters(), lr=0.01)
    >>> save_checkpoint("ckpt", model, opt, step=100, best_loss=0.25).name
    'ckpt.npz'
    >>> model2 = MLP(2, [8, 1])
    >>> opt2 = Adam(model2.parameters())
    >>> load_checkpoint("ckpt.npz", model2, opt2)
    {'step': 100, 'best_loss': 0.25}
    """
    _check_schedule(schedule, optimizer)
    if not isinstance(model, Module):
        raise TypeError(f"model must be a minigrad.nn.Module, got {type(model).__name__}")
    if optimizer is not None and not isinstance(optimizer, Optimizer):
        raise TypeError(
            f"optimizer must be a minigrad.nn.Optimizer or None, got {type(optimizer).__name__}"
        )
    step_value: object = step  # checked at run time: callers may pass anything
    if step_value is not None and (
        isinstance(step_value, bool)
        or not isinstance(step_value, numbers.Integral)
        or int(step_value) < 0
    ):
        raise TypeError(f"step must be a non-negative int or None, got {step!r}")
    return _save_module(
        path,
        model,
        step=step,
        extra=extra,
        optimizer_state=None if optimizer is None else optimizer.state_dict(),
        schedule_state=None if schedule is None else schedule.state_dict(),
    )


def _check_schedule(schedule: object, optimizer: Optimizer | None) -> None:
    if schedule is None:
        return
    if not isinstance(schedule, LRSchedule):
        raise TypeError(
            f"schedule must be a minigrad.nn.LRSchedule or None, got {type(schedule).__name__}"
        )
    if optimizer is not None and schedule.optimizer is not optimizer:
        raise ValueError("the schedule drives another optimizer than the one given")


def load_checkpoint(
    path: str | os.PathLike[str],
    model: Module,
    optimizer: Optimizer | None = None,
    *,
    schedule: LRSchedule | None = None,
) -> dict[str, Any]:
    """Load a checkpoint written by `save_checkpoint` into existing objects, in place.

    The model's parameters (and the optimizer's step count, hyperparameters and
    buffers, when an optimizer is given; the schedule's step count and settings, when a
    schedule is given) are overwritten with the saved ones, so training continues
    exactly as if it had not stopped. Everything is checked before
    anything changes: the file must hold the model's class with the same configuration.

    Parameters
    ----------
    path : str or os.PathLike
        The checkpoint: ``path`` itself when it is a file, else ``path`` with ``.npz``
        appended.
    model : Module
        Receives the weights.
    optimizer : Optimizer, optional
        Receives the optimizer state; the checkpoint must hold one of the same type.
    schedule : LRSchedule, optional
        Receives the learning-rate schedule's state, keyword only; the checkpoint must
        hold one of the same type (files saved without a schedule still load without
        one).

    Returns
    -------
    dict
        ``{"step": step, **extra}``, as passed to `save_checkpoint` (``step`` is None
        when none was saved).

    Raises
    ------
    ModelFileError
        If the file is invalid or does not fit ``model``, ``optimizer`` or ``schedule``.

    Examples
    --------
    >>> from minigrad.nn import MLP, save_checkpoint, load_checkpoint
    >>> model = MLP(2, [4, 1], seed=0)
    >>> path = save_checkpoint("checkpoint", model, step=7)
    >>> fresh = MLP(2, [4, 1], seed=1)
    >>> load_checkpoint(path, fresh)["step"]
    7
    >>> bool((fresh.layers[0].W.data == model.layers[0].W.data).all())
    True
    """
    if not isinstance(model, Module):
        raise TypeError(f"model must be a minigrad.nn.Module, got {type(model).__name__}")
    file = ModelFile(path)
    header = file.header
    key = _class_key(type(model))
    if header["class"] != key and not _saved_by_script(header["class"], type(model)):
        raise file.error(f"the checkpoint holds a {header['class']}, the model is a {key}")
    config = json_value(model.get_config(), "get_config() values")
    if header["config"] != config:
        raise file.error(
            f"the checkpoint was saved from {type(model).__name__} with configuration "
            f"{header['config']}, the model has {config}"
        )
    _check_file_fits(file, model)
    _check_schedule(schedule, optimizer)
    schedule_state = None
    if schedule is not None:
        saved_schedule = file.schedule_state()
        if saved_schedule is None:
            raise file.error(
                "the checkpoint holds no learning-rate schedule state; load it without a schedule"
            )
        try:  # checked here, applied after the optimizer's state: nothing changes on error
            schedule_state = schedule._checked_state(saved_schedule)
        except (TypeError, ValueError) as exc:
            raise file.error(f"the schedule state does not fit: {exc}") from None
    if optimizer is not None:
        state = file.optimizer_state()
        if state is None:
            raise file.error(
                "the checkpoint holds no optimizer state; load it without an optimizer"
            )
        try:
            optimizer.load_state_dict(state)
        except (TypeError, ValueError) as exc:
            raise file.error(f"the optimizer state does not fit: {exc}") from None
    if schedule is not None and schedule_state is not None:
        schedule._apply_state(schedule_state)  # sets optimizer.lr, so after the optimizer's
    model.load_state_dict(file.parameters())
    return {"step": header["step"], **header["extra"]}
