"""Learning-rate schedules: objects that set ``optimizer.lr`` as training goes on.

A schedule is a function of the step count: after ``n`` calls of `LRSchedule.step` the
optimizer's ``lr`` is ``lr_at(n)``, computed afresh from the optimizer's learning rate
at the time the schedule was made (``base_lr``), never by updating the previous value.
So a schedule's whole state is a few numbers (`LRSchedule.state_dict`), and a run
resumed from a checkpoint gets exactly the learning rates of a run that never stopped.

PyTorch's convention: making the schedule sets the learning rate of the first step,
and ``schedule.step()`` is called once per training step, after ``optimizer.step()``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any, ClassVar

from minigrad.nn._optim import Optimizer
from minigrad.nn._validation import is_step

__all__ = ["CosineSchedule", "LRSchedule", "LinearSchedule", "StepSchedule"]


def _check_int(name: str, value: object, *, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        kind = "a positive integer" if low == 1 else f"an integer >= {low}"
        raise ValueError(f"{name} must be {kind}, got {value!r}")
    return int(value)


def _check_real(name: str, value: object) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(value)
        or value < 0
    ):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


def _set_lr(optimizer: Optimizer, lr: float) -> None:
    # Each optimizer class declares its own `lr` (the base class has none); schedules
    # accept only optimizers that have one.
    target: Any = optimizer
    target.lr = lr


class LRSchedule:
    """Base class of the learning-rate schedules: a step count and a function of it.

    A subclass lists its hyperparameters in ``hyperparameter_names``, checks them in
    ``_check_hyperparameters`` (optional) and implements `lr_at`; stepping, `state_dict`
    and `load_state_dict` then need no further code. Making a schedule records the
    optimizer's current ``lr`` as ``base_lr`` and sets ``optimizer.lr`` to
    ``lr_at(0)``; each `step` sets it to ``lr_at(step_count)``.

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer whose ``lr`` to set; its ``lr`` when the schedule is made is the
        schedule's ``base_lr``.
    **hyperparameters
        The subclass's hyperparameters, by name.

    Raises
    ------
    TypeError
        If ``optimizer`` is not a minigrad.nn Optimizer.
    ValueError
        If the optimizer has no finite, non-negative ``lr``, or a hyperparameter is
        invalid.

    Examples
    --------
    >>> from minigrad import Tensor
    >>> from minigrad.nn import SGD, LRSchedule
    >>> class Halving(LRSchedule):
    ...     hyperparameter_names = ("every",)
    ...     def __init__(self, optimizer, every):
    ...         super().__init__(optimizer, every=every)
    ...     def lr_at(self, step):
    ...         return self.base_lr * 0.5 ** (step // self.every)
    >>> opt = SGD([Tensor([1.0])], lr=0.8)
    >>> schedule = Halving(opt, every=2)
    >>> for _ in range(4):
    ...     schedule.step()
    >>> opt.lr, schedule.state_dict()
    (0.2, {'type': 'Halving', 'step': 4, 'base_lr': 0.8, 'hyperparameters': {'every': 2}})
    """

    hyperparameter_names: ClassVar[tuple[str, ...]] = ()

    def __init__(self, optimizer: Optimizer, **hyperparameters: Any) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"optimizer must be a minigrad.nn.Optimizer, got {type(optimizer).__name__}"
            )
        lr = getattr(optimizer, "lr", None)
        if (
            isinstance(lr, bool)
            or not isinstance(lr, numbers.Real)
            or not math.isfinite(lr)
            or lr < 0
        ):
            raise ValueError(
                f"{type(optimizer).__name__} has no learning rate to schedule: its lr is {lr!r}"
            )
        if set(hyperparameters) != set(self.hyperparameter_names):
            raise TypeError(
                f"{type(self).__name__} takes the hyperparameters "
                f"{list(self.hyperparameter_names)}, got {sorted(hyperparameters)}"
            )
        base_lr = float(lr)
        checked = self._check_hyperparameters(hyperparameters, base_lr)
        self.optimizer = optimizer
        self.base_lr = base_lr
        self.step_count = 0
        for name, value in checked.items():
            setattr(self, name, value)
        _set_lr(optimizer, self.get_lr())

    def _check_hyperparameters(self, values: Mapping[str, Any], base_lr: float) -> dict[str, Any]:
        """Return the hyperparameters checked and normalised; raise ValueError if invalid.

        Called before anything is changed, by the constructor and by `load_state_dict`.
        """
        return dict(values)

    def lr_at(self, step: int) -> float:
        """Return the learning rate after ``step`` calls of `step`; subclasses implement it.

        Examples
        --------
        >>> from minigrad import Tensor
        >>> from minigrad.nn import SGD, StepSchedule
        >>> schedule = StepSchedule(SGD([Tensor([1.0])], lr=1.0), step_size=10, gamma=0.5)
        >>> [schedule.lr_at(step) for step in (0, 9, 10, 25)]
        [1.0, 1.0, 0.5, 0.25]
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement lr_at()")

    def get_lr(self) -> float:
        """Return the learning rate of the coming optimizer step: ``lr_at(step_count)``.

        Examples
        --------
        >>> from minigrad import Tensor
        >>> from minigrad.nn import SGD, LinearSchedule
        >>> schedule = LinearSchedule(SGD([Tensor([1.0])], lr=1.0), total_steps=4)
        >>> schedule.step()
        >>> schedule.get_lr()
        0.75
        """
        return self.lr_at(self.step_count)

    @property
    def lr(self) -> float:
        """The learning rate of the coming optimizer step, as `get_lr` returns it.

        Examples
        --------
        >>> from minigrad import Tensor
        >>> from minigrad.nn import SGD, LinearSchedule
        >>> schedule = LinearSchedule(SGD([Tensor([1.0])], lr=1.0), total_steps=4)
        >>> schedule.lr
        1.0
        """
        return self.get_lr()

    def step(self) -> None:
        """Count one training step and set the optimizer's ``lr`` for the next one.

        Call it once per training step, after ``optimizer.step()``.

        Examples
        --------
        >>> from minigrad import Tensor
        >>> from minigrad.nn import SGD, StepSchedule
        >>> opt = SGD([Tensor([1.0])], lr=1.0)
        >>> schedule = StepSchedule(opt, step_size=1, gamma=0.5)
        >>> opt.step(); schedule.step()
        >>> opt.lr, schedule.step_count
        (0.5, 1)
        """
        self.step_count += 1
        _set_lr(self.optimizer, self.get_lr())

    def state_dict(self) -> dict[str, Any]:
        """Return the schedule's state: its type, step count, ``base_lr`` and hyperparameters.

        All of it is plain JSON values, which `save_checkpoint` stores in the file's
        header.

        Examples
        --------
        >>> from minigrad import Tensor
        >>> from minigrad.nn import SGD, CosineSchedule
        >>> schedule = CosineSchedule(SGD([Tensor([1.0])], lr=0.1), total_steps=100)
        >>> schedule.state_dict()  # doctest: +NORMALIZE_WHITESPACE
        {'type': 'CosineSchedule', 'step': 0, 'base_lr': 0.1,
         'hyperparameters': {'total_steps': 100, 'warmup_steps': 0, 'min_lr': 0.0}}
        """
        return {
            "type": type(self).__name__,
            "step": self.step_count,
            "base_lr": self.base_lr,
            "hyperparameters": {name: getattr(self, name) for name in self.hyperparameter_names},
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore what `state_dict` returned and set the optimizer's ``lr`` to match.

        Hyperparameters and ``base_lr`` come from the state too (as in PyTorch), so the
        schedule continues exactly as the one that was saved. The state must be of the
        same schedule type; otherwise `ValueError` says what is wrong and nothing is
        changed.

        Raises
        ------
        ValueError
            If the state does not fit this schedule.

        Examples
        --------
        >>> from minigrad import Tensor
        >>> from minigrad.nn import SGD, StepSchedule
        >>> schedule = StepSchedule(SGD([Tensor([1.0])], lr=1.0), step_size=2)
        >>> for _ in range(5):
        ...     schedule.step()
        >>> opt = SGD([Tensor([1.0])], lr=1.0)
        >>> fresh = StepSchedule(opt, step_size=2)
        >>> fresh.load_state_dict(schedule.state_dict())
        >>> fresh.step_count, round(opt.lr, 12)
        (5, 0.01)
        """
        self._apply_state(self._checked_state(state))

    def _checked_state(self, state: Mapping[str, Any]) -> tuple[int, float, dict[str, Any]]:
        """Check a state dict without changing anything; return (step, base_lr, hyper)."""
        name = type(self).__name__
        try:
            kind = state["type"]
            step = state["step"]
            base_lr = state["base_lr"]
            hyper = dict(state["hyperparameters"])
        except (KeyError, TypeError) as exc:
            raise ValueError(
                f"not a schedule state dict ({exc!r}); pass what {name}.state_dict() returned"
            ) from None
        if kind != name:
            raise ValueError(f"the state is of a {kind} schedule and cannot be loaded into {name}")
        if not is_step(step):
            raise ValueError(
                f"the state's step must be an integer from 0 to 2**63 - 1, got {step!r}"
            )
        if (
            isinstance(base_lr, bool)
            or not isinstance(base_lr, numbers.Real)
            or not math.isfinite(base_lr)
            or base_lr < 0
        ):
            raise ValueError(f"the state's base_lr must be a finite number >= 0, got {base_lr!r}")
        if set(hyper) != set(self.hyperparameter_names):
            raise ValueError(
                f"the state's hyperparameters {sorted(hyper)} do not match {name}'s "
                f"{sorted(self.hyperparameter_names)}"
            )
        checked = self._check_hyperparameters(hyper, float(base_lr))
        return int(step), float(base_lr), checked

    def _apply_state(self, checked: tuple[int, float, dict[str, Any]]) -> None:
        step, base_lr, hyper = checked
        for name, value in hyper.items():
            setattr(self, name, value)
        self.base_lr = base_lr
        self.step_count = step
        _set_lr(self.optimizer, self.get_lr())

    def __repr__(self) -> str:
        args = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.hyperparameter_names)
        return (
            f"{type(self).__name__}({args}, base_lr={self.base_lr!r}, "
            f"step_count={self.step_count}, lr={self.get_lr()!r})"
        )


class CosineSchedule(LRSchedule):
    """Linear warmup, then cosine decay from the optimizer's learning rate to ``min_lr``.

    With ``base`` the optimizer's ``lr`` when the schedule is made, ``W`` the warmup
    steps and ``T`` the total steps, the learning rate after ``t`` calls of `step` is::

        t < W:        base * (t + 1) / (W + 1)
        W <= t < T:   min_lr + (base - min_lr) * (1 + cos(pi * (t - W) / (T - W))) / 2
        t >= T:       min_lr

    Warmup rises in ``W`` equal steps to ``base``, reached at ``t = W`` where the decay
    starts; the decay reaches ``min_lr`` at ``t = T`` and stays there. Without warmup
    this is ``torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=T,
    eta_min=min_lr)`` up to ``T`` (PyTorch's rises again after ``T``; this one holds
    ``min_lr``). With warmup it is PyTorch's ``SequentialLR`` of ``LinearLR(optimizer,
    start_factor=1 / (W + 1), total_iters=W)`` and ``CosineAnnealingLR(optimizer,
    T_max=T - W, eta_min=min_lr)`` with ``milestones=[W]``.

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer to drive; its ``lr`` is the peak learning rate.
    total_steps : int
        Training steps until the learning rate reaches ``min_lr`` (warmup included).
    warmup_steps : int, default 0
        Steps of linear warmup, fewer than ``total_steps``.
    min_lr : float, default 0.0
        The final learning rate, at most the optimizer's ``lr``.

    Raises
    ------
    ValueError
        If an argument is out of range; the message names it.

    Examples
    --------
    >>> from minigrad import Tensor
    >>> from minigrad.nn import SGD, CosineSchedule
    >>> opt = SGD([Tensor([1.0])], lr=1.0)
    >>> schedule = CosineSchedule(opt, total_steps=6, warmup_steps=2, min_lr=0.1)
    >>> used = []
    >>> for step in range(8):
    ...     used.append(opt.lr)      # the learning rate of this step
    ...     opt.step()
    ...     schedule.step()
    >>> [round(lr, 4) for lr in used]
    [0.3333, 0.6667, 1.0, 0.8682, 0.55, 0.2318, 0.1, 0.1]
    """

    hyperparameter_names = ("total_steps", "warmup_steps", "min_lr")
    total_steps: int
    warmup_steps: int
    min_lr: float

    def __init__(
        self,
        optimizer: Optimizer,
        total_steps: int,
        warmup_steps: int = 0,
        min_lr: float = 0.0,
    ) -> None:
        super().__init__(
            optimizer, total_steps=total_steps, warmup_steps=warmup_steps, min_lr=min_lr
        )

    def _check_hyperparameters(self, values: Mapping[str, Any], base_lr: float) -> dict[str, Any]:
        total = _check_int("total_steps", values["total_steps"], low=1)
        warmup = _check_int("warmup_steps", values["warmup_steps"], low=0)
        if warmup >= total:
            raise ValueError(f"warmup_steps must be less than total_steps ({total}), got {warmup}")
        min_lr = _check_real("min_lr", values["min_lr"])
        if min_lr > base_lr:
            raise ValueError(
                f"min_lr must be at most the optimizer's lr ({base_lr}), the peak of the "
                f"schedule, got {values['min_lr']!r}"
            )
        return {"total_steps": total, "warmup_steps": warmup, "min_lr": min_lr}

    def lr_at(self, step: int) -> float:
        """Return the learning rate after ``step`` calls of `step` (the formula above).

        Examples
        --------
        >>> from minigrad import Tensor
        >>> from minigrad.nn import SGD, CosineSchedule
        >>> schedule = CosineSchedule(SGD([Tensor([1.0])], lr=1.0), total_steps=10)
        >>> [round(schedule.lr_at(step), 4) for step in (0, 5, 10, 20)]
        [1.0, 0.5, 0.0, 0.0]
        """
        warmup, total = self.warmup_steps, self.total_steps
        if step < warmup:
            return self.base_lr * (step + 1) / (warmup + 1)
        if step >= total:
            return self.min_lr
        progress = (step - warmup) / (total - warmup)
        return self.min_lr + (self.base_lr - self.min_lr) * (1.0 + math.cos(math.pi * progress)) / 2


class StepSchedule(LRSchedule):
    """Multiply the learning rate by ``gamma`` every ``step_size`` steps.

    With ``base`` the optimizer's ``lr`` when the schedule is made, the learning rate
    after ``t`` calls of `step` is ``base * gamma ** (t // step_size)``: the first
    ``step_size`` optimizer steps use ``base``, the next ``step_size`` use
    ``base * gamma``, and so on. This is ``torch.optim.lr_scheduler.StepLR(optimizer,
    step_size, gamma)``, computed from the step count rather than by multiplying the
    previous value.

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer to drive; its ``lr`` is the initial learning rate.
    step_size : int
        Steps between two decays, at least 1.
    gamma : float, default 0.1
        The factor of each decay, a finite number >= 0.

    Raises
    ------
    ValueError
        If an argument is out of range; the message names it.

    Examples
    --------
    >>> from minigrad import Tensor
    >>> from minigrad.nn import SGD, StepSchedule
    >>> opt = SGD([Tensor([1.0])], lr=1.0)
    >>> schedule = StepSchedule(opt, step_size=2, gamma=0.5)
    >>> used = []
    >>> for step in range(5):
    ...     used.append(opt.lr)
    ...     opt.step()
    ...     schedule.step()
    >>> used
    [1.0, 1.0, 0.5, 0.5, 0.25]
    """

    hyperparameter_names = ("step_size", "gamma")
    step_size: int
    gamma: float

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        super().__init__(optimizer, step_size=step_size, gamma=gamma)

    def _check_hyperparameters(self, values: Mapping[str, Any], base_lr: float) -> dict[str, Any]:
        return {
            "step_size": _check_int("step_size", values["step_size"], low=1),
            "gamma": _check_real("gamma", values["gamma"]),
        }

    def lr_at(self, step: int) -> float:
        """Return ``base_lr * gamma ** (step // step_size)``, the rate after ``step`` steps.

        Examples
        --------
        >>> from minigrad import Tensor
        >>> from minigrad.nn import SGD, StepSchedule
        >>> schedule = StepSchedule(SGD([Tensor([1.0])], lr=1.0), step_size=3, gamma=0.5)
        >>> [schedule.lr_at(step) for step in (0, 2, 3, 6)]
        [1.0, 1.0, 0.5, 0.25]
        """
        return self.base_lr * self.gamma ** (step // self.step_size)


class LinearSchedule(LRSchedule):
    """Change the learning rate linearly from ``start_factor`` to ``end_factor`` times its value.

    With ``base`` the optimizer's ``lr`` when the schedule is made and ``T`` the total
    steps, the learning rate after ``t`` calls of `step` is::

        base * (start_factor + (end_factor - start_factor) * min(t, T) / T)

    so the first optimizer step uses ``base * start_factor`` and every step from the
    ``T``-th on uses ``base * end_factor``. This is
    ``torch.optim.lr_scheduler.LinearLR(optimizer, start_factor, end_factor,
    total_iters=T)``, with defaults for a decay to zero (PyTorch's are for a warmup),
    and factors of 0 allowed.

    Parameters
    ----------
    optimizer : Optimizer
        The optimizer to drive.
    total_steps : int
        Steps until the factor reaches ``end_factor``, at least 1.
    start_factor : float, default 1.0
        The factor of the first step, a finite number >= 0.
    end_factor : float, default 0.0
        The factor from step ``total_steps`` on, a finite number >= 0.

    Raises
    ------
    ValueError
        If an argument is out of range; the message names it.

    Examples
    --------
    >>> from minigrad import Tensor
    >>> from minigrad.nn import SGD, LinearSchedule
    >>> opt = SGD([Tensor([1.0])], lr=1.0)
    >>> schedule = LinearSchedule(opt, total_steps=4)
    >>> used = []
    >>> for step in range(6):
    ...     used.append(opt.lr)
    ...     opt.step()
    ...     schedule.step()
    >>> used
    [1.0, 0.75, 0.5, 0.25, 0.0, 0.0]
    """

    hyperparameter_names = ("total_steps", "start_factor", "end_factor")
    total_steps: int
    start_factor: float
    end_factor: float

    def __init__(
        self,
        optimizer: Optimizer,
        total_steps: int,
        start_factor: float = 1.0,
        end_factor: float = 0.0,
    ) -> None:
        super().__init__(
            optimizer, total_steps=total_steps, start_factor=start_factor, end_factor=end_factor
        )

    def _check_hyperparameters(self, values: Mapping[str, Any], base_lr: float) -> dict[str, Any]:
        return {
            "total_steps": _check_int("total_steps", values["total_steps"], low=1),
            "start_factor": _check_real("start_factor", values["start_factor"]),
            "end_factor": _check_real("end_factor", values["end_factor"]),
        }

    def lr_at(self, step: int) -> float:
        """Return the learning rate after ``step`` calls of `step` (the formula above).

        Examples
        --------
        >>> from minigrad import Tensor
        >>> from minigrad.nn import SGD, LinearSchedule
        >>> opt = SGD([Tensor([1.0])], lr=1.0)
        >>> schedule = LinearSchedule(opt, total_steps=10, start_factor=0.5, end_factor=1.0)
        >>> [schedule.lr_at(step) for step in (0, 5, 10, 50)]
        [0.5, 0.75, 1.0, 1.0]
        """
        start, end, total = self.start_factor, self.end_factor, self.total_steps
        return self.base_lr * (start + (end - start) * min(step, total) / total)
