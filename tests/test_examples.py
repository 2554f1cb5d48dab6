"""Run every example as a user would, in quick mode, and check what it reports and writes.

Each example runs in its own interpreter (``sys.executable``) inside a temporary folder,
so nothing is written into the repository. Needs the three packages and the examples'
requirements installed (the nox ``examples`` session does both).
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SCRIPTS = [
    "train_xor.py",
    "train_classification.py",
    "train_regression.py",
    "train_with_save.py",
    "train_long.py",
    "train_digits_cnn.py",
]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
EXIT_REFUSED = 2
EXIT_INTERRUPTED = 130
TIMEOUT = 600  # a hung example must fail the run, not stall it


def run(script: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run one example with `args` in `cwd`; return the finished process."""
    return subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def succeeded(result: subprocess.CompletedProcess[str]) -> str:
    """Assert a clean, successful run; return its standard output."""
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    assert "Warning" not in result.stderr, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    return result.stdout


def rejected_option(result: subprocess.CompletedProcess[str], script: str) -> str:
    """Assert argparse's refusal: status 2, usage and one error line; return that line."""
    assert result.returncode == EXIT_REFUSED, f"{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"usage: {script} "), result.stderr
    assert lines[-1].startswith(f"{script}: error: argument "), result.stderr
    return lines[-1]


def refused(result: subprocess.CompletedProcess[str]) -> str:
    """Assert that train_long.py refused to run: status 2, one line on stderr; return it."""
    assert result.returncode == EXIT_REFUSED, f"{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stdout == "", "it printed as if it trained"
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("train_long.py: error: "), lines[0]
    return lines[0]


def assert_png(path: Path) -> None:
    assert path.is_file(), f"{path} was not written"
    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC), f"{path} is not a PNG"
    assert len(data) > 10_000, f"{path} is suspiciously small ({len(data)} bytes)"


def npz_contents(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}


def assert_same_files(first: Path, second: Path) -> None:
    """Two .npz files hold the same arrays, bit for bit (weights, optimizer, history)."""
    a, b = npz_contents(first), npz_contents(second)
    assert sorted(a) == sorted(b)
    assert any(name.startswith("params/") for name in a), sorted(a)
    different = [name for name in a if not np.array_equal(a[name], b[name])]
    assert different == [], f"differ between the runs: {different}"


# --- every example ------------------------------------------------------------------------


@pytest.mark.parametrize("script", SCRIPTS)
def test_help_lists_the_common_options(script: str, tmp_path: Path) -> None:
    out = succeeded(run(script, "--help", cwd=tmp_path))
    assert out.startswith("usage:")
    for option in ("--steps", "--seed", "--quick"):
        assert option in out
    assert list(tmp_path.iterdir()) == []  # --help writes nothing


@pytest.mark.parametrize(
    ("script", "args"),
    [
        ("train_xor.py", ["--steps", "1"]),
        ("train_classification.py", ["--steps", "1"]),
        ("train_regression.py", ["--steps", "1"]),
        ("train_with_save.py", ["--steps", "1"]),
        ("train_long.py", ["--steps", "20", "--samples", "200", "--no-progress"]),
        ("train_digits_cnn.py", ["--steps", "1", "--no-progress"]),
    ],
)
def test_missing_the_target_exits_non_zero(script: str, args: list[str], tmp_path: Path) -> None:
    result = run(script, *args, cwd=tmp_path)
    assert result.returncode == 1, f"{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr


BAD_OPTIONS = [
    *[
        (script, ["--steps", "0"], "argument --steps: must be at least 1, got 0")
        for script in SCRIPTS
    ],
    *[
        (script, ["--seed", "-1"], "argument --seed: must be at least 0, got -1")
        for script in SCRIPTS
    ],
    ("train_long.py", ["--samples", "3"], "argument --samples: must be at least 5"),
    ("train_long.py", ["--stop-after", "0"], "argument --stop-after: must be at least 1"),
    ("train_long.py", ["--lr", "-1"], "argument --lr: must be a positive number, got -1.0"),
    ("train_long.py", ["--lr", "0"], "argument --lr: must be a positive number, got 0.0"),
    ("train_long.py", ["--lr", "nan"], "argument --lr: must be a positive number, got nan"),
    ("train_long.py", ["--resume", "--overwrite"], "argument --overwrite: not allowed with"),
    ("train_long.py", ["--checkpoint-dir", "a-file"], "argument --checkpoint-dir: a-file is not"),
    ("train_long.py", ["--plot", "."], "argument --plot: . is a folder"),
    ("train_with_save.py", ["--out-dir", "a-file"], "argument --out-dir: a-file is not a folder"),
]


@pytest.mark.parametrize(
    ("script", "args", "message"),
    BAD_OPTIONS,
    ids=[f"{script} {' '.join(args)}" for script, args, _ in BAD_OPTIONS],
)
def test_a_bad_option_is_refused_in_one_line_before_any_work(
    script: str, args: list[str], message: str, tmp_path: Path
) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    line = rejected_option(run(script, *args, "--quick", cwd=tmp_path), script)
    assert line.startswith(f"{script}: error: {message}"), line
    assert [p.name for p in tmp_path.iterdir()] == ["a-file"]  # nothing written


def test_xor_learns_all_four_points(tmp_path: Path) -> None:
    out = succeeded(run("train_xor.py", "--quick", cwd=tmp_path))
    assert "accuracy 100%" in out
    assert len(re.findall(r"^  \d xor \d = \d   model: 0\.\d{3}$", out, re.MULTILINE)) == 4


def test_classification_reaches_its_target_and_plots(tmp_path: Path) -> None:
    out = succeeded(run("train_classification.py", "--quick", "--plot", "moons.png", cwd=tmp_path))
    match = re.search(r"train accuracy ([\d.]+)% on 40 points", out)
    assert match is not None, out
    assert float(match.group(1)) >= 95.0
    assert_png(tmp_path / "moons.png")


def test_regression_reaches_its_r2(tmp_path: Path) -> None:
    out = succeeded(run("train_regression.py", "--quick", cwd=tmp_path))
    match = re.search(r"R2 ([\d.]+) on 50 samples", out)
    assert match is not None, out
    assert float(match.group(1)) >= 0.95


def test_save_load_and_resume_give_identical_results(tmp_path: Path) -> None:
    out = succeeded(run("train_with_save.py", "--quick", "--out-dir", "models", cwd=tmp_path))
    assert "predictions identical: True" in out
    assert "weights of running and resumed model identical: True" in out
    assert (tmp_path / "models" / "moons_model.npz").is_file()
    assert (tmp_path / "models" / "moons_checkpoint.npz").is_file()


def test_digits_cnn_reaches_its_target_and_plots(tmp_path: Path) -> None:
    result = run(
        "train_digits_cnn.py", "--quick", "--no-progress", "--plot", "out/digits.png", cwd=tmp_path
    )
    out = succeeded(result)
    match = re.search(r"test accuracy ([\d.]+)% on 360 digits", out)
    assert match is not None, out
    assert float(match.group(1)) >= 97.0
    assert "OK: test accuracy" in out
    assert_png(tmp_path / "out" / "digits.png")
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # nothing else written


# --- train_long: checkpoints, plot, resume, Ctrl-C -----------------------------------------


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One full quick run of train_long.py (1,500 steps): its folder and its output."""
    folder = tmp_path_factory.mktemp("uninterrupted")
    result = run("train_long.py", "--quick", "--plot", "long.png", cwd=folder)
    return folder, succeeded(result)


def test_long_run_reaches_its_target_with_checkpoints_and_plot(
    uninterrupted: tuple[Path, str],
) -> None:
    folder, out = uninterrupted
    match = re.search(r"test accuracy ([\d.]+)%", out)
    assert match is not None, out
    assert float(match.group(1)) >= 90.0
    names = sorted(p.name for p in (folder / "checkpoints").iterdir())
    assert names == ["step-000500.npz", "step-001000.npz", "step-001500.npz"]
    assert_png(folder / "long.png")


def test_stop_and_resume_give_bit_identical_parameters(
    uninterrupted: tuple[Path, str], tmp_path: Path
) -> None:
    first = run("train_long.py", "--quick", "--no-progress", "--stop-after", "700", cwd=tmp_path)
    assert first.returncode == EXIT_INTERRUPTED, first.stdout + first.stderr
    assert "stopped at step 700" in first.stdout
    assert (tmp_path / "checkpoints" / "step-000700.npz").is_file()

    out = succeeded(run("train_long.py", "--quick", "--no-progress", "--resume", cwd=tmp_path))
    assert "resumed from" in out
    assert "at step 700" in out
    assert_same_files(
        uninterrupted[0] / "checkpoints" / "step-001500.npz",
        tmp_path / "checkpoints" / "step-001500.npz",
    )


def test_ctrl_c_saves_a_checkpoint_and_resume_matches_an_uninterrupted_run(
    tmp_path: Path,
) -> None:
    # So many steps that the run cannot end before the signal, however late it comes:
    # the comparison below stops both runs with --stop-after instead.
    args = ["--quick", "--steps", "1000000", "--checkpoint-every", "100", "--no-progress"]
    interrupted = tmp_path / "interrupted"
    interrupted.mkdir()
    process = subprocess.Popen(
        [sys.executable, str(EXAMPLES / "train_long.py"), *args],
        cwd=interrupted,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # A checkpoint is written only inside the training loop, where Ctrl-C is handled, and
    # one stays in the folder from then on (--keep deletes old ones only after a new one).
    try:
        deadline = time.monotonic() + TIMEOUT
        while not any((interrupted / "checkpoints").glob("step-*.npz")):
            assert process.poll() is None, "train_long.py ended before its first checkpoint"
            assert time.monotonic() < deadline, "no checkpoint appeared"
            time.sleep(0.01)
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=120)  # one step and a save
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == EXIT_INTERRUPTED, stdout + stderr
    assert "Traceback" not in stderr, stderr
    match = re.search(r"stopped at step (\d+); checkpoint saved to (\S+)", stdout)
    assert match is not None, stdout
    step = int(match.group(1))
    assert step >= 100
    assert (interrupted / match.group(2)).is_file()

    resumed = run("train_long.py", *args, "--resume", "--stop-after", "200", cwd=interrupted)
    assert resumed.returncode == EXIT_INTERRUPTED, resumed.stdout + resumed.stderr
    assert f"at step {step}\n" in resumed.stdout
    assert f"stopped at step {step + 200};" in resumed.stdout

    reference = tmp_path / "reference"
    reference.mkdir()
    straight = run("train_long.py", *args, "--stop-after", str(step + 200), cwd=reference)
    assert straight.returncode == EXIT_INTERRUPTED, straight.stdout + straight.stderr
    name = f"step-{step + 200:06d}.npz"
    assert_same_files(reference / "checkpoints" / name, interrupted / "checkpoints" / name)


def copy_checkpoint(uninterrupted: tuple[Path, str], folder: Path) -> Path:
    """Copy the last checkpoint of the uninterrupted quick run into `folder`/checkpoints."""
    target = folder / "checkpoints" / "step-001500.npz"
    target.parent.mkdir()
    target.write_bytes((uninterrupted[0] / "checkpoints" / target.name).read_bytes())
    return target


@pytest.mark.parametrize(
    ("options", "differ"),
    [
        (["--seed", "1"], "--seed 0 (this run: 1)"),
        (["--steps", "3000"], "--steps 1500 (this run: 3000)"),
        (["--lr", "0.02", "--samples", "900"], "--samples 1000 (this run: 900), --lr 0.01"),
    ],
)
def test_resume_refuses_a_checkpoint_written_with_other_options(
    uninterrupted: tuple[Path, str], tmp_path: Path, options: list[str], differ: str
) -> None:
    checkpoint = copy_checkpoint(uninterrupted, tmp_path)
    before = checkpoint.read_bytes()
    line = refused(run("train_long.py", "--quick", *options, "--resume", cwd=tmp_path))
    assert f"checkpoints/step-001500.npz was written with {differ}" in line
    assert "--overwrite" in line
    assert checkpoint.read_bytes() == before


@pytest.mark.parametrize("damage", ["truncated", "not an archive"])
def test_resume_refuses_a_damaged_checkpoint(
    uninterrupted: tuple[Path, str], tmp_path: Path, damage: str
) -> None:
    checkpoint = copy_checkpoint(uninterrupted, tmp_path)
    data = checkpoint.read_bytes()
    checkpoint.write_bytes(data[: len(data) // 2] if damage == "truncated" else b"left over")
    line = refused(run("train_long.py", "--quick", "--resume", cwd=tmp_path))
    assert "cannot resume from checkpoints/step-001500.npz: " in line
    assert "delete that file" in line


def test_resume_without_a_checkpoint_says_so(tmp_path: Path) -> None:
    line = refused(run("train_long.py", "--quick", "--resume", cwd=tmp_path))
    assert "no checkpoint step-*.npz in checkpoints" in line
    assert not (tmp_path / "checkpoints").exists()


def test_a_run_refuses_to_delete_the_checkpoints_of_an_earlier_run(tmp_path: Path) -> None:
    old = tmp_path / "checkpoints" / "step-009000.npz"
    old.parent.mkdir()
    old.write_bytes(b"left over from another run")
    for quick in ([], ["--quick"]):
        line = refused(run("train_long.py", *quick, cwd=tmp_path))
        assert "folder checkpoints already holds step-*.npz files (newest step-009000.npz)" in line
        assert "--resume" in line
        assert "--overwrite" in line
    assert [p.name for p in old.parent.iterdir()] == [old.name]
    assert old.read_bytes() == b"left over from another run"


def test_overwrite_replaces_old_checkpoints_and_keeps_the_newest_three(tmp_path: Path) -> None:
    old = tmp_path / "checkpoints" / "step-009000.npz"
    old.parent.mkdir()
    old.write_bytes(b"left over from another run")
    args = ["--quick", "--steps", "400", "--checkpoint-every", "50", "--no-progress"]
    result = run("train_long.py", *args, "--overwrite", cwd=tmp_path)
    assert result.returncode in (0, 1), result.stderr  # 400 steps may miss the target
    names = sorted(p.name for p in old.parent.iterdir())
    assert names == ["step-000300.npz", "step-000350.npz", "step-000400.npz"]
