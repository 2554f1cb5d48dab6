"""The examples under misuse: two runs on one folder, odd paths, a missing tqdm, no --out-dir.

Each example runs in its own interpreter inside a temporary folder, with few steps, as
in ``test_examples.py``; these tests check what a run refuses and what it leaves behind.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
EXIT_REFUSED = 2
EXIT_INTERRUPTED = 130
TIMEOUT = 600
LOCK = "train_long.lock"
# A short train_long run: it may miss its target (exit 1), which these tests allow.
SHORT = ["--quick", "--steps", "100", "--samples", "200", "--checkpoint-every", "50"]


def run(
    script: str, *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
        env=env,
    )


def finished(result: subprocess.CompletedProcess[str]) -> str:
    """Assert a run that trained to the end (target reached or not); return stdout."""
    assert result.returncode in (0, 1), (
        f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result.stdout


def refused_line(result: subprocess.CompletedProcess[str], script: str) -> str:
    """Assert a refusal before any training: status 2, its last stderr line; return it."""
    assert result.returncode == EXIT_REFUSED, f"{result.stdout}\n{result.stderr}"
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stdout == "", "it printed as if it trained"
    line = result.stderr.splitlines()[-1]
    assert line.startswith(f"{script}: error: "), result.stderr
    return line


def files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def dead_pid() -> int:
    """The id of a process that has ended (and been reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


# --- train_long.py: one run per checkpoint folder -----------------------------------------


@pytest.mark.skipif(os.name == "nt", reason="process checks and SIGINT are POSIX here")
def test_a_second_run_on_the_same_folder_refuses_at_once(tmp_path: Path) -> None:
    args = ["--quick", "--steps", "1000000", "--checkpoint-every", "50", "--no-progress"]
    first = subprocess.Popen(
        [sys.executable, str(EXAMPLES / "train_long.py"), *args, "--keep", "1"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    folder = tmp_path / "checkpoints"
    try:
        deadline = time.monotonic() + TIMEOUT
        while not any(folder.glob("step-*.npz")):
            assert first.poll() is None, "the first run ended before its first checkpoint"
            assert time.monotonic() < deadline, "no checkpoint appeared"
            time.sleep(0.01)
        assert (folder / LOCK).read_text().splitlines()[0] == str(first.pid)

        for extra in (["--overwrite"], ["--resume"], []):
            started = time.monotonic()
            second = run("train_long.py", *args, "--keep", "1", *extra, cwd=tmp_path)
            line = refused_line(second, "train_long.py")
            assert f"in use by another run (process {first.pid}, lock file " in line
            assert LOCK in line
            assert time.monotonic() - started < 60  # at once: nothing trained
        assert first.poll() is None  # the first run goes on, its checkpoints untouched

        first.send_signal(signal.SIGINT)
        stdout, stderr = first.communicate(timeout=120)
    finally:
        if first.poll() is None:
            first.kill()
            first.communicate()
    assert first.returncode == EXIT_INTERRUPTED, stdout + stderr
    assert "Traceback" not in stderr, stderr
    # Ctrl-C removed the lock; --keep 1 left the one checkpoint it saved on the way out.
    names = files(folder)
    assert LOCK not in names
    assert len(names) == 1 and names[0].startswith("step-"), names


@pytest.mark.skipif(os.name == "nt", reason="stale locks are recognised on POSIX")
def test_a_lock_left_by_a_process_that_is_gone_is_taken_over(tmp_path: Path) -> None:
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    pid = dead_pid()
    (folder / LOCK).write_text(f"{pid}\ntrain_long.py run started long ago\n")
    out = finished(run("train_long.py", *SHORT, "--no-progress", cwd=tmp_path))
    assert f"took over the lock checkpoints/{LOCK} of process {pid}, which no longer exists" in out
    assert files(folder) == ["step-000050.npz", "step-000100.npz"]  # and the lock is gone


@pytest.mark.skipif(os.name == "nt", reason="stale locks are recognised on POSIX")
def test_of_two_runs_finding_the_same_stale_lock_exactly_one_takes_it(tmp_path: Path) -> None:
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    pid = dead_pid()
    (folder / LOCK).write_text(f"{pid}\n")
    # Long enough (about a second) for the two runs to overlap.
    options = ["--quick", "--steps", "400", "--samples", "200", "--checkpoint-every", "200"]
    command = [sys.executable, str(EXAMPLES / "train_long.py"), *options, "--no-progress"]
    runs = [
        subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=TIMEOUT) for process in runs]
    codes = sorted(process.returncode for process in runs)
    assert codes in ([0, EXIT_REFUSED], [1, EXIT_REFUSED]), outputs
    for process, (stdout, stderr) in zip(runs, outputs, strict=True):
        assert b"Traceback" not in stderr, stderr
        if process.returncode == EXIT_REFUSED:
            assert stdout == b"" and b"train_long.py: error: " in stderr
        else:
            assert f"of process {pid}, which no longer exists".encode() in stdout
    assert files(folder) == ["step-000200.npz", "step-000400.npz"]


@pytest.mark.parametrize("content", ["live", "", "not a process id\n", "-1\n", "0\n"])
def test_a_lock_of_a_live_process_or_without_a_process_id_is_respected(
    tmp_path: Path, content: str
) -> None:
    folder = tmp_path / "checkpoints"
    folder.mkdir()
    text = f"{os.getpid()}\nanother run\n" if content == "live" else content
    (folder / LOCK).write_text(text)
    line = refused_line(run("train_long.py", *SHORT, cwd=tmp_path), "train_long.py")
    assert "the checkpoint folder checkpoints is in use by another run" in line
    holder = f"process {os.getpid()}" if content == "live" else "a run that left no process id"
    assert holder in line
    assert "delete the lock file only if no run uses the folder" in line
    assert files(folder) == [LOCK] and (folder / LOCK).read_text() == text


def test_a_refused_resume_creates_no_folder_and_no_lock(tmp_path: Path) -> None:
    line = refused_line(run("train_long.py", *SHORT, "--resume", cwd=tmp_path), "train_long.py")
    assert "no checkpoint step-*.npz in checkpoints to resume" in line
    assert files(tmp_path) == []


def make_checkpoint(tmp_path: Path) -> Path:
    """Stop a short run after 50 steps: checkpoints/step-000050.npz."""
    result = run("train_long.py", *SHORT, "--no-progress", "--stop-after", "50", cwd=tmp_path)
    assert result.returncode == EXIT_INTERRUPTED, result.stdout + result.stderr
    return tmp_path / "checkpoints" / "step-000050.npz"


def test_a_folder_named_like_a_checkpoint_is_not_resumed_from(tmp_path: Path) -> None:
    checkpoint = make_checkpoint(tmp_path)
    (checkpoint.parent / "step-000099.npz").mkdir()
    out = finished(run("train_long.py", *SHORT, "--no-progress", "--resume", cwd=tmp_path))
    assert "resumed from checkpoints/step-000050.npz at step 50" in out
    assert (checkpoint.parent / "step-000099.npz").is_dir()


def test_overwrite_leaves_a_folder_named_like_a_checkpoint_alone(tmp_path: Path) -> None:
    checkpoint = make_checkpoint(tmp_path)
    (checkpoint.parent / "step-000099.npz").mkdir()
    args = [*SHORT[:2], "60", *SHORT[3:], "--no-progress", "--overwrite"]  # 60 steps
    finished(run("train_long.py", *args, cwd=tmp_path))
    assert files(checkpoint.parent) == ["step-000050.npz", "step-000060.npz", "step-000099.npz"]


# --- train_long.py without tqdm ---------------------------------------------------------------

_WITHOUT_TQDM = """
import runpy
import sys

sys.modules["tqdm"] = None  # makes "import tqdm" raise ImportError, as if not installed
script = sys.argv[1]
sys.argv = sys.argv[1:]
runpy.run_path(script, run_name="__main__")
"""


def test_train_long_runs_without_tqdm_with_a_plain_progress_report(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", _WITHOUT_TQDM, str(EXAMPLES / "train_long.py"), *SHORT],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    out = finished(result)
    assert "step 100:" in out
    lines = result.stderr.splitlines()
    assert "install tqdm" in lines[0] and "python -m pip install tqdm" in lines[0]
    assert lines[-1].startswith("step 100/100 (100%), loss ")
    assert len(lines) == 11  # the hint, then one line per tenth of the run


# --- options checked before training ----------------------------------------------------------

BAD_PATHS = [
    ("train_long.py", [*SHORT, "--plot", "out.xyz"], "argument --plot: out.xyz is not a .png"),
    ("train_long.py", [*SHORT, "--plot", "a-file/x.png"], "argument --plot: cannot write a-file"),
    ("train_long.py", [*SHORT, "--plot", "a-file/sub/x.png"], "argument --plot: cannot write"),
    (
        "train_classification.py",
        ["--quick", "--plot", "out.xyz"],
        "argument --plot: out.xyz is not a .png",
    ),
    (
        "train_classification.py",
        ["--quick", "--plot", "a-file/x.png"],
        "argument --plot: cannot write a-file/x.png: a-file is not a folder",
    ),
    (
        "train_classification.py",
        ["--quick", "--plot", "a-folder"],
        "argument --plot: a-folder is a folder",
    ),
    (
        "train_with_save.py",
        ["--quick", "--out-dir", "a-file/sub"],
        "argument --out-dir: cannot create a-file/sub: a-file is not a folder",
    ),
]


@pytest.mark.parametrize(
    ("script", "args", "message"),
    BAD_PATHS,
    ids=[f"{script} {args[-1]}" for script, args, _ in BAD_PATHS],
)
def test_an_unusable_output_path_is_refused_before_training(
    tmp_path: Path, script: str, args: list[str], message: str
) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    (tmp_path / "a-folder").mkdir()
    line = refused_line(run(script, *args, cwd=tmp_path), script)
    assert line.startswith(f"{script}: error: {message}"), line
    assert files(tmp_path) == ["a-file", "a-folder"]
    assert list((tmp_path / "a-folder").iterdir()) == []


@pytest.mark.parametrize(
    ("script", "args"),
    [("train_classification.py", ["--quick"]), ("train_long.py", [*SHORT, "--no-progress"])],
)
def test_a_plot_name_without_extension_gets_png_and_the_message_names_it(
    tmp_path: Path, script: str, args: list[str]
) -> None:
    out = finished(run(script, *args, "--plot", "plots/boundary", cwd=tmp_path))
    assert f"wrote {Path('plots/boundary.png')}\n" in out
    assert files(tmp_path / "plots") == ["boundary.png"]


# --- train_with_save.py without --out-dir ---------------------------------------------------


def test_train_with_save_without_out_dir_leaves_nothing_behind(tmp_path: Path) -> None:
    temporary, work = tmp_path / "tmp", tmp_path / "work"
    temporary.mkdir()
    work.mkdir()
    env = {**os.environ, "TMPDIR": str(temporary), "TEMP": str(temporary), "TMP": str(temporary)}
    result = run("train_with_save.py", "--quick", cwd=work, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "files in a temporary folder, removed at exit" in result.stdout
    assert files(temporary) == [] and files(work) == []
    help_text = run("train_with_save.py", "--help", cwd=work).stdout
    assert "temporary folder, removed" in help_text
