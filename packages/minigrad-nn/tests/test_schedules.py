"""Learning-rate schedules: formulas by hand at every boundary, state dicts, argument checks."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from minigrad import Tensor
from minigrad.nn import (
    SGD,
    Adam,
    AdamW,
    CosineSchedule,
    LinearSchedule,
    LRSchedule,
    StepSchedule,
)


def make_opt(lr=1.0, kind=SGD):
    return kind([Tensor([1.0, 2.0])], lr=lr)


def used_lrs(schedule, steps):
    """The learning rate each of ``steps`` training steps uses, stepping as in training."""
    used = []
    for _ in range(steps):
        used.append(schedule.optimizer.lr)
        schedule.optimizer.step()
        schedule.step()
    return used


# ------------------------------------------------------------------------- CosineSchedule


def test_cosine_without_warmup_by_hand():
    schedule = CosineSchedule(make_opt(2.0), total_steps=4, min_lr=0.4)
    # min + (base - min) * (1 + cos(pi * t / 4)) / 2 with base 2, min 0.4
    expected = [
        2.0,
        0.4 + 1.6 * (1 + math.sqrt(0.5)) / 2,
        1.2,
        0.4 + 1.6 * (1 - math.sqrt(0.5)) / 2,
        0.4,  # t = total: the end of the decay
        0.4,  # beyond: held, not rising again
        0.4,
    ]
    assert used_lrs(schedule, 7) == pytest.approx(expected, rel=1e-15, abs=1e-15)
    assert schedule.step_count == 7


def test_cosine_with_warmup_by_hand():
    schedule = CosineSchedule(make_opt(1.0), total_steps=7, warmup_steps=3, min_lr=0.2)
    expected = [
        0.25,  # (t + 1) / (W + 1)
        0.5,
        0.75,
        1.0,  # t = W: warmup ends at the peak, where the decay starts
        0.2 + 0.8 * (1 + math.sqrt(0.5)) / 2,
        0.6,
        0.2 + 0.8 * (1 - math.sqrt(0.5)) / 2,
        0.2,  # t = T
        0.2,
        0.2,
    ]
    assert used_lrs(schedule, 10) == pytest.approx(expected, rel=1e-15, abs=1e-15)


def test_cosine_last_step_before_total_is_above_min_lr():
    schedule = CosineSchedule(make_opt(0.1), total_steps=1000, warmup_steps=100, min_lr=0.001)
    last = schedule.lr_at(999)
    assert 0.001 < last < 0.001 + 1e-6
    assert schedule.lr_at(1000) == schedule.lr_at(10**9) == 0.001
    assert schedule.lr_at(99) == 0.1 * 100 / 101
    assert schedule.lr_at(100) == 0.1
    # monotone: up during warmup, down after
    lrs = [schedule.lr_at(t) for t in range(1100)]
    assert all(a < b for a, b in itertools.pairwise(lrs[:101]))
    assert all(a >= b for a, b in itertools.pairwise(lrs[100:]))


def test_cosine_total_of_one_step():
    schedule = CosineSchedule(make_opt(0.5), total_steps=1, min_lr=0.1)
    assert used_lrs(schedule, 3) == [0.5, 0.1, 0.1]


# ------------------------------------------------------------------ Step / Linear


def test_step_schedule_by_hand():
    schedule = StepSchedule(make_opt(0.8), step_size=3, gamma=0.5)
    assert used_lrs(schedule, 10) == [0.8] * 3 + [0.4] * 3 + [0.2] * 3 + [0.1]
    assert schedule.lr == schedule.get_lr() == 0.1
    assert schedule.lr_at(299) == 0.8 * 0.5**99


def test_step_schedule_default_gamma_and_gamma_zero():
    assert used_lrs(StepSchedule(make_opt(1.0), step_size=1), 3) == pytest.approx(
        [1.0, 0.1, 0.01], rel=1e-15
    )
    assert used_lrs(StepSchedule(make_opt(1.0), step_size=2, gamma=0.0), 4) == [1, 1, 0, 0]


def test_linear_schedule_by_hand():
    schedule = LinearSchedule(make_opt(2.0), total_steps=4)
    assert used_lrs(schedule, 6) == [2.0, 1.5, 1.0, 0.5, 0.0, 0.0]


def test_linear_schedule_as_warmup():
    schedule = LinearSchedule(make_opt(1.0), total_steps=4, start_factor=0.2, end_factor=1.0)
    assert used_lrs(schedule, 6) == pytest.approx([0.2, 0.4, 0.6, 0.8, 1.0, 1.0], rel=1e-15)


# ------------------------------------------------------------------------- behaviour


@pytest.mark.parametrize(
    "make",
    [
        lambda opt: CosineSchedule(opt, total_steps=10, warmup_steps=2, min_lr=0.01),
        lambda opt: StepSchedule(opt, step_size=3, gamma=0.5),
        lambda opt: LinearSchedule(opt, total_steps=10, start_factor=0.5, end_factor=0.1),
    ],
    ids=["cosine", "step", "linear"],
)
def test_construction_sets_the_first_lr_and_steps_follow_lr_at(make):
    opt = make_opt(0.3)
    schedule = make(opt)
    assert schedule.base_lr == 0.3
    assert opt.lr == schedule.lr_at(0) == schedule.lr
    for t in range(1, 15):
        schedule.step()
        assert opt.lr == schedule.lr_at(t) == schedule.get_lr() == schedule.lr
    assert repr(schedule).startswith(type(schedule).__name__ + "(")


@pytest.mark.parametrize("kind", [SGD, Adam, AdamW])
def test_schedules_drive_every_optimizer(kind):
    opt = make_opt(0.1, kind)
    schedule = CosineSchedule(opt, total_steps=4)
    schedule.step()
    assert opt.lr == pytest.approx(0.05 * (1 + math.sqrt(0.5)))


def test_a_schedule_uses_the_lr_at_construction_not_later_changes():
    opt = make_opt(1.0)
    schedule = StepSchedule(opt, step_size=1, gamma=0.5)
    opt.lr = 123.0  # overwritten by the next step: the schedule is a function of the step
    schedule.step()
    assert opt.lr == 0.5


# ------------------------------------------------------------------------- state dicts


@pytest.mark.parametrize(
    ("make", "hyper"),
    [
        (
            lambda opt: CosineSchedule(opt, total_steps=10, warmup_steps=2, min_lr=0.01),
            {"total_steps": 10, "warmup_steps": 2, "min_lr": 0.01},
        ),
        (
            lambda opt: StepSchedule(opt, step_size=3, gamma=0.5),
            {"step_size": 3, "gamma": 0.5},
        ),
        (
            lambda opt: LinearSchedule(opt, total_steps=10, start_factor=0.5),
            {"total_steps": 10, "start_factor": 0.5, "end_factor": 0.0},
        ),
    ],
    ids=["cosine", "step", "linear"],
)
def test_state_dict_round_trip(make, hyper):
    schedule = make(make_opt(0.3))
    for _ in range(4):
        schedule.step()
    state = schedule.state_dict()
    assert state == {
        "type": type(schedule).__name__,
        "step": 4,
        "base_lr": 0.3,
        "hyperparameters": hyper,
    }
    opt = make_opt(5.0)  # another base lr, restored from the state
    fresh = type(schedule)(opt, **hyper)
    fresh.load_state_dict(state)
    assert fresh.state_dict() == state
    assert opt.lr == schedule.optimizer.lr  # the optimizer gets the restored lr at once
    for _ in range(12):
        schedule.step()
        fresh.step()
        assert fresh.lr == schedule.lr


def test_load_state_dict_restores_hyperparameters():
    a = CosineSchedule(make_opt(1.0), total_steps=100, warmup_steps=10, min_lr=0.5)
    b = CosineSchedule(make_opt(1.0), total_steps=5)
    b.load_state_dict(a.state_dict())
    assert (b.total_steps, b.warmup_steps, b.min_lr) == (100, 10, 0.5)


def test_load_state_dict_refuses_what_does_not_fit_and_changes_nothing():
    opt = make_opt(1.0)
    schedule = CosineSchedule(opt, total_steps=10)
    schedule.step()
    before, lr = schedule.state_dict(), opt.lr
    good = CosineSchedule(make_opt(1.0), total_steps=10).state_dict()
    bad_states = {
        "not a state": "not a schedule state dict",
        "type": ({**good, "type": "StepSchedule"}, "is of a StepSchedule schedule"),
        "step": ({**good, "step": -1}, "step must be an integer from 0"),
        "step bool": ({**good, "step": True}, "step must be an integer"),
        "step huge": ({**good, "step": 2**64}, "step must be an integer from 0"),
        "base_lr": ({**good, "base_lr": float("nan")}, "base_lr must be a finite number"),
        "hyper keys": (
            {**good, "hyperparameters": {"total_steps": 10}},
            "hyperparameters ['total_steps'] do not match",
        ),
        "hyper value": (
            {**good, "hyperparameters": {"total_steps": 0, "warmup_steps": 0, "min_lr": 0.0}},
            "total_steps must be a positive integer",
        ),
        "min above base": (
            {**good, "base_lr": 0.1, "hyperparameters": {**good["hyperparameters"], "min_lr": 1}},
            "min_lr must be at most the optimizer's lr",
        ),
    }
    for name, case in bad_states.items():
        state, message = case if isinstance(case, tuple) else ({"x": 1}, case)
        with pytest.raises(ValueError, match=message.replace("(", r"\(").replace("[", r"\[")):
            schedule.load_state_dict(state)
        assert schedule.state_dict() == before, name
        assert opt.lr == lr, name


# ------------------------------------------------------------------- argument checks


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda o: CosineSchedule(o, total_steps=0), "total_steps must be a positive integer"),
        (lambda o: CosineSchedule(o, total_steps=2.5), "total_steps must be a positive integer"),
        (lambda o: CosineSchedule(o, total_steps=True), "total_steps must be a positive integer"),
        (
            lambda o: CosineSchedule(o, total_steps=10, warmup_steps=-1),
            "warmup_steps must be an integer >= 0",
        ),
        (
            lambda o: CosineSchedule(o, total_steps=10, warmup_steps=10),
            r"warmup_steps must be less than total_steps \(10\), got 10",
        ),
        (lambda o: CosineSchedule(o, 10, min_lr=-0.1), "min_lr must be a finite number >= 0"),
        (lambda o: CosineSchedule(o, 10, min_lr=math.inf), "min_lr must be a finite number"),
        (
            lambda o: CosineSchedule(o, 10, min_lr=2.0),
            r"min_lr must be at most the optimizer's lr \(1.0\)",
        ),
        (lambda o: StepSchedule(o, step_size=0), "step_size must be a positive integer"),
        (lambda o: StepSchedule(o, step_size="3"), "step_size must be a positive integer"),
        (lambda o: StepSchedule(o, 3, gamma=-0.5), "gamma must be a finite number >= 0"),
        (lambda o: StepSchedule(o, 3, gamma=math.nan), "gamma must be a finite number >= 0"),
        (lambda o: LinearSchedule(o, total_steps=-3), "total_steps must be a positive integer"),
        (lambda o: LinearSchedule(o, 3, start_factor=-1), "start_factor must be a finite"),
        (lambda o: LinearSchedule(o, 3, end_factor=math.inf), "end_factor must be a finite"),
    ],
)
def test_bad_arguments_are_refused_naming_the_argument(make, message):
    opt = make_opt(1.0)
    with pytest.raises(ValueError, match=message):
        make(opt)
    assert opt.lr == 1.0  # untouched


def test_numpy_integers_are_accepted():
    schedule = CosineSchedule(make_opt(), total_steps=np.int64(10), warmup_steps=np.int32(2))
    assert type(schedule.total_steps) is int
    assert type(schedule.state_dict()["hyperparameters"]["warmup_steps"]) is int


def test_optimizer_must_be_an_optimizer_with_an_lr():
    with pytest.raises(TypeError, match=r"optimizer must be a minigrad\.nn\.Optimizer, got list"):
        CosineSchedule([Tensor([1.0])], total_steps=10)
    opt = make_opt()
    opt.lr = math.nan
    with pytest.raises(ValueError, match="SGD has no learning rate to schedule: its lr is nan"):
        StepSchedule(opt, step_size=1)


def test_custom_schedule_gets_stepping_and_state_for_free():
    class Inverse(LRSchedule):
        hyperparameter_names = ("scale",)

        def __init__(self, optimizer, scale):
            super().__init__(optimizer, scale=scale)

        def lr_at(self, step):
            return self.base_lr / (1 + step / self.scale)

    opt = make_opt(1.0)
    schedule = Inverse(opt, scale=2)
    assert used_lrs(schedule, 3) == [1.0, 1 / 1.5, 0.5]
    fresh = Inverse(make_opt(9.0), scale=1)
    fresh.load_state_dict(schedule.state_dict())
    assert (fresh.scale, fresh.step_count, fresh.lr) == (2, 3, 0.4)
    with pytest.raises(TypeError, match=r"Inverse takes the hyperparameters \['scale'\]"):
        LRSchedule.__init__(schedule, opt, other=1)
    with pytest.raises(NotImplementedError, match="LRSchedule does not implement lr_at"):
        LRSchedule(opt)
