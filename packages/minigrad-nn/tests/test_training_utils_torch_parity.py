"""AdamW, the learning-rate schedules and clip_grad_norm agree with PyTorch's.

PyTorch is not a dependency of minigrad-nn: these tests run only where it is installed
and are skipped elsewhere. Everything runs in float64 on the same inputs in both
libraries and is compared at a relative tolerance of 1e-7 or better.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from minigrad import Tensor
from minigrad.nn import (
    SGD,
    AdamW,
    CosineSchedule,
    LinearSchedule,
    StepSchedule,
    clip_grad_norm,
)

torch = pytest.importorskip("torch")

RTOL = 1e-7


@pytest.mark.parametrize(
    "hyper",
    [
        {"lr": 1e-3, "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 1e-2},
        {"lr": 0.05, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.3},
    ],
)
def test_adamw_matches_torch_over_100_steps(hyper):
    rng = np.random.default_rng(0)
    shapes = [(4, 3), (3,), (3, 2)]
    inits = [rng.normal(size=s) for s in shapes]
    grads = [[rng.normal(size=s) for s in shapes] for _ in range(100)]

    ours = [Tensor(a.copy()) for a in inits]
    theirs = [torch.tensor(a.copy(), dtype=torch.float64, requires_grad=True) for a in inits]
    opt = AdamW(ours, **hyper)
    torch_opt = torch.optim.AdamW(theirs, **hyper)
    for step, step_grads in enumerate(grads, start=1):
        for p, q, g in zip(ours, theirs, step_grads, strict=True):
            # a gradient that depends on the parameter, so that errors would compound
            p.grad = g + p.data
            q.grad = torch.tensor(g, dtype=torch.float64) + q.detach()
        opt.step()
        torch_opt.step()
        for p, q in zip(ours, theirs, strict=True):
            np.testing.assert_allclose(
                p.data, q.detach().numpy(), rtol=RTOL, atol=1e-15, err_msg=f"step {step}"
            )


def lr_sequence(make_scheduler, steps, lr=0.1):
    """The lr PyTorch uses at each of ``steps`` training steps."""
    param = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([param], lr=lr)
    scheduler = make_scheduler(opt)
    used = []
    for _ in range(steps):
        used.append(opt.param_groups[0]["lr"])
        param.grad = torch.zeros(1)
        opt.step()
        scheduler.step()
    return used


def our_sequence(make_schedule, steps, lr=0.1):
    opt = SGD([Tensor([0.0])], lr=lr)
    schedule = make_schedule(opt)
    used = []
    for _ in range(steps):
        used.append(opt.lr)
        opt.step()
        schedule.step()
    return used


@pytest.mark.parametrize(("total", "min_lr"), [(50, 0.0), (37, 0.004), (1, 0.01)])
def test_cosine_without_warmup_is_cosine_annealing(total, min_lr):
    sched = torch.optim.lr_scheduler
    expected = lr_sequence(
        lambda o: sched.CosineAnnealingLR(o, T_max=total, eta_min=min_lr), total + 1
    )
    ours = our_sequence(lambda o: CosineSchedule(o, total_steps=total, min_lr=min_lr), total + 1)
    np.testing.assert_allclose(ours, expected, rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize(("total", "warmup", "min_lr"), [(50, 10, 0.0), (20, 1, 0.003)])
def test_cosine_with_warmup_is_linear_then_cosine_annealing(total, warmup, min_lr):
    sched = torch.optim.lr_scheduler

    def make(opt):
        warm = sched.LinearLR(opt, start_factor=1 / (warmup + 1), total_iters=warmup)
        decay = sched.CosineAnnealingLR(opt, T_max=total - warmup, eta_min=min_lr)
        return sched.SequentialLR(opt, [warm, decay], milestones=[warmup])

    expected = lr_sequence(make, total + 1)
    ours = our_sequence(
        lambda o: CosineSchedule(o, total_steps=total, warmup_steps=warmup, min_lr=min_lr),
        total + 1,
    )
    np.testing.assert_allclose(ours, expected, rtol=1e-9, atol=1e-15)


@pytest.mark.parametrize(("step_size", "gamma"), [(3, 0.5), (1, 0.9), (10, 0.1)])
def test_step_schedule_is_step_lr(step_size, gamma):
    sched = torch.optim.lr_scheduler
    expected = lr_sequence(lambda o: sched.StepLR(o, step_size=step_size, gamma=gamma), 60)
    ours = our_sequence(lambda o: StepSchedule(o, step_size=step_size, gamma=gamma), 60)
    np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=0)


@pytest.mark.parametrize(("start", "end", "total"), [(1.0, 0.1, 20), (0.25, 1.0, 5), (1.0, 0.0, 7)])
def test_linear_schedule_is_linear_lr(start, end, total):
    sched = torch.optim.lr_scheduler
    expected = lr_sequence(
        lambda o: sched.LinearLR(o, start_factor=start, end_factor=end, total_iters=total), 30
    )
    ours = our_sequence(
        lambda o: LinearSchedule(o, total_steps=total, start_factor=start, end_factor=end), 30
    )
    np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clip_grad_norm_matches_clip_grad_norm_(norm_type, max_norm):
    rng = np.random.default_rng(1)
    shapes = [(5, 4), (4,), ()]
    if norm_type != math.inf:  # PyTorch has no infinity norm of an empty tensor (ours is 0)
        shapes.append((0, 3))
    grads = [rng.normal(scale=2.0, size=s) for s in shapes]
    ours = [Tensor(np.zeros(s)) for s in shapes]
    theirs = [torch.zeros(s, dtype=torch.float64, requires_grad=True) for s in shapes]
    for p, q, g in zip(ours, theirs, grads, strict=True):
        p.grad = g.copy()
        q.grad = torch.tensor(g, dtype=torch.float64)
    total = clip_grad_norm(ours, max_norm, norm_type=norm_type)
    torch_total = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert total == pytest.approx(torch_total.item(), rel=1e-12)
    for p, q in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(p.grad, q.grad.numpy(), rtol=1e-12, atol=0)


@pytest.mark.parametrize("bad", [math.inf, math.nan])
def test_clip_grad_norm_non_finite_matches_torch(bad):
    grads = [np.array([bad, 1.0]), np.array([2.0, -3.0])]
    ours = [Tensor(np.zeros(2)) for _ in grads]
    theirs = [torch.zeros(2, dtype=torch.float64, requires_grad=True) for _ in grads]
    for p, q, g in zip(ours, theirs, grads, strict=True):
        p.grad = g.copy()
        q.grad = torch.tensor(g, dtype=torch.float64)
    total = clip_grad_norm(ours, 1.0)
    torch_total = torch.nn.utils.clip_grad_norm_(theirs, 1.0)
    np.testing.assert_equal(total, torch_total.item())
    for p, q in zip(ours, theirs, strict=True):
        np.testing.assert_equal(p.grad, q.grad.numpy())
    with pytest.raises(RuntimeError):
        torch.nn.utils.clip_grad_norm_(theirs, 1.0, error_if_nonfinite=True)
    with pytest.raises(RuntimeError):
        clip_grad_norm(ours, 1.0, error_if_nonfinite=True)
