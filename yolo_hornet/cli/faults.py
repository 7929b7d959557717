"""What ``train.py`` does when training is interrupted or fails: keep the run, say how to resume, exit cleanly.

Policy (README "Reliability"):

* before the first epoch starts, an error removes only the run folder this invocation created, and only while it
  holds no checkpoint;
* once the first epoch has started nothing is deleted: the error becomes one ``error: ...`` line that says what
  happened, where the run is and the exact command that resumes it (the traceback goes to ``traceback.txt`` in the
  run folder, for bug reports);
* SIGINT and SIGTERM stop training; ``last.pt`` keeps the last completed epoch (it was written atomically when that
  epoch ended), so resume redoes the interrupted one. Nothing is written on interrupt, so ``--nosave`` and
  ``best.pt`` stay as they were.
"""

from __future__ import annotations

import contextlib
import errno
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

import torch

from .errors import UserError
from .resume import train_command
from .runs import RunFolder

# errors before the first epoch that become one error line: the user's input (data, config) and resources (memory,
# disk, device); anything else there is a bug in the code and keeps its traceback
PRESTART_ERRORS = (
    FileNotFoundError,
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    AssertionError,
    OSError,
    RuntimeError,
)


class Terminated(KeyboardInterrupt):
    """SIGTERM, turned into an interrupt so that training stops the same way as on Ctrl-C."""

    exit_code = 143


@contextlib.contextmanager
def sigterm_interrupts() -> Iterator[None]:
    """Within the block, SIGTERM raises :class:`Terminated` (main thread only; the old handler is restored)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def is_out_of_memory(e: BaseException) -> bool:
    """CUDA/CPU out-of-memory, whatever class torch or the allocator raised it as."""
    return isinstance(e, (torch.OutOfMemoryError, MemoryError)) or "out of memory" in str(e).lower()


def describe_fault(e: BaseException) -> str:
    """One clause saying what went wrong, with the fix where there is an obvious one."""
    first = (str(e).strip().splitlines() or [type(e).__name__])[0][:240]
    if is_out_of_memory(e):
        return f"out of memory ({first}); lower --batch-size or --imgsz"
    if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"disk full while writing ({e.filename or first}); free some space"
    if "No valid images found" in first or "no labels found" in first.lower():
        return f"no usable labelled images ({first}); label class ids must be 0..nc-1, see the warnings above"
    return f"{type(e).__name__}: {first}"


def checkpoint_state(last: Path) -> tuple[int, int] | None:
    """(completed epochs, planned epochs) held by a resumable ``last.pt``, else None (missing or finished)."""
    from .resume import check_resumable

    try:
        return check_resumable(last)  # a missing file is a UserError too
    except UserError:
        return None


def resume_hint(save_dir: Path) -> str:
    """Where the run is and the command that resumes it (or why it cannot be resumed)."""
    last = save_dir / "weights" / "last.pt"
    state = checkpoint_state(last)
    if state is None:
        return f"the run is kept in {save_dir}; no completed epoch was saved, so there is nothing to resume"
    done, total = state
    return f"last.pt holds epoch {done}/{total}; resume with: {train_command()} --resume {last}"


def training_started(trainer) -> bool:
    """True once the first epoch started (a DDP launch counts from the start: its epochs run in worker processes)."""
    return trainer is not None and (getattr(trainer, "epoch_started", False) or getattr(trainer, "ddp", False))


def run_training(train: Callable[[], object], trainer_of: Callable[[], object], run: RunFolder | None):
    """Call ``train()`` under the failure policy above; ``trainer_of()`` returns the trainer once it exists.

    ``run`` is the folder this invocation reserved (None on resume, where the folder is never removed).
    """
    with sigterm_interrupts():
        try:
            return train()
        except (KeyboardInterrupt, Exception) as e:
            trainer = trainer_of()
            if not training_started(trainer):
                if run is not None:
                    run.discard()
                if isinstance(e, Exception) and (isinstance(e, PRESTART_ERRORS) or is_out_of_memory(e)):
                    raise UserError(describe_fault(e)) from e
                raise
            save_dir = Path(trainer.save_dir)
            if isinstance(e, KeyboardInterrupt):
                what = "terminated (SIGTERM)" if isinstance(e, Terminated) else "interrupted"
                print(f"\n{what}: {resume_hint(save_dir)}", file=sys.stderr, flush=True)
                raise
            with contextlib.suppress(OSError):
                (save_dir / "traceback.txt").write_text("".join(traceback.format_exception(e)))
            epoch = f"epoch {trainer.epoch + 1}/{trainer.epochs}"
            raise UserError(f"training stopped in {epoch}: {describe_fault(e)}; {resume_hint(save_dir)}") from e
