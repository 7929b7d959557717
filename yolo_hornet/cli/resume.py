"""``train.py --resume``: find and check the ``last.pt`` to continue, never falling back to ultralytics' defaults.

A resumable checkpoint is one ultralytics wrote during training: a dict with ``train_args``, an optimizer state and
an ``epoch`` (0-based, the last completed one) below ``train_args['epochs'] - 1``. A finished run (its ``last.pt``
stripped to epoch -1, or its last epoch done) is refused with the way to train further; a damaged or foreign file
gets a clear error. Every file is loaded with restricted unpickling (:mod:`yolo_hornet.safe_load`).
"""

from __future__ import annotations

import sys
from pathlib import Path

from .errors import UserError
from .resolve import load_checkpoint_file


def train_command() -> str:
    """How the user started training: ``python train.py`` or the ``yolo-hornet-train`` console script."""
    return "python train.py" if Path(sys.argv[0]).name == "train.py" else "yolo-hornet-train"


def finished_epochs(ckpt: dict) -> int:
    """The number of epochs a finished run completed (early stopping can end it before ``epochs``)."""
    results = ckpt.get("train_results") or {}
    epochs = results.get("epoch") if isinstance(results, dict) else None
    if epochs:
        return int(max(epochs))
    return int((ckpt.get("train_args") or {}).get("epochs", 0))


def check_resumable(path: Path, trust: bool = False) -> tuple[int, int]:
    """Load ``path``; return (completed epochs, planned epochs) if it can be resumed, else raise :class:`UserError`."""
    ckpt = load_checkpoint_file(path, "--resume", trust)
    args = ckpt.get("train_args") if isinstance(ckpt, dict) else None
    if not isinstance(args, dict) or "epoch" not in ckpt:
        raise UserError(
            f"--resume '{path}' is not a training checkpoint (no train_args/epoch); give the weights/last.pt of a run "
            "that train.py started"
        )
    total, epoch = int(args.get("epochs") or 0), int(ckpt.get("epoch") if ckpt.get("epoch") is not None else -1)
    if epoch < 0 or ckpt.get("optimizer") is None or epoch + 1 >= total:
        done = finished_epochs(ckpt) if epoch < 0 else epoch + 1
        raise UserError(
            f"--resume '{path}': that run finished at epoch {done}/{total}, nothing to resume; to train further "
            f"start a new run from it: {train_command()} --weights {path} --epochs M"
        )
    data = args.get("data")
    if data and not Path(data).exists():
        raise UserError(f"--resume '{path}': the run's dataset {data} is gone; restore it to resume")
    return epoch + 1, total


def find_resumable(project: Path, trust: bool = False) -> Path:
    """The newest resumable ``project/*/weights/last.pt`` (finished runs are skipped)."""
    candidates = sorted(project.glob("*/weights/last.pt"), key=lambda p: p.stat().st_mtime, reverse=True)
    if not candidates:
        raise UserError(f"--resume: nothing to resume, no {project}/*/weights/last.pt; start a new run instead")
    for last in candidates:
        try:
            check_resumable(last, trust)
        except UserError:
            continue
        return last
    raise UserError(
        f"--resume: none of the {len(candidates)} runs in {project} can be resumed (all finished or unreadable); "
        f"give a path with --resume PATH or start a new run"
    )
