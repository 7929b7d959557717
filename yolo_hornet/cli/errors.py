"""User-facing errors of the command-line tools: one line on stderr, exit code 2, no traceback."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable
from pathlib import Path


class UserError(Exception):
    """A mistake in the user's input; the message says what is wrong and how to fix it."""


def snapshot_runs(project: Path) -> set[Path]:
    """Return the run folders that exist under ``project`` now (to know what a failed run created)."""
    return set(project.iterdir()) if project.is_dir() else set()


def remove_new_runs(project: Path, before: set[Path]) -> None:
    """Delete run folders created since ``before`` (a failed run must not leave half-written output)."""
    for path in snapshot_runs(project) - before:
        shutil.rmtree(path, ignore_errors=True)
    if project.is_dir() and not any(project.iterdir()) and not before:
        project.rmdir()


def run_cli(func: Callable[[list[str] | None], object], argv: list[str] | None = None) -> int:
    """Run a CLI entry point; turn :class:`UserError` into ``error: ...`` on stderr and exit code 2, Ctrl-C into 130."""
    try:
        func(argv)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0
