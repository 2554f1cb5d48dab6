"""Checkpoints with learning-rate schedules: exact resumption, old files, refusals."""

from __future__ import annotations

import json

import numpy as np
import pytest

from minigrad import Tensor
from minigrad.nn import (
    MLP,
    SGD,
    Adam,
    AdamW,
    CosineSchedule,
    LinearSchedule,
    ModelFileError,
    StepSchedule,
    binary_cross_entropy_with_logits,
    clip_grad_norm,
    load_checkpoint,
    save_checkpoint,
)

RNG = np.random.default_rng(0)
X = Tensor(RNG.normal(size=(64, 2)), requires_grad=False)
Y = (X.data[:, :1] * X.data[:, 1:] > 0).astype(float)
N = 30

SCHEDULES = {
    "cosine-warmup": lambda opt: CosineSchedule(opt, total_steps=N, warmup_steps=5, min_lr=1e-3),
    "cosine-beyond-total": lambda opt: CosineSchedule(opt, total_steps=N - 8),
    "step": lambda opt: StepSchedule(opt, step_size=4, gamma=0.7),
    "linear": lambda opt: LinearSchedule(opt, total_steps=N, start_factor=1.0, end_factor=0.05),
}
OPTIMIZERS = {
    "adamw": lambda params: AdamW(params, lr=0.05, weight_decay=0.1),
    "adam": lambda params: Adam(params, lr=0.05),
    "sgd": lambda params: SGD(params, lr=0.5, momentum=0.9),
}


def train(model, opt, schedule, steps):
    for _ in range(steps):
        opt.zero_grad()
        binary_cross_entropy_with_logits(model(X), Y).backward()
        clip_grad_norm(model.parameters(), max_norm=0.5)
        opt.step()
        schedule.step()


@pytest.mark.parametrize("make_opt", OPTIMIZERS.values(), ids=OPTIMIZERS.keys())
@pytest.mark.parametrize("make_schedule", SCHEDULES.values(), ids=SCHEDULES.keys())
def test_resume_with_a_schedule_is_bit_identical(tmp_path, make_opt, make_schedule):
    straight = MLP(2, [16, 16, 1], seed=0)
    straight_opt = make_opt(straight.parameters())
    straight_schedule = make_schedule(straight_opt)
    train(straight, straight_opt, straight_schedule, N)

    first = MLP(2, [16, 16, 1], seed=0)
    opt = make_opt(first.parameters())
    schedule = make_schedule(opt)
    train(first, opt, schedule, N // 2)
    path = save_checkpoint(tmp_path / "ckpt", first, opt, step=N // 2, schedule=schedule)

    fresh = MLP(2, [16, 16, 1], seed=7)
    fresh_opt = make_opt(fresh.parameters())
    fresh_opt.lr = 3.0  # the schedule's base is restored from the file, not taken from here
    fresh_schedule = make_schedule(fresh_opt)
    assert load_checkpoint(path, fresh, fresh_opt, schedule=fresh_schedule) == {"step": N // 2}
    assert fresh_schedule.step_count == N // 2
    assert fresh_opt.lr == opt.lr
    train(fresh, fresh_opt, fresh_schedule, N - N // 2)

    for (name, a), (_, b) in zip(
        straight.named_parameters(), fresh.named_parameters(), strict=True
    ):
        assert np.array_equal(a.data, b.data), name
    assert fresh_opt.lr == straight_opt.lr
    assert fresh_schedule.state_dict() == straight_schedule.state_dict()
    assert fresh_opt.state_dict()["hyperparameters"] == straight_opt.state_dict()["hyperparameters"]


def header_of(path):
    with np.load(path, allow_pickle=False) as npz:
        return json.loads(npz["header"].tobytes())


def test_the_schedule_state_is_in_the_header(tmp_path):
    model = MLP(2, [4, 1], seed=0)
    opt = AdamW(model.parameters(), lr=0.01)
    schedule = CosineSchedule(opt, total_steps=100, warmup_steps=10)
    schedule.step()
    path = save_checkpoint(tmp_path / "c", model, opt, step=1, schedule=schedule)
    assert header_of(path)["schedule"] == schedule.state_dict()
    assert header_of(save_checkpoint(tmp_path / "d", model, opt))["schedule"] is None
    assert header_of(model.save(tmp_path / "m"))["schedule"] is None


def write_without_schedule_key(path):
    """Rewrite a file as writers before schedules did: no 'schedule' in the header."""
    with np.load(path, allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}
    header = json.loads(arrays["header"].tobytes())
    del header["schedule"]
    arrays["header"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    np.savez_compressed(path, **arrays)


def test_files_without_a_schedule_load_as_before(tmp_path):
    model = MLP(2, [4, 1], seed=0)
    opt = Adam(model.parameters(), lr=0.01)
    path = save_checkpoint(tmp_path / "old", model, opt, step=3, note="x")
    write_without_schedule_key(path)
    fresh = MLP(2, [4, 1], seed=1)
    fresh_opt = Adam(fresh.parameters())
    assert load_checkpoint(path, fresh, fresh_opt) == {"step": 3, "note": "x"}
    assert np.array_equal(fresh.layers[0].W.data, model.layers[0].W.data)
    assert MLP.load(path).layers[0].W.shape == (2, 4)

    schedule = StepSchedule(fresh_opt, step_size=2)
    with pytest.raises(ModelFileError, match="holds no learning-rate schedule state; load it"):
        load_checkpoint(path, fresh, fresh_opt, schedule=schedule)


def test_a_schedule_that_does_not_fit_changes_nothing(tmp_path):
    model = MLP(2, [4, 1], seed=0)
    opt = Adam(model.parameters(), lr=0.01)
    schedule = StepSchedule(opt, step_size=2)
    for _ in range(3):
        schedule.step()
    path = save_checkpoint(tmp_path / "c", model, opt, step=3, schedule=schedule)

    fresh = MLP(2, [4, 1], seed=1)
    fresh_opt = Adam(fresh.parameters(), lr=0.5)
    other = CosineSchedule(fresh_opt, total_steps=10)
    weights = fresh.layers[0].W.data.copy()
    with pytest.raises(ModelFileError, match=r"the schedule state does not fit: .* StepSchedule"):
        load_checkpoint(path, fresh, fresh_opt, schedule=other)
    assert np.array_equal(fresh.layers[0].W.data, weights)
    assert fresh_opt.step_count == 0 and fresh_opt.lr == 0.5
    assert other.step_count == 0


def test_schedule_argument_checks(tmp_path):
    model = MLP(2, [4, 1], seed=0)
    opt = Adam(model.parameters())
    other_opt = Adam(model.parameters())
    schedule = StepSchedule(other_opt, step_size=2)
    with pytest.raises(TypeError, match=r"schedule must be a minigrad\.nn\.LRSchedule or None"):
        save_checkpoint(tmp_path / "c", model, opt, schedule="cosine")
    with pytest.raises(ValueError, match="the schedule drives another optimizer"):
        save_checkpoint(tmp_path / "c", model, opt, schedule=schedule)
    assert not (tmp_path / "c.npz").exists()
    path = save_checkpoint(tmp_path / "c", model, other_opt, schedule=schedule)
    with pytest.raises(ValueError, match="the schedule drives another optimizer"):
        load_checkpoint(path, model, opt, schedule=schedule)
    # a schedule alone, without its optimizer, saves and loads too
    path = save_checkpoint(tmp_path / "s", model, schedule=schedule)
    load_checkpoint(path, model, schedule=StepSchedule(Adam(model.parameters()), step_size=9))
