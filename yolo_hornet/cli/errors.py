"""User-facing errors of the command-line tools: one line on stderr, exit code 2, no traceback."""

from __future__ import annotations

import sys
from collections.abc import Callable


class UserError(Exception):
    """A mistake in the user's input; the message says what is wrong and how to fix it."""


def run_cli(func: Callable[[list[str] | None], object], argv: list[str] | None = None) -> int:
    """Run a CLI entry point; turn :class:`UserError` into ``error: ...`` on stderr and exit code 2, Ctrl-C into 130
    (SIGTERM, raised as an interrupt by ``train.py``, into 143)."""
    try:
        func(argv)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as e:
        return getattr(e, "exit_code", 130)
    return 0
