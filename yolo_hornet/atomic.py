"""Atomic file writes: a temporary file in the same folder, flushed to disk, then ``os.replace``-d over the target, so
a kill at any moment leaves either the previous complete file or the new one."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
from pathlib import Path


def atomic_write_bytes(path: str | Path, data: bytes) -> int:
    """Write ``data`` to ``path`` atomically: temporary file, flush + fsync, ``os.replace``. Returns the size."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            write_all(f, data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return len(data)


def write_all(f: io.BufferedWriter, data: bytes) -> None:
    """Write every byte of ``data`` to the open file ``f`` (a separate step so tests can make the disk run full)."""
    f.write(data)


@contextlib.contextmanager
def replacing(target: Path, tag: str):
    """Yield a temporary path next to ``target``; when the block returns, the file written there (if any) is
    flushed to disk and ``os.replace``-d over ``target``; whatever happens, no temporary file is left."""
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{tag}.tmp")
    try:
        yield tmp
        if tmp.exists():
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
            os.replace(tmp, target)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def atomic_strip_optimizer(strip):
    """Wrap ultralytics' ``strip_optimizer`` so that it writes to a temporary file and replaces atomically."""

    def stripped(f, s: str = "", updates=None):
        with replacing(Path(s or f), "strip") as tmp:
            return strip(f, str(tmp), updates=updates)

    return stripped


def atomic_in_place(rewrite):
    """Wrap a function that rewrites a checkpoint in place, ``rewrite(path, *args, **kwargs)`` (ultralytics' depth
    calibration re-saves best.pt/last.pt with a plain ``torch.save``): it works on a copy in the same folder, which
    is flushed to disk and ``os.replace``-d over the original only when it returns, so a kill or an error leaves the
    previous complete checkpoint."""

    def rewritten(path, *args, **kwargs):
        with replacing(Path(path), "rewrite") as tmp:
            shutil.copyfile(path, tmp)
            return rewrite(tmp, *args, **kwargs)

    return rewritten
