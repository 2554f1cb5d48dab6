"""Train a 5-class spiral classifier for thousands of steps, with checkpoints and resume.

The main example of minigrad: an MLP (2-64-64-5, ReLU) learns five interleaved spiral
arms from mini-batches, with Adam and a cosine learning-rate decay (``CosineSchedule``,
whose state goes into the checkpoints with the optimizer's). It shows a progress
bar with the loss and accuracy, writes a checkpoint every ``--checkpoint-every`` steps
(atomically: a crash never leaves a half-written file), and ``--resume`` continues from
the newest checkpoint to exactly the same final parameters as an uninterrupted run.
Ctrl-C saves a checkpoint at the end of the current step and exits; ``--resume`` then
picks up from there. ``--plot out.png`` draws the decision boundary and the loss curve.

One run at a time uses a checkpoint folder: a run holds the lock file
``train_long.lock`` in it (naming its process id) until it ends, and a second run
started on the same folder refuses at once. A lock left by a run that no longer exists
(killed, or the machine went down) is taken over with a message.

A run never deletes checkpoints it was not told to: when ``--checkpoint-dir`` already
holds ``step-*.npz`` files, it continues them with ``--resume`` or replaces them with
``--overwrite``, and without either it refuses to start. ``--resume`` refuses a
checkpoint written with other options (seed, samples, batch size, learning rate or
total steps), since the run would no longer be the one that was started.

Target: at least 90% accuracy on held-out points. The exit status is 0 when it is
reached, 1 when it is not, 2 when the options or the checkpoints do not allow the run
(a one-line message says why and nothing is trained), and 130 when training was stopped
early (Ctrl-C or ``--stop-after``) with a checkpoint saved.

    python examples/train_long.py --plot docs/train_long.png
    python examples/train_long.py --quick                  # a few seconds
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import re
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

# Matrices this small gain nothing from a second BLAS thread, and on a busy machine
# competing threads make every step several times slower. Set before NumPy loads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

try:
    from tqdm import tqdm
except ImportError:  # the bar is optional: PlainProgress reports instead
    tqdm = None

from minigrad import Tensor, no_grad
from minigrad.data import batches, make_spirals
from minigrad.nn import (
    MLP,
    Adam,
    CosineSchedule,
    cross_entropy,
    load_checkpoint,
    save_checkpoint,
)

TARGET_ACCURACY = 0.90
N_CLASSES = 5
CHECKPOINT_NAME = re.compile(r"^step-(\d+)\.npz$")
LOCK_NAME = "train_long.lock"
EXIT_REFUSED = 2  # as argparse's for bad options: nothing was trained
EXIT_INTERRUPTED = 130  # the shell's status for a program stopped by Ctrl-C (SIGINT)
PROG = Path(__file__).name
# The options that define a run: a checkpoint written with other values is refused.
RUN_OPTIONS = {
    "seed": "--seed",
    "samples": "--samples",
    "batch_size": "--batch-size",
    "lr": "--lr",
    "steps": "--steps",
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Train an MLP on 5-class spirals with checkpoints, resume and plots.",
        epilog="Exit status: 0 target reached, 1 target missed, 2 refused (bad options, or "
        "checkpoints that would be lost or do not fit, or another run holds the lock file "
        f"{LOCK_NAME} in --checkpoint-dir), 130 stopped early (Ctrl-C or "
        "--stop-after) after saving a checkpoint.",
    )
    parser.add_argument("--steps", type=int, help="total training steps (default 5000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of data, model, batches")
    parser.add_argument(
        "--quick", action="store_true", help="small run of a few seconds (for tests)"
    )
    parser.add_argument("--samples", type=int, help="training points (default 2000)")
    parser.add_argument("--batch-size", type=int, default=128, help="mini-batch size")
    parser.add_argument("--lr", type=float, default=0.01, help="peak Adam learning rate")
    parser.add_argument(
        "--checkpoint-dir",
        type=Path,
        default=Path("checkpoints"),
        help="folder of the checkpoints step-NNNNNN.npz (default ./checkpoints)",
    )
    parser.add_argument(
        "--checkpoint-every", type=int, help="steps between checkpoints (default 500)"
    )
    parser.add_argument(
        "--keep", type=int, default=3, help="how many recent checkpoints to keep (default 3)"
    )
    start = parser.add_mutually_exclusive_group()
    start.add_argument(
        "--resume",
        action="store_true",
        help="continue from the newest checkpoint in --checkpoint-dir, "
        "written with the same --seed, --samples, --batch-size, --lr and --steps",
    )
    start.add_argument(
        "--overwrite",
        action="store_true",
        help="delete the step-*.npz files already in --checkpoint-dir and start over "
        "(without --resume or --overwrite, a run refuses to start when there are any)",
    )
    parser.add_argument(
        "--stop-after",
        type=int,
        metavar="N",
        help="stop after N steps of this run and save a checkpoint, as Ctrl-C does",
    )
    parser.add_argument("--plot", type=Path, metavar="PNG", help="write decision boundary + loss")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    args = parser.parse_args(argv)
    defaults = (1500, 1000, 500) if args.quick else (5000, 2000, 500)
    args.steps = defaults[0] if args.steps is None else args.steps
    args.samples = defaults[1] if args.samples is None else args.samples
    args.checkpoint_every = defaults[2] if args.checkpoint_every is None else args.checkpoint_every
    minimums = {
        "steps": (1, ""),
        "samples": (N_CLASSES, f" (one point for each of the {N_CLASSES} classes)"),
        "batch_size": (1, ""),
        "checkpoint_every": (1, ""),
        "keep": (1, ""),
        "seed": (0, ""),
    }
    if args.stop_after is not None:
        minimums["stop_after"] = (1, "")
    for name, (minimum, why) in minimums.items():
        value = getattr(args, name)
        if value < minimum:
            option = "--" + name.replace("_", "-")
            parser.error(f"argument {option}: must be at least {minimum}{why}, got {value}")
    if not (math.isfinite(args.lr) and args.lr > 0):
        parser.error(f"argument --lr: must be a positive number, got {args.lr}")
    if args.checkpoint_dir.exists() and not args.checkpoint_dir.is_dir():
        parser.error(f"argument --checkpoint-dir: {args.checkpoint_dir} is not a folder")
    if args.plot is not None:
        args.plot = check_plot_path(parser, args.plot)
    return args


def check_plot_path(parser: argparse.ArgumentParser, path: Path) -> Path:
    """Return the PNG file that --plot names (``.png`` added to a bare name), or exit 2.

    Checked before training, so that a long run is never lost to a plot it cannot write.
    """
    if path.is_dir():
        parser.error(f"argument --plot: {path} is a folder; give a file name such as out.png")
    if not path.suffix:
        path = path.with_name(path.name + ".png")
    if path.suffix.lower() != ".png" or path.is_dir():
        parser.error(f"argument --plot: {path} is not a .png file name; plots are PNG images")
    folder = path.parent
    while not folder.exists():  # the folders that do not exist yet are created
        folder = folder.parent
    if not folder.is_dir():
        parser.error(f"argument --plot: cannot write {path}: {folder} is not a folder")
    if not os.access(folder, os.W_OK):
        parser.error(f"argument --plot: cannot write {path}: the folder {folder} is read-only")
    if importlib.util.find_spec("matplotlib") is None:
        parser.error("argument --plot: needs matplotlib: python -m pip install matplotlib")
    return path


class RefusedError(Exception):
    """The options or the checkpoint folder do not allow the run; the message says why."""


def refuse(message: str) -> int:
    """Print why the run cannot go ahead, on one line; return the exit status to use."""
    print(f"{PROG}: error: {' '.join(message.splitlines())}", file=sys.stderr)
    return EXIT_REFUSED


def resume(
    path: Path, model: MLP, optimizer: Adam, schedule: CosineSchedule, settings: dict[str, Any]
) -> tuple[int, list[float]]:
    """Load the checkpoint at `path` into model, optimizer and schedule; return (step, losses).

    Raises `RefusedError` when the file cannot be read, is damaged, or belongs to a run
    with other options.
    """
    start_over = "or start over with --overwrite"
    try:
        info = load_checkpoint(path, model, optimizer, schedule=schedule)
    except (OSError, ValueError) as exc:  # ModelFileError is a ValueError naming the file
        problem = f"{path}: {exc.strerror}" if isinstance(exc, OSError) and exc.strerror else exc
        raise RefusedError(
            f"cannot resume from {problem}; delete that file to resume from an older one, "
            f"{start_over}"
        ) from None
    saved = info.get("settings")
    if not isinstance(saved, dict):
        raise RefusedError(f"{path} holds no settings of a {PROG} run; {start_over}")
    differ = [
        f"{option} {saved.get(name, 'unknown')} (this run: {settings[name]})"
        for name, option in RUN_OPTIONS.items()
        if saved.get(name) != settings[name]
    ]
    if differ:
        raise RefusedError(
            f"{path} was written with {', '.join(differ)}; "
            f"resume with the options it was started with, {start_over}"
        )
    step, losses = info.get("step"), info.get("losses")
    if not (
        isinstance(step, int)
        and isinstance(losses, list)
        and len(losses) == step == schedule.step_count
    ):
        raise RefusedError(f"{path} holds no valid step and loss history; {start_over}")
    return step, losses


def batches_from(
    X: np.ndarray, y: np.ndarray, batch_size: int, seed: int, step: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield mini-batches forever, starting at training step `step`.

    Each epoch's order comes from its own generator, seeded by (seed, epoch), so the
    batches of any step can be found again after a restart without saving RNG state.
    """
    per_epoch = math.ceil(len(X) / batch_size)
    epoch, skip = divmod(step, per_epoch)
    while True:
        order = np.random.default_rng([seed, epoch])
        for i, batch in enumerate(batches(X, y, batch_size, random_state=order)):
            if i >= skip:
                yield batch
        epoch, skip = epoch + 1, 0


def accuracy(model: MLP, X: np.ndarray, y: np.ndarray) -> float:
    with no_grad():
        logits = model(Tensor(X, requires_grad=False))
    return float(np.mean(np.argmax(logits.data, axis=1) == y))


def checkpoints(folder: Path) -> list[tuple[int, Path]]:
    """The checkpoints in `folder` as (step, path), oldest first: files named step-*.npz.

    Anything else (a folder of that name, say) is neither resumed from nor deleted.
    """
    if not folder.is_dir():
        return []
    found = [(CHECKPOINT_NAME.match(p.name), p) for p in folder.iterdir()]
    return sorted((int(m.group(1)), p) for m, p in found if m and p.is_file())


class CheckpointLock:
    """Keeps two runs from using one checkpoint folder: a lock file naming the holder.

    The file is created with O_CREAT | O_EXCL, which only one of several runs starting
    together can do; its first line is the holder's process id. `release` removes it,
    also after Ctrl-C. A lock whose process no longer exists is taken over.
    """

    def __init__(self, folder: Path) -> None:
        self.path = folder / LOCK_NAME
        # Unique to this run, so that a lock is recognised as ours or as one seen before.
        self.content = f"{os.getpid()}\n{PROG} run started {time.ctime()} ({time.time_ns()})\n"
        self.held = False

    def acquire(self) -> None:
        """Take the lock, or raise RefusedError naming the run that holds it."""
        for _ in range(3):  # again after removing a stale lock, which another run may take
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                self.remove_if_stale()
                continue
            except OSError as exc:
                message = f"cannot create the lock file {self.path}: {exc.strerror}"
                raise RefusedError(message) from None
            with os.fdopen(fd, "w") as f:
                f.write(self.content)
            self.held = True
            return
        raise RefusedError(f"other runs keep taking the lock {self.path}; try again")

    def remove_if_stale(self) -> None:
        """Remove the lock if the process holding it no longer exists; else refuse."""
        seen = read_text(self.path)
        if seen is None:  # released meanwhile
            return
        first = seen.split("\n", 1)[0].strip()
        pid = int(first) if first.isdigit() and int(first) > 0 else None
        if pid is None or process_exists(pid):
            holder = f"process {pid}" if pid is not None else "a run that left no process id"
            raise RefusedError(
                f"the checkpoint folder {self.path.parent} is in use by another run "
                f"({holder}, lock file {self.path}); wait for it to end or use another "
                "--checkpoint-dir (delete the lock file only if no run uses the folder)"
            )
        # Runs starting together may all find this stale lock. Only the one that creates
        # the guard file removes it, and only if it is still the lock it read: another
        # run may have replaced it by a live lock of its own meanwhile.
        guard = self.path.with_name(LOCK_NAME + ".takeover")
        try:
            os.close(os.open(guard, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
        except FileExistsError:
            raise RefusedError(
                f"another run is taking over the stale lock {self.path} right now (delete "
                f"{guard} if none is)"
            ) from None
        try:
            if read_text(self.path) == seen:
                self.path.unlink()
                print(f"took over the lock {self.path} of process {pid}, which no longer exists")
        finally:
            guard.unlink()

    def release(self) -> None:
        """Remove the lock if this run holds it."""
        if self.held and read_text(self.path) == self.content:
            self.path.unlink()
        self.held = False


def read_text(path: Path) -> str | None:
    """The text of `path`, or None when there is no such file."""
    try:
        return path.read_text()
    except FileNotFoundError:
        return None


def process_exists(pid: int) -> bool:
    """Whether a process `pid` exists (on Windows, assumed: it cannot be asked safely)."""
    if pid == os.getpid():  # a lock with our id was left by an earlier process
        return False
    if os.name == "nt":  # os.kill(pid, 0) would stop the process there
        return True
    try:
        os.kill(pid, 0)  # signal 0 is not sent: it only checks that the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, run by another user
        return True
    return True


class PlainProgress:
    """The progress report when tqdm is not installed: step, loss and accuracy.

    On a terminal it is one line, rewritten in place; in a log a line is written every
    tenth of the run. It takes the calls the run makes on a tqdm bar.
    """

    def __init__(self, total: int, initial: int, disable: bool) -> None:
        self.total, self.n, self.disable = total, initial, disable
        self.postfix = ""
        self.in_place = sys.stderr.isatty()
        self.every = max(1, total // 10)
        self.shown_at = 0.0
        if not disable:
            print(
                f"{PROG}: showing progress as plain text; for a progress bar, install tqdm: "
                "python -m pip install tqdm",
                file=sys.stderr,
            )

    def set_postfix(self, refresh: bool = True, **values: str) -> None:
        self.postfix = ", ".join(f"{name} {value}" for name, value in values.items())

    def update(self, n: int = 1) -> None:
        self.n += n
        if self.disable:
            return
        line = f"step {self.n}/{self.total} ({self.n / self.total:.0%}), {self.postfix}"
        if self.in_place:
            now = time.monotonic()
            if now - self.shown_at >= 0.2 or self.n == self.total:
                self.shown_at = now
                print(f"\r{line}", end="", file=sys.stderr, flush=True)
        elif self.n % self.every == 0 or self.n == self.total:
            print(line, file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.in_place and not self.disable:
            print(file=sys.stderr)


def progress_bar(total: int, initial: int, disable: bool) -> Any:
    """A tqdm progress bar, or a PlainProgress report when tqdm is not installed."""
    if tqdm is None:
        return PlainProgress(total, initial, disable)
    return tqdm(total=total, initial=initial, unit="step", disable=disable)


class StopRequest:
    """Turns Ctrl-C into a request honoured at the end of the current step.

    Stopping between steps keeps the model and the optimizer consistent, so the
    checkpoint written on the way out resumes exactly. A second Ctrl-C stops at once.
    """

    def __init__(self) -> None:
        self.requested = False
        self._previous: Any = None

    def __enter__(self) -> StopRequest:
        self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        signal.signal(signal.SIGINT, self._previous)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True


def plot(
    path: Path, model: MLP, X: np.ndarray, y: np.ndarray, losses: list[float], title: str
) -> None:
    import matplotlib

    matplotlib.use("Agg")  # write files only; no window needed
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    fig, (ax_data, ax_loss) = plt.subplots(1, 2, figsize=(11, 4.8))
    lim = 1.25
    grid = np.linspace(-lim, lim, 300)
    gx, gy = np.meshgrid(grid, grid)
    with no_grad():
        logits = model(Tensor(np.column_stack([gx.ravel(), gy.ravel()]), requires_grad=False))
    regions = np.argmax(logits.data, axis=1).reshape(gx.shape)
    colors = ListedColormap(plt.get_cmap("tab10").colors[:N_CLASSES])
    levels = np.arange(N_CLASSES + 1) - 0.5
    ax_data.contourf(gx, gy, regions, levels=levels, cmap=colors, alpha=0.25)
    ax_data.scatter(X[:, 0], X[:, 1], c=y, cmap=colors, vmin=-0.5, vmax=N_CLASSES - 0.5, s=6)
    ax_data.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal", title=title)

    steps = np.arange(1, len(losses) + 1)
    ax_loss.plot(steps, losses, color="tab:blue", alpha=0.25, lw=0.8, label="mini-batch loss")
    window = max(1, len(losses) // 50)
    if len(losses) >= window:
        smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
        ax_loss.plot(steps[window - 1 :], smooth, color="tab:blue", label=f"mean of {window}")
    ax_loss.set(xlabel="step", ylabel="cross-entropy", yscale="log", title="training loss")
    ax_loss.legend()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)


def run(args: argparse.Namespace) -> int:
    """Train (or resume) as the options say, holding the checkpoint folder's lock."""
    settings = {name: getattr(args, name) for name in RUN_OPTIONS}
    X, y = make_spirals(args.samples, N_CLASSES, noise=0.03, rotations=1.5, random_state=args.seed)
    X_test, y_test = make_spirals(
        1000,
        N_CLASSES,
        noise=0.03,
        rotations=1.5,
        random_state=np.random.default_rng([args.seed, 1]),
    )
    model = MLP(2, [64, 64, N_CLASSES], seed=args.seed)
    optimizer = Adam(model.parameters(), lr=args.lr)
    # Cosine decay from the peak --lr to 2% of it over the run; its state is checkpointed.
    schedule = CosineSchedule(optimizer, total_steps=args.steps, min_lr=0.02 * args.lr)
    folder = args.checkpoint_dir
    step, losses = 0, list[float]()

    existing = checkpoints(folder)
    if args.resume:
        if not existing:
            return refuse(nothing_to_resume(folder))
        try:
            step, losses = resume(existing[-1][1], model, optimizer, schedule, settings)
        except RefusedError as exc:
            return refuse(str(exc))
        print(f"resumed from {existing[-1][1]} at step {step}")
    elif existing and not args.overwrite:
        return refuse(
            f"the checkpoint folder {folder} already holds step-*.npz files (newest "
            f"{existing[-1][1].name}); continue that run with --resume, or delete them and "
            "start over with --overwrite"
        )
    else:
        try:
            for _, old in existing:
                old.unlink()
        except OSError as exc:
            return refuse(f"cannot delete the old checkpoint {old}: {exc.strerror}")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return refuse(f"cannot create the checkpoint folder {folder}: {exc.strerror}")

    def save() -> Path:
        name = folder / f"step-{step:06d}"
        path = save_checkpoint(
            name, model, optimizer, step=step, schedule=schedule, losses=losses, settings=settings
        )
        for _, old in checkpoints(folder)[: -args.keep]:
            old.unlink(missing_ok=True)
        return path

    print(
        f"training MLP 2-64-64-{N_CLASSES} on {args.samples} spiral points for {args.steps} "
        f"steps (batch {args.batch_size}, Adam, peak lr {args.lr}), seed {args.seed}"
    )
    start, started_at = step, time.perf_counter()
    stopped = False
    bar = progress_bar(args.steps, step, disable=args.no_progress)
    train_acc = accuracy(model, X, y)
    with StopRequest() as stop:
        batches = batches_from(X, y, args.batch_size, args.seed, step)
        while step < args.steps:
            X_batch, y_batch = next(batches)
            optimizer.zero_grad()
            loss = cross_entropy(model(Tensor(X_batch, requires_grad=False)), y_batch)
            loss.backward()
            optimizer.step()
            schedule.step()
            step += 1
            losses.append(loss.item())
            if step % 100 == 0 or step == args.steps:
                train_acc = accuracy(model, X, y)
            bar.set_postfix(loss=f"{losses[-1]:.4f}", acc=f"{train_acc:.3f}", refresh=False)
            bar.update(1)
            if step % args.checkpoint_every == 0:
                save()
            if stop.requested or (args.stop_after is not None and step - start >= args.stop_after):
                stopped = step < args.steps
                break
    bar.close()
    if stopped:
        path = save()
        print(f"stopped at step {step}; checkpoint saved to {path}")
        print("continue with the same command and --resume")
        return EXIT_INTERRUPTED
    if step % args.checkpoint_every != 0 or step == start:
        save()

    elapsed = time.perf_counter() - started_at
    train_acc, test_acc = accuracy(model, X, y), accuracy(model, X_test, y_test)
    recent = losses[-100:] if losses else [float("nan")]
    print(
        f"step {step}: loss {np.mean(recent):.4f} (mean of last {len(recent)}), "
        f"train accuracy {train_acc:.1%}, test accuracy {test_acc:.1%}"
    )
    if step > start:
        per_step = 1e3 * elapsed / (step - start)
        print(f"{step - start} steps in {elapsed:.1f} s ({per_step:.2f} ms/step)")
    print(f"checkpoints in {folder}: {', '.join(p.name for _, p in checkpoints(folder))}")
    if args.plot is not None:
        plot(args.plot, model, X, y, losses, f"test accuracy {test_acc:.1%} after {step} steps")
        print(f"wrote {args.plot}")
    if test_acc < TARGET_ACCURACY:
        print(f"FAILED: test accuracy {test_acc:.1%} is below the target {TARGET_ACCURACY:.0%}")
        return 1
    print(f"OK: test accuracy {test_acc:.1%} >= target {TARGET_ACCURACY:.0%}")
    return 0


def nothing_to_resume(folder: Path) -> str:
    return f"no checkpoint step-*.npz in {folder} to resume; run without --resume"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    folder = args.checkpoint_dir
    if args.resume and not folder.is_dir():
        return refuse(nothing_to_resume(folder))  # and create no folder
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return refuse(f"cannot create the checkpoint folder {folder}: {exc.strerror}")
    lock = CheckpointLock(folder)
    try:
        lock.acquire()
    except RefusedError as exc:
        return refuse(str(exc))
    try:
        return run(args)
    finally:  # also after a second Ctrl-C
        lock.release()


if __name__ == "__main__":
    sys.exit(main())
