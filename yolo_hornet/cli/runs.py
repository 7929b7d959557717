"""Run folders: reserved atomically inside ``--project``, removed only while this invocation owns an empty one.

YOLOv5 naming: ``exp``, then ``exp2``, ``exp3``, ... (ultralytics 8.4 would write ``exp-2``). The folder is created
with ``os.mkdir``, which fails when the name is taken, so two runs started at the same moment with the same
``--name`` get two folders. ``--exist-ok`` reuses an existing folder as YOLOv5 does (nothing in it is deleted; the
files the new run writes replace those of the same name).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from .errors import UserError

CHECKPOINT_SUFFIXES = {".pt", ".pth"}


def check_name(name: str) -> None:
    """Reject a ``--name`` that is empty or would leave ``--project`` (absolute, ``..``)."""
    parts = Path(name).parts
    if not name.strip() or Path(name).is_absolute() or ".." in parts or not parts:
        raise UserError(f"--name '{name}' must be a folder name inside --project (no '..', not absolute)")


@dataclass
class RunFolder:
    """A run folder this invocation reserved; ``created`` says whether it made the folder (vs ``--exist-ok`` reuse)."""

    path: Path
    created: bool

    def holds_checkpoint(self) -> bool:
        """True when any ``.pt``/``.pth`` lies under the folder (then it is never removed)."""
        return self.path.is_dir() and any(p.suffix in CHECKPOINT_SUFFIXES for p in self.path.rglob("*"))

    def discard(self) -> bool:
        """Remove the folder if this invocation created it and it holds no checkpoint; return whether it did."""
        if not self.created or not self.path.is_dir() or self.holds_checkpoint():
            return False
        shutil.rmtree(self.path, ignore_errors=True)
        return not self.path.exists()


def reserve_run(project: Path, name: str, exist_ok: bool = False) -> RunFolder:
    """Create (exclusively) and return ``project/name``, else the first free ``name2``, ``name3``, ...

    With ``exist_ok`` an existing ``project/name`` is reused as it is.
    """
    check_name(name)
    try:
        project.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(f"--project '{project}' cannot be created ({e.strerror or e}); choose another folder") from e
    if exist_ok:
        path = project / name
        existed = path.is_dir()
        path.mkdir(parents=True, exist_ok=True)
        return RunFolder(path, created=not existed)
    (project / name).parent.mkdir(parents=True, exist_ok=True)
    n = 1
    while True:
        path = project / (name if n == 1 else f"{name}{n}")
        try:
            os.mkdir(path)
        except FileExistsError:
            n += 1
            continue
        except OSError as e:
            raise UserError(f"cannot create the run folder {path} ({e.strerror or e})") from e
        return RunFolder(path, created=True)
